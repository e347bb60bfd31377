"""A verification report made readable: each check explained, issuer, anchoring and summary."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import format_date, format_datetime
from flask_babel.speaklater import LazyString

from portal.explain import ACCREDITED, CHECK_NAMES, STATUSES, SYMBOLS, explain
from portal.i18n import current_language
from portal.runtime import runtime
from verify import verify_credential
from verify.fragments import Status

DID_HEAD, DID_TAIL = 20, 6


@dataclass(frozen=True)
class CheckRow:
    """One check as a person reads it."""

    name: str
    label: LazyString
    status: Status
    status_label: LazyString
    symbol: str
    explanation: LazyString
    code: str | None
    message: str


@dataclass(frozen=True)
class Anchoring:
    """Where and when the credential's batch was anchored."""

    block: int
    time: str
    transaction_hash: str
    chain_id: int


@dataclass(frozen=True)
class Accreditation:
    """The issuer's accreditation as the chain records it."""

    status: Status
    explanation: LazyString
    accredited_from: str | None
    accredited_until: str | None


@dataclass(frozen=True)
class Summary:
    """What the credential says, shortened for display (every value already a display string)."""

    title: str | None
    issuer_name: str | None
    issuer_did: str | None
    learner: str | None
    credits: str | None
    valid_from: str | None
    valid_until: str | None


@dataclass(frozen=True)
class PageResult:
    """Everything the result page shows about one verified credential."""

    verdict: Status
    checks: tuple[CheckRow, ...]
    summary: Summary
    accreditation: Accreditation
    anchoring: Anchoring | None

    @property
    def failed(self) -> tuple[CheckRow, ...]:
        """The checks that failed."""
        return tuple(check for check in self.checks if check.status == Status.INVALID)


def verify_for_page(raw: str | bytes, max_bytes: int) -> PageResult:
    """Verify a credential against the ledger (cached chain facts) and describe it for a page."""
    report = verify_credential(raw, runtime().public_context(max_bytes))
    body = report.to_json()
    parsed = body["checks"][0]["status"] == Status.VALID
    return page_result(body, _document(raw) if parsed else {})


def page_result(body: dict[str, Any], document: dict[str, Any]) -> PageResult:
    """A credential's report (as JSON) and its document described for a page."""
    checks = {check["name"]: check for check in body["checks"]}
    accreditation = checks["accreditation"]
    anchor = checks["anchor"]
    return PageResult(
        verdict=Status(body["verdict"]),
        checks=tuple(_row(check) for check in body["checks"]),
        summary=summarise(document, body["credential"]),
        accreditation=Accreditation(
            status=Status(accreditation["status"]),
            explanation=ACCREDITED
            if accreditation["status"] == Status.VALID
            else explain(accreditation),
            accredited_from=_since(accreditation["details"].get("accredited_from")),
            accredited_until=_date(accreditation["details"].get("accredited_until")),
        ),
        anchoring=Anchoring(
            block=anchor["details"]["block"],
            time=_datetime(anchor["details"]["block_time"]) or "",
            transaction_hash=anchor["details"]["transaction_hash"],
            chain_id=anchor["details"]["chain_id"],
        )
        if anchor["status"] == Status.VALID
        else None,
    )


def summarise(document: dict[str, Any], credential: dict[str, Any]) -> Summary:
    """The display summary from the credential document and the report's safe summary."""
    issuer = document.get("issuer")
    issuer = issuer if isinstance(issuer, dict) else {}
    subject = document.get("credentialSubject")
    subject = subject if isinstance(subject, dict) else {}
    achievement = subject.get("achievement")
    achievement = achievement if isinstance(achievement, dict) else {}
    name_zh = _text(issuer.get("nameZh"))
    issuer_name = credential.get("issuer_name")
    if current_language() == "zh" and name_zh:
        issuer_name = name_zh
    credits = subject.get("creditsEarned")
    scheme = _text(achievement.get("creditScheme"))
    return Summary(
        title=credential.get("title"),
        issuer_name=issuer_name,
        issuer_did=credential.get("issuer"),
        learner=shorten(_text(subject.get("id"))),
        credits=(
            f"{credits:g}" + (f" ({scheme})" if scheme else "")
            if isinstance(credits, int | float) and not isinstance(credits, bool)
            else None
        ),
        valid_from=_date(credential.get("valid_from")),
        valid_until=_date(credential.get("valid_until")),
    )


def shorten(did: str | None) -> str | None:
    """A long identifier cut in the middle for display, e.g. "did:key:z6MkhFwXNF…Hj5G2"."""
    if did is None or len(did) <= DID_HEAD + DID_TAIL + 1:
        return did
    return f"{did[:DID_HEAD]}…{did[-DID_TAIL:]}"


def _row(check: dict[str, Any]) -> CheckRow:
    """A report check as a displayed row."""
    status = Status(check["status"])
    return CheckRow(
        name=check["name"],
        label=CHECK_NAMES[check["name"]],
        status=status,
        status_label=STATUSES[status],
        symbol=SYMBOLS[status],
        explanation=explain(check),
        code=check["code"],
        message=check["message"],
    )


def _document(raw: str | bytes) -> dict[str, Any]:
    """The credential as JSON (only called once the parse check accepted it)."""
    document = json.loads(raw)
    return document if isinstance(document, dict) else {}


def _text(value: object) -> str | None:
    """A string member, else None."""
    return value if isinstance(value, str) else None


def _parsed(value: str | None) -> datetime | None:
    """An ISO 8601 date or date-time, or None when absent or unreadable."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _date(value: str | None) -> str | None:
    """An ISO date as a date in the page's language (unreadable values are shown as they are)."""
    parsed = _parsed(value)
    return value if parsed is None else format_date(parsed, "long")


def _since(value: str | None) -> str | None:
    """The start of an accreditation as a date; None when it is open (the epoch) or absent."""
    parsed = _parsed(value)
    return None if parsed is None or parsed.timestamp() == 0 else format_date(parsed, "long")


def _datetime(value: str | None) -> str | None:
    """An ISO time as date and time (UTC) in the page's language."""
    parsed = _parsed(value)
    return value if parsed is None else format_datetime(parsed, "long")
