"""The operator console of the city credit bank centre: accredit, suspend and reinstate issuers,
approve rule sets, the second review, appeals, flagged decisions and deposits, learners' identity
checked in person, and statistics."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response as BaseResponse

from bank import data_catalogue
from bank.access import (
    application_queue,
    checked_identity,
    deposit_queue,
    read_application,
    read_deposit,
)
from bank.applications import (
    APPEALED,
    FIRST_REVIEWED,
    decide_appeal,
    review_flag,
    second_review,
)
from bank.deposits import REVIEW, review_deposit
from bank.staff import INSTITUTION, add_staff
from bank.statistics import statistics
from infra.classification import COLUMNS, POLICIES, STATED
from infra.errors import InvalidInput, ServiceError
from issuers import registry
from issuers.publication import approve_rule_set
from issuers.records import issuer_list, rule_set_list
from issuers.schemas import UNIT_KINDS
from portal import sessions
from portal.i18n import current_language
from portal.pages.charts import bar_chart, line_chart
from portal.pages.console import (
    APPLICATION_STATUSES,
    KINDS,
    actor,
    console_values,
    done,
    excluded,
    field_errors,
    lines,
    page_cursor,
    page_url,
    paged,
    reader,
    refused,
    staff,
)
from portal.runtime import runtime

bp = Blueprint("operator", __name__, url_prefix="/operator")
sessions.guard_blueprint(bp, "operator", sign_in_endpoint="staff.sign_in_form")

APPEAL_OUTCOMES = {"upheld": _l("Uphold the decision"),
                   "amended": _l("Amend it on a fresh audit")}
FLAG_OUTCOMES = {"confirmed": _l("Confirm the decision"),
                 "amended": _l("Amend it on a fresh audit")}
PROTECTIONS = {data_catalogue.SEALED_KIND: _l("sealed"),
               data_catalogue.KEYED_HASH_KIND: _l("keyed hash"),
               data_catalogue.STATED_KIND: _l("see below")}
ACCREDIT_FIELDS = ("name", "name_zh", "slug", "url", "levels", "valid_from", "valid_until",
                   "staff_username")


@bp.context_processor
def operator_values() -> dict:
    """What every operator page shows: labels and times in the page's language."""
    return {**console_values(), "APPEAL_OUTCOMES": APPEAL_OUTCOMES,
            "FLAG_OUTCOMES": FLAG_OUTCOMES}


@bp.get("/")
@bp.get("/statistics")
def statistics_page() -> str:
    """Learners, credentials and conversions, by kind, by month and by year, as charts and
    tables."""
    figures = statistics(runtime().engine)
    charts = {
        "learners": bar_chart(_("New learner accounts by month"), figures.learners_by_month,
                              monthly=True),
        "kinds": bar_chart(_("Credentials by kind"),
                           [(str(KINDS[kind]), value)
                            for kind, value in figures.credentials_by_kind]),
        "credentials": line_chart(_("Credentials issued by month"),
                                  figures.credentials_by_month, monthly=True),
        "statuses": bar_chart(_("Applications by status"),
                              [(str(APPLICATION_STATUSES[status]), value)
                               for status, value in figures.applications_by_status]),
        "decisions": bar_chart(_("Decisions by month"), figures.decisions_by_month,
                               monthly=True),
        "credits": line_chart(_("Credits granted by month"), figures.credits_by_month,
                              monthly=True),
        "learners_years": bar_chart(_("New learner accounts by year"),
                                    figures.learners_by_year),
        "credentials_years": bar_chart(_("Credentials issued by year"),
                                       figures.credentials_by_year),
        "decisions_years": bar_chart(_("Decisions by year"), figures.decisions_by_year),
        "credits_years": line_chart(_("Credits granted by year"), figures.credits_by_year),
    }
    return render_template("operator/statistics.html", figures=figures, charts=charts)


@bp.get("/issuers")
def issuers() -> str:
    """Accredited issuers, their scope and standing, and the accreditation form."""
    return _issuers_page({"levels": "1-8"}, [])


