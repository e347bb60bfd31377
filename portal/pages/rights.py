"""The learner's data rights: the hub (`/me/data`) with "download everything" as JSON and PDF,
and links to who looked at the record, consents, corrections and closing the account (each
shown once its page exists)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from bank.attempts import learner_account
from bank.closure import cancel, close, closes_at, confirm
from bank.consents import CLOSED_BY_CLOSING, consents_of, withdraw
from bank.corrections import (
    MAX_TEXT,
    account_object,
    corrections_of,
    object_of,
    request_correction,
)
from bank.errors import TooManyAttempts
from bank.export import download
from infra.classification import AUDIT_LOG_DAYS, CLOSURE_GRACE_DAYS
from infra.errors import Conflict, Forbidden, InvalidInput, Unauthenticated
from infra.times import parse_iso
from portal import sessions
from portal.i18n import current_language
from portal.pages.citizen import ROLE, signed_in_account, signed_in_learner, signed_in_row
from portal.pages.console import page_cursor, page_url, paged, pager_urls
from portal.runtime import runtime
from portal.sign_in import guarded, wait_message

bp = Blueprint("rights", __name__)

RIGHTS = (
    ("/me/access", _l("Who looked at my record"),
     _l("Every time staff of an institution, the city centre or a guardian opened your "
        "personal data: when, who, what and for which task.")),
    ("/me/consents", _l("My consents"),
     _l("What you agreed to, under which version of the text; withdraw a consent.")),
    ("/me/corrections", _l("Corrections"),
     _l("Ask the institution or the centre that holds wrong data about you to correct it.")),
    ("/me/close", _l("Close my account"),
     _l("What is erased, what the law asks to keep, and the grace period before erasure.")),
)
"""The other rights pages the hub links to: (path, title, what it does)."""

FRESH_SIGN_ON_SECONDS = 300
CLOSING_ENDPOINTS = frozenset({"rights.close_account", "rights.keep_account"})
"""What a learner whose account is closing may still open under /me."""


@bp.get("/me/data")
@signed_in_learner
def data() -> str:
    """The hub of the learner's data rights."""
    links = [(path, title, text) for path, title, text in RIGHTS if _served(path)]
    return render_template("learner/data.html", links=links)


@bp.get("/me/data/export.json")
@signed_in_learner
def export_json_file() -> Response:
    """Everything the bank holds about the learner, as a JSON file (recorded in the audit log)."""
    return _file("json")


@bp.get("/me/data/export.pdf")
@signed_in_learner
def export_pdf_file() -> Response:
    """Everything the bank holds about the learner, readable, as a PDF in the page's language."""
    return _file("pdf")


# -- closing the account -------------------------------------------------------------------------


@bp.route("/me/close", methods=["GET", "POST"])
@signed_in_learner
def close_account() -> BaseResponse | str | tuple[str, int, dict[str, str]]:
    """What closing erases and keeps, and closing, confirmed with the password (or a city
    sign-on made in the last minutes, for an account without one); while the account is
    closing, the page to keep it, and nothing else."""
    learner = signed_in_account()
    if learner["closing_at"] is not None:
        return _closing_page(learner)
    if request.method == "GET":
        return _close_page(learner, {}), 200, {}
    errors, status, headers = _confirmation_errors(learner)
    if errors:
        return _close_page(learner, errors), status, headers
    engine = runtime().engine
    closed = close(engine, learner, actor=f"{ROLE}:{learner['id']}")
    sessions.end_sessions_of(engine, ROLE, learner["did"])
    sessions.sign_out(engine)
    return render_template("learner/closed.html",
                           erased_on=_day(parse_iso(closed["erased_after"]).timestamp()))


@bp.post("/me/close/keep")
@signed_in_learner
def keep_account() -> BaseResponse | tuple[str, int]:
    """Keep a closing account: it is open again."""
    learner = signed_in_account()
    if learner["closing_at"] is None:
        return redirect(url_for("citizen.dashboard"), 303)
    try:
        cancel(runtime().engine, learner)
    except Conflict as error:
        return _closing_page(learner, _("The grace period is over: the account is being "
                                        "erased.")), error.status
    return redirect(url_for("citizen.dashboard"), 303)


