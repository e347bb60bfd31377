"""POST /api/v1/verify: the verifier behind the public verification page."""

from __future__ import annotations

import os

from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields

from ledger.views import ChainView
from portal.ratelimit import limited
from verify import Context, verify_credential
from verify.cache import DEFAULT_TTL, CachedLedgerView, VerifiedSignatures

CACHE_ENV = "CREDITBANK_VERIFY_CACHE_SECONDS"

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
        context = Context(chain_facts(), max_bytes=current_app.config["MAX_CREDENTIAL_BYTES"])
        return verify_credential(raw, context).to_json()


def chain_facts() -> CachedLedgerView:
    """The process's cached view of the chain for public verification: revocations, suspensions
    and key retirements are seen within `VERIFY_CACHE_SECONDS` (config, else the environment's
    `CREDITBANK_VERIFY_CACHE_SECONDS`, else 5) seconds."""
    if "verify_view" not in current_app.extensions:
        runtime = current_app.extensions["creditbank"]
        ttl = float(current_app.config.get("VERIFY_CACHE_SECONDS",
                                           os.environ.get(CACHE_ENV, DEFAULT_TTL)))
        current_app.extensions["verify_view"] = CachedLedgerView(ChainView(runtime.ledger), ttl=ttl)
    return current_app.extensions["verify_view"]


def record_context() -> Context:
    """The context a learner's own record is verified in: the process's chain facts (as public
    verification sees them) and the signatures the process has already checked."""
    if "verified_signatures" not in current_app.extensions:
        current_app.extensions["verified_signatures"] = VerifiedSignatures()
    return Context(chain_facts(), signatures=current_app.extensions["verified_signatures"])
