"""The public credit bank under /api/v1/public (no sign-in, rate-limited): member institutions
as the chain records them, the catalogue, programmes with their rules, and the transfer guide.

Read-only answers carry an ETag and `Cache-Control: public, max-age=60`; unknown query
parameters and JSON members are refused (400) by name."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from functools import wraps
from typing import Any

from flask import Flask, Response, current_app, request
from flask.views import MethodView
from flask_smorest import Api, abort
from marshmallow import EXCLUDE, Schema, fields, validate

from bank.guide import MAX_CREDENTIALS, MAX_UNITS, guide
from bank.public import institution, institutions, programme, programmes
from issuers.catalogue import MAX_SEARCH_PAGE, SEARCH_PAGE, search_units, unit_versions
from issuers.schemas import UnitSchema
from portal.api import Blueprint
from portal.ratelimit import limited
from portal.runtime import runtime

PUBLIC_LIMIT = (120, 60)
GUIDE_LIMIT = (30, 60)
MAX_AGE = 60
CACHED = ("public_api.Institutions", "public_api.Institution", "public_api.Catalogue",
          "public_api.CatalogueUnit", "public_api.Programmes", "public_api.Programme")

blp = Blueprint("public_api", __name__, url_prefix="/api/v1/public",
                description="The public credit bank: institutions, catalogue, programmes and the "
                            "transfer guide (no sign-in)")


def register(api: Api, app: Flask) -> None:
    """Register the public API and its rate limits ("public", and "public_guide" for the guide)."""
    app.config["RATE_LIMITS"] = {"public": PUBLIC_LIMIT, "public_guide": GUIDE_LIMIT,
                                 **app.config["RATE_LIMITS"]}
    api.register_blueprint(blp)


@blp.after_request
def _cache_headers(response: Response) -> Response:
    """An ETag and a short public cache on the read-only answers."""
    if request.method == "GET" and response.status_code == 200 and request.endpoint in CACHED:
        response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
        response.add_etag()
        response.make_conditional(request)
    return response


def only_known(names: Iterable[str], *, body: bool = False) -> Callable:
    """Refuse (400) query parameters, or members of the JSON body, the endpoint does not take."""
    known = set(names)

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if body:
                document = request.get_json(silent=True)
                if not isinstance(document, dict):
                    abort(400, message="send a JSON object", errors={"json": ["must be an object"]})
                given = set(document or ())
            else:
                given = set(request.args)
            unknown = sorted(given - known)
            if unknown:
                abort(400, message="unknown " + ("members: " if body else "parameters: ")
                      + ", ".join(unknown), errors={name: ["unknown field"] for name in unknown})
            return view(*args, **kwargs)

        return wrapper

    return decorate


def _today() -> date:
    return datetime.now(UTC).date()


# -- schemas ------------------------------------------------------------------------------------


class KeySchema(Schema):
    """A signing key and the blocks it is valid for (retired: null while active)."""

    public_key = fields.String(required=True)
    registered_block = fields.Integer(required=True)
    retired_block = fields.Integer(allow_none=True)


class InstitutionSchema(Schema):
    """A member institution as the chain records it."""

    id = fields.String(required=True)
    name = fields.String(required=True)
    name_zh = fields.String(allow_none=True)
    url = fields.String(allow_none=True)
    did = fields.String(required=True)
    did_document = fields.String(required=True)
    kinds = fields.List(fields.String(), required=True)
    levels = fields.List(fields.Integer(), required=True)
    valid_from = fields.String(allow_none=True)
    valid_until = fields.String(allow_none=True)
    status = fields.String(required=True, metadata={
        "enum": ["accredited", "suspended", "expired", "not-yet-valid"]})
    keys = fields.List(fields.Nested(KeySchema), required=True)


class InstitutionListSchema(Schema):
    """Every member institution."""

    institutions = fields.List(fields.Nested(InstitutionSchema), required=True)


class PublicUnitSchema(UnitSchema):
    """A unit of the catalogue with its institution and reference ("ISSUER:CODE")."""

    issuer = fields.String(required=True)
    issuer_name = fields.String(required=True)
    issuer_name_zh = fields.String(allow_none=True)
    ref = fields.String(required=True)


class CatalogueArgsSchema(Schema):
    """What to search the catalogue for."""

    class Meta:
        unknown = EXCLUDE

    text = fields.String(load_default=None, metadata={"description": "In the code or title."})
    kind = fields.String(load_default=None)
    level = fields.Integer(load_default=None, strict=False)
    field = fields.String(load_default=None, metadata={"description": "The unit's category."})
    min_credits = fields.Float(load_default=None, allow_nan=False)
    max_credits = fields.Float(load_default=None, allow_nan=False)
    issuer = fields.String(load_default=None)
    limit = fields.Integer(load_default=SEARCH_PAGE,
                           validate=validate.Range(min=1, max=MAX_SEARCH_PAGE))
    after = fields.String(load_default=None,
                          metadata={"description": "The `next` cursor of the previous page."})


class CataloguePageSchema(Schema):
    """A page of the catalogue and the cursor of the next one (null on the last page)."""

    units = fields.List(fields.Nested(PublicUnitSchema), required=True)
    next = fields.String(allow_none=True, required=True)


class UnitVersionsSchema(Schema):
    """Every version of one unit, oldest first."""

    issuer = fields.String(required=True)
    code = fields.String(required=True)
    versions = fields.List(fields.Nested(UnitSchema), required=True)


class ProgrammeSchema(Schema):
    """A programme and the approved rule-set version in force, with the rule set's history."""

    rule_set_id = fields.String(required=True)
    code = fields.String(required=True)
    title = fields.String(required=True)
    credit_scheme = fields.String(required=True)
    total_credits = fields.Raw(required=True)
    institution = fields.Dict(required=True)
    version = fields.Dict(required=True, metadata={
        "description": "The version in force: number, content hash, anchoring and approval "
                       "blocks, validity."})
    history = fields.List(fields.Dict(), required=True)


