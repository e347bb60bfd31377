"""Verify a W3C VC 2.0 verifiable presentation: its own checks, then each credential it holds.

The presentation's own checks are `parse`, `format`, `proof` (a Data Integrity proof for
authentication by the holder's did:key), `challenge` (the verifier's nonce and domain) and
`holder_binding` (each credential is the holder's); every embedded credential gets the same
report as a credential verified alone. The verdict covers both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from credentials import contexts, dids, proofs
from credentials.errors import CanonicalizationError, CredentialError, UnknownContext
from credentials.keys import ed25519_jwk, jwk_thumbprint
from verify.checks import parse as parse_check
from verify.codes import Code
from verify.context import Context
from verify.errors import Invalid
from verify.fragments import Fragment, Report, Status, verdict
from verify.pipeline import verify_credential
from verify.subject import Raw, known

PRESENTATION_TYPE = "VerifiablePresentation"
INTEGRITY_PROOF_TYPE = "DataIntegrityProof"
PROOF_PURPOSE = "authentication"
MEMBERS = frozenset({"@context", "id", "type", "holder", "verifiableCredential", "proof"})
CHECK_NAMES = ("parse", "format", "proof", "challenge", "holder_binding")


class HolderBinding(Protocol):
    """Whether the bank delivered a credential to a wallet key: the delivery time, or None."""

    def __call__(self, credential_id: str, thumbprint: str) -> float | None:
        """The time (epoch seconds) credential `credential_id` went to the key `thumbprint`."""
        ...


@dataclass(frozen=True)
class PresentationReport:
    """The presentation's own checks, one report per embedded credential, and the verdict."""

    fragments: tuple[Fragment, ...]
    credentials: tuple[Report, ...]
    verdict: Status
    holder: str | None = None

    def fragment(self, name: str) -> Fragment:
        """The presentation's fragment of the check called `name`."""
        return next(fragment for fragment in self.fragments if fragment.name == name)

    def with_fragment(self, fragment: Fragment) -> PresentationReport:
        """This report with one more presentation check (a verifier's query), verdict redone."""
        fragments = (*self.fragments, fragment)
        return replace(self, fragments=fragments, verdict=overall(fragments, self.credentials))

    def to_json(self) -> dict[str, Any]:
        """This report as JSON: verdict, presentation checks, holder, credential reports."""
        return {
            "verdict": str(self.verdict),
            "checks": [fragment.to_json() for fragment in self.fragments],
            "holder": self.holder,
            "credentials": [report.to_json() for report in self.credentials],
        }


def overall(fragments: tuple[Fragment, ...], credentials: tuple[Report, ...]) -> Status:
    """The verdict over the presentation's checks and every check of every credential."""
    every = [*fragments, *(fragment for report in credentials for fragment in report.fragments)]
    return verdict(every)


@dataclass
class PresentationState:
    """What the presentation's checks establish for the checks after them."""

    document: dict[str, Any] | None = None
    holder: str | None = None
    proof: dict[str, Any] | None = None
    credentials: list[dict[str, Any]] = field(default_factory=list)
    public_key: bytes | None = None


def verify_presentation(
    raw: Raw,
    context: Context,
    *,
    challenge: str | None,
    domain: str | None,
    holder_binding: HolderBinding | None = None,
    verify_embedded: Callable[[Raw, Context], Report] = verify_credential,
) -> PresentationReport:
    """Verify a presentation (JSON bytes, text or object) and every credential it embeds (with
    `verify_embedded`: the bank's pipeline unless another profile is given)."""
    state = PresentationState()
    steps: tuple[tuple[str, Callable[[], Fragment]], ...] = (
        ("parse", lambda: _parse(raw, context, state)),
        ("format", lambda: _format(state)),
        ("proof", lambda: holder_proof(state)),
        ("challenge", lambda: challenge_check(state, challenge, domain)),
        ("holder_binding", lambda: _holder_binding(state, holder_binding)),
    )
    fragments: list[Fragment] = []
    for name, step in steps:
        fragments.append(run_in_order(name, step, fragments))
    reports = tuple(verify_embedded(credential, context) for credential in state.credentials)
    ordered = tuple(fragments)
    return PresentationReport(ordered, reports, overall(ordered, reports), state.holder)


