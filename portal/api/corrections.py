"""Correction requests in the JSON API: a learner asks the owner of data about them to correct
it; the institution (or the city centre's operator) that owns it lists its queue, opens a
request (the read is logged for the learner) and answers."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Api
from marshmallow import Schema, fields, validate

from bank.access import MAX_LIMIT, staff_reader
from bank.corrections import (
    ANSWERS,
    MAX_TEXT,
    QUEUE_PAGE,
    account_object,
    answer,
    corrections_of,
    open_request,
    queue,
    request_correction,
)
from bank.tables import CORRECTION_ABOUT, CORRECTION_STATUSES
from portal.api import Blueprint
from portal.api.auth import BEARER, INSTITUTION, LEARNER, OPERATOR, Principal, requires
from portal.api.bank_schemas import ListPageArgsSchema
from portal.runtime import runtime

blp = Blueprint("corrections_api", __name__, url_prefix="/api/v1",
                description="Correction requests: routed to the data's owner and answered")

TEXT = validate.Length(1, MAX_TEXT)


class CorrectionRequestSchema(Schema):
    """What to correct: one of your objects, and what is wrong with it."""

    about = fields.String(required=True, validate=validate.OneOf(CORRECTION_ABOUT))
    object_id = fields.String(required=True, validate=validate.Length(1, 300), metadata={
        "description": "a credential's or decision's id, a deposit's id, or your account id"})
    request = fields.String(required=True, validate=TEXT)


class CorrectionAnswerSchema(Schema):
    """The owner's answer: corrected (what was done) or refused (why)."""

    status = fields.String(required=True, validate=validate.OneOf(ANSWERS))
    answer = fields.String(required=True, validate=TEXT)


class CorrectionSchema(Schema):
    """A request, where it went, and its answer."""

    id = fields.String(required=True)
    about = fields.String(required=True, metadata={"enum": list(CORRECTION_ABOUT)})
    object_id = fields.String(required=True)
    routed_to = fields.String(required=True)
    request = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": list(CORRECTION_STATUSES)})
    answer = fields.String(allow_none=True)
    answered_by = fields.String(allow_none=True)
    requested_at = fields.String(required=True)
    answered_at = fields.String(allow_none=True)


class OpenedCorrectionSchema(CorrectionSchema):
    """A request as its owner opens it, with the facts to find the object."""

    object = fields.Dict(required=True)


class LearnerCorrectionsSchema(Schema):
    """A page of the learner's requests (newest first) and what they may ask to correct."""

    corrections = fields.List(fields.Nested(CorrectionSchema), required=True)
    next = fields.String(allow_none=True, metadata={
        "description": "The cursor of the next page (pass it as `after`); null on the last."})
    objects = fields.List(fields.Dict(), required=True, metadata={
        "description": "Your account, to ask about its details. Credentials, deposits and "
                       "decisions are asked about by their ids, from their own paged lists."})


class QueuedSchema(Schema):
    """A request in a queue: no learner, no text."""

    id = fields.String(required=True)
    about = fields.String(required=True)
    status = fields.String(required=True)
    requested_at = fields.String(required=True)
    answered_at = fields.String(allow_none=True)


class QueueSchema(Schema):
    """A page of the requests routed to you, oldest first."""

    corrections = fields.List(fields.Nested(QueuedSchema), required=True)
    next = fields.String(allow_none=True, metadata={
        "description": "The cursor of the next page (pass it as `after`); null on the last."})


class QueueQuerySchema(Schema):
    """Which requests to list, and which page."""

    status = fields.String(load_default=None, validate=validate.OneOf(CORRECTION_STATUSES))
    after = fields.String(load_default=None, validate=validate.Length(max=400),
                          metadata={"description": "The `next` cursor of the previous page."})
    limit = fields.Integer(load_default=QUEUE_PAGE, validate=validate.Range(min=1, max=MAX_LIMIT))


def register(api: Api) -> None:
    """Register the corrections API."""
    api.register_blueprint(blp)


@blp.route("/learners/me/corrections")
class LearnerCorrections(MethodView):
    """The learner's correction requests."""

    @requires(LEARNER)
    @blp.doc(security=[BEARER])
    @blp.arguments(ListPageArgsSchema, location="query")
    @blp.response(200, LearnerCorrectionsSchema)
    def get(self, query: dict, principal: Principal) -> dict:
        """A page of your requests with their answers, and your account to ask about."""
        listed, later = corrections_of(runtime().engine, principal.id, **query)
        return {"corrections": listed, "next": later,
                "objects": [account_object(principal.record)]}

    @requires(LEARNER)
    @blp.doc(security=[BEARER])
    @blp.arguments(CorrectionRequestSchema)
    @blp.response(201, CorrectionSchema)
    def post(self, body: dict, principal: Principal) -> dict:
        """Ask for a correction: a credential goes to its issuer, a decision to the institution
        whose programme it decided, a deposit or the account to the city centre."""
        return request_correction(runtime().engine, principal.record, about=body["about"],
                                  object_id=body["object_id"], text=body["request"])


@blp.route("/corrections")
class Corrections(MethodView):
    """The requests routed to an institution or the centre."""

    @requires(INSTITUTION, OPERATOR)
    @blp.doc(security=[BEARER])
    @blp.arguments(QueueQuerySchema, location="query")
    @blp.response(200, QueueSchema)
    def get(self, query: dict, principal: Principal) -> dict:
        """Your queue (an operator's is the centre's), without learner identity or text."""
        reader = staff_reader(principal.role, principal.id, principal.id)
        listed, later = queue(runtime().engine, reader.organisation, **query)
        return {"corrections": listed, "next": later}


@blp.route("/corrections/<correction_id>")
class Correction(MethodView):
    """One request routed to you."""

    @requires(INSTITUTION, OPERATOR)
    @blp.doc(security=[BEARER])
    @blp.response(200, OpenedCorrectionSchema)
    def get(self, correction_id: str, principal: Principal) -> dict:
        """The request's text and the object it is about; the learner sees that you read it."""
        return open_request(runtime().engine, correction_id,
                            staff_reader(principal.role, principal.id, principal.id))


@blp.route("/corrections/<correction_id>/answer")
class Answer(MethodView):
    """The owner's answer."""

    @requires(INSTITUTION, OPERATOR)
    @blp.doc(security=[BEARER])
    @blp.arguments(CorrectionAnswerSchema)
    @blp.response(200, CorrectionSchema)
    def post(self, body: dict, correction_id: str, principal: Principal) -> dict:
        """Answer once: corrected, saying what was done, or refused, with the reasons; the
        learner is told."""
        return answer(runtime().engine, correction_id,
                      staff_reader(principal.role, principal.id, principal.id),
                      status=body["status"], text=body["answer"])
