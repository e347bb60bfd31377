"""The guardian's pages (监护人): signing in through the city's sign-on, which must vouch for an
adult's national id; the children's accounts they manage; opening (or unlocking) a child's account
with their consent; and a child's record, read-only, with its data export and consents.

Every read of a child's record is logged for the child (`bank.access`), and every request checks
the child's age: a guardian's access ends on the child's fourteenth birthday.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response as BaseResponse

from bank.access import Reader, record_read
from bank.applications import learner_applications
from bank.consents import CLOSED_BY_CLOSING, GUARDIAN, TEXTS, consents_of, withdraw
from bank.export import download
from bank.minors import adult, birth_date_of, birthday, today, ward, wards_of
from bank.tables import GUARDIANS_UNTIL_AGE
from infra.errors import Conflict, Forbidden, InvalidInput, NotFound
from portal import oidc, sessions
from portal.explain import APPLICATION_STATUSES, KINDS
from portal.i18n import current_language
from portal.pages import citizen
from portal.pages.console import paged, pager_urls
from portal.pages.report import shorten
from portal.pages.rights import attachment
from portal.ratelimit import limited
from portal.runtime import runtime

bp = Blueprint("guardian", __name__)

ROLE = "guardian"
PURPOSE = "guardian"
ORGANISATION = "guardian"
AGE_BANDS = ((0, 6), (6, 12), (12, GUARDIANS_UNTIL_AGE))
PURPOSES = {
    "account": _l("Keeping the learning account"),
    "application": _l("Sharing the record for an application"),
    "email-notices": _l("E-mail notices"),
    GUARDIAN: _l("Guardian's consent to the account"),
}

signed_in_guardian = sessions.require(ROLE, sign_in_endpoint="guardian.sign_in")


@bp.get("/guardian/sign-in")
def sign_in() -> str:
    """How a guardian signs in: through the city's sign-on, which vouches for who they are."""
    provider = citizen.city_provider()
    sso = provider is not None and provider.national_id_claim is not None
    return render_template("guardian/sign_in.html", sso=sso)


@bp.get("/guardian/sign-in/city")
@limited("accounts")
def city_sign_in() -> BaseResponse | tuple[str, int]:
    """Send the guardian to the city's OpenID provider; the callback signs them in as guardian."""
    return citizen.start_city_sign_in(ROLE, url_for("guardian.home"))


def signed_on(provider: oidc.Provider, claims: dict) -> BaseResponse | tuple[str, int]:
    """Back from the city: a guardian session for the adult whose national id it vouches for;
    a refusal page when it vouches for none, or for someone under 18."""
    national_id = claims.get(provider.national_id_claim) if provider.national_id_claim else None
    if not isinstance(national_id, str):
        return render_template("guardian/refused.html", reason="unvouched"), Forbidden.status
    try:
        did = runtime().accounts.identity(national_id)[0]
    except InvalidInput:
        return render_template("guardian/refused.html", reason="unvouched"), Forbidden.status
    if not adult(birth_date_of(national_id), today()):
        return render_template("guardian/refused.html", reason="minor"), Forbidden.status
    name = claims.get("name")
    sessions.sign_in(runtime().engine, role=ROLE, subject=did, username=did,
                     label=name if isinstance(name, str) and name else shorten(did) or "")
    return redirect(url_for("guardian.home"), 303)


@bp.get("/guardian")
@signed_in_guardian
def home() -> str:
    """The children's accounts the guardian manages: name, age band, until when."""
    day = today()
    wards = [{**item, "band": age_band(item["age"]), "until_text": _day(item["until"])}
             for item in wards_of(runtime().engine, _guardian_did(), day)]
    return render_template("guardian/home.html", wards=wards)


@bp.route("/guardian/minors/new", methods=["GET", "POST"])
@signed_in_guardian
@limited("accounts")
def new_minor() -> str | tuple[str, int]:
    """Consent to a child's account: it opens (or is unlocked) with an activation code shown
    once, for the guardian to hand on."""
    text = TEXTS[GUARDIAN]
    words = text.in_language(current_language())
    if request.method == "GET":
        return render_template("guardian/new.html", errors={}, form={}, words=words,
                               version=text.version)
    form = request.form
    errors = _new_errors(form)
    status = InvalidInput.status
    if not errors:
        try:
            opened = runtime().accounts.open_for_ward(
                form.get("national_id", ""), guardian_did=_guardian_did(),
                display_name=form.get("display_name", "").strip() or None,
                actor=f"{ROLE}:{_guardian_did()}")
        except InvalidInput as error:
            errors["national_id"] = (_("Enter the child's national id: 18 characters.")
                                     if "national_id" in error.errors and
                                     birth_date_of(form.get("national_id", "")) is None else
                                     _("Only a child under 14 needs a guardian to open the "
                                       "account: from 14, learners open their own."))
        except Conflict as error:
            status = error.status
            errors["national_id"] = _(
                "This child's account is already in use or managed by another guardian. Ask at "
                "the city credit bank centre.")
    if errors:
        return render_template("guardian/new.html", errors=errors, form=form, words=words,
                               version=text.version), status
    return render_template("guardian/opened.html", opened=opened,
                           name=form.get("display_name", "").strip())


