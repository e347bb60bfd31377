"""The W3C verification profile, for credentials of issuers that are not the bank's (a did:key):
the JSON form (bundled contexts only), the VC Data Model 2.0, the Data Integrity proof(s) and the
validity period. Nothing is fetched: the key comes from the did:key itself.

Such a credential is not accredited by the bank, anchored or checked for revocation, so a
VALID verdict here says only that its form, signature and dates are right (`UNACCREDITED`); one
that names a status list is INDETERMINATE, since the list is not fetched.
A credential of the bank's issuers (a DID registered on the chain, or a did:web of the bank's
DID host) is verified by the bank's own pipeline instead (`is_bank_credential`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from credentials import datamodel, dids, proofs
from credentials.canon import rdfc
from credentials.contexts import FILES
from credentials.errors import CanonicalizationError, CredentialError, UnknownContext
from credentials.jsontypes import JsonObject
from infra.times import iso_utc
from ledger.errors import LedgerError
from verify import presentation as vp
from verify.checks import parse as parse_check
from verify.checks import proof as proof_check
from verify.codes import Code
from verify.context import Context
from verify.errors import Invalid
from verify.fragments import Fragment, Report, Status, verdict
from verify.pipeline import summary, verify_credential
from verify.presentation import PresentationReport, overall
from verify.subject import Raw, Subject, known

CHECK_NAMES = ("parse", "data_model", "proof", "validity", "status")
PROOF_PURPOSE = "assertionMethod"
DID_KEY = "did:key:"
PRESENTATION_CHECK_NAMES = ("parse", "data_model", "proof", "challenge")
UNACCREDITED = (
    "The issuer is not accredited by this credit bank and the credential is not anchored on its "
    "ledger: only its form, signature and validity dates were checked."
)


def verify_w3c_credential(raw: Raw, context: Context) -> Report:
    """Run the W3C profile's checks on one credential and return its report."""
    subject = Subject(raw)
    steps: tuple[tuple[str, Callable[[], Fragment]], ...] = (
        ("parse", lambda: _parse(subject, context)),
        ("data_model", lambda: _data_model(subject)),
        ("proof", lambda: _proof(subject, context)),
        ("validity", lambda: _validity(subject, context)),
        ("status", lambda: _status(subject)),
    )
    fragments: list[Fragment] = []
    for name, step in steps:
        fragments.append(vp.run_in_order(name, step, fragments))
    ordered = tuple(fragments)
    return Report(ordered, verdict(ordered), summary(subject))


def verify_any_credential(raw: Raw, context: Context, *, bank_did_host: str) -> Report:
    """A credential's report by its issuer's profile: the bank's pipeline for the bank's
    issuers, the W3C profile for any other."""
    if is_bank_credential(raw, context, bank_did_host=bank_did_host):
        return verify_credential(raw, context)
    return verify_w3c_credential(raw, context)


def verify_w3c_presentation(
    raw: Raw,
    context: Context,
    *,
    challenge: str | None,
    domain: str | None,
    verify_embedded: Callable[[Raw, Context], Report] = verify_w3c_credential,
) -> PresentationReport:
    """Verify a presentation by the W3C profile: its JSON form, the VC Data Model 2.0, the
    holder's Data Integrity proof (a did:key; `challenge` and `domain` when asked), then each
    credential it holds (none is fine) with `verify_embedded`. Whose the credentials are is the
    caller's business (the VC-API leaves it out of verification), so it is not checked."""
    state = vp.PresentationState()
    steps: tuple[tuple[str, Callable[[], Fragment]], ...] = (
        ("parse", lambda: _parse_presentation(raw, context, state)),
        ("data_model", lambda: _presentation_data_model(state)),
        ("proof", lambda: vp.holder_proof(state)),
        ("challenge", lambda: vp.challenge_check(state, challenge, domain)),
    )
    fragments: list[Fragment] = []
    for name, step in steps:
        fragments.append(vp.run_in_order(name, step, fragments))
    reports = tuple(verify_embedded(credential, context) for credential in state.credentials)
    ordered = tuple(fragments)
    return PresentationReport(ordered, reports, overall(ordered, reports), state.holder)


def _parse_presentation(raw: Raw, context: Context, state: vp.PresentationState) -> Fragment:
    """One JSON object of bounded size and depth; every context URL is a bundled one."""
    document = parse_check.load_object(raw, context)
    _check_context_urls(document)
    state.document = document
    return Fragment("parse", Status.VALID, None, "The input is a well-formed JSON object.")