def run_in_order(name: str, step: Callable[[], Fragment], done: list[Fragment]) -> Fragment:
    """One check's fragment: SKIPPED unless the checks before it passed, else its outcome."""
    failed = next((fragment.name for fragment in done if fragment.status != Status.VALID), None)
    if failed is not None:
        return Fragment(name, Status.SKIPPED, Code.PRECONDITION_FAILED,
                        f"Skipped because the {failed} check did not pass.", {"requires": failed})
    try:
        return step()
    except Invalid as error:
        return Fragment(name, Status.INVALID, error.code, error.message, error.details)


def _parse(raw: Raw, context: Context, state: PresentationState) -> Fragment:
    """The presentation is one JSON object of bounded size and depth, with known contexts only."""
    document = parse_check.load_object(raw, context)
    parse_check.check_contexts(document)
    types = document.get("type")
    if PRESENTATION_TYPE not in (types if isinstance(types, list) else [types]):
        raise Invalid(Code.NOT_A_PRESENTATION, "The input is not a verifiable presentation.",
                      field="type")
    state.document = document
    return Fragment("parse", Status.VALID, None, "The input is a well-formed presentation.")


def _format(state: PresentationState) -> Fragment:
    """The members of a VC 2.0 presentation, and nothing else; one proof; embedded credentials."""
    document = known(state.document, "parse")
    unknown = sorted(document.keys() - MEMBERS)
    if unknown:
        raise Invalid(Code.UNKNOWN_MEMBER,
                      f"The presentation has a member that is not accepted: {unknown[0][:100]!r}.",
                      field=unknown[0][:100])
    context = document.get("@context")
    if (context if isinstance(context, list) else [context])[:1] != [contexts.VC_V2]:
        raise Invalid(Code.INVALID_MEMBER,
                      f"The presentation's @context must begin with {contexts.VC_V2}.",
                      field="@context")
    state.holder = _holder(document)
    state.credentials = _credentials(document)
    state.proof = integrity_proof(document)
    return Fragment("format", Status.VALID, None,
                    "The presentation has every required member in the expected form.",
                    {"credentials": len(state.credentials)})


def _holder(document: dict[str, Any]) -> str | None:
    """The holder's DID, if the presentation names one."""
    if "holder" not in document:
        return None
    holder = document["holder"]
    did = holder.get("id") if isinstance(holder, dict) else holder
    if not isinstance(did, str) or not did.startswith("did:"):
        raise Invalid(Code.INVALID_MEMBER, "The presentation's holder is not identified by a DID.",
                      field="holder")
    return did


