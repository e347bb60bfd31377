"""Plain-language names and explanations of verification checks, statuses and reason codes, and
of the conversion engine's reasons, kinds of learning and the statuses of applications; and the
rules of a published rule set and the transfer guide's classes, in plain words.

Reports and decisions themselves stay in English with stable codes; these are what a person reads
on the portal, in their language.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from rules.codes import Code as RuleCode
from rules.programmes import Programme
from rules.rulesets import (
    CAP_RULES,
    GRANT_RULES,
    BlockCredit,
    CertificateCredits,
    CountCap,
    Currency,
    Equivalence,
    Exemption,
    GradeTable,
    Overlap,
    PeriodCap,
    ProportionCap,
    ProviderCap,
    Rule,
    Threshold,
    Transfer,
    UnitSet,
)
from rules.sources import Source, UnitRef
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
    "agreement-condition-unmet": _l("The pre-approval does not cover %(unit)s (%(condition)s): "
                                    "the programme's rules decide it instead."),
}

AGREEMENT_CONDITIONS: Mapping[str, LazyString] = {
    "unit-missing": _l("no credential of this unit is in the record"),
    "not-completed": _l("the unit was not passed"),
    "completed-late": _l("completed after the agreed date"),
    "outcome-revoked": _l("its credential was revoked"),
    "excluded-by-reviewer": _l("a reviewer left its credential out"),
    "agreement-revoked": _l("the pre-approval was revoked"),
    "agreement-not-approved": _l("the pre-approval is not approved"),
}

KINDS: Mapping[str, LazyString] = {
    "course": _l("Course"),
    "module": _l("Module"),
    "certificate": _l("Certificate"),
    "mooc": _l("Online course (MOOC)"),
    "training": _l("Training"),
    "degree": _l("Degree"),
    "transcript": _l("Transcript"),
    "agreement": _l("Learning agreement"),
}

APPLICATION_STATUSES: Mapping[str, LazyString] = {
    "submitted": _l("Waiting for the first review"),
    "first_reviewed": _l("Waiting for the second review"),
    "decided": _l("Decided"),
    "appealed": _l("Appeal under review"),
    "withdrawn": _l("Withdrawn"),
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
    if code == "agreement-condition-unmet" and values.get("condition") in AGREEMENT_CONDITIONS:
        values["condition"] = str(AGREEMENT_CONDITIONS[values["condition"]])
    if code in REVIEW_REASONS:
        return str(REVIEW_REASONS[code]) % values
    try:
        return str(RULE_REASONS[RuleCode(code)]) % values
    except ValueError:
        return message


# -- the public credit bank: rules in plain language and the transfer guide's classes -----------

GUIDE_CLASSES: Mapping[str, LazyString] = {
    "match": _l("Match"),
    "maybe": _l("Maybe"),
    "miss": _l("Miss"),
}

GUIDE_CLASS_EXPLANATIONS: Mapping[str, LazyString] = {
    "match": _l("Counts as stated, under the rules in force."),
    "maybe": _l("Counts subject to review: above a cap, or the rule needs a grade the guide "
                "cannot know yet."),
    "miss": _l("Does not count in this programme."),
}

RULE_GROUPS: Mapping[str, LazyString] = {
    "counts": _l("What counts"),
    "conditions": _l("Conditions: grades and currency"),
    "caps": _l("Caps"),
    "exemptions": _l("Exemptions"),
    "same": _l("The same learning counts once"),
}

ORIGIN_TEXT: Mapping[str, LazyString] = {
    "home": _l("only the institution's own units"),
    "external": _l("only learning from other institutions"),
}

PERIODS: Mapping[str, LazyString] = {"year": _l("year"), "semester": _l("semester")}

INSTITUTION_STATUSES: Mapping[str, LazyString] = {
    "accredited": _l("Accredited"),
    "suspended": _l("Suspended"),
    "expired": _l("Accreditation ended"),
    "not-yet-valid": _l("Accredited from a later date"),
}


def _number(value: Any) -> str:
    """A credit, score or share without trailing zeros."""
    return format(Decimal(str(value)).normalize(), "f")


def _joined(values: Any) -> str:
    return ", ".join(sorted(str(value) for value in values))


def describe_source(source: Source, names: Mapping[str, str]) -> str:
    """What learning a rule applies to, in plain words (`names`: provider DID → its name)."""
    parts = []
    if source.kinds:
        parts.append(", ".join(str(KINDS.get(kind, kind)) for kind in sorted(source.kinds)))
    if source.providers:
        parts.append(_("from %(providers)s", providers=", ".join(
            sorted(names.get(did, did) for did in source.providers))))
    if source.unit_codes:
        parts.append(_("units %(units)s", units=_joined(source.unit_codes)))
    if source.min_level is not None:
        parts.append(_("EQF level %(level)s or above", level=source.min_level))
    if source.origin in ORIGIN_TEXT:
        parts.append(str(ORIGIN_TEXT[source.origin]))
    described = "; ".join(parts) if parts else _("any learning")
    return described[:1].upper() + described[1:]


def _unit_refs(refs: Sequence[UnitRef], names: Mapping[str, str]) -> str:
    return ", ".join(ref.code if ref.provider is None
                     else f"{ref.code} ({names.get(ref.provider, ref.provider)})" for ref in refs)


def _in_category(text: str, category: str | None) -> str:
    return text if category is None else _("%(rule)s In the category “%(category)s”.",
                                           rule=text, category=category)


def rule_group(rule: Rule) -> str:
    """Which part of a programme's rules a rule belongs to (a key of `RULE_GROUPS`)."""
    if isinstance(rule, Exemption):
        return "exemptions"
    if isinstance(rule, GRANT_RULES):
        return "counts"
    if isinstance(rule, Threshold | Currency | GradeTable):
        return "conditions"
    if isinstance(rule, CAP_RULES):
        return "caps"
    return "same"


