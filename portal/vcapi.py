"""The W3C VC-API under /api/vc: verify a credential or a presentation (anyone, rate-limited) and
issue an Open Badges 3.0 AchievementCredential (an institution, with its API token).

A credential of the bank's issuers (a DID registered on the chain, or a did:web of the bank's
DID host) goes through the bank's whole pipeline and is verified only when its verdict is VALID;
any other (a did:key) through the W3C profile (verify.w3c: data model, signature, dates), with a
warning that the bank has not accredited its issuer. A verification result names the checks
that passed and each failed check as a problem detail: a credential answers 200 when verified
and 400 (the VC-API's status for it) with the same result when not; a presentation answers 200
either way, as the VC-API says. A request that cannot be examined (not a JSON object, an unknown
member or option) answers 400 naming it. Issuance maps an unsigned AchievementCredential
onto one outcome of the issuer's catalogue and issues it through the normal pipeline (signed by the
issuer's key, stored in a batch, anchored by the worker); it refuses, naming the member, anything
the bank would not sign exactly as sent.

The conformance issuer (off unless the setting `conformance_issuer` is on, for the W3C test
suites) signs any credential that follows the VC Data Model 2.0 with a did:key derived from the
master key: never stored, anchored or accredited, so only the W3C profile verifies it.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from typing import Any, NoReturn

from flask import Response, current_app, request
from flask.views import MethodView
from marshmallow import Schema, fields
from sqlalchemy import Connection, select

from bank.wallet import holder_bound
from credentials import datamodel, proofs
from credentials.contexts import DATA_INTEGRITY_V2, VC_V1
from credentials.dids import did_key, verification_method_id
from credentials.errors import CredentialError
from credentials.keys import SigningKey
from credentials.model import RESULT_TYPES
from credentials.proofs import CRYPTOSUITES
from infra.errors import InvalidInput, NotFound
from infra.secrets import derive_secret
from infra.times import iso_utc
from issuers.issuance import outcomes_from_json
from issuers.tables import credentials
from portal.api import Blueprint, read_json
from portal.api.auth import BEARER, INSTITUTION, OPERATOR, Principal, requires
from portal.api.issuers import IDEMPOTENCY_HEADER, idempotent
from portal.ratelimit import limited
from portal.runtime import runtime
from verify import CHECKS, Context, Fragment, Report, Status, verify_credential
from verify.presentation import PresentationReport, verify_presentation
from verify.w3c import CHECK_NAMES as W3C_CHECK_NAMES
from verify.w3c import (
    UNACCREDITED,
    is_bank_credential,
    verify_any_credential,
    verify_w3c_credential,
    verify_w3c_presentation,
)

blp = Blueprint(
    "vcapi",
    __name__,
    url_prefix="/api/vc",
    description="The W3C VC-API: verify credentials and presentations, issue credentials",
)

VCDM = "https://www.w3.org/TR/vc-data-model#"
PROBLEM_TYPES = {
    "parse": f"{VCDM}PARSING_ERROR",
    "format": f"{VCDM}MALFORMED_VALUE_ERROR",
    "proof": f"{VCDM}CRYPTOGRAPHIC_SECURITY_ERROR",
    "key_binding": f"{VCDM}CRYPTOGRAPHIC_SECURITY_ERROR",
    "validity": f"{VCDM}RANGE_ERROR",
    "data_model": f"{VCDM}MALFORMED_VALUE_ERROR",
}
CHECK_NAMES = tuple(dict.fromkeys((*(check.NAME for check in CHECKS), *W3C_CHECK_NAMES)))
NOT_VERIFIED = 400
CONFORMANCE_PURPOSE = b"creditbank VC-API conformance issuer"
UNACCREDITED_WARNING = {
    "type": "urn:creditbank:verify:ISSUER_NOT_ACCREDITED",
    "title": "ISSUER_NOT_ACCREDITED",
    "detail": UNACCREDITED,
}
CREDENTIAL_OPTIONS: dict[str, type] = {"checks": list, "returnCredential": bool}
PRESENTATION_OPTIONS: dict[str, type] = {
    "challenge": str,
    "domain": str,
    "returnPresentation": bool,
}
ISSUE_OPTIONS: dict[str, type] = {"cryptosuite": str}
KINDS = {list: "list", bool: "boolean", str: "string"}
FAILED = (Status.INVALID, Status.INDETERMINATE)
_MIDNIGHT = re.compile(r"^(\d{4}-\d{2}-\d{2})T00:00:00Z$")
_SCALES = {result_type: scale for scale, result_type in RESULT_TYPES.items()}
OUTCOME_MEMBERS = {
    "national_id": "/credentialSubject/identifier",
    "unit": "/credentialSubject/achievement/humanCode",
    "unit_version": "/credentialSubject/achievement",
    "session": "/credentialSubject/term",
    "grade": "/credentialSubject/result/0/value",
    "scale": "/credentialSubject/achievement/resultDescription/0/resultType",
    "result_status": "/credentialSubject/result/0/status",
    "credits": "/credentialSubject/creditsEarned",
    "started_on": "/credentialSubject/activityStartDate",
    "completed_on": "/validFrom",
    "valid_until": "/validUntil",
}


class VerificationSchema(Schema):
    """A VC-API verification result: the verdict, the checks passed and the problems found."""

    verified = fields.Boolean(required=True)
    checks = fields.List(fields.String(), required=True)
    warnings = fields.List(fields.Dict(), required=True)
    errors = fields.List(fields.Dict(), required=True)
    problemDetails = fields.List(fields.Dict(), required=True)
    credential = fields.Dict()


class PresentationVerificationSchema(VerificationSchema):
    """A VC-API presentation result: the presentation's checks and one result per credential."""

    credentialResults = fields.List(fields.Nested(VerificationSchema), required=True)
    verifiablePresentation = fields.Dict()