@bp.post("/issuers")
def accredit() -> str | tuple[str, int]:
    """Accredit an institution on the ledger; shows its API token (and staff password) once."""
    form = {name: request.form.get(name, "").strip() for name in ACCREDIT_FIELDS}
    kinds = request.form.getlist("kinds")
    engine = runtime().engine
    try:
        scope = registry.Scope(
            kinds=registry.parse_kinds(",".join(kinds)),
            levels=registry.parse_levels(form["levels"]),
            valid_from=registry.unix_day(_date(form, "valid_from")),
            valid_until=registry.unix_day(_date(form, "valid_until")))
        if not form["name"]:
            raise InvalidInput(_("Enter the institution's name."), {"name": ["is required"]})
        rt = runtime()
        accreditation = registry.accredit(
            rt.engine, rt.chain, settings=rt.settings, name=form["name"], scope=scope,
            slug=form["slug"] or None, name_zh=form["name_zh"] or None, url=form["url"] or None,
            actor=actor())
    except ServiceError as error:
        return _issuers_page({**form, "kinds": kinds},
                             [error.message, *field_errors(error)]), error.status
    password = staff_error = None
    if form["staff_username"]:
        try:
            password = add_staff(engine, form["staff_username"], role=INSTITUTION,
                                 issuer_id=accreditation.issuer_id, actor=actor())
        except ServiceError as error:
            staff_error = error.message
    return render_template("operator/accredited.html", accreditation=accreditation,
                           staff_username=form["staff_username"], password=password,
                           staff_error=staff_error)


@bp.get("/issuers/<issuer_id>/suspension")
def confirm_suspension(issuer_id: str) -> str:
    """Ask before suspending: what a suspension does to the institution and its learners."""
    return render_template("operator/suspend.html",
                           issuer=registry.issuer_record(runtime().engine, issuer_id))


@bp.post("/issuers/<issuer_id>/suspension")
def suspend(issuer_id: str) -> BaseResponse:
    """Suspend an issuer on the ledger: its credentials stop verifying."""
    try:
        rt = runtime()
        registry.suspend(rt.engine, rt.chain, issuer_id, actor=actor())
    except ServiceError as error:
        return refused(error, "operator.issuers")
    return done(_("%(issuer)s is suspended.", issuer=issuer_id), "operator.issuers")


@bp.post("/issuers/<issuer_id>/reinstatement")
def reinstate(issuer_id: str) -> BaseResponse:
    """Lift an issuer's suspension."""
    try:
        rt = runtime()
        registry.reinstate(rt.engine, rt.chain, issuer_id, actor=actor())
    except ServiceError as error:
        return refused(error, "operator.issuers")
    return done(_("%(issuer)s is reinstated.", issuer=issuer_id), "operator.issuers")


@bp.get("/rules")
def rules() -> str:
    """Published rule sets: those waiting for approval first."""
    listed = rule_set_list(runtime().engine)
    return render_template("operator/rules.html",
                           waiting=[item for item in listed if item["approved_block"] is None],
                           approved=[item for item in listed if item["approved_block"] is not None])


@bp.post("/rules/approval")
def approve() -> BaseResponse:
    """Approve a published rule-set version on the ledger."""
    rule_set_id = request.form.get("rule_set_id", "")
    version = request.form.get("version", "")
    try:
        if not (version.isascii() and version.isdigit()) or len(version) > 10:
            raise InvalidInput(_("Choose a published version."), {"version": [version]})
        rt = runtime()
        approve_rule_set(rt.engine, rt.chain, rule_set_id, int(version), actor=actor())
    except ServiceError as error:
        return refused(error, "operator.rules")
    return done(_("Version %(version)s of %(rule_set)s is approved.", version=version,
                  rule_set=rule_set_id), "operator.rules")


@bp.get("/applications")
def applications() -> str:
    """The queues: second review (复审), appeals, and decisions flagged after a revocation."""
    second, more_second = _queue("second", status=FIRST_REVIEWED)
    appeals, more_appeals = _queue("appeals", status=APPEALED)
    flagged, more_flagged = _queue("flagged", flagged=True)
    return render_template("operator/applications.html", second=second, appeals=appeals,
                           flagged=flagged, more_second=more_second, more_appeals=more_appeals,
                           more_flagged=more_flagged)


def _queue(name: str, *, status: str | None = None,
           flagged: bool | None = None) -> tuple[list[dict], str | None]:
    """A page of one queue (its cursor is the `?<name>=` argument) and the next page's link."""
    after = request.args.get(name) or None
    items, later = paged(lambda: application_queue(runtime().engine, status=status,
                                                   flagged=flagged, after=after))
    return items, page_url(name, later)


@bp.get("/applications/<application_id>")
def application(application_id: str) -> str:
    """One application at the second review, under appeal or flagged, with the form its stage
    calls for (the read is logged for the learner)."""
    application = read_application(runtime().engine, reader(), application_id)
    return render_template("operator/application.html", application=application,
                           flagged=any(decision["in_force"] and decision["flagged"]
                                       for decision in application["decisions"]))


@bp.post("/applications/<application_id>/second-review")
def decide(application_id: str) -> BaseResponse:
    """Record the second review, which decides the application."""
    return _step(application_id, _("The decision is recorded."), lambda: second_review(
        runtime().engine, application_id, staff().username,
        verdict=request.form.get("verdict", ""), reasons=lines("reasons"),
        excluded=excluded(), appeal_days=runtime().settings.appeal_days))


