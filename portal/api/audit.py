"""GET /api/v1/audit: the audit trail of privileged actions, for operators; and the client
address every recorded action carries."""

from __future__ import annotations

from flask import Flask, g, request
from flask.views import MethodView
from flask_smorest import Api
from marshmallow import Schema, fields, validate

from infra.audit import DEFAULT_LIMIT, MAX_LIMIT, client_address, entry_page
from portal.api import Blueprint
from portal.api.auth import BEARER, OPERATOR, Principal, requires
from portal.runtime import runtime

blp = Blueprint("audit", __name__, url_prefix="/api/v1",
                description="The audit trail of privileged actions (operators)")


class AuditQuerySchema(Schema):
    """Which recorded actions to list."""

    since = fields.AwareDateTime(load_default=None, default_timezone=None,
                                 metadata={"description": "ISO 8601 with a time zone"})
    action = fields.String(load_default=None, validate=validate.Length(1, 64), metadata={
        "description": "An action (issuer.suspend), or a prefix ending in '.' (issuer.)"})
    actor = fields.String(load_default=None, validate=validate.Length(1, 200))
    subject = fields.String(load_default=None, validate=validate.Length(1, 300))
    limit = fields.Integer(load_default=DEFAULT_LIMIT, validate=validate.Range(1, MAX_LIMIT))
    after = fields.String(load_default=None, validate=validate.Length(max=400),
                          metadata={"description": "The `next` cursor of the previous page."})


class AuditEntrySchema(Schema):
    """One privileged action: who, what, to what, when, from where."""

    id = fields.Integer(required=True)
    at = fields.String(required=True)
    actor = fields.String(required=True)
    action = fields.String(required=True)
    subject = fields.String(required=True)
    details = fields.Dict(required=True)
    client = fields.String(allow_none=True)


class AuditListSchema(Schema):
    """Recorded actions, newest first."""

    entries = fields.List(fields.Nested(AuditEntrySchema), required=True)
    next = fields.String(allow_none=True, metadata={
        "description": "The cursor of the next (older) page, as `after`; null on the last."})


def register(api: Api, app: Flask) -> None:
    """Register the audit API, and note each request's client address for the audit trail."""
    api.register_blueprint(blp)

    @app.before_request
    def note_client() -> None:
        g.audit_client = client_address.set(request.remote_addr)

    @app.teardown_request
    def forget_client(_error: BaseException | None) -> None:
        if "audit_client" in g:
            client_address.reset(g.pop("audit_client"))


@blp.route("/audit")
class Audit(MethodView):
    """The audit trail."""

    @requires(OPERATOR)
    @blp.doc(security=[BEARER])
    @blp.arguments(AuditQuerySchema, location="query")
    @blp.response(200, AuditListSchema)
    def get(self, query: dict, principal: Principal) -> dict:
        """Privileged actions, newest first, filtered by time, action, actor or subject, a page
        at a time (follow `next`)."""
        listed, later = entry_page(runtime().engine, **query)
        return {"entries": listed, "next": later}
