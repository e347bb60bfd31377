"""The citizen's pages: signing up and in (password or city single sign-on), the lifelong learning
record, progress toward a programme, applications and appeals, deposits, transcripts and sharing.

Views only read forms and render: accounts, records, audits, applications, deposits, transcripts
and share links are the bank's and the portal's modules.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import format_date, format_datetime
from flask_babel import gettext as _
from sqlalchemy import Connection, Engine
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response as BaseResponse

from bank.accounts import revoke_tokens
from bank.applications import (
    appeal,
    application_json,
    application_row,
    apply,
    approved_programmes,
    choose_target,
    learner_applications,
)
from bank.attempts import learner_account
from bank.consents import APPLICATION, TEXTS
from bank.deposits import deposit, learner_deposits
from bank.errors import GuardianNeeded, TooManyAttempts
from bank.identity import identity_json
from bank.minors import guardianship, today
from bank.pdf import Sheet, cjk_font, credential_pdf
from bank.planner import Plan, add_to_plan, remove_from_plan
from bank.records import (
    CheckedPage,
    Held,
    checked_page,
    credential_summary,
    held_credential,
    verify_held,
)
from bank.sharing import OwnLink, link_of, links_of, share, shared, withdraw
from bank.tables import MAX_PLANNED_UNITS
from bank.transcripts import request_transcript, transcript_json, transcripts_of
from bank.wallet import create_offer
from infra.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    ServiceError,
    Unauthenticated,
)
from infra.times import parse_iso
from portal import oidc, sessions
from portal.api.verify import record_context
from portal.errors import SignOnFailed
from portal.explain import (
    APPLICATION_STATUSES,
    DEPOSIT_STATUSES,
    KINDS,
    REASONS,
    RULE_REASONS,
    explain_rule,
)
from portal.i18n import current_language
from portal.oid4vci import offer_links
from portal.pages.badges import badge_file
from portal.pages.console import page_cursor, page_url, paged, pager_urls
from portal.pages.planner import planner_view
from portal.pages.report import shorten
from portal.pages.views import DAY, public_link, qr_svg
from portal.ratelimit import limited
from portal.runtime import runtime
from portal.security import safe_next
from portal.sign_in import guarded, wait_message
from rules.codes import Code as RuleCode
from verify.codes import Code

bp = Blueprint("citizen", __name__)

ROLE = "learner"
SHARE_DAYS = (7, 30, 90, 365)
PDF_SHARE_DAYS = 365
OIDC_KEY = "oidc_pending"
REF_LENGTH = 20

signed_in_learner = sessions.require(ROLE, sign_in_endpoint="citizen.sign_in")
SIGN_ON_AS: dict[str, Callable[[oidc.Provider, dict], BaseResponse | tuple[str, int]]] = {}
"""Who else signs in through the city (by role; the guardian's pages add themselves): what the
callback does with the verified claims."""


# -- signing up, in and out ---------------------------------------------------------------------


@bp.route("/sign-up", methods=["GET", "POST"])
@limited("accounts")
def sign_up() -> BaseResponse | tuple[str, int] | str:
    """Open a learner account (or activate one an institution opened, with its code)."""
    if request.method == "GET":
        return render_template("learner/sign_up.html", errors={}, form={})
    form = request.form
    errors: dict[str, str] = {}
    status = InvalidInput.status
    if form.get("password", "") != form.get("password_again", ""):
        errors["password_again"] = _("The two passwords are not the same.")
    if not errors:
        try:
            opened = runtime().accounts.open(form.get("national_id", ""), form.get("password", ""),
                             display_name=form.get("display_name", "").strip() or None,
                             activation_code=form.get("activation_code", "").strip() or None)
        except InvalidInput as error:
            errors = _sign_up_errors(error)
        except GuardianNeeded as error:
            status = error.status
            errors["national_id"] = _(
                "A learner under 14 cannot open an account alone: a parent or other guardian "
                "opens it for them, signed in through the city's single sign-on, and gives them "
                "an activation code to enter here.")
        except (Conflict, Forbidden) as error:
            status = error.status
            errors["national_id"] = _(
                "An account cannot be opened with these details. If you already have one, sign "
                "in; if your institution gave you an activation code, enter it below.")
    if errors:
        return render_template("learner/sign_up.html", errors=errors, form=form), status
    learner = runtime().accounts.by_did(opened["did"])
    if learner is None:
        raise NotFound("the account just opened cannot be found")
    _open_session(learner)
    return redirect(url_for("citizen.dashboard"), 303)


@bp.route("/sign-in", methods=["GET", "POST"])
@limited("accounts")
def sign_in() -> BaseResponse | tuple[str, int, dict[str, str]] | str:
    """Sign in with national id and password; repeated failures make the account (and the
    address) wait longer each time."""
    sso = _provider() is not None
    if request.method == "GET":
        return render_template("learner/sign_in.html", errors={}, sso=sso, next=_next())
    national_id = request.form.get("national_id", "")
    return _start_session(national_id, request.form.get("password", ""))


@bp.post("/sign-out")
def sign_out() -> BaseResponse:
    """End the session on the server, and the learner's API tokens with it; go home."""
    engine = runtime().engine
    signed_in = sessions.current(engine)
    if signed_in is not None and signed_in.role == ROLE:
        revoke_tokens(engine, signed_in.subject)
    sessions.sign_out(engine)
    return redirect(url_for("pages.home"), 303)


@bp.get("/sign-in/city")
def city_sign_in() -> BaseResponse | tuple[str, int]:
    """Send the learner to the city's OpenID provider."""
    return start_city_sign_in(ROLE, _next())


def start_city_sign_in(role: str, next_url: str) -> BaseResponse | tuple[str, int]:
    """Send the person to the city's OpenID provider to sign in as `role` (PKCE, state and nonce
    kept in the session)."""
    provider = _provider()
    if provider is None:
        abort(404)
    try:
        url, pending = oidc.authorization_url(provider, oidc.discover(provider))
    except SignOnFailed:
        return _city_failed()
    session[OIDC_KEY] = {"state": pending.state, "nonce": pending.nonce,
                         "verifier": pending.verifier, "next": next_url, "role": role}
    return redirect(url, 303)


@bp.get("/sign-in/city/callback")
def city_callback() -> BaseResponse | tuple[str, int]:
    """Back from the provider: verify the ID token, then sign in the linked learner."""
    provider = _provider()
    kept = session.pop(OIDC_KEY, None)
    if provider is None or not isinstance(kept, dict):
        abort(404)
    try:
        claims = oidc.sign_on(provider, oidc.discover(provider),
                              oidc.Pending(kept["state"], kept["nonce"], kept["verifier"]),
                              state=request.args.get("state", ""),
                              code=request.args.get("code", ""))
        if kept.get("role") in SIGN_ON_AS:
            return SIGN_ON_AS[kept["role"]](provider, claims)
        learner = _city_learner(provider, claims)
    except SignOnFailed:
        return _city_failed()
    except Forbidden:
        return render_template("learner/city_mismatch.html"), 403
    if learner is None:
        return render_template("learner/city_unlinked.html"), 403
    _open_session(learner)
    return redirect(safe_next(kept.get("next")) or url_for("citizen.dashboard"), 303)


# -- the record ---------------------------------------------------------------------------------


@bp.get("/me")
@signed_in_learner
def dashboard() -> str:
    """The lifelong learning record: by institution, kind, level, credits and year, and a page
    of its credentials (`after` / `before` cursors) with their stored verdicts as of now."""
    learner = signed_in_account()
    with runtime().engine.connect() as connection:
        checked, rows, names = record_rows(connection, learner)
        identity = _identity_values(learner, connection)
    return render_template("learner/dashboard.html", learner=learner, rows=rows,
                           overview=checked.overview, names=names, KINDS=KINDS,
                           set_aside=checked.set_aside, next=checked.page.next,
                           previous=checked.page.previous, **identity)


def record_rows(connection: Connection, learner: dict
                ) -> tuple[CheckedPage, list[dict], dict[str, str | None]]:
    """The page of a learner's record the request's `after` / `before` cursors ask for (400
    for a cursor it did not give out), with stored verdicts as of now: the checked page, its
    rows as the record pages show them, and the issuers' names in the page's language."""
    after, before = request.args.get("after"), request.args.get("before")
    if after is not None and before is not None:
        abort(400)
    try:
        checked = checked_page(connection, learner, record_context, runtime().chain_facts,
                               after=after, before=before)
    except InvalidInput:
        abort(400)
    names = {did: _issuer_names(known) for did, known in checked.issuer_names.items()}
    rows = [{**entry.summary, "ref": credential_ref(entry.summary["id"]),
             "status": shown.status, "code": shown.code,
             "reason": REASONS.get(shown.code) if shown.code else None,
             "issuer_name": names.get(entry.summary["issuer"])
             or (entry.document and _issuer_name(entry.document))}
            for entry, shown in zip(checked.page.entries, checked.shown, strict=True)]
    return checked, rows, names


@bp.post("/me/activation-code")
@signed_in_learner
def redeem_code() -> BaseResponse | tuple[str, int]:
    """Enter an institution's activation code: the record shows what that institution issued."""
    learner = signed_in_account()
    try:
        runtime().accounts.redeem(learner, request.form.get("activation_code", ""))
    except InvalidInput as error:
        values = {**_identity_values(learner),
                  "code_error": _("This is not an activation code for your account.")}
        return render_template("learner/identity.html", learner=learner,
                               **values), error.status
    return redirect(url_for("citizen.dashboard"), 303)


@bp.get("/me/credentials/<ref>")
@signed_in_learner
def credential(ref: str) -> str:
    """One credential: its live verification, downloads and sharing."""
    item = _held(ref)
    report = verify_held(record_context(), [item])[0]
    failed = next((f for f in report.fragments if f.status is report.verdict), None)
    reason = REASONS.get(Code(str(failed.code))) if failed and failed.code else None
    return render_template("learner/credential.html", item=item, ref=ref,
                           summary=credential_summary(item), status=report.verdict,
                           reason=reason, issuer_name=_issuer_name(item.credential),
                           days=SHARE_DAYS, KINDS=KINDS)


@bp.get("/me/credentials/<ref>/credential.json")
@signed_in_learner
def credential_download(ref: str) -> Response:
    """The credential itself, as a JSON file."""
    item = _held(ref)
    return _json_file(item.credential, f"credential-{ref}.json")


@bp.get("/me/credentials/<ref>/badge.svg")
@signed_in_learner
def credential_badge(ref: str) -> Response:
    """The credential baked in an Open Badges 3.0 SVG image, to post or keep."""
    return badge_file(_held(ref).credential, f"badge-{ref}")


@bp.post("/me/credentials/<ref>/share")
@signed_in_learner
def share_credential(ref: str) -> BaseResponse:
    """Create an expiring share link for the credential; show it with its QR code."""
    item = _held(ref)
    token = _share(item.credential, "credential", item.id, _days())
    return redirect(url_for("citizen.share_detail", token=token), 303)


@bp.post("/me/credentials/<ref>/pdf")
@signed_in_learner
def credential_pdf_link(ref: str) -> BaseResponse:
    """A printable PDF needs a link for its QR code: create one for a year, then download."""
    item = _held(ref)
    token = _share(item.credential, "credential", item.id, PDF_SHARE_DAYS)
    return redirect(url_for("citizen.share_pdf", token=token), 303)


@bp.post("/me/credentials/<ref>/wallet")
@signed_in_learner
@limited("wallet_offers")
def wallet_offer(ref: str) -> str:
    """Offer the credential to a wallet: its QR code, link and transaction code, shown once."""
    item = _held(ref)
    if item.source != "issued":
        abort(404)
    made = create_offer(runtime().engine, signed_in_account(), item.id, now=time.time())
    _offer_uri, link = offer_links(made.pre_authorized_code)
    expires = format_datetime(datetime.fromtimestamp(made.expires_at, UTC), "short")
    return render_template("learner/wallet_offer.html", ref=ref,
                           summary=credential_summary(item), link=link, tx_code=made.tx_code,
                           expires=expires, qr=qr_svg(link, _("QR code of this wallet offer")))


# -- sharing ------------------------------------------------------------------------------------


@bp.get("/me/shares")
@signed_in_learner
def shares() -> str:
    """The learner's share links: live, expired or withdrawn."""
    now = time.time()
    links, later = paged(lambda: links_of(runtime().engine, signed_in_account()["id"],
                                          after=page_cursor()))
    return render_template("learner/shares.html", links=links, more=page_url("after", later),
                           now=now, when=_date)


@bp.get("/me/shares/<token>")
@signed_in_learner
def share_detail(token: str) -> str:
    """One share link with its QR code, its PDF and a way to withdraw it."""
    link = _own_link(token)
    url = public_link("pages.shared_credential", token=token)
    return render_template("learner/share.html", link=link, url=url,
                           live=link.live(time.time()), expires=_date(link.expires_at),
                           qr=qr_svg(url, _("QR code of this share link")))


@bp.get("/me/shares/<token>/credential.pdf")
@signed_in_learner
def share_pdf(token: str) -> Response:
    """A printable PDF of the shared credential, whose QR code opens its verification."""
    link = _own_link(token)
    found = shared(runtime().engine, token, now=time.time())
    if found is None:
        abort(404, description=_("This share link has expired or was withdrawn."))
    document = json.loads(found.credential_json)
    url = public_link("pages.shared_credential", token=token)
    pdf = credential_pdf(_sheet(document, link.kind, url, link.expires_at), cjk_font())
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{link.kind}-{token[:8]}.pdf"'})


@bp.post("/me/shares/<token>/withdraw")
@signed_in_learner
def withdraw_share(token: str) -> BaseResponse:
    """Withdraw a share link: it stops opening at once."""
    if not withdraw(runtime().engine, signed_in_account()["id"], token):
        abort(404)
    return redirect(url_for("citizen.shares"), 303)


# -- progress, applications and appeals ---------------------------------------------------------


@bp.route("/me/progress", methods=["GET", "POST"])
@signed_in_learner
def progress_page() -> BaseResponse | tuple[str, int]:
    """Progress toward the chosen programme: a bar per requirement and what is still missing,
    with the learner's plan (a what-if), programmes side by side and the units that fill each
    gap."""
    learner = signed_in_account()
    opened = runtime()
    if request.method == "POST":
        choice = request.form.get("programme", "")
        rule_set_id, _sep, version = choice.rpartition("@")
        try:
            choose_target(opened.engine, opened.view, learner, rule_set_id,
                          int(version))
        except (ValueError, ServiceError) as error:
            return _progress(learner, MultiDict(),
                             {"programme": _("Choose one of the programmes.")},
                             _status_of(error))
        return redirect(url_for("citizen.progress_page"), 303)
    return _progress(learner, request.args)


@bp.post("/me/plan")
@signed_in_learner
def plan_add() -> BaseResponse | tuple[str, int]:
    """Add a catalogue unit ("ISSUER:CODE") to the plan and go back to the progress page."""
    return _change_plan(add_to_plan, {
        NotFound.status: _("There is no such unit in the catalogue."),
        Conflict.status: _("Your plan holds at most %(num)d units: remove one first.",
                           num=MAX_PLANNED_UNITS)})


@bp.post("/me/plan/remove")
@signed_in_learner
def plan_remove() -> BaseResponse | tuple[str, int]:
    """Take a unit out of the plan and go back to the progress page."""
    return _change_plan(remove_from_plan, {NotFound.status: _("That unit is not in your plan.")})


def _change_plan(change: Callable[..., Plan],
                 messages: dict[int, str]) -> BaseResponse | tuple[str, int]:
    """Apply a change to the plan from a form; a refusal is the page again with a form error."""
    learner = signed_in_account()
    try:
        change(runtime().engine, learner, request.form.get("unit", ""))
    except ServiceError as error:
        message = messages.get(error.status, _("Choose a unit from the catalogue."))
        return _progress(learner, request.form, {"unit": message}, error.status)
    back: dict[str, Any] = {name: kept for name in ("compare", "q", "kind")
                            if (kept := [value for value in request.form.getlist(name) if value])}
    return redirect(url_for("citizen.progress_page", **back, _anchor="plan"), 303)


def _progress(learner: dict, args: MultiDict[str, str], errors: dict[str, str] | None = None,
              status: int = 200) -> tuple[str, int]:
    """The progress page: the audit with the plan, the planner, and any form errors."""
    view = planner_view(learner, args)
    state = view.state
    page = render_template("learner/progress.html",
                           programmes=approved_programmes(runtime().engine), target=view.target,
                           state=state and _readable_audit(state["audit"], state["earned"]),
                           set_aside=state["set_aside"] if state else [], planner=view,
                           max_planned=MAX_PLANNED_UNITS, KINDS=KINDS,
                           errors={**(errors or {}), **view.errors})
    return page, status if status != 200 else view.status


@bp.route("/me/applications", methods=["GET", "POST"])
@signed_in_learner
def applications() -> BaseResponse | tuple[str, int] | str:
    """The learner's applications; applying audits the record now and sends it to review."""
    learner = signed_in_account()
    opened = runtime()
    error, status = None, 200
    if request.method == "POST":
        rule_set_id, _sep, version = request.form.get("programme", "").rpartition("@")
        try:
            made = apply(opened.engine, opened.view, learner,
                         rule_set_id=rule_set_id, version=int(version))
        except ValueError as refusal:
            error, status = _("Choose one of the programmes."), _status_of(refusal)
        except Conflict as refusal:
            error, status = _("You already have an application for this programme under review, "
                              "or the programme's rules are not in force today."), refusal.status
        except ServiceError as refusal:
            error, status = _("Your record holds no credential that verifies: there is nothing "
                              "to recognise yet."), refusal.status
        else:
            return redirect(url_for("citizen.application", application_id=made["id"]), 303)
    listed, later = paged(lambda: learner_applications(opened.engine, learner["id"],
                                                       after=page_cursor()))
    programmes = approved_programmes(opened.engine)
    page = render_template("learner/applications.html", applications=listed,
                           more=page_url("after", later), programmes=programmes,
                           titles=_titles(programmes), error=error,
                           STATUSES=APPLICATION_STATUSES, when=_iso_date,
                           consent=TEXTS[APPLICATION])
    return page, status


@bp.get("/me/applications/<application_id>")
@signed_in_learner
def application(application_id: str) -> str:
    """One application: its audit, reviews, decision with reasons, and the appeal."""
    return _application_page(application_id, errors={})


@bp.post("/me/applications/<application_id>/appeal")
@signed_in_learner
def appeal_decision(application_id: str) -> BaseResponse | tuple[str, int]:
    """Appeal the decision in force, once, before its deadline, stating the grounds."""
    learner = signed_in_account()
    grounds = request.form.get("grounds", "")
    try:
        appeal(runtime().engine, application_id, learner, grounds)
    except NotFound:
        abort(404)
    except InvalidInput as error:
        return _application_page(application_id, errors={
            "grounds": _("Say why the decision should change.")}), error.status
    except Conflict as error:
        return _application_page(application_id, errors={
            "grounds": _("This decision cannot be appealed any more.")}), error.status
    return redirect(url_for("citizen.application", application_id=application_id), 303)


# -- deposits and transcripts -------------------------------------------------------------------


@bp.route("/me/deposits", methods=["GET", "POST"])
@signed_in_learner
def deposits() -> BaseResponse | tuple[str, int] | str:
    """Deposit a credential from elsewhere: verified now, or sent to review with evidence."""
    learner = signed_in_account()
    opened = runtime()
    error, status = None, 200
    if request.method == "POST":
        limit = current_app.config["MAX_CREDENTIAL_BYTES"]
        upload = request.files.get("file")
        raw = upload.stream.read(limit + 1) if upload else b""
        try:
            document = json.loads(raw) if raw and len(raw) <= limit else None
        except ValueError:
            document = None
        if document is None:
            error, status = _("Choose a credential file (JSON) of at most %(size)d KB.",
                              size=limit // 1024), InvalidInput.status
        else:
            try:
                deposit(opened.engine, opened.view, learner, document,
                        evidence=request.form.get("evidence", "").strip() or None,
                        max_bytes=limit)
            except Conflict as refusal:
                error, status = _("This credential is already in your record."), refusal.status
            except ServiceError as refusal:
                error = _("This file is not a credential the bank can read.")
                status = refusal.status
            else:
                return redirect(url_for("citizen.deposits"), 303)
    listed, later = paged(lambda: learner_deposits(opened.engine, learner["id"],
                                                   after=page_cursor()))
    page = render_template("learner/deposits.html", deposits=listed, error=error,
                           more=page_url("after", later),
                           STATUSES=DEPOSIT_STATUSES, reason_of=_deposit_reason,
                           when=_iso_date)
    return page, status


@bp.route("/me/transcripts", methods=["GET", "POST"])
@signed_in_learner
def transcripts() -> BaseResponse | tuple[str, int] | str:
    """Request a transcript (a CLR signed by the bank) and share it once it is recorded."""
    learner = signed_in_account()
    opened = runtime()
    error, status = None, 200
    if request.method == "POST":
        try:
            request_transcript(opened.engine, opened.chain, learner, settings=opened.settings)
        except ServiceError as refusal:
            error, status = _("Your record holds no credential that verifies: a transcript would "
                              "be empty."), refusal.status
        else:
            return redirect(url_for("citizen.transcripts"), 303)
    listed, later, earlier = paged(lambda: transcripts_of(
        opened.engine, learner, after=page_cursor(), before=request.args.get("before") or None))
    page = render_template("learner/transcripts.html", transcripts=listed, error=error,
                           days=SHARE_DAYS, pages=pager_urls(later, earlier,
                                                             endpoint="citizen.transcripts"))
    return page, status


@bp.post("/me/transcripts/<transcript_id>/share")
@signed_in_learner
def share_transcript(transcript_id: str) -> BaseResponse:
    """Share a transcript recorded on the ledger by an expiring link."""
    try:
        found = transcript_json(runtime().engine, signed_in_account(), transcript_id)
    except NotFound:
        abort(404)
    if found["status"] != "anchored":
        abort(409, description=_("The transcript is not recorded on the ledger yet."))
    token = _share(found["credential"], "transcript", transcript_id, _days())
    return redirect(url_for("citizen.share_detail", token=token), 303)


# -- helpers ------------------------------------------------------------------------------------


def credential_ref(credential_id: str) -> str:
    """A short, stable reference of a credential id for addresses."""
    return hashlib.sha256(credential_id.encode("utf-8")).hexdigest()[:REF_LENGTH]


def init_app(app: Flask) -> None:
    """Register the citizen's pages."""
    app.register_blueprint(bp)


def _start_session(national_id: str,
                   password: str) -> BaseResponse | tuple[str, int, dict[str, str]]:
    """Check national id and password under the bank's back-off; sign in or say why not."""
    accounts = runtime().accounts
    try:
        account = learner_account(accounts.identity(national_id)[0])
    except InvalidInput:
        account = learner_account(f"?{national_id.strip()[:64]}")
    try:
        learner = guarded(account, lambda: _authenticated(national_id, password))
    except TooManyAttempts as error:
        return _sign_in_page({"national_id": wait_message(error.retry_after)}, error.status,
                             {"Retry-After": str(error.retry_after)})
    except Unauthenticated as error:
        return _sign_in_page({"national_id": _("The national id or the password is wrong.")},
                             error.status)
    _open_session(learner)
    return redirect(safe_next(request.form.get("next")) or url_for("citizen.dashboard"), 303)


def _authenticated(national_id: str, password: str) -> dict:
    """The account of this national id and password; `Unauthenticated` otherwise (a malformed
    national id too, so it answers as a wrong one does)."""
    try:
        return runtime().accounts.authenticate(national_id, password)
    except InvalidInput:
        raise Unauthenticated("the national id or the password is wrong") from None


def _sign_in_page(errors: dict[str, str], status: int,
                  headers: dict[str, str] | None = None) -> tuple[str, int, dict[str, str]]:
    return render_template("learner/sign_in.html", errors=errors, sso=_provider() is not None,
                           next=safe_next(request.form.get("next")) or ""), status, headers or {}


def _open_session(learner: dict) -> None:
    sessions.sign_in(runtime().engine, role=ROLE, subject=learner["id"],
                     label=learner["display_name"] or shorten(learner["did"]) or "",
                     username=learner["did"])


def _city_learner(provider: oidc.Provider, claims: dict) -> dict | None:
    """The learner a verified city identity signs in: linked, being linked (to the learner signed
    in, or to the account of the national id the city vouches for). When the city vouches for the
    account's national id, the account is proven in real name (`Forbidden` when it vouches for
    another one than the signed-in learner's)."""
    engine = runtime().engine
    accounts = runtime().accounts
    vouched = _vouched_did(provider, claims)
    current = sessions.current(engine)
    signed_in = accounts.by_did(current.username) if current and current.role == ROLE else None
    learner_id = oidc.linked_learner(engine, provider.issuer, claims["sub"])
    if learner_id is not None:
        learner = accounts.by_id(learner_id)
    else:
        learner = signed_in or (accounts.by_did(vouched) if vouched else None)
        if learner is None:
            return None
        if vouched is not None and learner["did"] != vouched:
            raise Forbidden("the city vouches for another national id than this account's")
        oidc.link(engine, provider.issuer, claims["sub"], learner["id"])
    if learner is not None and learner["did"] == vouched:
        holds_password = signed_in is not None and signed_in["id"] == learner["id"]
        if accounts.prove_by_city(learner["id"], provider.issuer, holds_password=holds_password):
            sessions.end_sessions_of(engine, ROLE, learner["did"])
            learner = accounts.by_id(learner["id"])
    return learner


def _vouched_did(provider: oidc.Provider, claims: dict) -> str | None:
    """The DID of the national id the city vouches for in its ID token, if it names one."""
    national_id = claims.get(provider.national_id_claim) if provider.national_id_claim else None
    if not isinstance(national_id, str):
        return None
    try:
        return runtime().accounts.identity(national_id)[0]
    except InvalidInput:
        return None


def _identity_values(learner: dict, target: Engine | Connection | None = None) -> dict:
    """What a learner's pages show of who they proved to be, and how to prove it (read on
    `target`, the request's connection, when given)."""
    source = target or runtime().engine
    held = guardianship(source, learner, today())
    return {"identity": identity_json(source, learner["id"]),
            "sso": _provider() is not None, "code_error": None,
            "guardianship": held and {**held, "until": format_date(held["until"], "long")}}


def _city_failed() -> tuple[str, int]:
    return render_template("learner/city_failed.html"), 502


def signed_in_account() -> dict:
    """The signed-in learner's account row (the learner pages share it)."""
    learner = signed_in_row()
    if learner is None:
        abort(403)
    return learner


def signed_in_row() -> dict | None:
    """The account row of the signed-in person as a learner, read once a request; None if
    there is none."""
    if "learner_row" not in g:
        current = sessions.current(runtime().engine)
        g.learner_row = runtime().accounts.by_did(current.username) if current else None
    return g.learner_row


def _held(ref: str) -> Held:
    """The signed-in learner's credential with this reference; 404 for anyone else's."""
    item = held_credential(runtime().engine, signed_in_account(),
                           lambda credential_id: credential_ref(credential_id) == ref)
    if item is None:
        abort(404)
    return item


def _own_link(token: str) -> OwnLink:
    link = link_of(runtime().engine, signed_in_account()["id"], token)
    if link is None:
        abort(404)
    return link


def _share(document: dict, kind: str, subject_id: str, days: int) -> str:
    return share(runtime().engine, json.dumps(document, ensure_ascii=False), kind,
                 now=time.time(), lifetime=days * DAY, learner_id=signed_in_account()["id"],
                 subject_id=subject_id)


def _days() -> int:
    """The share link's lifetime the form chose (one of SHARE_DAYS; 400 otherwise)."""
    try:
        days = int(request.form.get("days", ""))
    except ValueError:
        days = 0
    if days not in SHARE_DAYS:
        abort(400, description=_("Choose how long the link works."))
    return days


def _application_page(application_id: str, errors: dict[str, str]) -> str:
    learner = signed_in_account()
    engine = runtime().engine
    try:
        found = application_json(engine, application_row(engine, application_id,
                                                         learner_id=learner["id"]))
    except NotFound:
        abort(404)
    decision = next((item for item in found["decisions"] if item["in_force"]), None)
    deadline: str | None = decision.get("appeal_deadline") if decision else None
    appealable = (decision is not None and found["status"] == "decided" and deadline is not None
                  and parse_iso(deadline).timestamp() >= time.time()
                  and not any(item["decision"] == decision["id"] for item in found["appeals"]))
    return render_template("learner/application.html", application=found, decision=decision,
                           audit=_readable_audit(found["audit"]), appealable=appealable,
                           errors=errors, STATUSES=APPLICATION_STATUSES, when=_iso_date,
                           explain=explain_rule,
                           titles=_titles(approved_programmes(engine)))


def _readable_audit(report: dict, earned: dict | None = None) -> dict:
    """An audit report with a plain-language label and percentage for each requirement (and, for
    a what-if, what the record alone counts: `earned`, from the audit without the plan)."""
    alone = {item["id"]: item["counted"] for item in (earned or report)["requirements"]}
    requirements = []
    for item in report["requirements"]:
        required, counted = float(item["required"]), float(item["counted"])
        code = item["code"]
        label = str(RULE_REASONS[RuleCode(code)])
        if item["id"].startswith("category:"):
            label = _("Credits in “%(category)s”", category=item["id"].removeprefix("category:"))
        percent = 100 if required <= 0 else min(100, round(100 * counted / required))
        requirements.append({**item, "label": label, "percent": percent,
                             "shortfall": max(required - counted, 0) if not item["met"] else 0,
                             "earned": alone.get(item["id"], 0),
                             "planned": max(item["counted"] - alone.get(item["id"], 0), 0)})
    refusals = [{**item, "reason": _refusal_reason(item)} for item in report["refusals"]]
    lines = [{**item, "reason": explain_rule(item["code"], {})} for item in report["lines"]]
    return {**report, "requirements": requirements, "refusals": refusals, "lines": lines}


def _refusal_reason(item: dict) -> str:
    """Why learning does not count; a planned unit is told which grade it will need."""
    params = item.get("params") or {}
    if (item.get("planned") and item["code"] == RuleCode.GRADE_NOT_COMPARABLE
            and params.get("grade") is None):
        return _("It needs a grade on the %(scale)s scale: the rules check it once you complete "
                 "the unit.", scale=params.get("scale", ""))
    return explain_rule(item["code"], params)


def _titles(programmes: list[dict]) -> dict[str, str]:
    return {item["rule_set_id"]: item["title"] for item in programmes}


def _deposit_reason(item: dict) -> str | None:
    reason = item["reason"]
    if reason is None:
        return None
    if reason == "SUBJECT_MISMATCH":
        return _("The credential names someone else, or does not name you in a way the bank "
                 "can check.")
    try:
        return str(REASONS[Code(reason)])
    except ValueError:
        return reason


def _sheet(document: dict, kind: str, url: str, expires_at: float) -> Sheet:
    """The printable sheet of a shared credential, in the page's language."""
    summary = credential_summary(Held("issued", document))
    rows = [
        (_("Issuer"), _issuer_name(document) or summary["issuer"] or ""),
        (_("Kind of learning"), str(KINDS.get(summary["kind"] or kind, summary["kind"] or ""))),
        (_("Unit"), summary["unit"] or ""),
        (_("Level"), summary["level"] or ""),
        (_("Credits"), "" if summary["credits"] is None else f"{summary['credits']:g}"),
        (_("Completed on"), summary["completed_on"] or ""),
        (_("Credential id"), summary["id"]),
        (_("Link valid until"), _date(expires_at)),
    ]
    return Sheet(
        heading=_("Lifelong Learning Credit Bank"),
        title=summary["title"] or document.get("name") or _("Shared transcript"),
        rows=[(label, value) for label, value in rows if value],
        link_label=_("Share link"),
        link=url,
        scan=_("Scan the QR code or open the link to verify this credential against the credit "
               "bank's ledger."),
        no_cjk_note=_("Chinese text cannot be printed: no Chinese font is installed on the "
                      "server. Open the link to read it."),
    )


def _issuer_names(names: tuple[str | None, str | None]) -> str | None:
    """An issuer's name in the page's language, as the bank knows it."""
    name, name_zh = names
    return (name_zh if current_language() == "zh" else None) or name


def _issuer_name(credential: dict) -> str | None:
    """The issuer's name in the page's language, as the credential gives it."""
    issuer = credential.get("issuer")
    if not isinstance(issuer, dict):
        return None
    name = issuer.get("nameZh") if current_language() == "zh" else None
    name = name or issuer.get("name")
    return name if isinstance(name, str) else None


def _json_file(document: dict, filename: str) -> Response:
    return Response(json.dumps(document, ensure_ascii=False, indent=2),
                    mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _date(seconds: float) -> str:
    return format_date(datetime.fromtimestamp(seconds, UTC), "long")


def _iso_date(value: str | None) -> str:
    if not value:
        return ""
    return format_datetime(parse_iso(value), "long")


def _next() -> str:
    return safe_next(request.args.get("next")) or ""


def _provider() -> oidc.Provider | None:
    return city_provider()


def city_provider() -> oidc.Provider | None:
    """The city's OpenID provider as configured; None when city sign-on is not."""
    return oidc.Provider.of(runtime().settings.city_sign_on)




def _sign_up_errors(error: InvalidInput) -> dict[str, str]:
    """Field errors of a refused sign-up, in the page's language."""
    messages: dict[str, Callable[[], str]] = {
        "national_id": lambda: _("Enter your national id: 4 to 64 letters, digits or '-'."),
        "password": lambda: _("Choose a password of at least 10 characters."),
    }
    return {field: messages[field]() for field in error.errors if field in messages} or {
        "national_id": _("An account cannot be opened with these details.")}


def _status_of(error: Exception) -> int:
    """The status of a refused form: the error's own, else that of invalid input."""
    return error.status if isinstance(error, ServiceError) else InvalidInput.status
