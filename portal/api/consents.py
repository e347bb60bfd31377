"""A learner's consents in the JSON API: what they agreed to (purpose, object, the words and
their version, by whom, when) and withdrawing one, with its effect."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Api
from marshmallow import Schema, fields, validate

from bank.consents import PURPOSES, consents_of, texts_json, withdraw
from portal.api import Blueprint
from portal.api.auth import BEARER, LEARNER, Principal, requires
from portal.api.bank_schemas import ListPageArgsSchema
from portal.runtime import runtime

blp = Blueprint("consents_api", __name__, url_prefix="/api/v1",
                description="The learner's consents: give (by acting) and withdraw")


class ConsentSchema(Schema):
    """A consent: purpose, object, the words and version agreed to, by whom, when, status."""

    id = fields.String(allow_none=True, metadata={
        "description": "null for an account opened before consents were recorded"})
    purpose = fields.String(required=True, metadata={"enum": list(PURPOSES)})
    object_id = fields.String(allow_none=True)
    version = fields.String(allow_none=True)
    text = fields.Dict(allow_none=True, metadata={"description": "the words, en and zh"})
    given_by = fields.String(required=True)
    given_at = fields.String(required=True)
    withdrawn_at = fields.String(allow_none=True)
    status = fields.String(required=True, metadata={
        "enum": ["given", "withdrawn", "given-before-records"]})


class WithdrawnSchema(ConsentSchema):
    """A consent just withdrawn, and what withdrawing did."""

    effect = fields.String(allow_none=True, metadata={"enum": [
        "email-erased", "application-withdrawn", "appeal-withdrawn", "decision-kept", "none"]})


class ConsentListSchema(Schema):
    """A page of the learner's consents, newest first, and the words in force for each
    purpose."""

    consents = fields.List(fields.Nested(ConsentSchema), required=True)
    texts = fields.Dict(required=True)
    next = fields.String(allow_none=True, metadata={
        "description": "The cursor of the next page (pass it as `after`); null on the last."})
    previous = fields.String(allow_none=True, metadata={
        "description": "The cursor of the previous page (pass it as `before`); null on the "
                       "first."})


class ConsentPageArgsSchema(ListPageArgsSchema):
    """Which page of the consents: after the `next` cursor or before the `previous` one."""

    before = fields.String(load_default=None, validate=validate.Length(max=400),
                           metadata={"description": "The `previous` cursor of the next page."})


def register(api: Api) -> None:
    """Register the consents API."""
    api.register_blueprint(blp)


@blp.route("/learners/me/consents")
class Consents(MethodView):
    """The learner's consents."""

    @requires(LEARNER)
    @blp.doc(security=[BEARER])
    @blp.arguments(ConsentPageArgsSchema, location="query")
    @blp.response(200, ConsentListSchema)
    def get(self, query: dict, principal: Principal) -> dict:
        """A page of your consents, newest first, withdrawn ones too, with the words and version
        you agreed to; and the words in force: opening the account gives "account", applying
        gives "application" for that application, setting an e-mail address for notices gives
        "email-notices"."""
        page = consents_of(runtime().engine, principal.id, **query)
        return {"consents": page.consents, "texts": texts_json(), "next": page.next,
                "previous": page.previous}


@blp.route("/learners/me/consents/<consent_id>/withdrawal")
class Withdrawal(MethodView):
    """Withdrawing a consent."""

    @requires(LEARNER)
    @blp.doc(security=[BEARER])
    @blp.response(200, WithdrawnSchema)
    @blp.alt_response(409, description="The account and guardian consents end only by closing "
                      "the account (`/me/close`).")
    def post(self, consent_id: str, principal: Principal) -> dict:
        """Withdraw a consent: "email-notices" erases your address and stops e-mails;
        "application" withdraws the application if it waits for its decision (or the appeal
        under review; a decision made stays). Withdrawing again answers it as withdrawn."""
        return withdraw(runtime().engine, principal.id, consent_id)
