"""Plain-language names and explanations of verification checks, statuses and reason codes, and
of the conversion engine's reasons, kinds of learning and the statuses of applications.

Reports and decisions themselves stay in English with stable codes; these are what a person reads
on the portal, in their language.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from rules.codes import Code as RuleCode
from verify.codes import Code
from verify.fragments import Status

CHECK_NAMES: Mapping[str, LazyString] = {
    "parse": _l("Readable credential"),
    "format": _l("Credential format"),
    "proof": _l("Issuer's signature"),
    "key_binding": _l("Signing key"),
    "accreditation": _l("Issuer accreditation"),
    "anchor": _l("Record on the ledger"),
    "status": _l("Revocation"),
    "validity": _l("Validity period"),
}

PASSED: Mapping[str, LazyString] = {
    "parse": _l("The file is a credential the bank can read."),
    "format": _l("The credential has every part a learning credential must have."),
    "proof": _l("The issuer's signature matches: nothing in the credential was changed."),
    "key_binding": _l("The signature was made with a key the issuer had registered with the bank."),
    "accreditation": _l(
        "The issuer is accredited by the credit bank for this kind and level of credential."
    ),
    "anchor": _l("The credential is recorded on the credit bank's ledger."),
    "status": _l("The issuer has not revoked the credential."),
    "validity": _l("Today is within the credential's validity period."),
}

STATUSES: Mapping[Status, LazyString] = {
    Status.VALID: _l("Passed"),
    Status.INVALID: _l("Failed"),
    Status.INDETERMINATE: _l("Could not be checked"),
    Status.SKIPPED: _l("Not checked"),
}

SYMBOLS: Mapping[Status, str] = {
    Status.VALID: "✓",
    Status.INVALID: "✗",
    Status.INDETERMINATE: "?",
    Status.SKIPPED: "–",
}

VERDICTS: Mapping[Status, LazyString] = {
    Status.VALID: _l("Valid"),
    Status.INVALID: _l("Not valid"),
    Status.INDETERMINATE: _l("Cannot decide"),
}

VERDICT_EXPLANATIONS: Mapping[Status, LazyString] = {
    Status.VALID: _l("Every check passed. You can rely on this credential."),
    Status.INVALID: _l("At least one check failed. Do not rely on this credential."),
    Status.INDETERMINATE: _l(
        "Some checks could not be completed, so the credential is neither confirmed nor "
        "rejected. Try again later."
    ),
}

ACCREDITED = _l("Accredited")

REASONS: Mapping[Code, LazyString] = {
    Code.INPUT_TOO_LARGE: _l("The file is too large to be a credential."),
    Code.NOT_JSON: _l("This is not a credential file: it is not readable JSON."),
    Code.DUPLICATE_MEMBER: _l(
        "The file names the same field twice, so it could be read in two ways."
    ),
    Code.UNSAFE_NUMBER: _l(
        "The file holds a number too large to be read exactly, so it could be read in two ways."
    ),
    Code.TOO_DEEP: _l("The file is nested too deeply to be a credential."),
    Code.NOT_AN_OBJECT: _l("The file holds JSON, but not a credential."),
    Code.UNKNOWN_CONTEXT: _l("The credential uses a vocabulary the credit bank does not know."),
    Code.UNSUPPORTED_TYPE: _l("This kind of credential is not one the credit bank can verify."),
    Code.BADGE_UNREADABLE: _l(
        "This image does not carry one Open Badges 3.0 credential the credit bank can read."
    ),
    Code.MISSING_MEMBER: _l("A required part of the credential is missing."),
    Code.INVALID_MEMBER: _l("A part of the credential has a value that is not allowed."),
    Code.PROOF_MISSING: _l("The credential is not signed."),
    Code.UNSUPPORTED_CRYPTOSUITE: _l("The credential is signed in a way the bank cannot check."),
    Code.AMBIGUOUS_PROOF: _l("The credential carries more than one signature."),
    Code.MALFORMED_PROOF: _l("The credential's signature is damaged and cannot be read."),
    Code.WRONG_KEY_CONTROLLER: _l(
        "The credential was signed with a key that does not belong to its issuer."
    ),
    Code.SIGNATURE_INVALID: _l(
        "The signature does not match the content: the credential was changed after it was "
        "issued, or it is forged."
    ),
    Code.JSONLD_UNSUPPORTED: _l(
        "The credential is written in a linked-data form the bank does not read, so its "
        "signature cannot be checked against it."
    ),
    Code.JSONLD_AMBIGUOUS: _l(
        "The credential says the same thing twice in different ways, so it could be read in two "
        "ways."
    ),
    Code.JSONLD_UNDEFINED: _l(
        "The credential holds a field its vocabulary does not define, which the signature would "
        "not cover."
    ),
    Code.JSONLD_INVALID_IRI: _l(
        "The credential holds an identifier that is not a complete web address or identifier."
    ),
    Code.JSONLD_NOT_COMPACTED: _l(
        "A field of the credential is written in an unusual form, so the file could say "
        "something other than what was signed."
    ),
    Code.JSONLD_INVALID: _l(
        "The credential's data is not valid linked data, so its signature cannot be checked."
    ),
    Code.KEY_NOT_REGISTERED: _l(
        "The signing key was never registered by the issuer with the credit bank."
    ),
    Code.KEY_REGISTERED_AFTER_ANCHOR: _l(
        "The signing key was registered only after the credential was recorded."
    ),
    Code.KEY_RETIRED: _l(
        "The signing key had already been withdrawn when the credential was recorded."
    ),
    Code.ISSUER_NOT_ACCREDITED: _l("The issuer is not accredited by the credit bank."),
    Code.ISSUER_SUSPENDED: _l("The credit bank has suspended the issuer's accreditation."),
    Code.ACCREDITATION_NOT_YET_VALID: _l(
        "The credential was recorded before the issuer's accreditation began."
    ),
    Code.ACCREDITATION_EXPIRED: _l(
        "The credential was recorded after the issuer's accreditation ended."
    ),
    Code.OUT_OF_SCOPE: _l(
        "The issuer is not accredited to award this kind or level of credential."
    ),
    Code.ANCHOR_PROOF_MISSING: _l(
        "The credential has no proof that it was recorded on the ledger."
    ),
    Code.MALFORMED_ANCHOR_PROOF: _l(
        "The credential's proof of recording on the ledger is damaged."
    ),
    Code.UNKNOWN_CHAIN: _l("The credential was recorded on a ledger other than this bank's."),
    Code.UNKNOWN_CONTRACT: _l("The credential names a ledger record other than this bank's."),
    Code.MERKLE_PROOF_INVALID: _l(
        "The credential is not the one that was recorded on the ledger: it was changed."
    ),
    Code.NOT_ANCHORED: _l("The credential was never recorded on the ledger."),
    Code.ANCHORED_BY_OTHER_ISSUER: _l(
        "The credential was recorded on the ledger by another institution than its issuer."
    ),
    Code.TRANSACTION_MISMATCH: _l("The ledger transaction the credential names did not record it."),
    Code.REVOKED_BATCH: _l("The issuer has revoked the batch of credentials this one belongs to."),
    Code.REVOKED_CREDENTIAL: _l("The issuer has revoked this credential."),
    Code.STATUS_UNCHECKED: _l(
        "Whether the issuer revoked this credential could not be checked: its status list "
        "belongs to an institution the credit bank has not accredited."
    ),
    Code.NOT_YET_VALID: _l("The credential is not valid yet."),
    Code.EXPIRED: _l("The credential has expired."),
    Code.NOT_A_PRESENTATION: _l("The wallet did not send a verifiable presentation."),
    Code.UNKNOWN_MEMBER: _l("The presentation holds a part the bank does not accept."),
    Code.NO_CREDENTIAL: _l("The presentation holds no credential."),
    Code.HOLDER_KEY_MISMATCH: _l(
        "The presentation was signed with a key that does not belong to the person presenting it."
    ),
    Code.CHALLENGE_MISMATCH: _l(
        "The presentation was not made for this request: it could be a copy of an older one."
    ),
    Code.DOMAIN_MISMATCH: _l("The presentation was made for another verifier."),
    Code.HOLDER_NOT_BOUND: _l(
        "The credential does not belong to the person presenting it: it names someone else and "
        "was not sent to their wallet."
    ),
    Code.QUERY_NOT_SATISFIED: _l("The credential presented is not the one asked for."),
    Code.PRECONDITION_FAILED: _l("Not checked, because an earlier check did not pass."),
    Code.LEDGER_UNAVAILABLE: _l(
        "The ledger could not be reached, so this could not be checked. Try again later."
    ),
    Code.LEDGER_ERROR: _l("The ledger answered with an error, so this could not be checked."),
    Code.UNEXPECTED_ERROR: _l("An unexpected error stopped this check."),
}


def explain(check: Mapping[str, Any]) -> LazyString:
    """The plain-language explanation of one check of a report (a row of `Report.to_json()`)."""
    if check["code"] is None:
        return PASSED[check["name"]]
    return REASONS[Code(check["code"])]


RULE_REASONS: Mapping[RuleCode, LazyString] = {
    RuleCode.HOME_UNIT: _l("A unit of the programme's own curriculum."),
    RuleCode.EQUIVALENT_UNIT: _l("Recognised as equivalent to a unit of the programme."),
    RuleCode.UNIT_SET: _l("Together with the other units of its set, it counts as one unit."),
    RuleCode.CERTIFICATE_CREDITS: _l("The certificate earns credits from the published table."),
    RuleCode.TRANSFER: _l("Transferred with its own credits."),
    RuleCode.BLOCK_CREDIT: _l("The qualification earns a block of credits."),
    RuleCode.EXEMPTION: _l("Exempts you from units of the programme: fewer credits to earn."),
    RuleCode.REVOKED: _l("The issuer has revoked this credential."),
    RuleCode.NOT_COMPLETED: _l("Not completed yet (status %(status)s)."),
    RuleCode.FAILED: _l("Not passed (grade %(grade)s on the %(scale)s scale)."),
    RuleCode.UNCONVERTIBLE: _l("Credits in %(scheme)s cannot be converted into %(to)s."),
    RuleCode.NO_CREDITS: _l("It carries no credits."),
    RuleCode.EXPIRED: _l("Completed before %(oldest)s: older than %(years)s years."),
    RuleCode.BEFORE_WINDOW: _l("Completed before %(not_before)s."),
    RuleCode.BELOW_SCORE: _l("The score %(grade)s is below the %(required)s required (%(scale)s)."),
    RuleCode.BELOW_GRADE: _l("The grade %(grade)s is below the %(required)s required (%(scale)s)."),
    RuleCode.BELOW_ATTENDANCE: _l(
        "Attendance of %(attendance)s%% is below the %(required)s%% required."
    ),
    RuleCode.GRADE_NOT_COMPARABLE: _l(
        "The grade %(grade)s (%(grade_scale)s) cannot be compared on the %(scale)s scale."
    ),
    RuleCode.REPEATED_UNIT: _l("The same unit already counts (%(counted)s)."),
    RuleCode.OVERLAP: _l("It overlaps learning that already counts (%(counted)s)."),
    RuleCode.NO_RULE: _l("No rule of this programme recognises this learning."),
    RuleCode.INCOMPLETE_SET: _l("Part of a set; still missing: %(missing)s."),
    RuleCode.CREDITS_SHORT: _l("It offers %(offered)s credits where %(required)s are required."),
    RuleCode.ALREADY_EXEMPT: _l("You are already exempted from %(units)s."),
    RuleCode.CAP_PERIOD: _l(
        "Over the limit of %(limit)s credits for the period from %(counter)s "
        "(%(counted)s already counted)."
    ),
    RuleCode.CAP_PROVIDER: _l(
        "Over the limit of %(limit)s credits from one provider (%(counted)s already counted)."
    ),
    RuleCode.CAP_COUNT: _l("Over the limit of %(limit)s of this kind of learning."),
    RuleCode.CAP_PROPORTION: _l(
        "Over the limit of %(limit)s credits for this share of the programme "
        "(%(counted)s already counted)."
    ),
    RuleCode.TOTAL_CREDITS: _l("Total credits"),
    RuleCode.CATEGORY_CREDITS: _l("Credits in a category"),
    RuleCode.MANDATORY_UNITS: _l("Every mandatory unit"),
    RuleCode.MANDATORY_CREDITS: _l("Credits from the mandatory units"),
    RuleCode.SOURCE_CREDITS: _l("Credits from a given source"),
    RuleCode.MIN_GPA: _l("Minimum grade point average over the programme's own units"),
}

REVIEW_REASONS: Mapping[str, LazyString] = {
    "excluded-by-reviewer": _l("A reviewer left this credential out: %(message)s"),
    "refused-by-reviewer": _l("A reviewer refused the application: %(message)s"),
}

KINDS: Mapping[str, LazyString] = {
    "course": _l("Course"),
    "module": _l("Module"),
    "certificate": _l("Certificate"),
    "mooc": _l("Online course (MOOC)"),
    "training": _l("Training"),
    "degree": _l("Degree"),
    "transcript": _l("Transcript"),
}

APPLICATION_STATUSES: Mapping[str, LazyString] = {
    "submitted": _l("Waiting for the first review"),
    "first_reviewed": _l("Waiting for the second review"),
    "decided": _l("Decided"),
    "appealed": _l("Appeal under review"),
}

DEPOSIT_STATUSES: Mapping[str, LazyString] = {
    "accepted": _l("Verified and added to your record"),
    "review": _l("Under review by the credit bank"),
    "rejected": _l("Rejected"),
}


class _Params(dict):
    """Reason params for %-formatting: lists joined, a missing param shown as "?"."""

    def __missing__(self, key: str) -> str:
        return "?"


def explain_rule(code: str, params: Mapping[str, Any] | None = None, message: str = "") -> str:
    """A conversion reason in plain words, in the page's language, filled in with its params."""
    values = _Params({key: ", ".join(map(str, value)) if isinstance(value, list | tuple) else value
                      for key, value in (params or {}).items()})
    values.setdefault("message", message)
    if code in REVIEW_REASONS:
        return str(REVIEW_REASONS[code]) % values
    try:
        return str(RULE_REASONS[RuleCode(code)]) % values
    except ValueError:
        return message
