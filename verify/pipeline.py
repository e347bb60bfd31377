"""The ordered verification pipeline: run each check, skip those whose preconditions failed."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from ledger.errors import LedgerError, LedgerUnavailable
from verify import checks
from verify.abc import Check
from verify.codes import Code
from verify.context import Context
from verify.errors import Invalid, PreconditionFailed
from verify.fragments import Fragment, Report, Status, verdict
from verify.subject import Raw, Subject

logger = logging.getLogger(__name__)

CHECKS: tuple[Check, ...] = (
    checks.parse,
    checks.format,
    checks.proof,
    checks.key_binding,
    checks.accreditation,
    checks.anchor,
    checks.status,
    checks.validity,
)

SUMMARY_TEXT_LIMIT = 200


def verify_credential(raw: Raw, context: Context) -> Report:
    """Run every check on one credential (JSON bytes, text or object) and return its report."""
    subject = Subject(raw)
    fragments: dict[str, Fragment] = {}
    for check in CHECKS:
        fragments[check.NAME] = _run(check, subject, context, fragments)
    ordered = tuple(fragments.values())
    return Report(ordered, verdict(ordered), summary(subject))


def verify_many(raws: Iterable[Raw], context: Context) -> list[Report]:
    """Verify a batch of credentials; the context's cache makes one chain look-up per batch root."""
    return [verify_credential(raw, context) for raw in raws]


def _run(check: Check, subject: Subject, context: Context, done: dict[str, Fragment]) -> Fragment:
    """One check's fragment: SKIPPED, or its result, with every failure mapped to a status."""
    failed = next((name for name in check.REQUIRES if done[name].status != Status.VALID), None)
    if failed is not None:
        return _skipped(check.NAME, failed, f"Skipped because the {failed} check did not pass.")
    try:
        return check.run(subject, context)
    except Invalid as error:
        return Fragment(check.NAME, Status.INVALID, error.code, error.message, error.details)
    except PreconditionFailed as error:
        return _skipped(check.NAME, error.check, error.message)
    except LedgerUnavailable:
        return Fragment(
            check.NAME,
            Status.INDETERMINATE,
            Code.LEDGER_UNAVAILABLE,
            "The ledger could not be reached, so this could not be checked; try again later.",
        )
    except LedgerError as error:
        logger.warning("ledger error in the %s check: %s", check.NAME, error.message)
        return Fragment(
            check.NAME,
            Status.INDETERMINATE,
            Code.LEDGER_ERROR,
            "The ledger answered with an error, so this could not be checked.",
        )
    except Exception:
        logger.exception("unexpected error in the %s check", check.NAME)
        return Fragment(
            check.NAME,
            Status.INDETERMINATE,
            Code.UNEXPECTED_ERROR,
            "An unexpected error stopped this check; the credential could not be fully verified.",
        )


def _skipped(name: str, requires: str, message: str) -> Fragment:
    """The fragment of a check skipped because the check `requires` did not pass."""
    return Fragment(name, Status.SKIPPED, Code.PRECONDITION_FAILED, message, {"requires": requires})


def summary(subject: Subject) -> dict[str, Any]:
    """A safe summary of the credential for display: no learner data, only short strings."""
    document = subject.document
    if document is None:
        return {}
    facts = subject.facts
    credential_subject = document.get("credentialSubject")
    achievement = (
        credential_subject.get("achievement") if isinstance(credential_subject, dict) else None
    )
    issuer = document.get("issuer")
    title = achievement.get("name") if isinstance(achievement, dict) else document.get("name")
    return {
        "id": _text(document.get("id")),
        "type": subject.credential_format,
        "issuer": facts.issuer
        if facts
        else _text(issuer.get("id") if isinstance(issuer, dict) else issuer),
        "issuer_name": _text(issuer.get("name")) if isinstance(issuer, dict) else None,
        "kind": facts.kind if facts else None,
        "level": facts.level if facts else None,
        "title": _text(title),
        "valid_from": _text(document.get("validFrom")),
        "valid_until": _text(document.get("validUntil")),
    }


def _text(value: object) -> str | None:
    """A string member, cut to a displayable length; None for anything else."""
    return value[:SUMMARY_TEXT_LIMIT] if isinstance(value, str) else None