class IssueResultSchema(Schema):
    """A VC-API issue result: the signed credential."""

    verifiableCredential = fields.Dict(required=True)


def _json_doc(*members: str) -> dict:
    """An OpenAPI request body of a JSON object with these members and `options`."""
    properties = {name: {"type": "object"} for name in (*members, "options")}
    return {
        "required": True,
        "content": {"application/json": {"schema": {"type": "object", "properties": properties}}},
    }


@blp.route("/credentials/verify")
class VerifyCredential(MethodView):
    """Verify one credential (VC-API verifyCredential)."""

    @limited("verify")
    @blp.doc(requestBody=_json_doc("verifiableCredential"))
    @blp.response(200, VerificationSchema, description="The credential is verified")
    @blp.alt_response(400, description="The credential is not verified (the verification result, "
                      "naming each failed check), or the request is malformed (the answer names "
                      "the member)")
    @blp.alt_response(429, description="Too many requests from this client")
    def post(self) -> Any:
        """Run every check on `verifiableCredential`; `verified` is true only if all pass.

        A credential of the bank's issuers gets the bank's every check (signature, key,
        accreditation, anchor, status, validity); any other issuer's (a did:key; nothing is
        fetched) the W3C profile's (data model, signature, validity), with a warning that its
        issuer is not accredited by the bank and it is not anchored. Options: `checks` (check
        names that must be run; every check always runs) and `returnCredential`."""
        credential, options = _request("verifiableCredential", CREDENTIAL_OPTIONS)
        wanted = options.get("checks", [])
        unknown = [name for name in wanted if name not in CHECK_NAMES]
        if unknown or not all(isinstance(name, str) for name in wanted):
            _malformed(
                f"options.checks may name only these checks: {', '.join(CHECK_NAMES)}",
                {"options": {"checks": [f"unknown check {name!r}" for name in unknown]
                             or ["must be a list of check names"]}},
            )
        context = _context()
        bank = is_bank_credential(credential, context, bank_did_host=_did_host())
        report = (verify_credential if bank else verify_w3c_credential)(credential, context)
        answer = credential_result(report, foreign=not bank)
        if options.get("returnCredential"):
            answer["credential"] = credential
        if answer["verified"]:
            return answer
        return Response(json.dumps(answer), NOT_VERIFIED, mimetype="application/json")


