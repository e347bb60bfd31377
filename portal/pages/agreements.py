"""Learning agreements (pre-approvals) in the portal: the learner asks for one from the planner,
follows it, downloads or shares the signed agreement and applies under it; the receiving
institution's reviewer approves or refuses requests in its console."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response as BaseResponse

from bank.access import agreement_queue, waiting_agreements
from bank.agreements import (
    agreement_json,
    agreement_row,
    agreements_of,
    approve,
    refuse,
    request_agreement,
    withdraw,
)
from bank.applications import apply, approved_programmes
from bank.records import credential_summary, held_credentials
from bank.sharing import share
from infra.errors import Conflict, NotFound, ServiceError
from portal import sessions
from portal.pages.citizen import signed_in_account, signed_in_learner
from portal.pages.console import (
    done,
    lines,
    page_cursor,
    page_url,
    paged,
    reader,
    refused,
    staff,
)
from portal.pages.institutions import institution_values
from portal.pages.views import DAY
from portal.runtime import runtime

bp = Blueprint("agreements", __name__)

SHARE_DAYS = (7, 30, 90, 365)
STATUSES = {
    "requested": _l("Waiting for the institution"),
    "approved": _l("Approved and signed"),
    "refused": _l("Refused"),
    "withdrawn": _l("Withdrawn"),
}
FIELDS = ("programme", "units", "complete_by")

signed_in_institution = sessions.require("institution", sign_in_endpoint="staff.sign_in_form")


# -- the learner --------------------------------------------------------------------------------


@bp.get("/me/agreements")
@signed_in_learner
def agreements() -> str:
    """The learner's agreements: what was asked, its state, and the signed agreement."""
    return _list_page({}, {})[0]


@bp.post("/me/agreements", endpoint="request")
@signed_in_learner
def ask() -> BaseResponse | tuple[str, int]:
    """Ask the programme's institution to pre-approve the planned units."""
    form = request.form
    values: dict = {"programme": form.get("programme", ""), "units": form.getlist("unit"),
              "complete_by": form.get("complete_by", "")}
    opened = runtime()
    try:
        made = request_agreement(opened.engine, opened.view, signed_in_account(),
                                 programme=values["programme"], units=values["units"],
                                 complete_by=values["complete_by"])
    except ServiceError as error:
        messages = {
            "programme": _("Choose a programme whose rules are in force."),
            "units": _("Plan units from the catalogue that count in this programme."),
            "complete_by": _("Give a date after today, while the programme's rules are in "
                             "force."),
        }
        errors = {name: messages[name] for name in FIELDS if name in error.errors} or {
            "programme": error.message}
        return _list_page(errors, values, status=error.status)
    return redirect(url_for("agreements.agreement", agreement_id=made["id"]), 303)


@bp.get("/me/agreements/<agreement_id>")
@signed_in_learner
def agreement(agreement_id: str) -> str:
    """One agreement: its units and agreed lines, the decision and the signed agreement."""
    found = _own(agreement_id)
    return render_template("learner/agreement.html", agreement=found,
                           title=_programme_title(found), STATUSES=STATUSES,
                           ready=_units_in_record(found), days=SHARE_DAYS)


