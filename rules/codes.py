"""Reason codes of the engine: why an outcome counts, why it was refused, what is missing."""

from enum import StrEnum


class Code(StrEnum):
    """One reason; the portal translates codes (with their params) via explain.py."""

    HOME_UNIT = "home-unit"
    EQUIVALENT_UNIT = "equivalent-unit"
    UNIT_SET = "unit-set"
    CERTIFICATE_CREDITS = "certificate-credits"
    TRANSFER = "transfer"
    BLOCK_CREDIT = "block-credit"
    EXEMPTION = "exemption"

    REVOKED = "revoked"
    NOT_COMPLETED = "not-completed"
    FAILED = "failed"
    UNCONVERTIBLE = "credit-scheme-unconvertible"
    NO_CREDITS = "no-credits"
    EXPIRED = "expired"
    BEFORE_WINDOW = "before-window"
    BELOW_SCORE = "below-score"
    BELOW_GRADE = "below-grade"
    BELOW_ATTENDANCE = "below-attendance"
    GRADE_NOT_COMPARABLE = "grade-not-comparable"
    REPEATED_UNIT = "repeated-unit"
    OVERLAP = "overlap"
    NO_RULE = "no-rule"
    INCOMPLETE_SET = "incomplete-set"
    CREDITS_SHORT = "credits-short"
    ALREADY_EXEMPT = "already-exempt"
    CAP_PERIOD = "cap-period"
    CAP_PROVIDER = "cap-provider"
    CAP_COUNT = "cap-count"
    CAP_PROPORTION = "cap-proportion"

    TOTAL_CREDITS = "total-credits"
    CATEGORY_CREDITS = "category-credits"
    MANDATORY_UNITS = "mandatory-units"
    MANDATORY_CREDITS = "mandatory-credits"
    SOURCE_CREDITS = "source-credits"
    MIN_GPA = "min-gpa"