@blp.route("/presentations/verify")
class VerifyPresentation(MethodView):
    """Verify one presentation and every credential in it (VC-API verifyPresentation)."""

    @limited("verify")
    @blp.doc(requestBody=_json_doc("verifiablePresentation"))
    @blp.response(200, PresentationVerificationSchema)
    @blp.alt_response(400, description="The request is malformed: the answer names the member")
    @blp.alt_response(429, description="Too many requests from this client")
    def post(self) -> dict:
        """Check the presentation's proof and its `challenge` and `domain` (from the options),
        and every credential it holds (each by its issuer's profile, as
        `/credentials/verify`); `verified` only if all pass, 200 either way.

        A presentation holding a credential of the bank's issuers is held to the bank's rules:
        at least one credential, and each bound to its holder (the subject, or a wallet key the
        bank delivered it to). Any other is verified by the W3C profile (VC Data Model 2.0, the
        holder's did:key proof; whose credentials they are is left to the caller, as the
        VC-API says). Option: `returnPresentation`."""
        presentation, options = _request("verifiablePresentation", PRESENTATION_OPTIONS)
        limit = current_app.config["MAX_CREDENTIAL_BYTES"]
        context = runtime().public_context(2 * limit)
        with runtime().engine.connect() as connection:

            def delivered(credential_id: str, thumbprint: str) -> float | None:
                """When the bank delivered the credential to the wallet key (OID4VCI), if it did."""
                return holder_bound(connection, credential_id, thumbprint)

            def embedded(credential: Any, context: Context) -> Report:
                """A credential of the presentation, verified by its issuer's profile."""
                return verify_any_credential(credential, context, bank_did_host=_did_host())

            foreign = [
                not is_bank_credential(credential, context, bank_did_host=_did_host())
                for credential in _embedded(presentation)
            ]
            asked = {"challenge": options.get("challenge"), "domain": options.get("domain")}
            if all(foreign):
                report = verify_w3c_presentation(
                    presentation, context, **asked, verify_embedded=embedded
                )
            else:
                report = verify_presentation(
                    presentation, context, **asked, holder_binding=delivered,
                    verify_embedded=embedded,
                )
        answer = presentation_result(report, foreign)
        if options.get("returnPresentation"):
            answer["verifiablePresentation"] = presentation
        return answer


@blp.route("/credentials/issue")
class IssueCredential(MethodView):
    """Issue one credential (VC-API issueCredential), for an institution."""

    @requires(INSTITUTION)
    @blp.doc(
        security=[BEARER], parameters=[IDEMPOTENCY_HEADER], requestBody=_json_doc("credential")
    )
    @blp.response(201, IssueResultSchema)
    @blp.alt_response(400, description="The request is malformed: the answer names the member")
    @blp.alt_response(422, description="The credential cannot be issued as sent: the answer "
                      "names the member")
    def post(self, principal: Principal) -> Any:
        """Issue an unsigned OB3 AchievementCredential for one learner and one unit of the
        issuer's catalogue: signed by the issuer's key, stored in a batch for anchoring.

        The learner is named by an unhashed `credentialSubject.identifier` (a national id), the
        unit by `credentialSubject.achievement.humanCode`; the result, `term`, dates and credits
        are read from the credential. The bank assigns the id and adds what the catalogue
        holds; any member the bank would sign differently is refused. Option: `cryptosuite`."""
        credential, options = _request("credential", ISSUE_OPTIONS)
        cryptosuite = _cryptosuite(options)
        issuer = principal.record
        outcome = outcome_of(credential)
        return idempotent(
            issuer,
            201,
            IssueResultSchema(),
            lambda connection: {
                "verifiableCredential": _issue(connection, issuer, credential, outcome, cryptosuite)
            },
        )


