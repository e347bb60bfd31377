"""A tiny OpenID provider of the tests' own: discovery, /authorize (consents at once), /token
(authorization code with PKCE) and /jwks with a fresh RSA key, served on 127.0.0.1 in a thread.

Tests choose who signs in (`person`) and may spoil the next ID token (`spoil`): another audience,
another nonce, an expired token or a changed payload after signing.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from typing import Any
from urllib.parse import urlencode

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.hashes import SHA256
from flask import Flask, abort, jsonify, redirect, request

from infra.settings import CitySignOn
from tests.support.served import ServedApp

CLIENT_ID = "creditbank-portal"
CLIENT_SECRET = "portal-secret"
KEY_ID = "test-key-1"


def b64(data: bytes) -> str:
    """base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class OidcProvider(ServedApp):
    """The provider app and its state: issued codes, the person who signs in, a spoiler."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.codes: dict[str, dict[str, Any]] = {}
        self.person: dict[str, Any] = {"sub": "city-0001"}
        self.spoil: str | None = None
        super().__init__(self._app())
        self.issuer = self.url

    def sign_on(self, redirect_uri: str, national_id_claim: str | None = None) -> CitySignOn:
        """The portal's city sign-on settings for this provider."""
        return CitySignOn(issuer=self.issuer, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                          redirect_uri=redirect_uri, national_id_claim=national_id_claim or "")

    def id_token(self, claims: dict[str, Any]) -> str:
        """An RS256 JWT of these claims under the provider's key (spoilt if asked)."""
        header = b64(json.dumps({"alg": "RS256", "typ": "JWT", "kid": KEY_ID}).encode())
        payload = b64(json.dumps(claims).encode())
        signature = self.key.sign(f"{header}.{payload}".encode(), PKCS1v15(), SHA256())
        if self.spoil == "tampered":
            payload = b64(json.dumps({**claims, "sub": "someone-else"}).encode())
        return f"{header}.{payload}.{b64(signature)}"

    def _claims(self, grant: dict[str, Any]) -> dict[str, Any]:
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": CLIENT_ID, "iat": now, "exp": now + 300,
                  "nonce": grant["nonce"], **self.person}
        if self.spoil == "audience":
            claims["aud"] = "another-app"
        elif self.spoil == "nonce":
            claims["nonce"] = "another-sign-in"
        elif self.spoil == "expired":
            claims.update(iat=now - 3600, exp=now - 1800)
        return claims

    def _app(self) -> Flask:
        app = Flask("oidc_provider")

        @app.get("/.well-known/openid-configuration")
        def discovery() -> Any:
            return jsonify({"issuer": self.issuer,
                            "authorization_endpoint": f"{self.issuer}/authorize",
                            "token_endpoint": f"{self.issuer}/token",
                            "jwks_uri": f"{self.issuer}/jwks",
                            "response_types_supported": ["code"],
                            "id_token_signing_alg_values_supported": ["RS256"],
                            "code_challenge_methods_supported": ["S256"]})

        @app.get("/authorize")
        def authorize() -> Any:
            args = request.args
            if args.get("client_id") != CLIENT_ID or args.get("code_challenge_method") != "S256":
                abort(400)
            code = secrets.token_urlsafe(16)
            self.codes[code] = {"nonce": args["nonce"], "challenge": args["code_challenge"],
                                "redirect_uri": args["redirect_uri"]}
            query = urlencode({"code": code, "state": args["state"]})
            return redirect(f"{args['redirect_uri']}?{query}")

        @app.post("/token")
        def token() -> Any:
            auth = request.authorization
            grant = self.codes.pop(request.form.get("code", ""), None)
            verifier = request.form.get("code_verifier", "")
            if (auth is None or (auth.username, auth.password) != (CLIENT_ID, CLIENT_SECRET)
                    or grant is None
                    or b64(hashlib.sha256(verifier.encode()).digest()) != grant["challenge"]
                    or request.form.get("redirect_uri") != grant["redirect_uri"]):
                return jsonify({"error": "invalid_grant"}), 400
            return jsonify({"access_token": secrets.token_urlsafe(16), "token_type": "Bearer",
                            "id_token": self.id_token(self._claims(grant))})

        @app.get("/jwks")
        def jwks() -> Any:
            numbers = self.key.public_key().public_numbers()
            return jsonify({"keys": [{
                "kty": "RSA", "kid": KEY_ID, "use": "sig", "alg": "RS256",
                "n": b64(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
                "e": b64(numbers.e.to_bytes(3, "big"))}]})

        return app