def _credentials(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The embedded credentials: one object or a non-empty list of objects."""
    value = document.get("verifiableCredential")
    credentials = value if isinstance(value, list) else [] if value is None else [value]
    if not credentials:
        raise Invalid(Code.NO_CREDENTIAL, "The presentation holds no credential.",
                      field="verifiableCredential")
    for credential in credentials:
        if not isinstance(credential, dict):
            raise Invalid(Code.INVALID_MEMBER,
                          "A credential of the presentation is not an embedded credential object.",
                          field="verifiableCredential")
    return list(credentials)


def integrity_proof(document: dict[str, Any]) -> dict[str, Any]:
    """The presentation's one Data Integrity proof, made for authentication."""
    value = document.get("proof")
    if value is None:
        raise Invalid(Code.PROOF_MISSING, "The presentation is not signed.", field="proof")
    found = value if isinstance(value, list) else [value]
    if len(found) != 1:
        raise Invalid(Code.AMBIGUOUS_PROOF, "The presentation carries more than one proof.",
                      field="proof")
    proof = found[0]
    if not isinstance(proof, dict) or proof.get("type") != INTEGRITY_PROOF_TYPE:
        raise Invalid(Code.INVALID_MEMBER,
                      "The presentation's proof is not a Data Integrity proof.", field="proof.type")
    if proof.get("cryptosuite") not in proofs.CRYPTOSUITES:
        raise Invalid(Code.UNSUPPORTED_CRYPTOSUITE,
                      "The presentation is signed with an unsupported method "
                      f"(supported: {', '.join(proofs.CRYPTOSUITES)}).",
                      field="proof.cryptosuite")
    if not isinstance(proof.get("verificationMethod"), str):
        raise Invalid(Code.MISSING_MEMBER, "The presentation's proof does not name its key.",
                      field="proof.verificationMethod")
    if proof.get("proofPurpose") != PROOF_PURPOSE:
        raise Invalid(Code.INVALID_MEMBER,
                      "The presentation's proof is not made for authentication.",
                      field="proof.proofPurpose")
    return proof


def holder_proof(state: PresentationState) -> Fragment:
    """The holder signed the presentation with their did:key."""
    document, proof = known(state.document, "parse"), known(state.proof, "format")
    method = proof["verificationMethod"]
    try:
        controller = dids.controller_of(method)
        public_key = dids.public_key_of(method)
    except CredentialError as error:
        raise Invalid(Code.MALFORMED_PROOF,
                      "The presentation's proof names its key in a form that cannot be read.",
                      field="proof.verificationMethod") from error
    if not controller.startswith("did:key:"):
        raise Invalid(Code.MALFORMED_PROOF,
                      "The presentation must be signed with a did:key.",
                      field="proof.verificationMethod")
    if state.holder is not None and controller != state.holder:
        raise Invalid(Code.HOLDER_KEY_MISMATCH,
                      "The presentation is signed with a key that does not belong to its holder.",
                      field="proof.verificationMethod", controller=controller, holder=state.holder)
    if not _signed(document, proof, public_key):
        raise Invalid(Code.SIGNATURE_INVALID,
                      "The holder's signature does not match the presentation: it was altered.",
                      field="proof.proofValue")
    state.holder = state.holder or controller
    state.public_key = public_key
    return Fragment("proof", Status.VALID, None, "The holder's signature is valid.",
                    {"verification_method": method, "cryptosuite": proof["cryptosuite"]})


def _signed(document: dict[str, Any], proof: dict[str, Any], public_key: bytes) -> bool:
    """Whether `proof` is a valid signature of `document` by `public_key`."""
    try:
        return proofs.verify(document, proof, public_key)
    except UnknownContext as error:
        raise Invalid(Code.UNKNOWN_CONTEXT,
                      "The presentation uses a JSON-LD context that is not supported.",
                      field="@context") from error
    except CanonicalizationError as error:
        raise Invalid(Code.JSONLD_INVALID,
                      "The presentation's data cannot be put in the canonical form its signature "
                      f"covers: {error.message[:300]}", reason=error.message[:300]) from error
    except CredentialError as error:
        raise Invalid(Code.MALFORMED_PROOF, "The presentation's proof cannot be read.",
                      field="proof") from error


def challenge_check(
    state: PresentationState, challenge: str | None, domain: str | None
) -> Fragment:
    """The proof answers the verifier's challenge (nonce) and names the verifier as its domain."""
    proof = known(state.proof, "format")
    if challenge is not None and proof.get("challenge") != challenge:
        raise Invalid(Code.CHALLENGE_MISMATCH,
                      "The presentation was not made for this request: its challenge differs.",
                      field="proof.challenge")
    named = proof.get("domain")
    if domain is not None and domain not in (named if isinstance(named, list) else [named]):
        raise Invalid(Code.DOMAIN_MISMATCH,
                      "The presentation was made for another verifier: its domain differs.",
                      field="proof.domain")
    asked = challenge is not None or domain is not None
    message = ("The presentation answers this request's challenge and names this verifier."
               if asked else "No challenge or domain was asked for.")
    return Fragment("challenge", Status.VALID, None, message,
                    {"challenge": challenge is not None, "domain": domain})


def _holder_binding(state: PresentationState, holder_binding: HolderBinding | None) -> Fragment:
    """Each credential names the holder as its subject, or the bank delivered it to their key."""
    holder, public_key = known(state.holder, "proof"), known(state.public_key, "proof")
    jwk: dict[str, object] = {**ed25519_jwk(public_key)}
    thumbprint = jwk_thumbprint(jwk)
    bound: list[dict[str, Any]] = []
    for position, credential in enumerate(state.credentials):
        credential_id = credential.get("id")
        subject = credential.get("credentialSubject")
        if isinstance(subject, dict) and subject.get("id") == holder:
            bound.append({"credential": credential_id, "by": "subject"})
            continue
        delivered = (holder_binding(credential_id, thumbprint)
                     if holder_binding is not None and isinstance(credential_id, str) else None)
        if delivered is None:
            raise Invalid(Code.HOLDER_NOT_BOUND,
                          "A credential of the presentation is not the holder's: it names another "
                          "subject and was not delivered to the holder's wallet key.",
                          field=f"verifiableCredential[{position}]",
                          credential=credential_id if isinstance(credential_id, str) else None,
                          holder=holder)
        bound.append({"credential": credential_id, "by": "delivery", "delivered_at": delivered})
    return Fragment("holder_binding", Status.VALID, None,
                    "Every credential belongs to the holder who presented it.",
                    {"holder": holder, "thumbprint": thumbprint, "credentials": bound})
