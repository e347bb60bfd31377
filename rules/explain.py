"""Human wording for reason codes; the report carries codes and params, the portal translates."""

from __future__ import annotations

from collections.abc import Mapping

from rules.codes import Code

MESSAGES: Mapping[Code, str] = {
    Code.HOME_UNIT: "A unit of the programme's own curriculum.",
    Code.EQUIVALENT_UNIT: "Recognised as equivalent to a programme unit.",
    Code.UNIT_SET: "Together with the other units of the set, counts as one programme unit.",
    Code.CERTIFICATE_CREDITS: "The certificate grants credits from the published table.",
    Code.TRANSFER: "Transferred with its own credits.",
    Code.BLOCK_CREDIT: "The qualification grants a block of credits.",
    Code.EXEMPTION: "Exempts programme units: no credits, a lower requirement.",
    Code.REVOKED: "The credential has been revoked.",
    Code.NOT_COMPLETED: "Not completed (status {status}).",
    Code.FAILED: "Failed (grade {grade} on the {scale} scale).",
    Code.UNCONVERTIBLE: "Credits in {scheme} cannot be converted into {to}.",
    Code.NO_CREDITS: "The outcome carries no credits.",
    Code.EXPIRED: "Completed before {oldest}: older than {years} years.",
    Code.BEFORE_WINDOW: "Completed before {not_before}.",
    Code.BELOW_SCORE: "Score {grade} is below {required} ({scale}).",
    Code.BELOW_GRADE: "Grade {grade} is below {required} ({scale}).",
    Code.BELOW_ATTENDANCE: "Attendance {attendance}% is below {required}%.",
    Code.GRADE_NOT_COMPARABLE: "Grade {grade} ({grade_scale}) cannot be compared on {scale}.",
    Code.REPEATED_UNIT: "The same unit already counts (outcome {counted}).",
    Code.OVERLAP: "Overlaps an outcome that already counts ({counted}).",
    Code.NO_RULE: "No rule of this programme recognises this outcome.",
    Code.INCOMPLETE_SET: "Part of a set; still missing: {missing}.",
    Code.CREDITS_SHORT: "Offers {offered} credits where {required} are required.",
    Code.ALREADY_EXEMPT: "The units {units} are already exempted.",
    Code.CAP_PERIOD: "Over the limit of {limit} credits for the period from {counter} "
    "({counted} already counted).",
    Code.CAP_PROVIDER: "Over the limit of {limit} credits from one provider "
    "({counted} already counted).",
    Code.CAP_COUNT: "Over the limit of {limit} outcomes of this kind.",
    Code.CAP_PROPORTION: "Over the limit of {limit} credits for this share of the programme "
    "({counted} already counted).",
    Code.TOTAL_CREDITS: "Total credits.",
    Code.CATEGORY_CREDITS: "Minimum credits in a category.",
    Code.MANDATORY_UNITS: "Every mandatory unit.",
    Code.MANDATORY_CREDITS: "Minimum credits from the mandatory units.",
    Code.SOURCE_CREDITS: "Minimum credits from a given source.",
    Code.MIN_GPA: "Minimum grade point average over the programme's own units.",
}


def explain(code: Code, params: Mapping[str, object] | None = None) -> str:
    """The English message for a code, filled in with its params."""
    values = {
        key: ", ".join(map(str, value)) if isinstance(value, tuple | list) else value
        for key, value in (params or {}).items()
    }
    try:
        return MESSAGES[code].format(**values)
    except KeyError:
        return MESSAGES[code]