def _presentation_data_model(state: vp.PresentationState) -> Fragment:
    """The VC Data Model 2.0's MUSTs for a presentation, a JSON-LD meaning for its members,
    and one Data Integrity proof for authentication."""
    document = known(state.document, "parse")
    violations = datamodel.presentation_violations(document)
    if violations:
        first = violations[0]
        code = Code.MISSING_MEMBER if first.message == "is required" else Code.INVALID_MEMBER
        raise Invalid(code, f"The presentation does not follow the VC Data Model: {first}.",
                      field=first.member, violations=[str(found) for found in violations[:20]])
    _check_meaning({name: value for name, value in document.items()
                    if name not in ("proof", "verifiableCredential")})
    holder = document.get("holder")
    state.holder = holder.get("id") if isinstance(holder, dict) else holder
    embedded = document.get("verifiableCredential")
    state.credentials = list(embedded if isinstance(embedded, list)
                             else [] if embedded is None else [embedded])
    state.proof = vp.integrity_proof(document)
    return Fragment("data_model", Status.VALID, None,
                    "The presentation follows the VC Data Model 2.0.",
                    {"credentials": len(state.credentials)})


def is_bank_credential(raw: Raw, context: Context, *, bank_did_host: str) -> bool:
    """Whether the credential names one of the bank's issuers: a did:web of the bank's DID host,
    a DID the chain's registry knows, or any issuer the chain cannot be asked about (so the
    bank's pipeline reports it). Input that cannot be read goes to the bank's pipeline too."""
    document = raw if isinstance(raw, dict) else None
    if document is None:
        return True
    issuer = document.get("issuer")
    did = issuer.get("id") if isinstance(issuer, dict) else issuer
    if not isinstance(did, str):
        return False
    if did == dids.did_web(bank_did_host) or did.startswith(dids.did_web(bank_did_host) + ":"):
        return True
    if not did.startswith("did:"):
        return False
    try:
        return context.issuer(did) is not None
    except LedgerError:
        return True


def _parse(subject: Subject, context: Context) -> Fragment:
    """One JSON object of bounded size and depth; every context URL is a bundled one."""
    document = parse_check.load_object(subject.raw, context)
    _check_context_urls(document)
    subject.document = document
    return Fragment("parse", Status.VALID, None, "The input is a well-formed JSON object.")


def _check_context_urls(document: JsonObject) -> None:
    """Refuse a context named by a URL that is not bundled (nothing is fetched); context
    objects written out in the document are read as they are."""
    stack: list[Any] = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            value = node.get("@context")
            for entry in value if isinstance(value, list) else [value]:
                if isinstance(entry, str) and entry not in FILES:
                    raise Invalid(Code.UNKNOWN_CONTEXT,
                                  f"The credential uses the JSON-LD context {entry[:200]!r}, "
                                  "which is not supported.", field="@context",
                                  context=entry[:200])
            stack.extend(item for name, item in node.items() if name != "@context")


def _data_model(subject: Subject) -> Fragment:
    """The VC Data Model 2.0's MUSTs, and a JSON-LD meaning for every member."""
    document = known(subject.document, "parse")
    violations = datamodel.credential_violations(document)
    if violations:
        first = violations[0]
        code = Code.MISSING_MEMBER if first.message == "is required" else Code.INVALID_MEMBER
        raise Invalid(code, f"The credential does not follow the VC Data Model: {first}.",
                      field=first.member, violations=[str(found) for found in violations[:20]])
    _check_meaning({name: value for name, value in document.items() if name != "proof"})
    return Fragment("data_model", Status.VALID, None,
                    "The credential follows the VC Data Model 2.0.")


def _check_meaning(document: JsonObject) -> None:
    """Raise Invalid unless the document expands as JSON-LD with the bundled contexts."""
    try:
        rdfc(document)
    except UnknownContext as error:
        raise Invalid(Code.UNKNOWN_CONTEXT, error.message[:300], field="@context") from error
    except CanonicalizationError as error:
        raise proof_check._refusal(error) from error


def _proof(subject: Subject, context: Context) -> Fragment:
    """Every Data Integrity proof verifies with the did:key of the issuer (and every proof a
    chained proof names with it)."""
    document = known(subject.document, "parse")
    value = document.get("proof")
    if value is None:
        raise Invalid(Code.PROOF_MISSING, "The credential is not signed.", field="proof")
    found = value if isinstance(value, list) else [value]
    if not found or not all(isinstance(proof, dict) for proof in found):
        raise Invalid(Code.MALFORMED_PROOF, "The credential's proof must be one or more objects.",
                      field="proof")
    issuer = document["issuer"]
    issuer_did = issuer["id"] if isinstance(issuer, dict) else issuer
    methods = [_check_proof(document, proof, issuer_did, context) for proof in found]
    return Fragment("proof", Status.VALID, None,
                    "The issuer's signature is valid." if len(methods) == 1
                    else f"All {len(methods)} signatures are valid.",
                    {"verification_method": methods[0],
                     "cryptosuite": found[0].get("cryptosuite")})


