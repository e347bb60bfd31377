"""Applications for recognition: the learner applies and appeals, the receiving institution does
the first review, the city centre (operator) the second review, appeals and revocation flags."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.views import MethodView
from flask_smorest import Api

from bank.access import (
    Reader,
    answered_application,
    application_queue,
    read_application,
    staff_reader,
)
from bank.applications import (
    appeal,
    application_json,
    application_row,
    apply,
    decide_appeal,
    first_review,
    review_flag,
    second_review,
)
from portal.api import Blueprint
from portal.api.auth import (
    BEARER,
    INSTITUTION,
    LEARNER,
    OPERATOR,
    Principal,
    requires,
)
from portal.api.bank_schemas import (
    AppealDecisionSchema,
    AppealSchema,
    ApplicationListSchema,
    ApplicationQuerySchema,
    ApplicationSchema,
    ApplySchema,
    FlagReviewSchema,
    ReviewSchema,
)
from portal.runtime import runtime

blp = Blueprint("applications", __name__, url_prefix="/api/v1",
                description="Applications, two-level review, decisions and appeals")


def register(api: Api, app: Flask) -> None:
    """Register the applications API (the learner API creates the tables)."""
    api.register_blueprint(blp)


@blp.route("/applications")
class Applications(MethodView):
    """Applications for recognition."""

    @requires(LEARNER, INSTITUTION, OPERATOR)
    @blp.doc(security=[BEARER])
    @blp.arguments(ApplicationQuerySchema, location="query")
    @blp.response(200, ApplicationListSchema)
    def get(self, query: dict, principal: Principal) -> dict:
        """Applications you may see, by status or flag, oldest first, a page at a time (follow
        `next`): a learner their own, whole; an institution those under its rule sets and an
        operator all, as a queue (id, programme, status and dates: no personal data; read one
        to see it, for a task)."""
        engine = runtime().engine
        if principal.role == LEARNER:
            listed, later = application_queue(engine, learner_id=principal.id, **query)
            return {"applications": [application_json(engine, application_row(
                engine, item["id"], learner_id=principal.id)) for item in listed],
                "next": later}
        listed, later = application_queue(engine, **_scope(principal), **query)
        return {"applications": listed, "next": later}

    @requires(LEARNER)
    @blp.doc(security=[BEARER])
    @blp.arguments(ApplySchema)
    @blp.response(201, ApplicationSchema)
    def post(self, body: dict, principal: Principal) -> dict:
        """Apply for recognition under an approved rule-set version (default: your programme);
        your record is verified and audited now, and the audit goes to review."""
        opened = runtime()
        return apply(opened.engine, opened.view, principal.record,
                     rule_set_id=body["rule_set_id"], version=body["version"],
                     agreement_id=body["agreement_id"])


@blp.route("/applications/<application_id>")
class Application(MethodView):
    """One application."""

    @requires(LEARNER, INSTITUTION, OPERATOR)
    @blp.doc(security=[BEARER])
    @blp.response(200, ApplicationSchema)
    def get(self, application_id: str, principal: Principal) -> dict:
        """The application, its audit, reviews, decisions and appeals. Staff read it only for a
        task (the receiving institution; the centre at the second review, an appeal or a flag;
        403 otherwise), and the learner sees the read in their access log."""
        engine = runtime().engine
        if principal.role == LEARNER:
            return application_json(engine,
                                    application_row(engine, application_id, **_scope(principal)))
        return read_application(engine, _reader(principal), application_id)


@blp.route("/applications/<application_id>/first-review")
class FirstReview(MethodView):
    """The receiving institution's first review (初审)."""

    @requires(INSTITUTION)
    @blp.doc(security=[BEARER])
    @blp.arguments(ReviewSchema)
    @blp.response(200, ApplicationSchema)
    def post(self, body: dict, application_id: str, principal: Principal) -> dict:
        """Approve or refuse, with reasons; exclude credentials that differ substantially."""
        engine = runtime().engine
        return answered_application(engine, _reader(principal), first_review(
            engine, application_id, principal.id, **body), "first-review")


@blp.route("/applications/<application_id>/second-review")
class SecondReview(MethodView):
    """The city centre's second review (复审), which decides."""

    @requires(OPERATOR)
    @blp.doc(security=[BEARER])
    @blp.arguments(ReviewSchema)
    @blp.response(200, ApplicationSchema)
    def post(self, body: dict, application_id: str, principal: Principal) -> dict:
        """Decide: the credits granted by category, the reasons, the reviewers and the appeal
        deadline are recorded."""
        engine = runtime().engine
        return answered_application(engine, _reader(principal), second_review(
            engine, application_id, principal.id, appeal_days=runtime().settings.appeal_days,
            **body), "second-review")


@blp.route("/applications/<application_id>/appeal")
class Appeal(MethodView):
    """The learner's appeal."""

    @requires(LEARNER)
    @blp.doc(security=[BEARER])
    @blp.arguments(AppealSchema)
    @blp.response(201, ApplicationSchema)
    def post(self, body: dict, application_id: str, principal: Principal) -> dict:
        """Appeal the decision, once, before its appeal deadline."""
        return appeal(runtime().engine, application_id, principal.record, body["grounds"])


@blp.route("/applications/<application_id>/appeal-decision")
class AppealDecision(MethodView):
    """The city centre's decision on an appeal."""

    @requires(OPERATOR)
    @blp.doc(security=[BEARER])
    @blp.arguments(AppealDecisionSchema)
    @blp.response(200, ApplicationSchema)
    def post(self, body: dict, application_id: str, principal: Principal) -> dict:
        """Uphold the decision, or amend it on a fresh audit of the learner's record."""
        opened = runtime()
        return answered_application(opened.engine, _reader(principal), decide_appeal(
            opened.engine, opened.view, application_id, principal.id, **body), "appeal")


@blp.route("/applications/<application_id>/flag-review")
class FlagReview(MethodView):
    """The city centre's review of a decision flagged after a revocation."""

    @requires(OPERATOR)
    @blp.doc(security=[BEARER])
    @blp.arguments(FlagReviewSchema)
    @blp.response(200, ApplicationSchema)
    def post(self, body: dict, application_id: str, principal: Principal) -> dict:
        """Confirm the decision, or amend it on a fresh audit (the revoked credential is then
        refused)."""
        opened = runtime()
        return answered_application(opened.engine, _reader(principal), review_flag(
            opened.engine, opened.view, application_id, principal.id,
            appeal_days=opened.settings.appeal_days, **body), "flag-review")


def _reader(principal: Principal) -> Reader:
    """The institution's or operator's token, as a reader of learners' data."""
    return staff_reader(principal.role, principal.id, principal.id)


def _scope(principal: Principal) -> dict[str, Any]:
    """What the caller may see: a learner their own, an institution its own, an operator all."""
    if principal.role == LEARNER:
        return {"learner_id": principal.id}
    if principal.role == INSTITUTION:
        return {"institution_id": principal.id}
    return {}
