#!/usr/bin/env node
/**
 * A wallet presenting one credential to an OpenID for Verifiable Presentations 1.0 request,
 * with the OpenWallet Foundation's `@openid4vc/openid4vp` as the holder and Digital Bazaar's
 * `@digitalbazaar/vc` signing the presentation (DataIntegrityProof, eddsa-rdfc-2022, did:key).
 *
 * Usage:  node wallet-oid4vp.mjs -      (INPUT on stdin)
 *
 * INPUT is one JSON object:
 *   {
 *     "link":       "openid4vp://?...",          the request, as the verifier's QR code holds it
 *     "credential": { ...the credential to present... },
 *     "seed":       "<64 hex digits>",            the holder's Ed25519 key (its did:key holds)
 *     "contexts":   { "<context url>": "<path of a local JSON-LD file>" }
 *   }
 * Nothing but the response URI is fetched; contexts come from INPUT and did:key is derived.
 * http:// URLs are allowed (the test portal is served on 127.0.0.1 without TLS).
 *
 * Prints one JSON object: {"clientPrefix", "queryId", "nonce", "clientId", "status", "body"}.
 * Exit status: 0 when the response endpoint answered 200, 1 otherwise, 2 on a usage error.
 */
import {createHash} from 'node:crypto';
import {readFile} from 'node:fs/promises';

import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {driver as didKeyDriver} from '@digitalbazaar/did-method-key';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {cryptosuite as rdfcCryptosuite} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as vc from '@digitalbazaar/vc';
import {Openid4vpClient} from '@openid4vc/openid4vp';
import {setGlobalConfig} from '@openid4vc/utils';

class UsageError extends Error {}

async function readInput() {
  const chunks = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk);
  }
  let input;
  try {
    input = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch(error) {
    throw new UsageError(`INPUT is not JSON: ${error.message}`);
  }
  for(const name of ['link', 'seed']) {
    if(typeof input[name] !== 'string') {
      throw new UsageError(`INPUT.${name} must be a string`);
    }
  }
  if(typeof input.credential !== 'object' || typeof input.contexts !== 'object') {
    throw new UsageError('INPUT.credential and INPUT.contexts must be objects');
  }
  return input;
}

async function documentLoaderOf(contexts) {
  const loaded = new Map();
  for(const [url, file] of Object.entries(contexts)) {
    loaded.set(url, JSON.parse(await readFile(file, 'utf8')));
  }
  const didKey = didKeyDriver();
  didKey.use({multibaseMultikeyHeader: 'z6Mk', fromMultibase: Ed25519Multikey.from});
  return async function documentLoader(url) {
    let document;
    if(loaded.has(url)) {
      document = loaded.get(url);
    } else if(url.startsWith('did:key:')) {
      document = await didKey.get({url});
    } else {
      throw new Error(`${url} is not a local context or a did:key`);
    }
    return {contextUrl: null, documentUrl: url, document: structuredClone(document)};
  };
}

function refuse(name) {
  return () => {
    throw new Error(`the wallet does not use ${name} for this request`);
  };
}

async function main() {
  const input = await readInput();
  setGlobalConfig({allowInsecureUrls: true});
  const client = new Openid4vpClient({
    callbacks: {
      hash: (data, alg) => createHash(alg.replace('-', '').toLowerCase()).update(data).digest(),
      fetch,
      verifyJwt: refuse('signed requests'),
      signJwt: refuse('signed responses'),
      decryptJwe: refuse('encrypted requests'),
      encryptJwe: refuse('encrypted responses'),
      getX509CertificateMetadata: refuse('X.509 certificates')
    }
  });
  const parsed = client.parseOpenid4vpAuthorizationRequest({authorizationRequest: input.link});
  if(parsed.type !== 'openid4vp') {
    throw new Error(`unexpected request type ${parsed.type}`);
  }
  const resolved = await client.resolveOpenId4vpAuthorizationRequest({
    authorizationRequestPayload: parsed.params
  });
  const request = resolved.authorizationRequestPayload;
  const [query] = resolved.dcql.query.credentials;
  if(query.format !== 'ldp_vc') {
    throw new Error(`the request asks for ${query.format}, not ldp_vc`);
  }

  const key = await Ed25519Multikey.generate({seed: Buffer.from(input.seed, 'hex')});
  const holder = `did:key:${key.publicKeyMultibase}`;
  key.id = `${holder}#${key.publicKeyMultibase}`;
  key.controller = holder;
  const documentLoader = await documentLoaderOf(input.contexts);
  const presentation = vc.createPresentation({
    verifiableCredential: [input.credential], holder, version: 2.0
  });
  const suite = new DataIntegrityProof({signer: key.signer(), cryptosuite: rdfcCryptosuite});
  const signed = await vc.signPresentation({
    presentation, suite, documentLoader, challenge: request.nonce, domain: request.client_id
  });

  const created = await client.createOpenid4vpAuthorizationResponse({
    authorizationRequestPayload: request,
    authorizationResponsePayload: {vp_token: {[query.id]: [signed]}}
  });
  const {response} = await client.submitOpenid4vpAuthorizationResponse({
    authorizationRequestPayload: request,
    authorizationResponsePayload: created.authorizationResponsePayload
  });
  const result = {
    clientPrefix: resolved.client.prefix,
    queryId: query.id,
    nonce: request.nonce,
    clientId: request.client_id,
    status: response.status,
    body: await response.text()
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  return response.status === 200 ? 0 : 1;
}

main().then(code => {
  process.exitCode = code;
}, error => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exitCode = error instanceof UsageError ? 2 : 1;
});
