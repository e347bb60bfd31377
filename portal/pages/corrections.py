"""The correction queues of the consoles: an institution's (`/institution/corrections`) and the
city centre's (`/operator/corrections`). A queue shows what each request is about and when,
never who asked; opening one shows its text and the object (the read is logged for the learner),
with the answer form."""

from __future__ import annotations

from flask import Blueprint, Flask, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response as BaseResponse

from bank.corrections import ANSWERS, MAX_TEXT, OPEN, answer, answered_queue, open_request, queue
from infra.errors import ServiceError
from portal import sessions
from portal.pages.console import console_values, done, page_url, paged, reader, refused
from portal.pages.institutions import institution_values
from portal.runtime import runtime

institution_bp = Blueprint("institution_corrections", __name__, url_prefix="/institution")
sessions.guard_blueprint(institution_bp, "institution", sign_in_endpoint="staff.sign_in_form")
operator_bp = Blueprint("operator_corrections", __name__, url_prefix="/operator")
sessions.guard_blueprint(operator_bp, "operator", sign_in_endpoint="staff.sign_in_form")

ABOUT = {"credential": _l("A credential"), "deposit": _l("A deposit"),
         "decision": _l("A decision"), "account": _l("Account details")}
STATES = {"open": _l("Waiting for an answer"), "corrected": _l("Corrected"),
          "refused": _l("Refused, with reasons")}
ANSWER_LABELS = {"corrected": _l("Corrected: say what was done"),
                 "refused": _l("Refused: give the reasons")}
assert tuple(ANSWER_LABELS) == ANSWERS
FIELDS = {"unit": _l("Unit code"), "unit_version": _l("Unit version"),
          "issued_at": _l("Issued on"), "did": _l("Learner's DID"),
          "display_name": _l("Display name"), "opened_by": _l("Opened by"),
          "credential_id": _l("Credential"), "status": _l("State"),
          "deposited_at": _l("Deposited on"), "application_id": _l("Application id"),
          "sequence": _l("Decision number"), "programme": _l("Programme"),
          "decided_at": _l("Decided on")}
"""Labels of the facts that find a request's object."""


@institution_bp.context_processor
def institution_page_values() -> dict:
    """The institution console's values, and the corrections' labels."""
    return {**institution_values(), **_labels()}


@operator_bp.context_processor
def operator_page_values() -> dict:
    """The operator console's values, and the corrections' labels."""
    return {**console_values(), **_labels()}


@institution_bp.get("/corrections")
def institution_queue() -> str:
    """Correction requests about the institution's credentials and decisions."""
    return _queue("institution")


@institution_bp.get("/corrections/<correction_id>")
def institution_request(correction_id: str) -> str:
    """One request: its text and object (the read is logged), with the answer form."""
    return _request("institution", correction_id)


@institution_bp.post("/corrections/<correction_id>/answer")
def institution_answer(correction_id: str) -> BaseResponse:
    """Answer a request once: corrected or refused."""
    return _answer("institution", correction_id)


@operator_bp.get("/corrections")
def operator_queue() -> str:
    """Correction requests about deposits and account details, for the city centre."""
    return _queue("operator")


@operator_bp.get("/corrections/<correction_id>")
def operator_request(correction_id: str) -> str:
    """One request: its text and object (the read is logged), with the answer form."""
    return _request("operator", correction_id)


@operator_bp.post("/corrections/<correction_id>/answer")
def operator_answer(correction_id: str) -> BaseResponse:
    """Answer a request once: corrected or refused."""
    return _answer("operator", correction_id)


def init_app(app: Flask) -> None:
    """Register both consoles' correction pages."""
    app.register_blueprint(institution_bp)
    app.register_blueprint(operator_bp)


def _labels() -> dict:
    return {"ABOUT": ABOUT, "STATES": STATES, "ANSWER_LABELS": ANSWER_LABELS,
            "FIELDS": FIELDS, "max_text": MAX_TEXT}


def _queue(console: str) -> str:
    """Both lists of a queue, each paged by its own cursor (`?waiting=`, `?answered=`)."""
    engine, organisation = runtime().engine, reader().organisation
    waiting, later_waiting = paged(lambda: queue(
        engine, organisation, status=OPEN, after=request.args.get("waiting") or None))
    answered, later_answered = paged(lambda: answered_queue(
        engine, organisation, after=request.args.get("answered") or None))
    return render_template(f"{console}/corrections.html", waiting=waiting, answered=answered,
                           more_waiting=page_url("waiting", later_waiting),
                           more_answered=page_url("answered", later_answered))


def _request(console: str, correction_id: str) -> str:
    return render_template(f"{console}/correction.html",
                           correction=open_request(runtime().engine, correction_id, reader()))


def _answer(console: str, correction_id: str) -> BaseResponse:
    endpoint = f"{console}_corrections.{console}_request"
    try:
        answer(runtime().engine, correction_id, reader(), status=request.form.get("status"),
               text=request.form.get("answer", ""))
    except ServiceError as error:
        return refused(error, endpoint, correction_id=correction_id)
    return done(_("The request is answered; the learner is told."),
                f"{console}_corrections.{console}_queue")
