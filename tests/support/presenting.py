"""Verifiable presentations signed in Python by a learner's did:key, as a wallet would make them."""

from __future__ import annotations

import hashlib

from credentials import contexts
from credentials.base58 import b58encode
from credentials.canon import jcs, rdfc
from credentials.dids import did_key
from credentials.keys import SigningKey
from tests.support.samples import LEARNER_KEY


def present(credentials: list[dict], key: SigningKey = LEARNER_KEY, *, challenge: str | None,
            domain: str | None, cryptosuite: str = "eddsa-rdfc-2022", **members: object) -> dict:
    """A presentation of `credentials` by the did:key of `key`, signed for authentication."""
    holder = did_key(key.public_key)
    document = {"@context": [contexts.VC_V2], "type": ["VerifiablePresentation"],
                "holder": holder, "verifiableCredential": credentials, **members}
    options: dict = {"type": "DataIntegrityProof", "cryptosuite": cryptosuite,
                     "created": "2026-01-15T00:00:00Z",
                     "verificationMethod": f"{holder}#{holder[len('did:key:'):]}",
                     "proofPurpose": "authentication"}
    if challenge is not None:
        options["challenge"] = challenge
    if domain is not None:
        options["domain"] = domain
    if cryptosuite == "eddsa-rdfc-2022":
        config = {**options, "@context": document["@context"]}
        data = (hashlib.sha256(rdfc(config).encode()).digest()
                + hashlib.sha256(rdfc(document).encode()).digest())
    else:
        options["@context"] = document["@context"]
        data = hashlib.sha256(jcs(options)).digest() + hashlib.sha256(jcs(document)).digest()
    return {**document, "proof": {**options, "proofValue": "z" + b58encode(key.sign(data))}}