class ProgrammeListSchema(Schema):
    """Every programme with an approved version in force today."""

    programmes = fields.List(fields.Nested(ProgrammeSchema), required=True)


class ProgrammeDetailSchema(ProgrammeSchema):
    """A programme with its requirements and the rules of the version in force, as data."""

    requirements = fields.Dict(required=True)
    rules = fields.List(fields.Dict(), required=True)
    owner_did = fields.String(required=True)


class GuideArgsSchema(Schema):
    """The units picked, as ISSUER:CODE."""

    class Meta:
        unknown = EXCLUDE

    unit = fields.List(fields.String(), load_default=list,
                       metadata={"description": f"ISSUER:CODE, repeated (at most {MAX_UNITS})."})


class GuideRequestSchema(Schema):
    """Picked units and credential files (JSON documents): verified, used, stored nowhere."""

    class Meta:
        unknown = EXCLUDE

    units = fields.List(fields.String(), load_default=list)
    credentials = fields.List(fields.Dict(), load_default=list)


class GuideSchema(Schema):
    """Every programme in force, ranked, its lines marked match, maybe or miss."""

    as_of = fields.String(required=True)
    units = fields.List(fields.Dict(), required=True)
    credentials = fields.List(fields.Dict(), required=True)
    not_counted = fields.List(fields.Dict(), required=True)
    programmes = fields.List(fields.Dict(), required=True)


# -- views --------------------------------------------------------------------------------------


@blp.route("/institutions")
class Institutions(MethodView):
    """Member institutions."""

    @limited("public")
    @only_known(())
    @blp.response(200, InstitutionListSchema)
    @blp.alt_response(429, description="Too many requests from this client")
    def get(self) -> dict:
        """Every institution the chain accredits: scope, window, status, keys, DID document."""
        opened = runtime()
        return {"institutions": institutions(opened.engine, opened.view)}


@blp.route("/institutions/<issuer_id>")
class Institution(MethodView):
    """One member institution."""

    @limited("public")
    @only_known(())
    @blp.response(200, InstitutionSchema)
    @blp.alt_response(404, description="No such institution")
    @blp.alt_response(429, description="Too many requests from this client")
    def get(self, issuer_id: str) -> dict:
        """An institution as the chain records it."""
        opened = runtime()
        return institution(opened.engine, opened.view, issuer_id)


