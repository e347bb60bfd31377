#!/usr/bin/env node
/**
 * Independent status check of a creditbank credential with Digital Bazaar's
 * @digitalbazaar/vc and @digitalbazaar/vc-bitstring-status-list (W3C Bitstring Status List).
 *
 * Usage:  node check-status.mjs INPUT.json      (or "-" to read INPUT from stdin)
 *
 * INPUT is one JSON object:
 *   {
 *     "credential":   { ...the verifiable credential, with credentialStatus... },
 *     "didDocuments": { "<controller id>": { ...controller document... } },
 *     "contexts":     { "<context url>": "<path of a local JSON-LD file>" },
 *     "statusLists":  [ "<status list credential URL>", ... ]
 *   }
 * The document loader serves the given contexts and controller documents, and fetches over
 * HTTP only the status list URLs listed (the portal's published lists); any other URL fails.
 *
 * Prints one JSON object on stdout:
 *   {"verified": bool, "errors": [str],
 *    "statuses": [{"purpose": str, "index": int, "listed": bool}]}
 * `verified` is the credential's proofs and the status check having run (the status list
 * fetched and its own proof verified); `listed` is the credential's bit in that list.
 * Exit status: 0 verified, 1 not verified, 2 usage error.
 */
import {readFile} from 'node:fs/promises';
import path from 'node:path';

import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {createVerifyCryptosuite as jcsCryptosuite} from
  '@digitalbazaar/eddsa-jcs-2022-cryptosuite';
import {cryptosuite as rdfcCryptosuite} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as vc from '@digitalbazaar/vc';
import {checkStatus} from '@digitalbazaar/vc-bitstring-status-list';

const FETCH_TIMEOUT_MS = 10000;
const MAX_LIST_BYTES = 1024 * 1024;

class UsageError extends Error {}

function isObject(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

async function readStream(stream) {
  const chunks = [];
  for await (const chunk of stream) {
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function readInput(argv) {
  if(argv.length !== 1) {
    throw new UsageError('usage: node check-status.mjs INPUT.json | -');
  }
  const [source] = argv;
  const text = source === '-' ? await readStream(process.stdin) :
    await readFile(source, 'utf8');
  const input = JSON.parse(text);
  if(!isObject(input) || !isObject(input.credential) || !isObject(input.contexts) ||
    !Array.isArray(input.statusLists)) {
    throw new UsageError('INPUT needs credential, contexts and statusLists');
  }
  const base = source === '-' ? process.cwd() : path.dirname(path.resolve(source));
  const contexts = new Map();
  for(const [url, file] of Object.entries(input.contexts)) {
    contexts.set(url, JSON.parse(await readFile(path.resolve(base, file), 'utf8')));
  }
  return {...input, contexts};
}

async function fetchList(url) {
  const response = await fetch(url, {
    headers: {accept: 'application/vc+ld+json, application/json'},
    signal: AbortSignal.timeout(FETCH_TIMEOUT_MS)
  });
  if(!response.ok) {
    throw new Error(`${url} answered ${response.status}`);
  }
  const text = await response.text();
  if(text.length > MAX_LIST_BYTES) {
    throw new Error(`${url} is larger than ${MAX_LIST_BYTES} bytes`);
  }
  return JSON.parse(text);
}

function makeDocumentLoader({contexts, didDocuments, statusLists}) {
  const allowed = new Set(statusLists);
  return async function documentLoader(url) {
    let document;
    if(contexts.has(url)) {
      document = structuredClone(contexts.get(url));
    } else if(allowed.has(url)) {
      document = await fetchList(url);
    } else {
      const [id, fragment] = url.split('#');
      const controller = (didDocuments || {})[id];
      if(!isObject(controller)) {
        throw new Error(`${url} is not a local context, a given controller or a listed list`);
      }
      if(fragment === undefined) {
        document = structuredClone(controller);
      } else {
        const method = (controller.verificationMethod || []).find(
          vm => vm.id === url || vm.id === `#${fragment}`);
        if(!method) {
          throw new Error(`verification method ${url} is not in the document of ${id}`);
        }
        document = {'@context': controller['@context'], ...method, id: url};
      }
    }
    return {contextUrl: null, documentUrl: url, document};
  };
}

function errorMessages(error) {
  if(!error) {
    return [];
  }
  if(Array.isArray(error)) {
    return error.flatMap(errorMessages);
  }
  const nested = [error.errors, error.cause, error.details?.cause].flatMap(errorMessages);
  return [`${error.name || 'Error'}: ${error.message}`, ...nested];
}

async function main() {
  const input = await readInput(process.argv.slice(2));
  const documentLoader = makeDocumentLoader(input);
  const suite = [rdfcCryptosuite, jcsCryptosuite()].map(
    cryptosuite => new DataIntegrityProof({cryptosuite}));
  const result = await vc.verifyCredential({
    credential: input.credential,
    suite,
    documentLoader,
    checkStatus: options => checkStatus({
      ...options, verifyBitstringStatusListCredential: true, verifyMatchingIssuers: true
    })
  });
  const statuses = (result.statusResult?.results || []).map(item => ({
    purpose: item.credentialStatus.statusPurpose,
    index: parseInt(item.credentialStatus.statusListIndex, 10),
    listed: item.status
  }));
  const errors = [...new Set([
    ...errorMessages(result.error),
    ...errorMessages(result.statusResult?.error),
    ...(result.results || []).flatMap(r => errorMessages(r.error))
  ])];
  const summary = {verified: result.verified === true, errors, statuses};
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  return summary.verified ? 0 : 1;
}

main().then(code => {
  process.exitCode = code;
}, error => {
  if(error instanceof UsageError) {
    process.stderr.write(`${error.message}\n`);
    process.exitCode = 2;
  } else {
    const summary = {verified: false, errors: errorMessages(error), statuses: []};
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    process.exitCode = 1;
  }
});
