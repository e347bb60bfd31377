"""The wallet side of OpenID for Verifiable Credential Issuance 1.0: issuer and authorization
server metadata, offers by reference, and the token, nonce and credential endpoints.

The portal is its own authorization server and offers the pre-authorized code flow only, with a
transaction code. Wallets answer in the specs' error format ({"error", "error_description"}),
never the API's. Offers, codes and proofs are the bank's (`bank.wallet`); this module only reads
requests and writes answers.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Flask, Response, jsonify, request, url_for
from werkzeug.exceptions import HTTPException

from bank.wallet import (
    BINDING_METHODS,
    CONFIGURATION_ID,
    CREDENTIAL_CONTEXTS,
    CREDENTIAL_TYPES,
    PRE_AUTHORIZED_GRANT,
    PROOF_ALGORITHMS,
    WalletRefusal,
    deliver,
    exchange,
    new_nonce,
    offer_document,
    offer_exists,
)
from portal.ratelimit import limited
from portal.runtime import runtime

WALLET_LIMIT = (60, 60)
OFFER_LIMIT = (20, 600)
METADATA_MAX_AGE = 300
OFFER_SCHEME = "openid-credential-offer://"
FORM = "application/x-www-form-urlencoded"
TOKEN_FIELDS = ("grant_type", "pre-authorized_code", "tx_code")

bp = Blueprint("oid4vci", __name__)


def register(app: Flask) -> None:
    """Register the wallet endpoints and their rate limits."""
    app.config["RATE_LIMITS"] = {"wallet": WALLET_LIMIT, "wallet_offers": OFFER_LIMIT,
                                 **app.config["RATE_LIMITS"]}
    app.register_blueprint(bp)


def offer_links(pre_authorized_code: str) -> tuple[str, str]:
    """The offer's `credential_offer_uri` and the `openid-credential-offer://` link to it."""
    offer_uri = _absolute("oid4vci.offer", code=pre_authorized_code)
    return offer_uri, f"{OFFER_SCHEME}?credential_offer_uri={quote(offer_uri, safe='')}"


@bp.get("/.well-known/openid-credential-issuer")
def credential_issuer_metadata() -> Response:
    """The credential issuer metadata: endpoints and our one credential configuration.

    Holder binding: the wallet proves a key (jwk, did:key or did:jwk) with a JWT proof; the
    credential it receives is the anchored one as issued (no bound copy), and the bank records
    which key received it, which our presentation verifier reports as holder binding.
    """
    issuer = runtime().settings.public_url
    return _public(jsonify({
        "credential_issuer": issuer,
        "credential_endpoint": _absolute("oid4vci.credential"),
        "nonce_endpoint": _absolute("oid4vci.nonce"),
        "display": [{"name": "学分银行", "locale": "zh"},
                    {"name": "Credit Bank", "locale": "en"}],
        "credential_configurations_supported": {CONFIGURATION_ID: {
            "format": "ldp_vc",
            "credential_definition": {"@context": list(CREDENTIAL_CONTEXTS),
                                      "type": list(CREDENTIAL_TYPES)},
            "cryptographic_binding_methods_supported": list(BINDING_METHODS),
            "credential_signing_alg_values_supported": ["eddsa-rdfc-2022", "eddsa-jcs-2022"],
            "proof_types_supported": {"jwt": {
                "proof_signing_alg_values_supported": list(PROOF_ALGORITHMS)}},
            "credential_metadata": {"display": [
                {"name": "学习成果证书", "locale": "zh",
                 "description": "经学分银行锚定的开放徽章 3.0 学习成果凭证"},
                {"name": "Learning achievement", "locale": "en",
                 "description": "An Open Badges 3.0 achievement credential anchored by the "
                                "credit bank"},
            ]},
        }},
    }))


@bp.get("/.well-known/oauth-authorization-server")
def authorization_server_metadata() -> Response:
    """The authorization server metadata (RFC 8414): the token endpoint, pre-authorized only."""
    return _public(jsonify({
        "issuer": runtime().settings.public_url,
        "token_endpoint": _absolute("oid4vci.token"),
        "grant_types_supported": [PRE_AUTHORIZED_GRANT],
        "token_endpoint_auth_methods_supported": ["none"],
        "pre-authorized_grant_anonymous_access_supported": True,
        "response_types_supported": [],
    }))


