"""The institution console: batches and their anchoring, revocation, units, rule sets and the
first review of applications. The API stays the main path; this is for people."""

from __future__ import annotations

import json

from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response as BaseResponse

from bank.access import application_queue, looked_up_credential, read_application
from bank.applications import STATUSES, SUBMITTED, first_review
from bank.impact import kept_impact, kept_versions, preview_impact, publish_with_impact
from bank.minors import minor_account, today
from infra.errors import InvalidInput, ServiceError
from issuers.catalogue import add_units, list_units
from issuers.records import (
    batch_credentials,
    batch_page,
    batch_record,
    credential_record,
    rule_set_list,
)
from issuers.registry import issuer_record
from issuers.revocation import request_revocation
from issuers.schemas import REASONS, UNIT_KINDS, reason_code
from portal import sessions
from portal.api.verify import record_context
from portal.pages.console import (
    actor,
    console_values,
    done,
    excluded,
    field_errors,
    lines,
    page_cursor,
    page_url,
    paged,
    pager_urls,
    reader,
    refused,
    staff,
)
from portal.runtime import runtime

bp = Blueprint("institution", __name__, url_prefix="/institution")
sessions.guard_blueprint(bp, "institution", sign_in_endpoint="staff.sign_in_form")

BATCH_LABELS = {
    "open": _l("Open"),
    "closed": _l("Closed"),
    "anchoring": _l("Anchoring"),
    "anchored": _l("Anchored"),
    "failed": _l("Anchoring failed"),
}
CREDENTIAL_LABELS = {
    "signed": _l("Signed, not yet anchored"),
    "anchored": _l("Anchored"),
    "revoking": _l("Being revoked"),
    "revoked": _l("Revoked"),
}
REVOCATION_LABELS = {
    "pending": _l("Waiting for the ledger"),
    "sent": _l("Sent to the ledger"),
    "done": _l("Revoked on the ledger"),
    "failed": _l("Revocation failed"),
}
REVOCATION_REASONS = {
    "unspecified": _l("Unspecified"),
    "key-compromise": _l("Signing key compromised"),
    "issued-in-error": _l("Issued in error"),
    "superseded": _l("Superseded by another credential"),
    "fraud": _l("Fraud"),
    "withdrawn-by-issuer": _l("Withdrawn by the issuer"),
}
UNIT_FIELDS = ("code", "title", "description", "kind", "framework", "level", "eqf_level",
               "credit_value", "credit_scheme", "hours", "category", "valid_from", "valid_until")
NUMBERS = {"level": int, "eqf_level": int, "credit_value": float, "hours": float}
LEVEL_FIELDS = ("framework", "level", "eqf_level")
assert tuple(REVOCATION_REASONS) == REASONS


@bp.context_processor
def institution_values() -> dict:
    """The signed-in staff member's institution, and labels, for every console page."""
    signed_in = sessions.current(runtime().engine)
    if signed_in is None or signed_in.role != "institution":
        return {}
    return {**console_values(), "institution": issuer_record(runtime().engine, signed_in.subject),
            "REVOCATION_REASONS": REVOCATION_REASONS, "BATCH_LABELS": BATCH_LABELS,
            "CREDENTIAL_LABELS": CREDENTIAL_LABELS, "REVOCATION_LABELS": REVOCATION_LABELS}


@bp.get("/")
@bp.get("/batches")
def batches() -> str:
    """The institution's batches, newest first: status, root, transaction and block."""
    status = request.args.get("status", "")
    after = page_cursor()
    rows, later = paged(lambda: batch_page(
        runtime().engine, staff().subject, runtime().deployment, after=after,
        status=status if status in BATCH_LABELS else None))
    return render_template("institution/batches.html", batches=rows, after=after, later=later,
                           status=status)


@bp.get("/batches/<batch_id>")
def batch(batch_id: str) -> str:
    """One batch: its anchoring, its credentials, and revocation."""
    engine = runtime().engine
    record = batch_record(engine, staff().subject, batch_id, runtime().deployment)
    listed, later, earlier = paged(lambda: batch_credentials(
        engine, staff().subject, batch_id, after=page_cursor(),
        before=request.args.get("before") or None))
    return render_template("institution/batch.html", batch=record, credentials=listed,
                           pages=pager_urls(later, earlier))


@bp.post("/batches/<batch_id>/revocation")
def revoke_batch(batch_id: str) -> BaseResponse:
    """Revoke a whole batch with a reason (the anchoring worker puts it on chain)."""
    return _revoke("institution.batch", {"batch_id": batch_id}, batch_id=batch_id)