@blp.route("/conformance/credentials/issue")
class IssueConformanceCredential(MethodView):
    """Sign any well-formed credential for the W3C test suites (VC-API issueCredential), for an
    operator, when the conformance issuer is on."""

    @requires(OPERATOR)
    @blp.doc(security=[BEARER], requestBody=_json_doc("credential"))
    @blp.response(201, IssueResultSchema)
    @blp.alt_response(400, description="The request is malformed: the answer names the member")
    @blp.alt_response(404, description="The conformance issuer is off (the default)")
    @blp.alt_response(422, description="The credential does not follow the VC Data Model 2.0: "
                      "the answer names the member")
    def post(self, principal: Principal) -> Any:
        """Sign an unsigned VC 2.0 credential with the bank's conformance did:key (only for the
        W3C interoperability test suites; off unless CREDITBANK_CONFORMANCE_ISSUER is set).

        Its `issuer` must be the conformance issuer's DID; the credential is signed as sent
        (eddsa-rdfc-2022, or the `cryptosuite` option) by the same code that signs the bank's
        credentials. It is NOT a credential of the bank: never stored, anchored or accredited,
        so the bank's own verifier never calls it VALID, and `/credentials/verify` verifies it
        as any issuer's that is not the bank's (form, signature and dates, with a warning)."""
        if not runtime().settings.conformance_issuer:
            raise NotFound("the conformance issuer is off")
        credential, options = _request("credential", ISSUE_OPTIONS)
        cryptosuite = _cryptosuite(options)
        key = conformance_key(runtime().settings.master_key())
        did = did_key(key.public_key)
        if "proof" in credential:
            _unmappable("/proof", "must be left out: the issuer adds the proof")
        violations = datamodel.credential_violations(credential)
        meaning = None if violations else datamodel.jsonld_violation(credential)
        found = [*violations, *([meaning] if meaning else [])]
        if found:
            raise InvalidInput(
                f"the credential does not follow the VC Data Model: {found[0]}",
                {"credential": {v.member or "/": [v.message] for v in found}},
            )
        issuer = credential["issuer"]
        if (issuer["id"] if isinstance(issuer, dict) else issuer) != did:
            _unmappable("/issuer/id" if isinstance(issuer, dict) else "/issuer",
                        f"must be the conformance issuer's DID {did}")
        try:
            signed = proofs.sign(
                _with_proof_context(credential), key,
                verification_method=verification_method_id(did, key.public_key),
                cryptosuite=cryptosuite, created=iso_utc(time.time()),
            )
        except CredentialError as error:
            raise InvalidInput(f"the credential cannot be signed: {error.message}",
                               {"credential": {"/@context": [error.message]}}) from None
        return {"verifiableCredential": signed}, 201


def _with_proof_context(credential: dict[str, Any]) -> dict[str, Any]:
    """The credential with the Data Integrity context its proof needs: VC 2.0's context defines
    the proof's terms, VC 1.1's does not, so it is added last (as Data Integrity issuers do)."""
    context = credential["@context"]
    if datamodel.base_context(credential) == VC_V1 and DATA_INTEGRITY_V2 not in context:
        return {**credential, "@context": [*context, DATA_INTEGRITY_V2]}
    return credential


def conformance_key(master_key: bytes) -> SigningKey:
    """The conformance issuer's signing key, derived from the master key."""
    return SigningKey(derive_secret(master_key, CONFORMANCE_PURPOSE))


def credential_result(report: Report, *, foreign: bool = False) -> dict[str, Any]:
    """A credential's report as a VC-API verification result; a `foreign` one (verified by the
    W3C profile) warns that its issuer is not accredited by the bank."""
    problems = [_problem(fragment) for fragment in report.fragments if fragment.status in FAILED]
    return {
        "verified": report.verdict == Status.VALID,
        "checks": [f.name for f in report.fragments if f.status == Status.VALID],
        "warnings": [dict(UNACCREDITED_WARNING)] if foreign else [],
        "errors": problems,
        "problemDetails": problems,
    }


