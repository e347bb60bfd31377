"""The issuers' Bitstring Status List credentials, public at a stable URL for any verifier."""

from __future__ import annotations

import re

from flask import Flask, Response, request
from flask.views import MethodView
from flask_smorest import Api

from infra.errors import NotFound
from issuers.status import MAX_AGE, STATUS_PATH
from portal.api import Blueprint
from portal.errors import error_body
from portal.ratelimit import limited
from portal.runtime import runtime

RATE_LIMIT = (600, 60)
LIST_NUMBER = re.compile(r"0|[1-9][0-9]{0,8}", re.ASCII)

blp = Blueprint(
    "status_lists",
    __name__,
    url_prefix=STATUS_PATH,
    description="Status lists (W3C Bitstring Status List v1.0), signed by each issuer (public)",
)


def register(api: Api, app: Flask) -> None:
    """Register the status lists, with their own rate limit unless the configuration sets one."""
    app.config["RATE_LIMITS"] = {"status": RATE_LIMIT, **app.config["RATE_LIMITS"]}
    api.register_blueprint(blp)


@blp.route("/<issuer_id>/<list_number>/<purpose>")
class StatusList(MethodView):
    """One of an issuer's status list credentials (purpose `revocation` or `suspension`)."""

    @limited("status")
    @blp.response(200)
    @blp.alt_response(304, description="Unchanged since the ETag given in If-None-Match")
    @blp.alt_response(404, description="No such list")
    @blp.alt_response(429, description="Too many requests from this client")
    def get(self, issuer_id: str, list_number: str, purpose: str) -> Response:
        """The signed BitstringStatusListCredential, as the chain says now (strong ETag, cached
        for a few seconds)."""
        found = None
        if LIST_NUMBER.fullmatch(list_number):
            found = runtime().status_lists.published(issuer_id, int(list_number), purpose)
        if found is None:
            error = NotFound(f"no status list {issuer_id}/{list_number}/{purpose}")
            return error_body(error.status, error.message)
        response = Response(found.document, mimetype="application/json")
        response.set_etag(found.etag.strip('"'))
        response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.make_conditional(request)
        return response