@bp.get("/credentials")
def credential_search() -> str | tuple[str, int]:
    """Find one of the institution's credentials by its id."""
    credential_id = request.args.get("id", "").strip()
    if not credential_id:
        return render_template("institution/credential.html", credential_id="", record=None)
    try:
        record = credential_record(runtime().engine, staff().subject, credential_id)
    except ServiceError as error:
        return render_template("institution/credential.html", credential_id=credential_id,
                               record=None, error=error.message), error.status
    looked_up_credential(runtime().engine, reader(), record["id"], record["learner"])
    withheld = minor_account(runtime().engine, today(), did=record["learner"])
    document = None if withheld else json.dumps(record["credential"], ensure_ascii=False,
                                                indent=2)
    return render_template("institution/credential.html", credential_id=credential_id,
                           record=record, credential_json=document, minor=withheld)


@bp.post("/credentials/revocation")
def revoke_credential() -> BaseResponse:
    """Revoke one credential with a reason (the anchoring worker puts it on chain)."""
    credential_id = request.form.get("credential_id", "").strip()
    return _revoke("institution.credential_search", {"id": credential_id},
                   credential_id=credential_id)


@bp.get("/units")
def units() -> str:
    """The catalogue (latest version of each unit) and the form for a new unit or version."""
    return _units_page(_unit_form(request.args.get("code", "")), [])


@bp.post("/units")
def add_unit() -> BaseResponse | tuple[str, int]:
    """Add a unit, or a new version of one (an unchanged unit keeps its version)."""
    document = _unit_document()
    issuer = issuer_record(runtime().engine, staff().subject)
    try:
        with runtime().engine.begin() as connection:
            (stored,) = add_units(connection, issuer, [document])
    except ServiceError as error:
        form = {name: request.form.get(name, "") for name in (*UNIT_FIELDS, "learning_outcomes")}
        return _units_page(form, [error.message, *field_errors(error)]), error.status
    return done(_("Unit %(code)s is in the catalogue as version %(version)d.",
                  code=stored["code"], version=stored["version"]), "institution.units")


@bp.get("/rules")
def rules() -> str:
    """The institution's rule sets, with approval status, and the form to publish a version."""
    return _rules_page(_next_version(request.args.get("from", "")), [])


@bp.post("/rules/impact")
def preview_rules() -> str | tuple[str, int]:
    """Show whom a version would affect, line by line, before it is published."""
    text = request.form.get("document", "")
    try:
        document = json.loads(text)
    except ValueError as error:
        return _rules_page(text, [_("The rule set is not valid JSON: %(error)s", error=error)]), 400
    rt = runtime()
    try:
        impact = preview_impact(rt.engine, rt.view, record_context(),
                                issuer_record(rt.engine, staff().subject), document,
                                master_key=rt.settings.master_key())
    except ServiceError as error:
        return _rules_page(text, [error.message, *field_errors(error)]), error.status
    return _rules_page(text, [], impact=impact)


@bp.post("/rules")
def publish_rules() -> BaseResponse | tuple[str, int]:
    """Publish the version whose impact was previewed (refused if it changed since); the
    operator then approves it."""
    text = request.form.get("document", "")
    previewed = request.form.get("content_hash", "")
    if not previewed:
        unseen = _("Preview the impact of the version before publishing it.")
        return _rules_page(text, [unseen]), 400
    try:
        document = json.loads(text)
    except ValueError as error:
        return _rules_page(text, [_("The rule set is not valid JSON: %(error)s", error=error)]), 400
    rt = runtime()
    try:
        published = publish_with_impact(rt.engine, rt.ledger, record_context(),
                                        issuer_record(rt.engine, staff().subject), document,
                                        master_key=rt.settings.master_key(), previewed=previewed)
    except ServiceError as error:
        return _rules_page(text, [error.message, *field_errors(error)]), error.status
    return done(_("Version %(version)d of %(rule_set)s is published and waits for approval; "
                  "its impact is kept with it.",
                  version=published["version"], rule_set=published["rule_set_id"]),
                "institution.rule_impact", rule_set_id=published["rule_set_id"],
                version=published["version"])


@bp.get("/rules/<rule_set_id>/<int:version>/impact")
def rule_impact(rule_set_id: str, version: int) -> str:
    """The impact kept with one of the institution's published versions."""
    impact = kept_impact(runtime().engine, staff().subject, rule_set_id, version)
    return render_template("institution/rule_impact.html", impact=impact)


