"""The issuer API under /api/v1 (bearer token per issuer, Idempotency-Key on every POST), and
the public did:web documents of issuers under /issuers/<id>/did.json."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, current_app, request
from flask.views import MethodView
from flask_smorest import Api
from marshmallow import Schema, ValidationError
from sqlalchemy import Connection, insert, select
from sqlalchemy.exc import IntegrityError

from bank.access import looked_up_credential, staff_reader
from bank.impact import kept_impact, preview_impact, publish_with_impact
from credentials.proofs import CRYPTOSUITES
from infra.errors import InvalidInput, NotFound, TooLarge
from issuers.catalogue import add_units, list_units, unit_versions
from issuers.issuance import outcomes_from_csv, outcomes_from_json
from issuers.records import batch_record, credential_record
from issuers.registry import issuer_did_document
from issuers.revocation import request_revocation
from issuers.schemas import (
    BatchSchema,
    CredentialRecordSchema,
    IssuedSchema,
    IssueSchema,
    RevocationSchema,
    RevokeSchema,
    RuleSetPublishedSchema,
    UnitListSchema,
    UnitsSchema,
    reason_code,
)
from issuers.tables import idempotency
from portal.api import Blueprint, read_json
from portal.api.auth import BEARER, INSTITUTION, Principal, requires
from portal.api.bank_schemas import RuleImpactSchema
from portal.api.verify import record_context
from portal.errors import error_body
from portal.runtime import runtime

DEFAULT_MAX_OUTCOMES = 10_000
MAX_IDEMPOTENCY_KEY = 200
IDEMPOTENCY_HEADER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "maxLength": MAX_IDEMPOTENCY_KEY},
    "description": "Repeat a POST safely: the same key and body give the first response again.",
}

blp = Blueprint(
    "issuers",
    __name__,
    url_prefix="/api/v1",
    description="The issuer API: catalogue, issuance, batches, revocation and rules (bearer token)",
)
dids = Blueprint(
    "issuer_dids", __name__, url_prefix="/issuers", description="Issuer DID documents (did:web)"
)


def register(api: Api, app: Flask) -> None:
    """Register the issuer API and the DID documents."""
    app.config.setdefault("ISSUE_MAX_OUTCOMES", DEFAULT_MAX_OUTCOMES)
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    api.register_blueprint(blp)
    api.register_blueprint(dids)


@blp.route("/units")
class Units(MethodView):
    """The issuer's catalogue of units."""

    @requires(INSTITUTION)
    @blp.doc(security=[BEARER])
    @blp.response(200, UnitListSchema)
    def get(self, principal: Principal) -> dict:
        """The latest version of each unit."""
        issuer = principal.record
        return {"units": list_units(runtime().engine, issuer["id"])}

    @requires(INSTITUTION)
    @blp.doc(
        security=[BEARER],
        parameters=[IDEMPOTENCY_HEADER],
        requestBody={"required": True, "content": {"application/json": {"schema": UnitsSchema}}},
    )
    @blp.response(201, UnitListSchema)
    def post(self, principal: Principal) -> Response:
        """Add units; a changed unit gets a new version, an unchanged one is returned as is."""
        issuer = principal.record
        body = _load(UnitsSchema(), _json_body())
        return idempotent(
            issuer,
            201,
            UnitListSchema(),
            lambda connection: {"units": add_units(connection, issuer, body["units"])},
        )


@blp.route("/units/<code>")
class Unit(MethodView):
    """One unit of the catalogue."""

    @requires(INSTITUTION)
    @blp.doc(security=[BEARER])
    @blp.response(200, UnitListSchema)
    def get(self, code: str, principal: Principal) -> dict:
        """Every version of the unit, oldest first."""
        issuer = principal.record
        return {"units": unit_versions(runtime().engine, issuer["id"], code)}