@bp.post("/applications/<application_id>/appeal-decision")
def decide_on_appeal(application_id: str) -> BaseResponse:
    """Uphold the decision under appeal, or amend it on a fresh audit."""
    rt = runtime()
    return _step(application_id, _("The appeal is decided."), lambda: decide_appeal(
        rt.engine, rt.view, application_id, staff().username,
        outcome=request.form.get("outcome", ""), reasons=lines("reasons"),
        excluded=excluded()))


@bp.post("/applications/<application_id>/flag-review")
def review_flagged(application_id: str) -> BaseResponse:
    """Confirm a decision flagged after a revocation, or amend it."""
    rt = runtime()
    return _step(application_id, _("The flagged decision is reviewed."), lambda: review_flag(
        rt.engine, rt.view, application_id, staff().username,
        outcome=request.form.get("outcome", ""), reasons=lines("reasons"),
        excluded=excluded(), appeal_days=rt.settings.appeal_days))


@bp.get("/deposits")
def deposits() -> str:
    """Credentials learners deposited that did not verify, waiting for a reviewer."""
    listed, later = paged(lambda: deposit_queue(runtime().engine, status=REVIEW,
                                                after=page_cursor()))
    return render_template("operator/deposits.html", deposits=listed,
                           more=page_url("after", later))


@bp.get("/deposits/<deposit_id>")
def deposit(deposit_id: str) -> str:
    """One deposit waiting for review: the credential, the verifier's reason and the learner's
    evidence, with the review form (the read is logged for the learner)."""
    return render_template("operator/deposit.html",
                           deposit=read_deposit(runtime().engine, reader(), deposit_id))


@bp.post("/deposits/<deposit_id>/review")
def review_deposit_page(deposit_id: str) -> BaseResponse:
    """Accept or reject a deposit waiting for review."""
    try:
        review_deposit(runtime().engine, deposit_id, f"operator:{staff().username}",
                       request.form.get("verdict", ""), lines("reasons"))
    except ServiceError as error:
        return refused(error, "operator.deposits")
    return done(_("The deposit is reviewed."), "operator.deposits")


@bp.get("/identity-checks")
def identity_check_form() -> str:
    """The in-person check: the learner shows their identity papers at the centre."""
    return render_template("operator/identity_check.html", errors=[], opened=None)


@bp.post("/identity-checks")
def check_identity() -> str | tuple[str, int]:
    """Record the in-person check (audited): the learner's record shows everything issued to
    them; the one-time activation code lets them set a new password."""
    rt = runtime()
    operator = staff().username
    try:
        opened = rt.accounts.check_in_person(request.form.get("national_id", ""),
                                             operator=operator, actor=actor())
    except ServiceError as error:
        return render_template("operator/identity_check.html", opened=None,
                               errors=[error.message, *field_errors(error)]), error.status
    sessions.end_sessions_of(rt.engine, "learner", opened.did)
    checked_identity(rt.engine, reader(), opened.did)
    return render_template("operator/identity_check.html", errors=[], opened=opened)


@bp.get("/data")
def data_catalogue_page() -> str:
    """The data catalogue (数据分级分类): each class with its protection and retention, and every
    table's columns by class, in the page's language."""
    language = current_language()
    protection = data_catalogue.protection_kind
    tables = [{"name": table, "purpose": catalogued.purpose.of(language),
               "columns": {data_class.value: [(column, protection(table, column))
                                              for column in columns]
                           for data_class, columns in data_catalogue.by_class(table).items()}}
              for table, catalogued in sorted(COLUMNS.items())]
    classes = [{"value": data_class.value, "name": policy.name.of(language),
                "examples": policy.examples.of(language),
                "protection": [measure.of(language) for measure in policy.protection],
                "retention": [period.of(language) for period in policy.retention]}
               for data_class, policy in POLICIES.items()]
    stated = [(name, text.of(language)) for name, text in sorted(STATED.items())]
    return render_template("operator/data.html", classes=classes, tables=tables, stated=stated,
                           protections=PROTECTIONS)


def _step(application_id: str, message: str, action: Callable[[], object]) -> BaseResponse:
    try:
        action()
    except ServiceError as error:
        return refused(error, "operator.application", application_id=application_id)
    return done(message, "operator.applications")


def _date(form: dict, name: str) -> date | None:
    if not form[name]:
        return None
    try:
        return date.fromisoformat(form[name])
    except ValueError:
        raise InvalidInput(_("Dates look like 2026-09-01."), {name: [form[name]]}) from None


def _issuers_page(form: dict, errors: list[str]) -> str:
    return render_template("operator/issuers.html", issuers=issuer_list(runtime().engine),
                           form=form, errors=errors, kinds=UNIT_KINDS)
