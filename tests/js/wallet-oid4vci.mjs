#!/usr/bin/env node
/**
 * A holder wallet built on the OpenWallet Foundation's @openid4vc/openid4vci: it takes credential
 * offers through the pre-authorized code flow with a transaction code, proving an Ed25519 key
 * (node:crypto) with a JWT key proof over a nonce from the issuer's nonce endpoint.
 *
 * Usage:  node wallet-oid4vci.mjs '{"offers": [{"link": "openid-credential-offer://...",
 *                                               "tx_code": "123456"}, ...],
 *                                   "store": "DIR"}'
 *
 * The wallet stores each credential it receives as DIR/<offer index>.json.
 * Prints one JSON object on stdout: {"thumbprint": "<RFC 7638 thumbprint of the wallet key>",
 * "results": [...]}, one result per offer, in order: {"version", "credential", "stored"} when
 * the wallet received and stored a credential (the metadata's OID4VCI version as the library
 * read it, the credential, its file), else {"stage": "offer" | "metadata" | "token" | "nonce" |
 * "credential", "error": "<the error code the library surfaced>", "description": "..."}.
 * Exit status: 0 whatever the results, 2 on a usage error.
 */
import crypto from 'node:crypto';
import {writeFile} from 'node:fs/promises';
import path from 'node:path';

import {
  calculateJwkThumbprint,
  clientAuthenticationAnonymous,
  HashAlgorithm,
  setGlobalConfig
} from '@openid4vc/oauth2';
import {Openid4vciClient} from '@openid4vc/openid4vci';

// the served portal is plain http on 127.0.0.1; the library wants https unless told otherwise
setGlobalConfig({allowInsecureUrls: true});

const {publicKey, privateKey} = crypto.generateKeyPairSync('ed25519');
const publicJwk = publicKey.export({format: 'jwk'});

const base64url = data => Buffer.from(data).toString('base64url');

const callbacks = {
  fetch,
  hash: (data, alg) => {
    const name = {[HashAlgorithm.Sha256]: 'sha256', [HashAlgorithm.Sha384]: 'sha384',
      [HashAlgorithm.Sha512]: 'sha512'}[alg];
    return new Uint8Array(crypto.createHash(name).update(data).digest());
  },
  generateRandom: length => new Uint8Array(crypto.randomBytes(length)),
  clientAuthentication: clientAuthenticationAnonymous(),
  signJwt: async (signer, {header, payload}) => {
    if(signer.method !== 'jwk' || signer.alg !== 'EdDSA') {
      throw new Error(`this wallet signs with its EdDSA jwk only, not ${signer.method}`);
    }
    const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
    const signature = crypto.sign(null, Buffer.from(input), privateKey);
    return {jwt: `${input}.${base64url(signature)}`, signerJwk: publicJwk};
  }
};

const client = new Openid4vciClient({callbacks});

/** The error code and description the library surfaced for a failed step. */
function surfaced(stage, error) {
  const response = error.errorResponse ??
    error.response?.credentialErrorResponseResult?.data;
  if(response?.error) {
    return {stage, error: response.error, description: response.error_description ?? ''};
  }
  if(error.response?.status !== undefined && error.name === 'InvalidFetchResponseError') {
    return {stage, error: `http_${error.response.status}`, description: error.message};
  }
  return {stage, error: error.name ?? 'Error', description: error.message};
}

async function take({link, tx_code: txCode}) {
  let stage = 'offer';
  try {
    const credentialOffer = await client.resolveCredentialOffer(link);
    stage = 'metadata';
    const issuerMetadata = await client.resolveIssuerMetadata(credentialOffer.credential_issuer);
    stage = 'token';
    const {accessTokenResponse} = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({
      credentialOffer, issuerMetadata, txCode
    });
    stage = 'nonce';
    const {c_nonce: nonce} = await client.requestNonce({issuerMetadata});
    stage = 'credential';
    const [credentialConfigurationId] = credentialOffer.credential_configuration_ids;
    const {jwt} = await client.createCredentialRequestJwtProof({
      issuerMetadata,
      credentialConfigurationId,
      nonce,
      signer: {method: 'jwk', alg: 'EdDSA', publicJwk}
    });
    const {credentialResponse} = await client.retrieveCredentials({
      issuerMetadata,
      credentialConfigurationId,
      accessToken: accessTokenResponse.access_token,
      proofs: {jwt: [jwt]}
    });
    return {
      version: issuerMetadata.originalDraftVersion,
      credential: credentialResponse.credentials[0].credential
    };
  } catch(error) {
    return surfaced(stage, error);
  }
}

async function main() {
  let input;
  try {
    input = JSON.parse(process.argv[2] ?? '');
  } catch(error) {
    input = null;
  }
  if(!input || !Array.isArray(input.offers)) {
    process.stderr.write('usage: node wallet-oid4vci.mjs \'{"offers": [{"link", "tx_code"}]}\'\n');
    process.exit(2);
  }
  const results = [];
  for(const [index, offer] of input.offers.entries()) {
    const result = await take(offer);
    if(result.credential && input.store) {
      result.stored = path.join(input.store, `${index}.json`);
      await writeFile(result.stored, JSON.stringify(result.credential, null, 2));
    }
    results.push(result);
  }
  const thumbprint = await calculateJwkThumbprint({
    jwk: publicJwk, hashAlgorithm: HashAlgorithm.Sha256, hashCallback: callbacks.hash
  });
  process.stdout.write(JSON.stringify({thumbprint, results}) + '\n');
}

main();
