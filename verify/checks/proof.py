"""Proof check: the issuer's Data Integrity signature verifies with a key the issuer controls."""

from __future__ import annotations

from typing import Any

from credentials import dids, jsonld, proofs
from credentials.errors import CanonicalizationError, CredentialError, UnknownContext
from verify.codes import Code
from verify.context import Context
from verify.errors import Invalid
from verify.fragments import Fragment, Status
from verify.subject import Subject, known

NAME = "proof"
REQUIRES = ("format",)

JSONLD_REFUSALS: tuple[tuple[type[CanonicalizationError], Code, str], ...] = (
    (jsonld.Unsupported, Code.JSONLD_UNSUPPORTED,
     "The credential uses a JSON-LD feature the verifier does not support"),
    (jsonld.Ambiguous, Code.JSONLD_AMBIGUOUS,
     "Two members of one object in the credential mean the same thing"),
    (jsonld.Undefined, Code.JSONLD_UNDEFINED,
     "The credential holds a member or value its contexts do not define"),
    (jsonld.InvalidIri, Code.JSONLD_INVALID_IRI,
     "The credential holds an identifier that is not an absolute IRI"),
    (jsonld.NotCompacted, Code.JSONLD_NOT_COMPACTED,
     "The credential is not in compacted form"),
    (CanonicalizationError, Code.JSONLD_INVALID,
     "The credential's data cannot be put in the canonical form its signature covers"),
)
DETAIL_LIMIT = 300


def run(subject: Subject, context: Context) -> Fragment:
    """Verify the signature with the public key named by its verification method."""
    document = known(subject.document, "parse")
    facts = known(subject.facts, "format")
    proof = facts.integrity_proof
    method = proof["verificationMethod"]
    try:
        controller = dids.controller_of(method)
        public_key = dids.public_key_of(method)
    except CredentialError as error:
        raise Invalid(
            Code.MALFORMED_PROOF,
            "The signature names its key in a form that cannot be read.",
            field="proof.verificationMethod",
        ) from error
    if controller != facts.issuer:
        raise Invalid(
            Code.WRONG_KEY_CONTROLLER,
            "The credential is signed with a key that does not belong to its issuer.",
            field="proof.verificationMethod",
            controller=controller,
            issuer=facts.issuer,
        )
    memo = context.signatures
    if memo is None:
        _check_signature(document, proof, public_key)
    else:
        seen = memo.digest(document, public_key)
        if seen not in memo:
            _check_signature(document, proof, public_key)
            memo.add(seen)
    subject.public_key = public_key
    return Fragment(
        NAME,
        Status.VALID,
        None,
        "The issuer's signature is valid.",
        {"verification_method": method, "cryptosuite": proof["cryptosuite"]},
    )


def _check_signature(document: dict[str, Any], proof: dict[str, Any], public_key: bytes) -> None:
    """Raise Invalid unless `proof` is a valid signature of `document` by `public_key`."""
    try:
        signed = proofs.verify(document, proof, public_key)
    except CanonicalizationError as error:
        raise _refusal(error) from error
    except UnknownContext as error:
        raise Invalid(
            Code.UNKNOWN_CONTEXT,
            "The credential uses a JSON-LD context that is not supported.",
            field="@context",
        ) from error
    except CredentialError as error:
        raise Invalid(
            Code.MALFORMED_PROOF, "The signature cannot be read.", field="proof"
        ) from error
    if not signed:
        raise Invalid(
            Code.SIGNATURE_INVALID,
            "The issuer's signature does not match the credential: it was altered or forged.",
            field="proof.proofValue",
        )


def _refusal(error: CanonicalizationError) -> Invalid:
    """The coded failure for a credential the JSON-LD converter or RDFC-1.0 refused to read."""
    code, message = next(
        (code, message) for kind, code, message in JSONLD_REFUSALS if isinstance(error, kind)
    )
    detail = error.message[:DETAIL_LIMIT]
    return Invalid(code, f"{message}, so its signature cannot be checked: {detail}", reason=detail)