@bp.get("/applications")
def applications() -> str:
    """Applications under the institution's rule sets waiting for its first review (初审)."""
    engine, institution_id = runtime().engine, staff().subject
    waiting_after = request.args.get("waiting") or None
    reviewed_after = request.args.get("reviewed") or None
    waiting, later_waiting = paged(lambda: application_queue(
        engine, institution_id=institution_id, status=SUBMITTED, after=waiting_after))
    reviewed, later_reviewed = paged(lambda: application_queue(
        engine, institution_id=institution_id, after=reviewed_after,
        statuses=[status for status in STATUSES if status != SUBMITTED]))
    return render_template(
        "institution/applications.html", waiting=waiting, reviewed=reviewed,
        more_waiting=page_url("waiting", later_waiting),
        more_reviewed=page_url("reviewed", later_reviewed))


@bp.get("/applications/<application_id>")
def application(application_id: str) -> str:
    """One application addressed to the institution (the read is logged for the learner): the
    audit of the learner's record, reviews and decisions."""
    return render_template("institution/application.html",
                           application=read_application(runtime().engine, reader(),
                                                        application_id))


@bp.post("/applications/<application_id>/first-review")
def review(application_id: str) -> BaseResponse:
    """Record the first review: approve or refuse with reasons, excluding credentials."""
    try:
        first_review(runtime().engine, application_id, staff().subject,
                     verdict=request.form.get("verdict", ""), reasons=lines("reasons"),
                     excluded=excluded())
    except ServiceError as error:
        return refused(error, "institution.application", application_id=application_id)
    return done(_("Your first review is recorded; the city centre does the second review."),
                "institution.application", application_id=application_id)


def _revoke(endpoint: str, values: dict, *, credential_id: str | None = None,
            batch_id: str | None = None) -> BaseResponse:
    reason = request.form.get("reason", "")
    try:
        if reason not in REASONS:
            raise InvalidInput(_("Choose why it is revoked."), {"reason": [reason]})
        with runtime().engine.begin() as connection:
            request_revocation(connection, staff().subject, reason=reason_code(reason),
                               credential_id=credential_id, batch_id=batch_id,
                               note=request.form.get("note", "").strip() or None, actor=actor())
    except ServiceError as error:
        return refused(error, endpoint, **values)
    return done(_("The revocation is recorded; it is put on the ledger once the batch is "
                  "anchored."), endpoint, **values)


def _units_page(form: dict, errors: list[str]) -> str:
    issuer = issuer_record(runtime().engine, staff().subject)
    kinds = [kind for kind in issuer["kinds"].split(",") if kind in UNIT_KINDS]
    return render_template("institution/units.html", units=list_units(runtime().engine,
                                                                       issuer["id"]),
                           form=form, errors=errors, kinds=kinds)


def _unit_form(code: str) -> dict:
    """The form's values: empty, or the latest version of the unit to revise."""
    unit = next((unit for unit in list_units(runtime().engine, staff().subject)
                 if unit["code"] == code), None)
    if unit is None:
        return {"framework": "CQF", "credit_scheme": "CN-NCB"}
    level = unit["level"] or {}
    return {**{name: "" if unit.get(name) is None else str(unit[name]) for name in UNIT_FIELDS
               if name in unit},
            "framework": level.get("framework", ""), "level": str(level.get("level", "")),
            "eqf_level": str(level.get("eqf_level", "")),
            "learning_outcomes": "\n".join(unit["learning_outcomes"])}


def _unit_document() -> dict:
    """A unit document for the catalogue from the form (the catalogue checks every field)."""
    values = {name: _number(value, NUMBERS.get(name)) for name in UNIT_FIELDS
              if (value := request.form.get(name, "").strip())}
    document = {name: value for name, value in values.items() if name not in LEVEL_FIELDS}
    if "level" in values:
        document["level"] = {name: values[name] for name in LEVEL_FIELDS if name in values}
    document["learning_outcomes"] = lines("learning_outcomes")
    return document


def _number(value: str, kind: type | None) -> object:
    """A form value as the number its field holds (left as text when it is not one)."""
    if kind is None:
        return value
    try:
        return kind(value)
    except ValueError:
        return value


def _rules_page(text: str, errors: list[str], *, impact: dict | None = None) -> str:
    engine = runtime().engine
    return render_template("institution/rules.html",
                           rule_sets=rule_set_list(engine, staff().subject),
                           impacts=kept_versions(engine, staff().subject),
                           document=text, errors=errors, impact=impact)


def _next_version(rule_set_id: str) -> str:
    """The latest version of one of the institution's rule sets as JSON, numbered as the next."""
    latest = next((item for item in rule_set_list(runtime().engine, staff().subject)
                   if item["rule_set_id"] == rule_set_id), None)
    if latest is None:
        return ""
    document = json.loads(latest["document"])
    document["version"] = latest["version"] + 1
    return json.dumps(document, ensure_ascii=False, indent=2)