@bp.get("/guardian/minors/<learner_id>")
@signed_in_guardian
def minor(learner_id: str) -> str:
    """A child's record, read-only (logged for the child): a page of its credentials with their
    stored verdicts (as the child's own record page shows them), of its applications and of its
    consents, each list with its own cursors; and the data downloads."""
    engine = runtime().engine
    learner = _ward(learner_id)
    record_read(engine, _reader(), learner_id=learner_id, what="record", object_id=learner_id,
                purpose=PURPOSE)
    with engine.connect() as connection:
        checked, rows, _names = citizen.record_rows(connection, learner)
        given = paged(lambda: consents_of(
            connection, learner_id, after=request.args.get("consents") or None,
            before=request.args.get("consents_before") or None))
    applications, later = paged(lambda: learner_applications(
        engine, learner_id, after=request.args.get("applications") or None))
    return render_template(
        "guardian/minor.html", learner=learner, rows=rows, KINDS=KINDS,
        record_pages=pager_urls(checked.page.next, checked.page.previous),
        applications=applications, application_pages=pager_urls(
            later, None, after="applications", before="applications_before"),
        STATUSES=APPLICATION_STATUSES, consents=given.consents,
        consent_pages=pager_urls(given.next, given.previous, after="consents",
                                 before="consents_before"),
        closed_by_closing=CLOSED_BY_CLOSING, until=_day(_until(learner)), PURPOSES=PURPOSES,
        language=current_language())


@bp.get("/guardian/minors/<learner_id>/export.json")
@signed_in_guardian
def export_json_file(learner_id: str) -> Response:
    """Everything the bank holds about the child, as a JSON file (logged for the child)."""
    return _file(learner_id, "json")


@bp.get("/guardian/minors/<learner_id>/export.pdf")
@signed_in_guardian
def export_pdf_file(learner_id: str) -> Response:
    """Everything the bank holds about the child, readable, as a PDF (logged for the child)."""
    return _file(learner_id, "pdf")


@bp.post("/guardian/minors/<learner_id>/consents/<consent_id>/withdraw")
@signed_in_guardian
def withdraw_consent(learner_id: str, consent_id: str) -> BaseResponse:
    """Withdraw one of the child's consents (those only closing ends stay)."""
    _ward(learner_id)
    try:
        withdraw(runtime().engine, learner_id, consent_id)
    except NotFound:
        abort(404)
    except Conflict:
        abort(409, description=_("This consent ends only when the account is closed."))
    return redirect(url_for("guardian.minor", learner_id=learner_id, _anchor="consents"), 303)


def age_band(age: int) -> str:
    """A child's age as a band, never the exact age or birth date."""
    low, high = next(band for band in AGE_BANDS if band[0] <= age < band[1])
    return _("%(low)d–%(high)d years", low=low, high=high - 1)


def init_app(app: Flask) -> None:
    """Register the guardian's pages and their city sign-on."""
    citizen.SIGN_ON_AS[ROLE] = signed_on
    app.register_blueprint(bp)


def _ward(learner_id: str) -> dict:
    """The child's account if this guardian manages it today: 404 for anyone else's, 403 once the
    child has turned 14."""
    try:
        return ward(runtime().engine, _guardian_did(), learner_id, today())
    except NotFound:
        abort(404)
    except Forbidden:
        abort(403, description=_("The child has turned 14: your access as their guardian has "
                                 "ended. They manage their account themselves now."))


def _file(learner_id: str, kind: str) -> Response:
    """The child's data export, logged for the child and audited."""
    learner = _ward(learner_id)
    record_read(runtime().engine, _reader(), learner_id=learner_id, what="export",
                object_id=learner_id, purpose=PURPOSE)
    made = download(runtime().engine, learner, actor=f"{ROLE}:of:{learner_id}", kind=kind,
                    lang=current_language())
    return attachment(made.content, made.media_type, made.filename)


def _reader() -> Reader:
    return Reader(actor=f"{ROLE}:{_guardian_did()}", organisation=ORGANISATION)


def _guardian_did() -> str:
    current = sessions.current(runtime().engine)
    if current is None or current.role != ROLE:
        abort(403)
    return current.subject


def _until(learner: dict) -> date:
    return birthday(date.fromisoformat(learner["birth_date"]), GUARDIANS_UNTIL_AGE)


def _new_errors(form: dict) -> dict[str, str]:
    errors = {}
    if not form.get("national_id", "").strip():
        errors["national_id"] = _("Enter the child's national id: 18 characters.")
    if form.get("consent") != TEXTS[GUARDIAN].version:
        errors["consent"] = _("Tick the box to give your consent as the child's guardian.")
    return errors


def _day(day: date) -> str:
    return format_date(datetime(day.year, day.month, day.day, tzinfo=UTC), "long")