@blp.route("/credentials")
class Credentials(MethodView):
    """Issue credentials from outcomes."""

    @requires(INSTITUTION)
    @blp.doc(
        security=[BEARER],
        parameters=[IDEMPOTENCY_HEADER],
        requestBody={
            "required": True,
            "content": {
                "application/json": {"schema": IssueSchema},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "file": {"type": "string", "format": "binary"},
                            "cryptosuite": {"type": "string"},
                        },
                    }
                },
            },
        },
    )
    @blp.response(201, IssuedSchema)
    @blp.alt_response(413, description="Too many outcomes or bytes in one request")
    @blp.alt_response(422, description="Some outcomes are invalid: nothing was issued")
    def post(self, principal: Principal) -> Response:
        """Sign one or many outcomes (JSON, or a CSV file named 'file') and queue them for
        anchoring; any bad outcome issues nothing."""
        issuer = principal.record
        if "file" in request.files:
            outcomes = outcomes_from_csv(request.files["file"].read())
            cryptosuite = request.form.get("cryptosuite", CRYPTOSUITES[0])
            if cryptosuite not in CRYPTOSUITES:
                raise InvalidInput(
                    "unknown cryptosuite", {"cryptosuite": [f"must be one of {CRYPTOSUITES}"]}
                )
        else:
            body = _load(IssueSchema(), _json_body())
            outcomes = outcomes_from_json(body["outcomes"])
            cryptosuite = body["cryptosuite"]
        limit = current_app.config["ISSUE_MAX_OUTCOMES"]
        if len(outcomes.rows) > limit:
            raise TooLarge(
                f"{len(outcomes.rows)} outcomes in one request; the limit is {limit} "
                "(use `creditbank issue` for bulk files)",
                {outcomes.where: [f"at most {limit} outcomes per request"]},
            )
        issuance = runtime().issuance
        return idempotent(
            issuer,
            201,
            IssuedSchema(),
            lambda connection: issuance.issue(
                connection, issuer, outcomes, cryptosuite=cryptosuite, status_apart=True
            ).to_json(),
        )


@blp.route("/credentials/<credential_id>")
class Credential(MethodView):
    """One issued credential."""

    @requires(INSTITUTION)
    @blp.doc(security=[BEARER])
    @blp.response(200, CredentialRecordSchema)
    def get(self, credential_id: str, principal: Principal) -> dict:
        """The credential (anchored once its batch is), its status and its batch. The look-up
        shows the learner's DID: it is logged in their access log."""
        engine = runtime().engine
        found = credential_record(engine, principal.id, credential_id)
        looked_up_credential(engine, staff_reader(INSTITUTION, principal.id, principal.id),
                             found["id"], found["learner"])
        return found


REVOKE_DOC = {
    "security": [BEARER],
    "parameters": [IDEMPOTENCY_HEADER],
    "requestBody": {"required": True, "content": {"application/json": {"schema": RevokeSchema}}},
}


@blp.route("/credentials/<credential_id>/revocation")
class CredentialRevocation(MethodView):
    """Revoke one credential."""

    @requires(INSTITUTION)
    @blp.doc(**REVOKE_DOC)
    @blp.response(202, RevocationSchema)
    def post(self, credential_id: str, principal: Principal) -> Response:
        """Revoke the credential on chain with a reason (once its batch is anchored)."""
        return _revoke(principal.record, credential_id=credential_id)


@blp.route("/batches/<batch_id>")
class BatchStatus(MethodView):
    """One batch."""

    @requires(INSTITUTION)
    @blp.doc(security=[BEARER])
    @blp.response(200, BatchSchema)
    def get(self, batch_id: str, principal: Principal) -> dict:
        """The batch's status and, once anchored, its root, transaction and block."""
        issuer = principal.record
        opened = runtime()
        return batch_record(opened.engine, issuer["id"], batch_id, opened.deployment)


@blp.route("/batches/<batch_id>/revocation")
class BatchRevocation(MethodView):
    """Revoke a whole batch."""

    @requires(INSTITUTION)
    @blp.doc(**REVOKE_DOC)
    @blp.response(202, RevocationSchema)
    def post(self, batch_id: str, principal: Principal) -> Response:
        """Revoke every credential of the batch on chain with a reason."""
        return _revoke(principal.record, batch_id=batch_id)


@blp.route("/rules")
class Rules(MethodView):
    """Conversion-rule sets the issuer owns."""

    @requires(INSTITUTION)
    @blp.doc(
        security=[BEARER],
        parameters=[IDEMPOTENCY_HEADER],
        requestBody={"required": True, "content": {"application/json": {"schema": {}}}},
    )
    @blp.response(201, RuleSetPublishedSchema)
    def post(self, principal: Principal) -> Response:
        """Publish a version of a rule set: its hash is anchored on RuleRegistry; the operator
        approves it with `creditbank rules approve`."""
        issuer = principal.record
        document = _json_body()
        opened = runtime()
        return idempotent(
            issuer,
            201,
            RuleSetPublishedSchema(),
            lambda _connection: publish_with_impact(
                opened.engine, opened.ledger, record_context(), issuer, document,
                master_key=opened.settings.master_key(),
            ),
        )


@blp.route("/rules/impact")
class RuleImpactPreview(MethodView):
    """The impact of a rule-set version before it is published."""

    @requires(INSTITUTION)
    @blp.doc(
        security=[BEARER],
        requestBody={"required": True, "content": {"application/json": {"schema": {}}}},
    )
    @blp.response(200, RuleImpactSchema)
    def post(self, principal: Principal) -> dict:
        """Audit every learner aiming at the programme and every decided application under the
        version in force and under this one (checked as publishing checks it): who gains or
        loses credits, line by line; nothing is published or kept."""
        opened = runtime()
        return preview_impact(opened.engine, opened.view, record_context(), principal.record,
                              _json_body(), master_key=opened.settings.master_key())


