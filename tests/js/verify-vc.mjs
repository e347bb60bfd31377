#!/usr/bin/env node
/**
 * Independent check of a creditbank credential with Digital Bazaar's W3C VC stack.
 *
 * Usage:  node verify-vc.mjs INPUT.json      (or "-" to read INPUT from stdin)
 *
 * INPUT is one JSON object:
 *   {
 *     "credential":   { ...the verifiable credential... },
 *     "didDocuments": { "<controller id>": { ...controller document... } },
 *     "contexts":     { "<context url>": "<path of a local JSON-LD file>" }
 *   }
 * - "contexts" (required) is the only source of JSON-LD contexts; relative paths are
 *   resolved from the directory of INPUT (or the working directory for stdin).
 * - "didDocuments" (optional) serves did:web DIDs, and plain https controller ids such as
 *   the W3C test vectors use. A verification method id "<id>#<fragment>" resolves to the
 *   matching entry of that document's verificationMethod list.
 * - did:key DIDs are never taken from INPUT: the did:key driver derives them from the key.
 * - Any other URL is an error; nothing is ever fetched from the network.
 *
 * Status: a credential's credentialStatus is not checked here (no list is ever fetched); its
 * Bitstring Status List entries are checked by check-status.mjs.
 * Proofs: DataIntegrityProof with cryptosuite eddsa-rdfc-2022 or eddsa-jcs-2022 is checked.
 * A proof of any other type (our MerkleAnchorProof2026 entry in the proof set) matches no
 * suite, so jsonld-signatures leaves it out; it is listed under "ignoredProofs".
 *
 * Prints one JSON object on stdout:
 *   {"verified": bool, "errors": [str], "proofs": [{type, cryptosuite, verificationMethod,
 *    verified}], "ignoredProofs": [type]}
 * Exit status: 0 verified, 1 not verified (also when the verifier itself fails), 2 usage
 * error (message on stderr, nothing on stdout).
 */
import {readFile} from 'node:fs/promises';
import path from 'node:path';

import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {driver as didKeyDriver} from '@digitalbazaar/did-method-key';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {createVerifyCryptosuite as jcsCryptosuite} from
  '@digitalbazaar/eddsa-jcs-2022-cryptosuite';
import {cryptosuite as rdfcCryptosuite} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as vc from '@digitalbazaar/vc';

const CRYPTOSUITES = [rdfcCryptosuite, jcsCryptosuite()];

class UsageError extends Error {}

async function readInput(argv) {
  if(argv.length !== 1) {
    throw new UsageError('usage: node verify-vc.mjs INPUT.json | -');
  }
  const [source] = argv;
  const text = source === '-' ?
    await readStream(process.stdin) :
    await readFile(source, 'utf8').catch(error => {
      throw new UsageError(`cannot read ${source}: ${error.message}`);
    });
  let input;
  try {
    input = JSON.parse(text);
  } catch(error) {
    throw new UsageError(`INPUT is not JSON: ${error.message}`);
  }
  if(!isObject(input) || !isObject(input.credential)) {
    throw new UsageError('INPUT.credential must be a JSON object');
  }
  if(!isObject(input.contexts)) {
    throw new UsageError('INPUT.contexts must map context URLs to file paths');
  }
  if(input.didDocuments !== undefined && !isObject(input.didDocuments)) {
    throw new UsageError('INPUT.didDocuments must map controller ids to documents');
  }
  const base = source === '-' ? process.cwd() : path.dirname(path.resolve(source));
  return {...input, base};
}

async function readStream(stream) {
  const chunks = [];
  for await (const chunk of stream) {
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function isObject(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

async function loadContexts(contexts, base) {
  const loaded = new Map();
  for(const [url, file] of Object.entries(contexts)) {
    const text = await readFile(path.resolve(base, file), 'utf8').catch(error => {
      throw new UsageError(`context ${url}: cannot read ${file}: ${error.message}`);
    });
    try {
      loaded.set(url, JSON.parse(text));
    } catch(error) {
      throw new UsageError(`context ${url}: ${file} is not JSON: ${error.message}`);
    }
  }
  return loaded;
}

function controllerLoader(didDocuments) {
  return function load(url) {
    const [id, fragment] = url.split('#');
    const document = didDocuments[id];
    if(!isObject(document)) {
      return undefined;
    }
    if(fragment === undefined) {
      return document;
    }
    const method = (document.verificationMethod || []).find(
      vm => vm.id === url || vm.id === `#${fragment}`);
    if(!method) {
      throw new Error(`verification method ${url} is not in the document of ${id}`);
    }
    return {'@context': document['@context'], ...method, id: url};
  };
}

function makeDocumentLoader({contexts, didDocuments}) {
  const didKey = didKeyDriver();
  didKey.use({multibaseMultikeyHeader: 'z6Mk', fromMultibase: Ed25519Multikey.from});
  const controllers = controllerLoader(didDocuments || {});
  return async function documentLoader(url) {
    let document;
    if(contexts.has(url)) {
      document = contexts.get(url);
    } else if(url.startsWith('did:key:')) {
      document = await didKey.get({url});
    } else {
      document = controllers(url);
    }
    if(document === undefined) {
      throw new Error(`${url} is neither a local context nor a given controller document`);
    }
    return {contextUrl: null, documentUrl: url, document: structuredClone(document)};
  };
}

function errorMessages(error) {
  if(!error) {
    return [];
  }
  if(Array.isArray(error)) {
    return error.flatMap(errorMessages);
  }
  // VerificationError wraps a list in `errors`; jsonld errors keep theirs in `details.cause`
  const nested = [error.errors, error.cause, error.details?.cause].flatMap(errorMessages);
  return [`${error.name || 'Error'}: ${error.message}`, ...nested];
}

function summarize(credential, result) {
  const proofs = (result.results || []).filter(r => r.proof).map(r => ({
    type: r.proof.type,
    cryptosuite: r.proof.cryptosuite,
    verificationMethod: r.proof.verificationMethod,
    verified: r.verified
  }));
  const checked = new Set(proofs.map(p => p.type));
  const ignoredProofs = [].concat(credential.proof || [])
    .map(proof => proof.type)
    .filter(type => !checked.has(type));
  const errors = [
    ...new Set([
      ...errorMessages(result.error),
      ...(result.results || []).flatMap(r => errorMessages(r.error))
    ])
  ];
  return {verified: result.verified === true, errors, proofs, ignoredProofs};
}

async function main() {
  const input = await readInput(process.argv.slice(2));
  const contexts = await loadContexts(input.contexts, input.base);
  const documentLoader = makeDocumentLoader({contexts, didDocuments: input.didDocuments});
  const suite = CRYPTOSUITES.map(cryptosuite => new DataIntegrityProof({cryptosuite}));
  const result = await vc.verifyCredential({
    credential: input.credential, suite, documentLoader,
    checkStatus: async () => ({verified: true, results: []})
  });
  const summary = summarize(input.credential, result);
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
    const summary = {verified: false, errors: errorMessages(error), proofs: [], ignoredProofs: []};
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    process.exitCode = 1;
  }
});
