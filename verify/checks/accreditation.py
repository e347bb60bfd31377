"""Accreditation check: the issuer is accredited, not suspended, and in scope for the credential.

A learning agreement grants no learning outcome: it needs an accredited, unsuspended issuer
(whose key the key-binding check finds on chain) but no kind or level in the issuer's scope.
"""

from __future__ import annotations

from credentials.model import AGREEMENT, kind_bit
from infra.times import iso_utc
from verify.checks.anchor import required_anchor
from verify.codes import Code
from verify.context import Context
from verify.errors import Invalid
from verify.fragments import Fragment, Status
from verify.subject import Subject, known

NAME = "accreditation"
REQUIRES = ("format",)


def run(subject: Subject, context: Context) -> Fragment:
    """Check the issuer's registry record now and its accreditation period at anchoring time."""
    facts = known(subject.facts, "format")
    issuer = context.issuer(facts.issuer)
    if issuer is None:
        raise Invalid(
            Code.ISSUER_NOT_ACCREDITED,
            "The credential's issuer is not an accredited institution.",
            issuer=facts.issuer,
        )
    if issuer.suspended:
        raise Invalid(
            Code.ISSUER_SUSPENDED,
            "The credential's issuer is currently suspended by the credit bank.",
            issuer=facts.issuer,
        )
    if facts.kind != AGREEMENT and not (issuer.kind_mask >> kind_bit(facts.kind)) & 1:
        raise Invalid(
            Code.OUT_OF_SCOPE,
            f"The issuer is not accredited to award credentials of the kind {facts.kind!r}.",
            kind=facts.kind,
        )
    if facts.level is not None and not (issuer.level_mask >> facts.level) & 1:
        raise Invalid(
            Code.OUT_OF_SCOPE,
            f"The issuer is not accredited to award credentials at level {facts.level}.",
            level=facts.level,
        )
    anchored_at = required_anchor(subject, context).record.timestamp
    details = {
        "accredited_from": iso_utc(issuer.valid_from),
        "accredited_until": iso_utc(issuer.valid_until) if issuer.valid_until else None,
        "anchored_at": iso_utc(anchored_at),
    }
    if anchored_at < issuer.valid_from:
        raise Invalid(
            Code.ACCREDITATION_NOT_YET_VALID,
            "The credential was anchored before its issuer's accreditation began.",
            **details,
        )
    if issuer.valid_until and anchored_at >= issuer.valid_until:
        raise Invalid(
            Code.ACCREDITATION_EXPIRED,
            "The credential was anchored after its issuer's accreditation ended.",
            **details,
        )
    return Fragment(
        NAME,
        Status.VALID,
        None,
        "The issuer was accredited for this kind and level of credential when it was anchored.",
        details,
    )