@bp.before_app_request
def closing_gate() -> BaseResponse | None:
    """A learner whose account is closing sees only the page to keep it (and may sign out)."""
    path = request.path
    if not (path == "/me" or path.startswith("/me/")) or request.endpoint in CLOSING_ENDPOINTS:
        return None
    signed_in = sessions.current(runtime().engine)
    if signed_in is None or signed_in.role != ROLE:
        return None
    learner = signed_in_row()
    if learner is None or learner["closing_at"] is None:
        return None
    return redirect(url_for("rights.close_account"), 303)


def _confirmation_errors(learner: dict) -> tuple[dict[str, str], int, dict[str, str]]:
    """Why the closing form is refused (none: close): the box not ticked, a wrong password
    (counted with failed sign-ins), or no fresh city sign-on for an account without one."""
    errors: dict[str, str] = {}
    status, headers = InvalidInput.status, {}
    if request.form.get("understood") != "yes":
        errors["understood"] = _("Tick the box to confirm that you understand what closing "
                                 "the account does.")
    if learner["password_hash"] is not None:
        password = request.form.get("password", "")
        try:
            guarded(learner_account(learner["did"]), lambda: confirm(learner, password))
        except TooManyAttempts as error:
            errors["password"] = wait_message(error.retry_after)
            status, headers = error.status, {"Retry-After": str(error.retry_after)}
        except Unauthenticated as error:
            errors["password"] = _("The password is wrong.")
            status = error.status
    elif not _freshly_signed_on():
        errors["password"] = _("Sign in again with the city account to confirm, then close the "
                               "account within five minutes.")
        status = Forbidden.status
    return errors, status, headers


def _freshly_signed_on() -> bool:
    """Whether this session began (by the city's sign-on) in the last few minutes."""
    signed_in = sessions.current(runtime().engine)
    return signed_in is not None and time.time() - signed_in.created_at <= FRESH_SIGN_ON_SECONDS


def _close_page(learner: dict, errors: dict[str, str]) -> str:
    return render_template("learner/close.html", errors=errors,
                           has_password=learner["password_hash"] is not None,
                           fresh=_freshly_signed_on(), grace_days=CLOSURE_GRACE_DAYS,
                           audit_days=AUDIT_LOG_DAYS)


def _closing_page(learner: dict, error: str | None = None) -> str:
    erased_at = closes_at(learner) or time.time()
    return render_template("learner/closing.html", erased_on=_day(erased_at), error=error,
                           closed_on=_day(learner["closing_at"]))


def _day(seconds: float) -> str:
    return format_date(datetime.fromtimestamp(seconds, UTC), "long")


def _file(kind: str) -> Response:
    learner = signed_in_account()
    made = download(runtime().engine, learner, actor=f"{ROLE}:{learner['id']}", kind=kind,
                    lang=current_language())
    return attachment(made.content, made.media_type, made.filename)


