"""What the institution and operator consoles share: the signed-in staff member, the outcome of
a form (a notice and a redirect, or the page again with the error), and form fields."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, flash, redirect, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response as BaseResponse

from bank.access import Reader, staff_reader
from infra.errors import InvalidInput, ServiceError
from infra.times import parse_iso
from portal.explain import APPLICATION_STATUSES, KINDS, REASONS, explain_rule
from portal.runtime import runtime
from portal.sessions import WebSession, current

T = TypeVar("T")
NOTICE = "notice"
PROBLEM = "problem"
REFUSED = _l("This could not be done:")
LINE_LABELS = {"home": _l("Own course"), "transfer": _l("Transfer"), "exemption": _l("Exemption")}
STAGE_LABELS = {"first": _l("First review"), "second": _l("Second review"),
                "appeal": _l("Appeal decision")}
REVIEW_VERDICTS = {"approve": _l("Approve"), "refuse": _l("Refuse")}
APPEAL_LABELS = {"pending": _l("Pending"), "upheld": _l("Upheld"), "amended": _l("Amended"),
                 "withdrawn": _l("Withdrawn")}


def console_values() -> dict:
    """What both consoles' pages use: labels in the page's language, and times."""
    return {"when": when, "KINDS": KINDS, "APPLICATION_STATUSES": APPLICATION_STATUSES,
            "LINE_LABELS": LINE_LABELS, "STAGE_LABELS": STAGE_LABELS,
            "VERDICT_LABELS": REVIEW_VERDICTS, "REVIEW_VERDICTS": REVIEW_VERDICTS,
            "APPEAL_LABELS": APPEAL_LABELS, "explain_rule": explain_rule,
            "VERIFY_REASONS": REASONS}



def staff() -> WebSession:
    """The staff member signed in for this request (views are guarded by `require`)."""
    signed_in = current(runtime().engine)
    assert signed_in is not None
    return signed_in


def actor() -> str:
    """Who acts, for the audit log: `institution:<issuer id>` or `operator:<user name>`."""
    signed_in = staff()
    return f"{signed_in.role}:{signed_in.subject}"


def reader() -> Reader:
    """Who reads learners' data, for the access log: the signed-in person and their
    organisation (the institution, or the centre)."""
    signed_in = staff()
    return staff_reader(signed_in.role, signed_in.subject, signed_in.username)


def done(message: str, endpoint: str, **values: Any) -> BaseResponse:
    """Say what was done and go back to a page (303, so reloading does not repeat it)."""
    flash(message, NOTICE)
    return redirect(url_for(endpoint, **values), 303)


def refused(error: ServiceError, endpoint: str, **values: Any) -> BaseResponse:
    """Say why an action was refused and go back to a page."""
    flash(f"{REFUSED} {error.message}", PROBLEM)
    return redirect(url_for(endpoint, **values), 303)


def field_errors(error: ServiceError) -> list[str]:
    """A refusal's field errors as lines `field: message` for an error summary."""
    return [f"{path}: {message}" for path, message in _flatten(error.errors)]


def lines(name: str) -> list[str]:
    """A textarea's non-empty lines, stripped."""
    return [line.strip() for line in request.form.get(name, "").splitlines() if line.strip()]


def excluded() -> list[dict]:
    """The credentials a review form excludes (checked boxes), with the one reason given."""
    reason = request.form.get("exclusion_reason", "").strip()
    return [{"credential": credential, "reason": reason}
            for credential in request.form.getlist("exclude")]


def page_cursor() -> str | None:
    """The `?after=` cursor of a listing (None for its first page); what it holds is checked
    by the listing itself (`paged`)."""
    return request.args.get("after") or None


def page_url(name: str, cursor: str | None) -> str | None:
    """This page's address with its cursor `name` set to `cursor` (None: no such page), every
    other argument (filters, `?lang=`, other lists' cursors) kept."""
    if cursor is None:
        return None
    values: dict[str, Any] = {**(request.view_args or {}), **request.args.to_dict(),
                              name: cursor}
    return url_for(str(request.endpoint), **values)


def pager_urls(next_cursor: str | None, previous_cursor: str | None, *, after: str = "after",
               before: str = "before", endpoint: str | None = None,
               dropped: tuple[str, ...] = ()) -> dict[str, str | None]:
    """The next, previous and first pages' addresses of a listing paged both ways by the
    arguments `after` and `before` (on `endpoint`, or this page with its path), every query
    argument kept but `dropped`; None where there is no such page."""
    path = {} if endpoint else request.view_args or {}
    values: dict[str, Any] = {**path, **request.args.to_dict()}
    kept = {name: value for name, value in values.items()
            if name not in (after, before, *dropped)}
    target = endpoint or str(request.endpoint)

    def at(**cursor: str) -> str:
        return url_for(target, **{**kept, **cursor})

    return {"next": at(**{after: next_cursor}) if next_cursor else None,
            "previous": at(**{before: previous_cursor}) if previous_cursor else None,
            "first": at() if after in values or before in values else None}


def paged(load: Callable[[], T]) -> T:
    """A listing's page; a cursor the listing did not give out is a clear page error (400)."""
    try:
        return load()
    except InvalidInput as error:
        if not {"after", "before"} & set(error.errors):
            raise
        abort(400, description=_("There is no such page of this list: follow the list's own "
                                 "links from its first page."))


def when(value: str | None) -> str:
    """An ISO 8601 time as the API shows it, as a medium date and time in the page's language
    ('' for None)."""
    if not value:
        return ""
    return format_datetime(parse_iso(value), "medium")


def _flatten(errors: object, path: str = "") -> list[tuple[str, str]]:
    if isinstance(errors, dict):
        return [item for key, value in errors.items()
                for item in _flatten(value, f"{path}.{key}" if path else str(key))]
    if isinstance(errors, list):
        return [item for value in errors for item in _flatten(value, path)]
    return [(path, str(errors))]