@bp.get("/me/agreements/<agreement_id>/agreement.json")
@signed_in_learner
def download(agreement_id: str) -> Response:
    """The signed agreement, as a JSON file."""
    credential = _credential(_own(agreement_id))
    filename = f"agreement-{agreement_id}.json"
    return Response(json.dumps(credential, ensure_ascii=False, indent=2),
                    mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.post("/me/agreements/<agreement_id>/share")
@signed_in_learner
def share_agreement(agreement_id: str) -> BaseResponse:
    """Share the signed agreement by an expiring link whose page verifies it."""
    found = _own(agreement_id)
    credential = _credential(found)
    try:
        days = int(request.form.get("days", ""))
    except ValueError:
        days = 0
    if days not in SHARE_DAYS:
        abort(400, description=_("Choose how long the link works."))
    token = share(runtime().engine, json.dumps(credential, ensure_ascii=False), "credential",
                  now=time.time(), lifetime=days * DAY, learner_id=signed_in_account()["id"],
                  subject_id=credential["id"])
    return redirect(url_for("citizen.share_detail", token=token), 303)


@bp.post("/me/agreements/<agreement_id>/apply")
@signed_in_learner
def apply_under(agreement_id: str) -> BaseResponse | tuple[str, int]:
    """Apply for recognition under the agreement: its rule-set version, its agreed lines."""
    opened = runtime()
    _own(agreement_id)
    try:
        made = apply(opened.engine, opened.view, signed_in_account(), agreement_id=agreement_id)
    except ServiceError as error:
        found = _own(agreement_id)
        message = (_("You already have an application for this programme under review.")
                   if isinstance(error, Conflict) else
                   _("Your record holds no credential that verifies: there is nothing to "
                     "recognise yet."))
        return render_template("learner/agreement.html", agreement=found,
                               title=_programme_title(found), STATUSES=STATUSES,
                               ready=_units_in_record(found), days=SHARE_DAYS,
                               error=message), error.status
    return redirect(url_for("citizen.application", application_id=made["id"]), 303)


@bp.post("/me/agreements/<agreement_id>/withdraw")
@signed_in_learner
def withdraw_request(agreement_id: str) -> BaseResponse:
    """Withdraw a request the institution has not decided yet."""
    _own(agreement_id)
    try:
        withdraw(runtime().engine, agreement_id, signed_in_account())
    except Conflict:
        abort(409, description=_("The institution has already decided this request."))
    return redirect(url_for("agreements.agreement", agreement_id=agreement_id), 303)


# -- the institution ----------------------------------------------------------------------------


@bp.get("/institution/agreements")
@signed_in_institution
def console() -> str:
    """Pre-approval requests waiting for the institution's decision, each with its planned units
    (every request shown is logged for its learner), and those decided (programme, state, date)."""
    engine = runtime().engine
    waiting, later_waiting = paged(lambda: waiting_agreements(
        engine, reader(), after=request.args.get("waiting") or None))
    decided, later_decided = paged(lambda: agreement_queue(
        engine, staff().subject, decided=True, after=request.args.get("decided") or None))
    return render_template("institution/agreements.html", **institution_values(),
                           waiting=waiting, decided=decided,
                           more_waiting=page_url("waiting", later_waiting),
                           more_decided=page_url("decided", later_decided),
                           titles=_titles(), STATUSES=STATUSES)


@bp.post("/institution/agreements/<agreement_id>")
@signed_in_institution
def decide(agreement_id: str) -> BaseResponse:
    """Approve (the agreement is signed and anchored) or refuse with reasons."""
    opened = runtime()
    institution_id = staff().subject
    verdict = request.form.get("verdict", "")
    try:
        agreement_row(opened.engine, agreement_id, institution_id=institution_id)
    except NotFound:
        abort(404)
    try:
        if verdict == "approve":
            approve(opened.engine, opened.view, agreement_id, institution_id,
                    reviewer=staff().username, settings=opened.settings)
        elif verdict == "refuse":
            refuse(opened.engine, agreement_id, institution_id, reviewer=staff().username,
                   reasons=lines("reasons"))
        else:
            abort(400, description=_("Choose to approve or to refuse."))
    except ServiceError as error:
        return refused(error, "agreements.console")
    message = (_("The pre-approval is signed; it is recorded on the ledger with your next "
                 "batch.") if verdict == "approve" else _("The request is refused."))
    return done(message, "agreements.console")


# -- helpers ------------------------------------------------------------------------------------


def _own(agreement_id: str) -> dict:
    """The signed-in learner's agreement; 404 for anyone else's."""
    engine = runtime().engine
    try:
        return agreement_json(engine, agreement_row(engine, agreement_id,
                                                    learner_id=signed_in_account()["id"]))
    except NotFound:
        abort(404)


def _credential(found: dict) -> dict:
    if found["credential"] is None:
        abort(404)
    return dict(found["credential"]["document"])


def _list_page(errors: dict[str, str], form: dict, *, status: int = 200) -> tuple[str, int]:
    learner = signed_in_account()
    listed, later = paged(lambda: agreements_of(runtime().engine, learner_id=learner["id"],
                                                after=page_cursor()))
    return render_template("learner/agreements.html", agreements=listed,
                           more=page_url("after", later), titles=_titles(),
                           STATUSES=STATUSES, errors=errors, form=form,
                           today=datetime.now(UTC).date().isoformat()), status


def _titles() -> dict[str, str]:
    return {f"{item['rule_set_id']}@{item['version']}": item["title"]
            for item in approved_programmes(runtime().engine)}


def _programme_title(found: dict) -> str:
    key = f"{found['rule_set']['id']}@{found['rule_set']['version']}"
    return _titles().get(key, found["rule_set"]["id"])


def _units_in_record(found: dict) -> bool:
    """Whether the learner's record holds an outcome of every planned unit (to apply under)."""
    if found["status"] != "approved":
        return False
    held = {(summary["issuer"], summary["unit"]) for summary in
            (credential_summary(item) for item in held_credentials(runtime().engine,
                                                                   signed_in_account()))}
    return all((unit["issuer_did"], unit["code"]) in held for unit in found["units"])
