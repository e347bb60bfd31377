"""POST /api/v1/verify: the verifier behind the public verification page."""

from __future__ import annotations

from flask import current_app, request
from flask.views import MethodView
from flask_smorest import abort
from marshmallow import Schema, fields

from portal.api import Blueprint
from portal.ratelimit import limited
from portal.runtime import runtime
from verify import Context, verify_credential

blp = Blueprint(
    "verify", __name__, url_prefix="/api/v1", description="Verify a credential (public, no login)"
)


class CheckSchema(Schema):
    """One check of the report."""

    name = fields.String(required=True)
    status = fields.String(required=True)
    code = fields.String(allow_none=True)
    message = fields.String(required=True)
    details = fields.Dict()


class ReportSchema(Schema):
    """The verification report: a verdict and each check with its reason."""

    verdict = fields.String(required=True, metadata={"enum": ["VALID", "INVALID", "INDETERMINATE"]})
    checks = fields.List(fields.Nested(CheckSchema), required=True)
    credential = fields.Dict()


@blp.route("/verify")
class Verify(MethodView):
    """Verify one credential sent as the JSON request body or as an uploaded file."""

    @limited("verify")
    @blp.doc(
        requestBody={
            "required": True,
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                },
            },
        }
    )
    @blp.response(200, ReportSchema)
    @blp.alt_response(413, description="The credential is larger than the limit")
    @blp.alt_response(429, description="Too many requests from this client")
    def post(self) -> dict:
        """Run every check on a credential and give each result with its reason."""
        if "file" in request.files:
            raw = request.files["file"].read()
        else:
            raw = request.get_data(cache=False)
        if not raw:
            abort(400, message="send the credential as the JSON body or as a file named 'file'")
        max_bytes = current_app.config["MAX_CREDENTIAL_BYTES"]
        return verify_credential(raw, runtime().public_context(max_bytes)).to_json()




def record_context() -> Context:
    """The context a learner's own record is verified in: the process's chain facts (as public
    verification sees them) and the signatures the process has already checked."""
    opened = runtime()
    return Context(opened.chain_facts, signatures=opened.verified_signatures,
                   status_lists=opened.published_status_lists,
                   verified_lists=opened.verified_status_lists)