@blp.route("/rules/<rule_set_id>/<int:version>/impact")
class RuleImpact(MethodView):
    """The impact kept with a published version."""

    @requires(INSTITUTION)
    @blp.doc(security=[BEARER])
    @blp.response(200, RuleImpactSchema)
    def get(self, rule_set_id: str, version: int, principal: Principal) -> dict:
        """The impact computed when the version was published."""
        return kept_impact(runtime().engine, principal.record["id"], rule_set_id, version)


@dids.route("/<issuer_id>/did.json")
class DidDocument(MethodView):
    """An issuer's did:web document, for independent verifiers."""

    @dids.response(200)
    def get(self, issuer_id: str) -> Response:
        """The DID document with every signing key the issuer registered."""
        try:
            document = issuer_did_document(runtime().engine, issuer_id)
        except NotFound as error:
            return error_body(error.status, error.message)
        return Response(json.dumps(document), mimetype="application/did+json")


def idempotent(
    issuer: dict, status: int, schema: Schema, action: Callable[[Connection], dict]
) -> Response:
    """Run a POST's action in one transaction with its idempotency record; a repeated key with
    the same request answers the stored response, with another request it is refused."""
    key = request.headers.get("Idempotency-Key")
    fingerprint = _request_fingerprint()
    if key is not None:
        if not key or len(key) > MAX_IDEMPOTENCY_KEY:
            raise InvalidInput(
                "Idempotency-Key must be 1–200 characters",
                {"Idempotency-Key": [f"must be 1–{MAX_IDEMPOTENCY_KEY} characters"]},
            )
        stored = _stored_response(issuer["id"], key, fingerprint)
        if stored is not None:
            return stored
    engine = runtime().engine
    try:
        with engine.begin() as connection:
            text = json.dumps(schema.dump(action(connection)), ensure_ascii=False)
            if key is not None:
                connection.execute(
                    insert(idempotency).values(
                        issuer_id=issuer["id"],
                        key=key,
                        request_sha256=fingerprint,
                        status=status,
                        response=text,
                        created_at=time.time(),
                    )
                )
    except IntegrityError:
        stored = _stored_response(issuer["id"], key, fingerprint) if key is not None else None
        if stored is None:
            raise
        return stored
    return Response(text, status=status, mimetype="application/json")


def _stored_response(issuer_id: str, key: str, fingerprint: str) -> Response | None:
    with runtime().engine.connect() as connection:
        row = connection.execute(
            select(idempotency).where(
                idempotency.c.issuer_id == issuer_id, idempotency.c.key == key
            )
        ).first()
    if row is None:
        return None
    if row.request_sha256 != fingerprint:
        raise InvalidInput(
            f"Idempotency-Key {key!r} was already used with a different request",
            {"Idempotency-Key": ["was already used with a different request; use a new key"]},
        )
    return Response(row.response, status=row.status, mimetype="application/json")


def _request_fingerprint() -> str:
    """SHA-256 of the method, path and content (uploaded files by content, not by boundary)."""
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    if request.files:
        for name in sorted(request.files):
            digest.update(f"file {name}\n".encode())
            digest.update(hashlib.sha256(request.files[name].read()).digest())
            request.files[name].seek(0)
        for name in sorted(request.form):
            digest.update(f"form {name}={request.form[name]}\n".encode())
    else:
        digest.update(request.get_data())
    return digest.hexdigest()


def _revoke(
    issuer: dict, *, credential_id: str | None = None, batch_id: str | None = None
) -> Response:
    body = _load(RevokeSchema(), _json_body())
    return idempotent(
        issuer,
        202,
        RevocationSchema(),
        lambda connection: request_revocation(
            connection,
            issuer["id"],
            reason=reason_code(body["reason"]),
            credential_id=credential_id,
            batch_id=batch_id,
            note=body["note"],
            actor=f"institution:{issuer['id']}",
        ),
    )


def _json_body() -> Any:
    try:
        data = read_json(request.get_data(cache=True)) if request.is_json else None
    except ValueError:
        data = None
    if data is None:
        raise InvalidInput("send a JSON body", {"json": ["the body is not JSON"]})
    return data


def _load(schema: Schema, data: Any) -> dict:
    try:
        return schema.load(data)
    except ValidationError as error:
        raise InvalidInput("the request is invalid", error.messages_dict) from None


