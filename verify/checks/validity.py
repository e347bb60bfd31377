"""Validity check: the credential's validity period includes the present moment."""

from __future__ import annotations

from infra.times import iso_utc
from verify.codes import Code
from verify.context import Context
from verify.errors import Invalid
from verify.fragments import Fragment, Status
from verify.subject import Subject, known

NAME = "validity"
REQUIRES = ("format",)


def run(subject: Subject, context: Context) -> Fragment:
    """Compare validFrom and validUntil with the context's clock."""
    facts = known(subject.facts, "format")
    now = context.now()
    details = {
        "valid_from": iso_utc(facts.valid_from.timestamp()),
        "valid_until": (
            None if facts.valid_until is None else iso_utc(facts.valid_until.timestamp())
        ),
        "checked_at": iso_utc(now.timestamp()),
    }
    if now < facts.valid_from:
        raise Invalid(Code.NOT_YET_VALID, "The credential is not valid yet.", **details)
    if facts.valid_until is not None and now >= facts.valid_until:
        raise Invalid(Code.EXPIRED, "The credential has expired.", **details)
    return Fragment(
        NAME, Status.VALID, None, "The credential is within its validity period.", details
    )