def presentation_result(
    report: PresentationReport, foreign: list[bool] | None = None
) -> dict[str, Any]:
    """A presentation's report as a VC-API verification result, one result per credential
    (`foreign` says, per credential, whether the W3C profile verified it)."""
    marks = foreign or []
    results = [
        credential_result(credential, foreign=position < len(marks) and marks[position])
        for position, credential in enumerate(report.credentials)
    ]
    problems = [_problem(fragment) for fragment in report.fragments if fragment.status in FAILED]
    warnings: list[dict[str, Any]] = []
    for position, result in enumerate(results):
        problems += [{**problem, "credential": position} for problem in result["errors"]]
        warnings += [{**warning, "credential": position} for warning in result["warnings"]]
    return {
        "verified": report.verdict == Status.VALID,
        "checks": [f.name for f in report.fragments if f.status == Status.VALID],
        "warnings": warnings,
        "errors": problems,
        "problemDetails": problems,
        "credentialResults": results,
    }


def _problem(fragment: Fragment) -> dict[str, Any]:
    """A check that did not pass as an RFC 9457 problem detail: the VC data model's error type
    where one fits, our reason code as its title, the check's name and result."""
    code = str(fragment.code)
    return {
        "type": PROBLEM_TYPES.get(fragment.name, f"urn:creditbank:verify:{code}"),
        "title": code,
        "detail": fragment.message,
        "check": fragment.name,
        "result": str(fragment.status),
    }


def _embedded(presentation: dict[str, Any]) -> list[Any]:
    """The credentials a presentation embeds, as its format check reads them."""
    value = presentation.get("verifiableCredential")
    return value if isinstance(value, list) else [] if value is None else [value]


def _did_host() -> str:
    """The host of the bank's did:web identifiers."""
    return runtime().settings.did_host


def _context() -> Context:
    """The context public verification runs in (as /api/v1/verify builds it)."""
    return runtime().public_context(current_app.config["MAX_CREDENTIAL_BYTES"])


