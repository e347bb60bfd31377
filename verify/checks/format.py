"""Format check: the credential has the members of a VC 2.0 / Open Badges 3.0 credential."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from credentials import contexts
from credentials.anchoring import ANCHOR_PROOF_TYPE
from credentials.errors import CredentialError
from credentials.model import credential_kind, credential_level, issuer_did
from credentials.proofs import CRYPTOSUITES
from credentials.status import StatusEntry, parse_entries
from verify.codes import Code
from verify.context import Context
from verify.errors import Invalid
from verify.fragments import Fragment, Status
from verify.subject import Facts, Subject, known

NAME = "format"
REQUIRES = ("parse",)

INTEGRITY_PROOF_TYPE = "DataIntegrityProof"
LEADING_CONTEXTS = {
    "AchievementCredential": (contexts.VC_V2, contexts.OB_V3),
    "ClrCredential": (contexts.VC_V2, contexts.CLR_V2),
    "LearningAgreementCredential": (contexts.VC_V2, contexts.AGREEMENT_V1),
}
DATE_TIME_STAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})", re.ASCII
)


def run(subject: Subject, context: Context) -> Fragment:
    """Check the members every supported credential must have, and record their values."""
    document = known(subject.document, "parse")
    _check_leading_contexts(document, known(subject.credential_format, "parse"))
    issuer = _issuer(document)
    valid_from = _date(document, "validFrom")
    valid_until = _date(document, "validUntil") if "validUntil" in document else None
    if valid_until is not None and valid_until <= valid_from:
        raise Invalid(
            Code.INVALID_MEMBER, "The credential ends before it starts.", field="validUntil"
        )
    _check_credential_subject(document)
    integrity_proof = _integrity_proof(document)
    kind, level = _kind_and_level(document)
    status = _status_entries(document)
    subject.facts = Facts(issuer, valid_from, valid_until, integrity_proof, kind, level, status)
    return Fragment(
        NAME,
        Status.VALID,
        None,
        "The credential has every required member in the expected form.",
        {"kind": kind, "level": level},
    )


def _check_leading_contexts(document: dict[str, Any], credential_format: str) -> None:
    """The first contexts must be VC 2.0 then the format's own context."""
    expected = LEADING_CONTEXTS[credential_format]
    value = document.get("@context")
    if not isinstance(value, list) or tuple(value[: len(expected)]) != expected:
        raise Invalid(
            Code.INVALID_MEMBER,
            f"The credential's @context must begin with {', '.join(expected)}.",
            field="@context",
        )


def _issuer(document: dict[str, Any]) -> str:
    """The issuer's DID; the issuer is a DID or an object whose id is a DID."""
    if "issuer" not in document:
        raise Invalid(
            Code.MISSING_MEMBER, "The credential does not name its issuer.", field="issuer"
        )
    try:
        return issuer_did(document)
    except CredentialError as error:
        raise Invalid(
            Code.INVALID_MEMBER,
            "The credential's issuer is not identified by a DID.",
            field="issuer",
        ) from error


def _date(document: dict[str, Any], name: str) -> datetime:
    """A date-time member with a time zone, e.g. 2026-07-01T00:00:00Z."""
    if name not in document:
        raise Invalid(Code.MISSING_MEMBER, f"The credential has no {name} date.", field=name)
    value = document[name]
    if isinstance(value, str) and DATE_TIME_STAMP.fullmatch(value):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
    raise Invalid(
        Code.INVALID_MEMBER,
        f"The credential's {name} is not a date and time with a time zone.",
        field=name,
    )


def _check_credential_subject(document: dict[str, Any]) -> None:
    """The subject is one object identifying the learner by an id or an identifier."""
    if "credentialSubject" not in document:
        raise Invalid(
            Code.MISSING_MEMBER,
            "The credential does not name its learner.",
            field="credentialSubject",
        )
    credential_subject = document["credentialSubject"]
    if not isinstance(credential_subject, dict) or not (
        isinstance(credential_subject.get("id"), str) or credential_subject.get("identifier")
    ):
        raise Invalid(
            Code.INVALID_MEMBER,
            "The credential's subject does not identify the learner by an id or an identifier.",
            field="credentialSubject",
        )


def _integrity_proof(document: dict[str, Any]) -> dict[str, Any]:
    """The one Data Integrity proof, with a supported cryptosuite and its required members."""
    value = document.get("proof")
    proofs = value if isinstance(value, list) else [value] if value is not None else []
    if not all(isinstance(proof, dict) for proof in proofs):
        raise Invalid(
            Code.INVALID_MEMBER, "A proof of the credential is not an object.", field="proof"
        )
    for proof in proofs:
        if proof.get("type") not in (INTEGRITY_PROOF_TYPE, ANCHOR_PROOF_TYPE):
            raise Invalid(
                Code.INVALID_MEMBER,
                f"The credential carries a proof of unknown type {str(proof.get('type'))[:80]!r}.",
                field="proof.type",
            )
    integrity_proofs: list[dict[str, Any]] = [
        proof for proof in proofs if proof["type"] == INTEGRITY_PROOF_TYPE
    ]
    if not integrity_proofs:
        raise Invalid(Code.PROOF_MISSING, "The credential is not signed.", field="proof")
    if len(integrity_proofs) > 1:
        raise Invalid(
            Code.AMBIGUOUS_PROOF, "The credential carries more than one signature.", field="proof"
        )
    proof = integrity_proofs[0]
    if proof.get("cryptosuite") not in CRYPTOSUITES:
        raise Invalid(
            Code.UNSUPPORTED_CRYPTOSUITE,
            "The credential is signed with an unsupported method "
            f"(supported: {', '.join(CRYPTOSUITES)}).",
            field="proof.cryptosuite",
        )
    if not isinstance(proof.get("verificationMethod"), str):
        raise Invalid(
            Code.MISSING_MEMBER,
            "The credential's signature does not name its key.",
            field="proof.verificationMethod",
        )
    if proof.get("proofPurpose") != "assertionMethod":
        raise Invalid(
            Code.INVALID_MEMBER,
            "The credential's signature is not made for asserting a credential.",
            field="proof.proofPurpose",
        )
    return proof


def _status_entries(document: dict[str, Any]) -> tuple[StatusEntry, ...]:
    """The credential's Bitstring Status List entries (none for a credential without
    `credentialStatus`), exactly in the form the bank writes them."""
    if "credentialStatus" not in document:
        return ()
    try:
        return parse_entries(document["credentialStatus"])
    except CredentialError as error:
        raise Invalid(
            Code.INVALID_MEMBER,
            f"The credential's status entry cannot be read: {error.message}",
            field="credentialStatus",
        ) from error


def _kind_and_level(document: dict[str, Any]) -> tuple[str, int | None]:
    """The credential's kind (one of KINDS) and framework level, if any."""
    try:
        return credential_kind(document), credential_level(document)
    except CredentialError as error:
        raise Invalid(
            Code.INVALID_MEMBER,
            f"The credential's achievement cannot be read: {error.message}",
            field="credentialSubject.achievement",
        ) from error
