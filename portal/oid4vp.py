"""OpenID for Verifiable Presentations 1.0 on the verification page: an employer asks a wallet.

The employer's side: `POST /verify/wallet` (a form, CSRF-protected) creates a request and sends
the page to `/verify/wallet/<viewer secret>`, which shows the QR code and the `openid4vp://` link,
refreshes itself until the wallet answers, then shows the presentation's checks and each
credential's report. The wallet's side: `POST /oid4vp/response` (`direct_post`, form-encoded
`vp_token` and `state`; no cookies, so outside CSRF; rate-limited), answering errors as
`{"error", "error_description"}` with HTTP 400.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, Flask, abort, current_app, jsonify, redirect, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from werkzeug.wrappers import Response as BaseResponse

from bank import presentations
from bank.presentations import PresentationRequest
from bank.wallet import holder_bound
from infra.errors import Conflict, InvalidInput, NotFound
from portal.explain import REASONS, STATUSES, SYMBOLS
from portal.pages.report import CheckRow, page_result
from portal.pages.views import public_link, qr_svg
from portal.ratelimit import limited
from portal.runtime import runtime
from verify import Code, Status
from verify.presentation import PresentationReport, verify_presentation

bp = Blueprint("oid4vp", __name__)

RATE_LIMIT = (60, 60)
REFRESH_SECONDS = 3
MAX_FORM_BYTES = 1024 * 1024

CHECK_NAMES: dict[str, LazyString] = {
    "parse": _l("Readable presentation"),
    "format": _l("Presentation format"),
    "proof": _l("Holder's signature"),
    "challenge": _l("Made for this request"),
    "holder_binding": _l("Credential belongs to the holder"),
    "query": _l("The credential asked for"),
}
PASSED: dict[str, LazyString] = {
    "parse": _l("The wallet sent a presentation the bank can read."),
    "format": _l("The presentation has every part it must have."),
    "proof": _l("The person presenting signed it with their own key."),
    "challenge": _l("The presentation answers this very request, so it is not a replayed copy."),
    "holder_binding": _l("Each credential belongs to the person presenting it."),
    "query": _l("The credential is of the kind, issuer and unit asked for."),
}


def register(app: Flask) -> None:
    """Register the blueprint and its rate limit (unless the configuration sets one)."""
    app.config["RATE_LIMITS"] = {"oid4vp": RATE_LIMIT, **app.config["RATE_LIMITS"]}
    app.register_blueprint(bp)


@bp.post("/verify/wallet")
@limited("verify")
def ask() -> BaseResponse | tuple[str, int]:
    """Create a request for a learner's credential and send the page to its QR code."""
    issuer = request.form.get("issuer", "").strip() or None
    unit_code = request.form.get("unit_code", "").strip() or None
    try:
        viewer = presentations.create_request(
            runtime().engine, response_uri=public_link("oid4vp.response"), issuer=issuer,
            unit_code=unit_code, now=time.time())[1]
    except InvalidInput as error:
        errors = {name: _("Enter an issuer DID, such as did:web:…")
                  if name == "issuer" else _("This is too long.") for name in error.errors}
        return render_template("verify.html", errors=errors, issuer=issuer,
                               unit_code=unit_code), 400
    return redirect(public_link("oid4vp.asked", viewer=viewer), 303)


@bp.get("/verify/wallet/<viewer>")
def asked(viewer: str) -> str:
    """The request's QR code while the wallet has not answered; then what it presented."""
    try:
        asking = presentations.viewed(runtime().engine, viewer)
    except NotFound:
        abort(404, description=_("This request link is unknown."))
    now = time.time()
    stored = asking.report or {}
    link = asking.link()
    return render_template(
        "wallet_request.html",
        asking=asking,
        waiting=asking.live(now),
        expired=asking.responded_at is None and not asking.live(now),
        declined=stored.get("error"),
        outcome=_outcome(stored) if "report" in stored else None,
        link=link,
        qr=qr_svg(link, _("QR code of the request for a wallet")) if asking.live(now) else None,
        refresh=REFRESH_SECONDS,
        filters=_filters(asking),
    )


@bp.post("/oid4vp/response")
@limited("oid4vp")
def response() -> BaseResponse | tuple[BaseResponse, int]:
    """The response endpoint (direct_post): verify the wallet's presentation and keep the report."""
    if (request.content_length or 0) > MAX_FORM_BYTES:
        return _error("invalid_request", "the response is too large")
    state = request.form.get("state", "")
    if not state:
        return _error("invalid_request", "state is missing")
    engine, now = runtime().engine, time.time()
    try:
        if "error" in request.form:
            presentations.declined(engine, state=state, error=request.form["error"], now=now)
        elif "vp_token" not in request.form:
            return _error("invalid_request", "vp_token is missing")
        else:
            presentations.respond(engine, state=state, vp_token=request.form["vp_token"], now=now,
                                  check=_check)
    except NotFound:
        return _error("invalid_request", "state does not name a request of this verifier")
    except Conflict:
        return _error("invalid_request", "the request was already answered or has expired")
    except InvalidInput as error:
        return _error("invalid_request", error.message)
    return jsonify({})


def _check(presentation: Any, asking: PresentationRequest) -> PresentationReport:
    """Verify a presentation for a request: its nonce as challenge, its client id as domain."""
    limit = current_app.config["MAX_CREDENTIAL_BYTES"]
    context = runtime().public_context(2 * limit)
    with runtime().engine.connect() as connection:

        def delivered(credential_id: str, thumbprint: str) -> float | None:
            """When the bank delivered the credential to the wallet key (OID4VCI), if it did."""
            return holder_bound(connection, credential_id, thumbprint)

        return verify_presentation(presentation, context, challenge=asking.nonce,
                                   domain=asking.client_id, holder_binding=delivered)


def _outcome(stored: dict[str, Any]) -> dict[str, Any]:
    """The stored report made readable: verdict, presentation checks, each credential's result."""
    report = stored["report"]
    documents = stored["documents"]
    credentials = [page_result(body, documents[index] if index < len(documents) else {})
                   for index, body in enumerate(report["credentials"])]
    checks = tuple(_row(check) for check in report["checks"])
    return {
        "verdict": Status(report["verdict"]),
        "checks": checks,
        "failed": [check for check in checks if check.status == Status.INVALID]
        + [row for result in credentials for row in result.failed],
        "credentials": credentials,
    }


def _row(check: dict[str, Any]) -> CheckRow:
    """A presentation check as a displayed row."""
    status = Status(check["status"])
    name = check["name"]
    return CheckRow(
        name=name,
        label=CHECK_NAMES[name],
        status=status,
        status_label=STATUSES[status],
        symbol=SYMBOLS[status],
        explanation=PASSED[name] if check["code"] is None else REASONS[Code(check["code"])],
        code=check["code"],
        message=check["message"],
    )


def _filters(asking: PresentationRequest) -> dict[str, str]:
    """The issuer and unit code the request asked for, if any."""
    [query] = asking.dcql_query["credentials"]
    return {".".join(claim["path"]): claim["values"][0] for claim in query.get("claims", [])}


def _error(code: str, description: str) -> tuple[BaseResponse, int]:
    """An OAuth-style error answer to the wallet."""
    return jsonify({"error": code, "error_description": description}), 400