def _request(member: str, allowed: Mapping[str, type]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The request's `member` and its options; 400 naming any unknown or malformed member."""
    if not request.is_json:
        _malformed("send a JSON body (Content-Type: application/json)",
                   {"Content-Type": ["must be application/json"]})
    raw = request.get_data(cache=True)
    try:
        body = read_json(raw)
        json.loads(raw, object_pairs_hook=_unique, parse_int=str, parse_float=str,
                   parse_constant=str)
    except _Duplicate as duplicate:
        _malformed(f"the JSON body repeats the member {duplicate.name!r}",
                   {"json": [f"repeats the member {duplicate.name!r}"]})
    except ValueError:
        _malformed("the body is not JSON", {"json": ["the body is not JSON"]})
    if not isinstance(body, dict):
        _malformed("send a JSON object", {"json": ["must be a JSON object"]})
    unknown = sorted(set(body) - {member, "options"})
    if unknown:
        _malformed(
            f"unknown members: {', '.join(unknown)}", {name: ["unknown member"] for name in unknown}
        )
    value = body.get(member)
    if not isinstance(value, dict):
        _malformed(f"send the {member} as a JSON object", {member: ["must be a JSON object"]})
    options = body.get("options", {})
    if not isinstance(options, dict):
        _malformed("options must be a JSON object", {"options": ["must be a JSON object"]})
    errors = {
        name: ["unknown option"] if name not in allowed else [f"must be a {KINDS[allowed[name]]}"]
        for name, option in options.items()
        if name not in allowed or not isinstance(option, allowed[name])
    }
    if errors:
        _malformed(f"unsupported options: {', '.join(sorted(errors))}", {"options": errors})
    return value, options


class _Duplicate(ValueError):
    """A JSON object repeats a member."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object's members; refuses a repeated member (two readers could pick either)."""
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            raise _Duplicate(name)
        result[name] = value
    return result


class MalformedRequest(InvalidInput):
    """The VC-API request itself cannot be examined: 400, naming the member."""

    status = 400


def _cryptosuite(options: Mapping[str, Any]) -> str:
    """The cryptosuite an issue request's options ask for (eddsa-rdfc-2022 if none)."""
    cryptosuite = options.get("cryptosuite", CRYPTOSUITES[0])
    if cryptosuite not in CRYPTOSUITES:
        _malformed(
            "unknown cryptosuite",
            {"options": {"cryptosuite": [f"must be one of {', '.join(CRYPTOSUITES)}"]}},
        )
    return str(cryptosuite)


def _malformed(message: str, errors: dict[str, Any]) -> NoReturn:
    """Refuse (400) a request that cannot be examined."""
    raise MalformedRequest(message, errors)


def outcome_of(credential: dict[str, Any]) -> dict[str, Any]:
    """The issuer-API outcome an unsigned AchievementCredential asks for; 422 naming the member
    that is missing or cannot be read."""
    subject = _member(credential, "credentialSubject", dict, "/credentialSubject")
    identifiers = _member(subject, "identifier", list, "/credentialSubject/identifier")
    if len(identifiers) != 1 or not isinstance(identifiers[0], dict):
        _unmappable("/credentialSubject/identifier", "must hold exactly one IdentityObject")
    identity = identifiers[0]
    if (identity.get("type") != "IdentityObject" or identity.get("hashed") is not False
            or identity.get("identityType") != "nationalIdentityNumber"
            or not isinstance(identity.get("identityHash"), str)):
        _unmappable(
            "/credentialSubject/identifier/0",
            "must be an unhashed IdentityObject of identityType nationalIdentityNumber (the bank "
            "hashes it)",
        )
    achievement = _member(subject, "achievement", dict, "/credentialSubject/achievement")
    results = _member(subject, "result", list, "/credentialSubject/result")
    if len(results) != 1 or not isinstance(results[0], dict):
        _unmappable("/credentialSubject/result", "must hold exactly one Result")
    outcome: dict[str, Any] = {
        "national_id": identity["identityHash"],
        "unit": achievement.get("humanCode"),
        "session": subject.get("term"),
        "grade": results[0].get("value"),
        "completed_on": _midnight(credential.get("validFrom"), "/validFrom"),
    }
    descriptions = achievement.get("resultDescription")
    if isinstance(descriptions, list) and descriptions and isinstance(descriptions[0], dict):
        result_type = descriptions[0].get("resultType")
        if result_type not in _SCALES:
            _unmappable(OUTCOME_MEMBERS["scale"], f"must be one of {', '.join(_SCALES)}")
        outcome["scale"] = _SCALES[result_type]
    optional = {
        "result_status": results[0].get("status"),
        "credits": subject.get("creditsEarned"),
        "started_on": subject.get("activityStartDate"),
    }
    outcome.update({name: value for name, value in optional.items() if value is not None})
    if "validUntil" in credential:
        outcome["valid_until"] = _midnight(credential["validUntil"], "/validUntil")
    return outcome


def _member(document: dict[str, Any], name: str, kind: type, pointer: str) -> Any:
    """A required member of the credential, of the JSON kind given; 422 naming it otherwise."""
    value = document.get(name)
    if not isinstance(value, kind):
        _unmappable(pointer, f"is required as a JSON {'object' if kind is dict else 'array'}")
    return value


def _midnight(value: object, pointer: str) -> str:
    """The date of a dateTime at midnight UTC (the bank dates outcomes by day)."""
    match = _MIDNIGHT.match(value) if isinstance(value, str) else None
    if match is None:
        _unmappable(pointer, "must be a date at midnight UTC, as YYYY-MM-DDT00:00:00Z")
    return match.group(1)


def _unmappable(pointer: str, message: str) -> NoReturn:
    """Refuse (422) a credential member the bank cannot issue as sent."""
    raise InvalidInput(
        f"the credential cannot be issued as sent: {pointer} {message}",
        {"credential": {pointer: [message]}},
    )


def _issue(
    connection: Connection,
    issuer: dict,
    credential: dict[str, Any],
    outcome: dict[str, Any],
    cryptosuite: str,
) -> dict[str, Any]:
    """Issue the outcome through the normal pipeline and return the signed credential; refuse
    (rolling back) if it differs from what was sent in any member the sender gave."""
    try:
        issued = runtime().issuance.issue(
            connection, issuer, outcomes_from_json([outcome]), cryptosuite=cryptosuite
        )
    except InvalidInput as error:
        raise InvalidInput(error.message, {"credential": _members(error.errors)}) from None
    ((credential_id, _learner, _batch),) = issued.credentials
    text = connection.execute(
        select(credentials.c.signed).where(credentials.c.id == credential_id)
    ).scalar_one()
    signed = json.loads(text)
    differences = differing(credential, signed)
    if differences:
        raise InvalidInput(
            "the credential holds members the bank would sign differently; nothing was issued",
            {"credential": {pointer: [why] for pointer, why in differences.items()}},
        )
    return signed


def _members(errors: object) -> dict[str, Any]:
    """Issuance's outcome-field errors renamed to the credential members they came from."""
    if isinstance(errors, dict) and isinstance(errors.get("outcomes"), dict):
        found: object = next(iter(errors["outcomes"].values()), {})
        if isinstance(found, dict):
            return {OUTCOME_MEMBERS.get(str(name), str(name)): value
                    for name, value in found.items()}
    return {"/": errors}


def differing(sent: Any, signed: Any, pointer: str = "") -> dict[str, str]:
    """Each JSON pointer at which `sent` is not part of `signed`: every member sent must be
    signed as sent (the bank may add members, never change one). The learner's identifier is
    exempt (the bank hashes it); a string may stand for a signed object with that `id`."""
    if pointer == "/credentialSubject/identifier":
        return {}
    if pointer == "/@context":
        contexts = sent if isinstance(sent, list) else [sent]
        return {} if all(c in signed for c in contexts) else {pointer: "names a context the "
                                                              "bank does not sign with"}
    if pointer.endswith("/type") and isinstance(signed, list):
        kinds = sent if isinstance(sent, list) else [sent]
        same = all(isinstance(kind, str) for kind in kinds) and set(kinds) == set(signed)
        return {} if same else {pointer: f"the bank signs {signed}"}
    if isinstance(sent, str) and isinstance(signed, dict) and signed.get("id") == sent:
        return {}
    if isinstance(sent, dict) and isinstance(signed, dict):
        found: dict[str, str] = {}
        for name, value in sent.items():
            where = f"{pointer}/{_escape(name)}"
            if name not in signed:
                found[where] = "is not a member the bank signs"
            else:
                found.update(differing(value, signed[name], where))
        return found
    if isinstance(sent, list) and isinstance(signed, list) and len(sent) == len(signed):
        found = {}
        for position, (item, signed_item) in enumerate(zip(sent, signed, strict=True)):
            found.update(differing(item, signed_item, f"{pointer}/{position}"))
        return found
    if sent == signed and _number(sent) == _number(signed):
        return {}
    if pointer == "/id":
        return {pointer: "the bank assigns credential ids; leave it out"}
    return {pointer: f"the bank signs {json.dumps(signed, ensure_ascii=False)[:200]}"}


def _number(value: object) -> bool:
    """Whether a JSON value is a number (true and false are not)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _escape(name: str) -> str:
    """A member name as a JSON pointer token."""
    return name.replace("~", "~0").replace("/", "~1")