def describe_rule(rule: Rule, programme: Programme, names: Mapping[str, str]) -> str:
    """What one rule of a rule set does, in plain words and in the page's language."""
    if isinstance(rule, Equivalence):
        text = _("Counts as the programme's unit %(unit)s.", unit=rule.target_unit)
        if rule.credits is not None:
            text += " " + _("It earns %(credits)s credits.", credits=_number(rule.credits))
        elif rule.match_credits:
            text += " " + _("It must carry at least that unit's credits.")
        return text
    if isinstance(rule, UnitSet):
        return _("Together, %(units)s count as the programme's unit %(unit)s.",
                 units=_unit_refs(rule.sources, names), unit=rule.target_unit)
    if isinstance(rule, CertificateCredits):
        return _("Earns %(credits)s credits in the category “%(category)s”.",
                 credits=_number(rule.credits), category=rule.category)
    if isinstance(rule, Exemption):
        return _("Exempts from the programme's units %(units)s: no credits, but fewer credits "
                 "to earn.", units=", ".join(rule.units))
    if isinstance(rule, Transfer):
        text = _("Transfers with its own credits into the category “%(category)s”.",
                 category=rule.category)
        if rule.max_credits is not None:
            text += " " + _("Each counts for at most %(credits)s credits.",
                            credits=_number(rule.max_credits))
        return text
    if isinstance(rule, BlockCredit):
        return _("The qualification earns a block of credits: %(credits)s.", credits=", ".join(
            f"{category} {_number(credits)}" for category, credits in rule.credits.items()))
    if isinstance(rule, Threshold):
        return _describe_threshold(rule)
    if isinstance(rule, Currency):
        texts = []
        if rule.max_age_years is not None:
            texts.append(_("Counts only if completed in the last %(years)s years.",
                           years=rule.max_age_years))
        if rule.not_before is not None:
            texts.append(_("Counts only if completed on or after %(date)s.",
                           date=format_date(rule.not_before, "long")))
        return " ".join(texts)
    if isinstance(rule, GradeTable):
        return _("Its grades are converted to the programme's scale by the provider's grading "
                 "table (%(scale)s).", scale=rule.scale)
    if isinstance(rule, PeriodCap):
        return _in_category(_("At most %(credits)s credits per %(period)s (from %(starts)s).",
                              credits=_number(rule.max_credits), period=PERIODS[rule.period],
                              starts=", ".join(rule.starts)), rule.category)
    if isinstance(rule, ProviderCap):
        return _in_category(_("At most %(credits)s credits from any one provider.",
                              credits=_number(rule.max_credits)), rule.category)
    if isinstance(rule, CountCap):
        return _in_category(_("At most %(count)s of them count.", count=rule.max_count),
                            rule.category)
    if isinstance(rule, ProportionCap):
        limit = rule.max_share * programme.total_credits
        return _in_category(_("At most %(share)s%% of the programme's %(total)s credits "
                              "(%(limit)s credits).", share=_number(rule.max_share * 100),
                              total=_number(programme.total_credits), limit=_number(limit)),
                            rule.category)
    if isinstance(rule, Overlap):
        return _("%(units)s are the same learning: only one of them counts.",
                 units=_unit_refs(rule.units, names))
    return _("Learning with the same title (once spacing, numbering and abbreviations are "
             "set aside) counts once.")


def _describe_threshold(rule: Threshold) -> str:
    texts = []
    if rule.min_score is not None:
        texts.append(_("Counts only with a score of at least %(score)s (%(scale)s).",
                       score=_number(rule.min_score), scale=rule.scale))
    if rule.min_grade is not None:
        texts.append(_("Counts only with a grade of at least %(grade)s (%(scale)s).",
                       grade=rule.min_grade, scale=rule.scale))
    if rule.min_attendance is not None:
        texts.append(_("Counts only with attendance of at least %(attendance)s%%.",
                       attendance=_number(rule.min_attendance)))
    return " ".join(texts)


def rule_source(rule: Rule, names: Mapping[str, str]) -> str:
    """What learning a rule applies to, in plain words."""
    if isinstance(rule, UnitSet):
        return _unit_refs(rule.sources, names)
    if isinstance(rule, Overlap):
        return _unit_refs(rule.units, names)
    return describe_source(rule.source, names)


def explain_guide_line(line: Mapping[str, Any]) -> str:
    """Why a line of the transfer guide is a match, a maybe or a miss, in plain words."""
    code, params = line["code"], line.get("params") or {}
    if line["verdict"] == "maybe":
        if code == RuleCode.GRADE_NOT_COMPARABLE.value and params.get("grade") is None:
            why = _("It counts only with a grade on the %(scale)s scale that meets the rule; a "
                    "reviewer checks it.", scale=params.get("scale", "?"))
        elif code == RuleCode.BELOW_ATTENDANCE.value:
            why = _("It counts only with an attendance of at least %(required)s%%; a reviewer "
                    "checks it.", required=params.get("required", "?"))
        else:
            why = _("A reviewer decides: %(reason)s", reason=explain_rule(code, params))
        granted = explain_rule(line["grant_code"], {}) if line.get("grant_code") else ""
        return " ".join(filter(None, (granted, why)))
    return explain_rule(code, params)