@bp.get("/oid4vci/offers/<code>")
@limited("wallet")
def offer(code: str) -> Response | tuple[Response, int]:
    """The credential offer behind a `credential_offer_uri` (the token endpoint refuses it once
    it is used, withdrawn or expired)."""
    if not offer_exists(runtime().engine, code):
        return _error("invalid_request", "no offer has this code", 404)
    return jsonify(offer_document(runtime().settings.public_url, code))


@bp.post("/oid4vci/token")
@limited("wallet")
def token() -> Response | tuple[Response, int]:
    """The token endpoint: a pre-authorized code and its transaction code for an access token."""
    if request.mimetype != FORM:
        raise WalletRefusal("invalid_request", f"the token request must be {FORM}")
    for name in TOKEN_FIELDS:
        if len(request.form.getlist(name)) > 1:
            raise WalletRefusal("invalid_request", f"{name} is given more than once")
    grant_type = request.form.get("grant_type")
    if not grant_type:
        raise WalletRefusal("invalid_request", "grant_type is required")
    if grant_type != PRE_AUTHORIZED_GRANT:
        raise WalletRefusal("unsupported_grant_type",
                            f"this authorization server supports only {PRE_AUTHORIZED_GRANT}")
    code = request.form.get("pre-authorized_code")
    if not code:
        raise WalletRefusal("invalid_request", "pre-authorized_code is required")
    issued = exchange(runtime().engine, code, request.form.get("tx_code"), now=time.time())
    return jsonify({"access_token": issued.token, "token_type": "Bearer",
                    "expires_in": issued.expires_in})


@bp.post("/oid4vci/nonce")
@limited("wallet")
def nonce() -> Response:
    """A fresh c_nonce for a key proof."""
    value, lifetime = new_nonce(runtime().engine, now=time.time())
    return jsonify({"c_nonce": value, "c_nonce_expires_in": lifetime})


@bp.post("/oid4vci/credential")
@limited("wallet")
def credential() -> Response | tuple[Response, int]:
    """The credential endpoint: the offered credential, as anchored, for a valid key proof."""
    scheme, _, access_token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not access_token.strip():
        response = jsonify({"error": "invalid_token",
                            "error_description": "a Bearer access token is required"})
        response.headers["WWW-Authenticate"] = 'Bearer realm="creditbank"'
        return response, 401
    body = request.get_json(silent=True) if request.is_json else None
    opened = runtime()
    delivered = deliver(opened.engine, access_token.strip(), body,
                        issuer_url=opened.settings.public_url, now=time.time())
    text = '{"credentials":[{"credential":' + delivered.credential_json + "}]}"
    return Response(text, status=200, mimetype="application/json")


@bp.errorhandler(WalletRefusal)
def refused(error: WalletRefusal) -> tuple[Response, int]:
    """A refusal in the specs' format; 401 carries the Bearer challenge (RFC 6750)."""
    response, status = _error(error.error, error.message, error.status)
    if status == 401:
        response.headers["WWW-Authenticate"] = (
            f'Bearer realm="creditbank", error="{error.error}", '
            f'error_description="{error.message}"')
    return response, status


@bp.errorhandler(HTTPException)
def http_refused(error: HTTPException) -> tuple[Response, int]:
    """Any other refusal of a wallet request (too many requests…) in the specs' format."""
    code = error.code or 400
    description = getattr(error, "data", {}).get("message") or error.description or ""
    return _error("invalid_request", str(description), code)


def _public(response: Response) -> Response:
    """A public answer, the same for everyone: shared caches may keep it a few minutes."""
    response.headers["Cache-Control"] = f"public, max-age={METADATA_MAX_AGE}"
    return response


def _error(error: str, description: str, status: int) -> tuple[Response, int]:
    """{"error", "error_description"} with its status."""
    return jsonify({"error": error, "error_description": description}), status


def _absolute(endpoint: str, **values: Any) -> str:
    """The absolute address of one of these endpoints at the portal's public address."""
    return runtime().settings.public_url + url_for(endpoint, **values)

