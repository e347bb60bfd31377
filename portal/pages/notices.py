"""The inboxes: a learner's notices and e-mail preferences (`/me/notices`), and an
institution's notices in its console (`/institution/notices`). Only the recipient reads a
notice; each is rendered in the page's language from its kind and facts."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Flask, redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response as BaseResponse

from bank.notices import (
    LEARNER_KINDS,
    inbox_page,
    mark_read,
    message,
    preferences_of,
    save_preferences,
    unread_count,
)
from infra.errors import InvalidInput
from portal import sessions
from portal.i18n import current_language
from portal.pages.citizen import signed_in_learner
from portal.pages.console import page_cursor, page_url, paged
from portal.pages.institutions import institution_values
from portal.runtime import runtime

bp = Blueprint("notices", __name__)

LEARNER = "learner"
INSTITUTION = "institution"
KIND_LABELS = {
    "credential_delivered": _l("A credential is delivered to my record"),
    "decision_made": _l("A decision is made on my application"),
    "decision_flagged": _l("A decision is flagged after a revocation"),
    "appeal_answered": _l("My appeal is answered"),
    "agreement_decided": _l("A pre-approval is decided"),
    "share_expiring": _l("A share link is about to expire"),
    "credential_expiring": _l("A credential is about to expire"),
    "correction_answered": _l("My correction request is answered"),
    "account_closing": _l("My account is closing"),
}
assert tuple(KIND_LABELS) == LEARNER_KINDS

signed_in_institution = sessions.require(INSTITUTION, sign_in_endpoint="staff.sign_in_form")


@bp.get("/me/notices")
@signed_in_learner
def learner_inbox() -> str:
    """The learner's notices, newest first, and which of them to get by e-mail."""
    return _learner_page({}, None)


@bp.post("/me/notices/read")
@signed_in_learner
def learner_read() -> BaseResponse:
    """Mark every notice of the learner read."""
    mark_read(runtime().engine, LEARNER, _subject())
    return redirect(url_for("notices.learner_inbox"), 303)


@bp.post("/me/notices/preferences")
@signed_in_learner
def learner_preferences() -> BaseResponse | tuple[str, int]:
    """Keep the learner's e-mail address and the kinds of notice to e-mail."""
    email, kinds = request.form.get("email", ""), request.form.getlist("kinds")
    try:
        save_preferences(runtime().engine, _subject(), email=email, kinds=kinds)
    except InvalidInput as error:
        errors = {}
        if "email" in error.errors:
            errors["email"] = (_("Enter an e-mail address to get notices by e-mail.")
                               if not email.strip() else
                               _("Enter an e-mail address like name@example.cn."))
        if "kinds" in error.errors:
            errors["kinds"] = _("Choose among the kinds of notice listed.")
        return _learner_page(errors, {"email": email, "kinds": kinds}), error.status
    return redirect(url_for("notices.learner_inbox", saved=1), 303)


@bp.get("/institution/notices")
@signed_in_institution
def institution_inbox() -> str:
    """The institution's notices, newest first."""
    rows, later = paged(lambda: inbox_page(runtime().engine, INSTITUTION, _subject(),
                                           after=page_cursor()))
    items = _rendered(rows)
    return render_template("institution/notices.html", notices=items,
                           unread=sum(not item["read"] for item in items),
                           more=page_url("after", later), **institution_values())


@bp.post("/institution/notices/read")
@signed_in_institution
def institution_read() -> BaseResponse:
    """Mark every notice of the institution read."""
    mark_read(runtime().engine, INSTITUTION, _subject())
    return redirect(url_for("notices.institution_inbox"), 303)


def init_app(app: Flask) -> None:
    """Register the inboxes and offer templates the signed-in reader's unread count."""
    app.register_blueprint(bp)
    app.jinja_env.globals["unread_notices"] = unread_notices


def unread_notices() -> int:
    """How many unread notices the signed-in learner or institution has (0 for anyone else)."""
    signed_in = sessions.current(runtime().engine)
    if signed_in is None or signed_in.role not in (LEARNER, INSTITUTION):
        return 0
    return unread_count(runtime().engine, signed_in.role, signed_in.subject)


def _learner_page(errors: dict[str, str], form: dict | None) -> str:
    learner_id = _subject()
    rows, later = paged(lambda: inbox_page(runtime().engine, LEARNER, learner_id,
                                           after=page_cursor()))
    items = _rendered(rows)
    chosen = preferences_of(runtime().engine, learner_id)
    values = form or {"email": chosen.email or "", "kinds": list(chosen.kinds)}
    return render_template("learner/notices.html", notices=items, errors=errors, form=values,
                           more=page_url("after", later),
                           unread=sum(not item["read"] for item in items),
                           KIND_LABELS=KIND_LABELS, saved=request.args.get("saved") == "1"
                           and not errors)


def _rendered(rows: list[dict]) -> list[dict]:
    """Notices as the page shows them, in its language."""
    language = current_language()
    return [{"id": row["id"], "kind": row["kind"], "message": message(row["kind"], row["params"],
                                                                      language),
             "link": row["link"], "read": row["read_at"] is not None,
             "when": format_datetime(datetime.fromtimestamp(row["created_at"], UTC), "medium"),
             "emailed": row["email_status"]} for row in rows]


def _subject() -> str:
    """The signed-in recipient: the learner's account id, or the institution's issuer id."""
    signed_in = sessions.current(runtime().engine)
    assert signed_in is not None
    return signed_in.subject