def attachment(content: bytes, media_type: str, filename: str) -> Response:
    """A download no cache keeps."""
    return Response(content, mimetype=media_type, headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store", "Pragma": "no-cache"})


def _served(path: str) -> bool:
    """Whether the portal serves a page at `path` (a rights page another part adds)."""
    adapter = current_app.url_map.bind("localhost")
    try:
        adapter.match(path, method="GET")
    except HTTPException:
        return False
    return True


# -- consents and corrections -------------------------------------------------------------------

PURPOSES = {
    "account": (_l("Your learning account"),
                _l("The credit bank keeps your record and processes it to run your account.")),
    "application": (_l("Sharing your record for an application"),
                    _l("The receiving institution and the city centre see your audited record, "
                       "for this application only.")),
    "email-notices": (_l("Notices by e-mail"),
                      _l("Your e-mail address is used only to send you the notices you chose.")),
    "guardian": (_l("Your guardian's consent"),
                 _l("Your guardian agreed to your account and manages it until you turn 14.")),
}
"""Each consent purpose: its title and what it allows, in a sentence."""
WITHDRAWN_EFFECTS = {
    "email-erased": _l("The consent is withdrawn: your e-mail address is erased and no more "
                       "e-mails are sent."),
    "application-withdrawn": _l("The consent is withdrawn, and so is the application."),
    "appeal-withdrawn": _l("The consent is withdrawn, and so is your appeal; the decision stays "
                           "in force."),
    "decision-kept": _l("The consent is withdrawn. The decision already made stays on record."),
}
ABOUT = {"credential": _l("A credential"), "deposit": _l("A deposit"),
         "decision": _l("A decision"), "account": _l("My account details")}
CORRECTION_STATES = {"open": _l("Waiting for an answer"), "corrected": _l("Corrected"),
                     "refused": _l("Refused, with reasons")}


@bp.get("/me/consents")
@signed_in_learner
def consents_page() -> str:
    """The learner's consents: purpose, the words and version agreed to, when, by whom, and
    whether withdrawn; withdraw one (the account's ends by closing the account)."""
    return _consents_page(signed_in_account(), None)


@bp.post("/me/consents/<consent_id>/withdrawal")
@signed_in_learner
def withdraw_consent(consent_id: str) -> BaseResponse | tuple[str, int]:
    """Withdraw one of the learner's consents, with its effect."""
    learner = signed_in_account()
    try:
        made = withdraw(runtime().engine, learner["id"], consent_id)
    except Conflict as error:
        return _consents_page(learner, _("This consent ends only when you close your account.")
                              ), error.status
    return redirect(url_for("rights.consents_page", done=made["effect"] or "none"), 303)


@bp.route("/me/corrections", methods=["GET", "POST"])
@signed_in_learner
def corrections_page() -> BaseResponse | tuple[str, int]:
    """The learner's correction requests and their answers, and the form to ask for one about
    one of their own records."""
    learner = signed_in_account()
    engine = runtime().engine
    errors: dict[str, str] = {}
    form = {"object": request.values.get("object", ""),
            "request": request.form.get("request", "")}
    if request.method == "POST":
        about, _sep, object_id = form["object"].partition(":")
        try:
            request_correction(engine, learner, about=about, object_id=object_id,
                               text=form["request"])
        except InvalidInput as error:
            if {"about", "object_id"} & set(error.errors):
                errors["object"] = _("Choose one of your records listed.")
            if "request" in error.errors:
                errors["request"] = _("Say what is wrong and what it should be, in at most "
                                      "%(count)s characters.", count=MAX_TEXT)
        else:
            return redirect(url_for("rights.corrections_page", sent=1), 303)
    listed, later = paged(lambda: corrections_of(engine, learner["id"], after=page_cursor()))
    page = render_template(
        "learner/corrections.html", corrections=listed, more=page_url("after", later),
        objects=_correctable(learner, form["object"]), errors=errors, form=form,
        ABOUT=ABOUT, STATES=CORRECTION_STATES, max_text=MAX_TEXT, day=_iso_day,
        sent=request.args.get("sent") == "1" and not errors)
    return page, 422 if errors else 200


def _correctable(learner: dict, chosen: str) -> list[dict]:
    """What the correction form offers: the account, and the credential, deposit or decision
    the learner came from (`chosen`, "about:id"), when it is theirs; never the whole record."""
    about, _sep, object_id = chosen.partition(":")
    found = object_of(runtime().engine, learner, about, object_id) if about != "account" else None
    return [account_object(learner), *([found] if found else [])]


def _consents_page(learner: dict, error: str | None) -> str:
    page = paged(lambda: consents_of(runtime().engine, learner["id"], after=page_cursor(),
                                     before=request.args.get("before") or None))
    return render_template(
        "learner/consents.html", consents=page.consents,
        pages=pager_urls(page.next, page.previous, endpoint="rights.consents_page",
                         dropped=("done",)), PURPOSES=PURPOSES, ends_by_closing=CLOSED_BY_CLOSING,
        done=WITHDRAWN_EFFECTS.get(request.args.get("done", ""),
                                   _("The consent is withdrawn."))
        if request.args.get("done") else None, error=error, day=_iso_day)


def _iso_day(value: str | None) -> str:
    """An ISO 8601 time as a long date in the page's language ('' for None)."""
    return format_date(parse_iso(value), "long") if value else ""


def init_app(app: Flask) -> None:
    """Register the learner's data-rights pages."""
    app.register_blueprint(bp)
