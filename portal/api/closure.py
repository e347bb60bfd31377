"""Closing a learner's account through the API: close it (confirmed by the password), see when
its personal data is erased, or keep it during the grace period."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Api
from marshmallow import Schema, fields, validate

from bank.attempts import learner_account
from bank.closure import cancel, close, closing_json, confirm
from portal.api import Blueprint
from portal.api.auth import BEARER, LEARNER, Principal, requires
from portal.ratelimit import limited
from portal.runtime import runtime
from portal.sessions import end_sessions_of
from portal.sign_in import guarded

blp = Blueprint("closure", __name__, url_prefix="/api/v1",
                description="Closing a learner's account, and keeping it during the grace period")


class ConfirmSchema(Schema):
    """The learner confirms closing their account with their password."""

    password = fields.String(required=True, validate=validate.Length(1, 200), load_only=True)


class ClosingSchema(Schema):
    """Whether the account is closing, since when, and when its personal data is erased."""

    closing = fields.Boolean(required=True)
    closing_at = fields.String(allow_none=True, required=True)
    erased_after = fields.String(allow_none=True, required=True)
    grace_days = fields.Integer(required=True)
    withdrawn = fields.Dict(keys=fields.String(), values=fields.Integer(),
                            metadata={"description": "What closing withdrew, revoked or ended, "
                                                     "by kind (only in the answer to closing)."})


def register(api: Api) -> None:
    """Register the closure API."""
    api.register_blueprint(blp)


@blp.route("/learners/me/closure")
class Closure(MethodView):
    """Closing your account."""

    @requires(LEARNER, closing=True)
    @blp.doc(security=[BEARER])
    @blp.response(200, ClosingSchema)
    def get(self, principal: Principal) -> dict:
        """Whether your account is closing, and when its personal data is erased."""
        return closing_json(principal.record)

    @limited("accounts")
    @requires(LEARNER)
    @blp.doc(security=[BEARER])
    @blp.arguments(ConfirmSchema)
    @blp.response(201, ClosingSchema)
    @blp.alt_response(429, description="Too many wrong passwords: wait `Retry-After` seconds.")
    def post(self, body: dict, principal: Principal) -> dict:
        """Close your account, confirmed with your password: open applications, pre-approval
        requests and deposits under review are withdrawn (an appeal under review too; the
        decision stays), share links revoked, wallet offers closed, every sign-in ended and
        e-mails stopped. The personal data is erased after the grace period; what the law asks
        to keep is kept without anything personal (see the page /me/close). Sign in before
        then and keep the account with DELETE."""
        learner = principal.record
        guarded(learner_account(learner["did"]), lambda: confirm(learner, body["password"]))
        engine = runtime().engine
        closed = close(engine, learner, actor=f"{LEARNER}:{learner['id']}")
        end_sessions_of(engine, LEARNER, learner["did"])
        return closed

    @requires(LEARNER, closing=True)
    @blp.doc(security=[BEARER])
    @blp.response(204)
    def delete(self, principal: Principal) -> None:
        """Keep your closing account (before its personal data is erased): it is open again;
        what closing withdrew or revoked stays so."""
        cancel(runtime().engine, principal.record)