def _check_proof(document: JsonObject, proof: JsonObject, issuer: str, context: Context) -> str:
    """Raise Invalid unless `proof` is an assertion by the issuer's did:key that verifies;
    its verification method."""
    for name in ("type", "cryptosuite", "verificationMethod", "proofPurpose", "proofValue"):
        if name not in proof:
            raise Invalid(Code.MALFORMED_PROOF, f"The proof has no {name}.", field=f"proof.{name}")
    if proof["type"] != proofs.PROOF_TYPE:
        raise Invalid(Code.MALFORMED_PROOF, f"The proof's type must be {proofs.PROOF_TYPE}.",
                      field="proof.type")
    if proof["cryptosuite"] not in proofs.CRYPTOSUITES:
        raise Invalid(Code.UNSUPPORTED_CRYPTOSUITE,
                      "The credential is signed with an unsupported method "
                      f"(supported: {', '.join(proofs.CRYPTOSUITES)}).", field="proof.cryptosuite")
    if proof["proofPurpose"] != PROOF_PURPOSE:
        raise Invalid(Code.MALFORMED_PROOF,
                      f"The proof's purpose must be {PROOF_PURPOSE} for a credential.",
                      field="proof.proofPurpose")
    _check_proof_dates(proof, context)
    method = proof["verificationMethod"]
    try:
        controller = dids.controller_of(method)
        public_key = dids.public_key_of(method)
    except CredentialError as error:
        raise Invalid(Code.MALFORMED_PROOF,
                      "The signature names its key in a form that cannot be read.",
                      field="proof.verificationMethod") from error
    if not controller.startswith(DID_KEY):
        raise Invalid(Code.MALFORMED_PROOF,
                      "A credential of an issuer that is not the bank's must be signed with a "
                      "did:key (no DID is resolved over the network).",
                      field="proof.verificationMethod")
    if controller != issuer:
        raise Invalid(Code.WRONG_KEY_CONTROLLER,
                      "The credential is signed with a key that does not belong to its issuer.",
                      field="proof.verificationMethod", controller=controller, issuer=issuer)
    proof_check._check_signature(document, proof, public_key)
    return str(method)


def _check_proof_dates(proof: JsonObject, context: Context) -> None:
    """`created` and `expires`, when present, are dateTimeStamps; an expired proof fails."""
    for name in ("created", "expires"):
        if name in proof and datamodel.date_time_stamp(proof[name]) is None:
            raise Invalid(Code.MALFORMED_PROOF,
                          f"The proof's {name} is not an XML Schema dateTimeStamp.",
                          field=f"proof.{name}")
    expires = datamodel.date_time_stamp(proof.get("expires"))
    if expires is not None and context.now() >= expires:
        raise Invalid(Code.MALFORMED_PROOF, "The proof has expired.", field="proof.expires")


def _status(subject: Subject) -> Fragment:
    """A credential that names a status cannot be verified here: this profile fetches nothing,
    so whether its issuer revoked or suspended it stays unknown (INDETERMINATE, never VALID)."""
    document = known(subject.document, "parse")
    if "credentialStatus" not in document:
        return Fragment("status", Status.VALID, None, "The credential names no status to check.")
    return Fragment("status", Status.INDETERMINATE, Code.STATUS_UNCHECKED,
                    "The credential names a status list, which this verifier does not fetch for "
                    "an issuer the bank has not accredited: whether it was revoked is unknown.")


def _validity(subject: Subject, context: Context) -> Fragment:
    """The present moment lies within validFrom and validUntil (VC 1.1: issuanceDate and
    expirationDate), where given."""
    document = known(subject.document, "parse")
    now = context.now()
    start, end = datamodel.VALIDITY_MEMBERS[datamodel.base_context(document)]
    valid_from = datamodel.date_time_stamp(document.get(start))
    valid_until = datamodel.date_time_stamp(document.get(end))
    details = {
        "valid_from": None if valid_from is None else str(document[start]),
        "valid_until": None if valid_until is None else str(document[end]),
        "checked_at": iso_utc(now.timestamp()),
    }
    if valid_from is not None and now < valid_from:
        raise Invalid(Code.NOT_YET_VALID, "The credential is not valid yet.", **details)
    if valid_until is not None and now >= valid_until:
        raise Invalid(Code.EXPIRED, "The credential has expired.", **details)
    return Fragment("validity", Status.VALID, None,
                    "The credential is within its validity period.", details)
