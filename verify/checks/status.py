"""Status check: neither the credential's batch nor the credential itself has been revoked."""

from __future__ import annotations

from ledger.records import Revocation, revocation_reason_label
from verify.checks.anchor import confirmed_anchor
from verify.codes import Code
from verify.context import Context
from verify.errors import Invalid
from verify.fragments import Fragment, Status
from verify.subject import Subject

NAME = "status"
REQUIRES = ("anchor",)


def run(subject: Subject, context: Context) -> Fragment:
    """Look up the revocation of the batch root, then of the credential's digest in it."""
    anchoring = confirmed_anchor(subject, context)
    revocation = context.root_revocation(anchoring.proof.root)
    if revocation is not None:
        raise Invalid(
            Code.REVOKED_BATCH,
            f"The issuer revoked the whole batch this credential belongs to "
            f"({revocation_reason_label(revocation.reason)}).",
            **_details(revocation),
        )
    revocation = context.leaf_revocation(anchoring.proof.root, anchoring.digest)
    if revocation is not None:
        raise Invalid(
            Code.REVOKED_CREDENTIAL,
            f"The issuer revoked this credential ({revocation_reason_label(revocation.reason)}).",
            **_details(revocation),
        )
    return Fragment(NAME, Status.VALID, None, "The credential has not been revoked.", {})


def _details(revocation: Revocation) -> dict[str, object]:
    """The reason code, its name and the block of a revocation."""
    return {
        "reason": revocation.reason,
        "reason_name": revocation_reason_label(revocation.reason),
        "block": revocation.block,
    }