@blp.route("/catalogue")
class Catalogue(MethodView):
    """The catalogue of every institution."""

    @limited("public")
    @only_known(CatalogueArgsSchema().fields)
    @blp.arguments(CatalogueArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, CataloguePageSchema)
    @blp.alt_response(429, description="Too many requests from this client")
    def get(self, issuer: str | None, limit: int, **filters: Any) -> dict:
        """Search the latest version of every unit, by issuer then code, a page at a time."""
        with runtime().engine.connect() as connection:
            found = search_units(connection, issuer_id=issuer, limit=limit + 1, **filters)
        return {"units": found[:limit], "next": found[limit - 1]["ref"]
                if len(found) > limit else None}


@blp.route("/catalogue/<issuer_id>/<code>")
class CatalogueUnit(MethodView):
    """One unit of the catalogue."""

    @limited("public")
    @only_known(())
    @blp.response(200, UnitVersionsSchema)
    @blp.alt_response(404, description="No such unit")
    @blp.alt_response(429, description="Too many requests from this client")
    def get(self, issuer_id: str, code: str) -> dict:
        """Every version of the unit, oldest first."""
        versions = unit_versions(runtime().engine, issuer_id, code)
        return {"issuer": issuer_id, "code": code, "versions": versions}


@blp.route("/programmes")
class Programmes(MethodView):
    """Programmes and their rules."""

    @limited("public")
    @only_known(())
    @blp.response(200, ProgrammeListSchema)
    @blp.alt_response(429, description="Too many requests from this client")
    def get(self) -> dict:
        """Every programme with an approved rule-set version in force today."""
        opened = runtime()
        return {"programmes": programmes(opened.engine, opened.view, as_of=_today())}


@blp.route("/programmes/<path:rule_set_id>")
class Programme(MethodView):
    """One programme."""

    @limited("public")
    @only_known(())
    @blp.response(200, ProgrammeDetailSchema)
    @blp.alt_response(404, description="No approved version in force")
    @blp.alt_response(429, description="Too many requests from this client")
    def get(self, rule_set_id: str) -> dict:
        """Requirements and rules of the version in force, its hash, blocks and history."""
        opened = runtime()
        found = programme(opened.engine, opened.view, rule_set_id, as_of=_today())
        return {name: value for name, value in found.items() if name != "rule_set"}


@blp.route("/guide")
class Guide(MethodView):
    """The transfer guide."""

    @limited("public_guide")
    @only_known(GuideArgsSchema().fields)
    @blp.arguments(GuideArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, GuideSchema)
    @blp.alt_response(429, description="Too many requests from this client")
    def get(self, unit: list[str]) -> dict:
        """Every programme ranked for the picked units: match, maybe and miss, line by line."""
        return _guide(unit, [])

    @limited("public_guide")
    @only_known(GuideRequestSchema().fields, body=True)
    @blp.arguments(GuideRequestSchema, as_kwargs=True)
    @blp.response(200, GuideSchema)
    @blp.alt_response(413, description="A credential is larger than the limit")
    @blp.alt_response(429, description="Too many requests from this client")
    def post(self, units: list[str], credentials: list[dict]) -> dict:
        """The same for picked units and credential files (verified, used, stored nowhere)."""
        return _guide(units, credentials)


def _guide(units: list[str], credentials: list[dict]) -> dict:
    if len(units) > MAX_UNITS:
        abort(400, message=f"at most {MAX_UNITS} units",
              errors={"units": [f"at most {MAX_UNITS} units"]})
    if len(credentials) > MAX_CREDENTIALS:
        abort(400, message=f"at most {MAX_CREDENTIALS} credentials",
              errors={"credentials": [f"at most {MAX_CREDENTIALS} credentials"]})
    opened = runtime()
    context = opened.public_context(current_app.config["MAX_CREDENTIAL_BYTES"])
    return guide(opened.engine, opened.view, units=units, credentials=credentials,
                 as_of=_today(), context=context)
