"""City single sign-on through OpenID Connect: the authorization code flow with PKCE, state and
nonce, and ID tokens verified (RS256) against the keys the provider publishes.

A city identity is linked to one learner account: by a learner who signs in with it while
signed in to the bank, or, when the provider vouches for a national id claim, to the account of
that national id.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicNumbers
from cryptography.hazmat.primitives.hashes import SHA256
from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from infra.sealing import oidc_subject_hash, ring_of
from infra.settings import CitySignOn
from portal.errors import SignOnFailed
from portal.tables import oidc_links

HTTP_TIMEOUT = 10
LEEWAY_SECONDS = 60
SCOPE = "openid"


@dataclass(frozen=True)
class Provider:
    """The city's OpenID provider as the portal is configured for it."""

    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str
    national_id_claim: str | None = None

    @classmethod
    def of(cls, sign_on: CitySignOn) -> Provider | None:
        """The provider the settings configure; None when city sign-on is not configured."""
        if not sign_on.configured:
            return None
        return cls(
            issuer=sign_on.issuer,
            client_id=sign_on.client_id,
            client_secret=sign_on.client_secret,
            redirect_uri=sign_on.redirect_uri,
            national_id_claim=sign_on.national_id_claim or None,
        )


@dataclass(frozen=True)
class Pending:
    """What the portal keeps between sending the person to the provider and their return."""

    state: str
    nonce: str
    verifier: str


def discover(provider: Provider) -> dict:
    """The provider's metadata (`/.well-known/openid-configuration`), checked to be its own."""
    metadata = _get_json(f"{provider.issuer}/.well-known/openid-configuration")
    if str(metadata.get("issuer", "")).rstrip("/") != provider.issuer:
        raise SignOnFailed("the provider's metadata names another issuer")
    for member in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not isinstance(metadata.get(member), str):
            raise SignOnFailed(f"the provider's metadata has no {member}")
    return metadata


def authorization_url(provider: Provider, metadata: dict) -> tuple[str, Pending]:
    """Where to send the person to sign in, and the state, nonce and PKCE verifier to keep."""
    pending = Pending(secrets.token_urlsafe(32), secrets.token_urlsafe(32),
                      secrets.token_urlsafe(48))
    challenge = _b64(hashlib.sha256(pending.verifier.encode("ascii")).digest())
    query = urlencode({
        "response_type": "code",
        "client_id": provider.client_id,
        "redirect_uri": provider.redirect_uri,
        "scope": SCOPE,
        "state": pending.state,
        "nonce": pending.nonce,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    })
    return f"{metadata['authorization_endpoint']}?{query}", pending


def sign_on(provider: Provider, metadata: dict, pending: Pending, *, state: str,
            code: str) -> dict:
    """Exchange the code the person came back with for a verified ID token; its claims."""
    if not secrets.compare_digest(state.encode(), pending.state.encode()):
        raise SignOnFailed("the sign-in came back with another state")
    try:
        response = requests.post(metadata["token_endpoint"], timeout=HTTP_TIMEOUT, data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": provider.redirect_uri,
            "code_verifier": pending.verifier,
        }, auth=(provider.client_id, provider.client_secret))
        tokens = response.json() if response.ok else {}
    except (requests.RequestException, ValueError):
        raise SignOnFailed("the provider could not be reached to finish the sign-in") from None
    id_token = tokens.get("id_token") if isinstance(tokens, dict) else None
    if not isinstance(id_token, str):
        raise SignOnFailed("the provider gave no ID token")
    keys = _get_json(metadata["jwks_uri"]).get("keys")
    return verify_id_token(id_token, keys if isinstance(keys, list) else [],
                           issuer=provider.issuer, audience=provider.client_id,
                           nonce=pending.nonce, now=time.time())


def verify_id_token(token: str, keys: list, *, issuer: str, audience: str, nonce: str,
                    now: float) -> dict:
    """The claims of an RS256 ID token signed by one of `keys`, for this audience and nonce."""
    try:
        header_part, claims_part, signature_part = token.split(".")
        header = json.loads(_unb64(header_part))
        claims = json.loads(_unb64(claims_part))
        signature = _unb64(signature_part)
    except ValueError:
        raise SignOnFailed("the ID token is not a readable JWT") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise SignOnFailed("the ID token is not a readable JWT")
    if header.get("alg") != "RS256":
        raise SignOnFailed("the ID token must be signed with RS256")
    key = _public_key(keys, header.get("kid"))
    try:
        key.verify(signature, f"{header_part}.{claims_part}".encode("ascii"), PKCS1v15(),
                   SHA256())
    except InvalidSignature:
        raise SignOnFailed("the ID token's signature does not match") from None
    _check_claims(claims, issuer=issuer, audience=audience, nonce=nonce, now=now)
    return claims


def linked_learner(engine: Engine, issuer: str, subject: str) -> str | None:
    """The learner id a city identity is linked to, or None."""
    with engine.connect() as connection:
        return connection.execute(select(oidc_links.c.learner_id).where(
            oidc_links.c.issuer == issuer,
            oidc_links.c.subject_hash == subject_hash(engine, issuer, subject),
        )).scalar_one_or_none()


def link(engine: Engine, issuer: str, subject: str, learner_id: str) -> None:
    """Link a city identity to a learner account (an identity links to one account only)."""
    try:
        with engine.begin() as connection:
            connection.execute(insert(oidc_links).values(
                issuer=issuer, subject_hash=subject_hash(engine, issuer, subject),
                learner_id=learner_id, linked_at=time.time()))
    except IntegrityError:
        raise SignOnFailed("this city identity is already linked to a learner account") from None


def subject_hash(engine: Engine, issuer: str, subject: str) -> str:
    """How a city identity's subject is kept: a keyed hash, never the subject itself."""
    return oidc_subject_hash(ring_of(engine), issuer, subject)


def _check_claims(claims: dict, *, issuer: str, audience: str, nonce: str, now: float) -> None:
    """Issuer, audience (and authorised party), expiry, issue time, nonce and subject."""
    if str(claims.get("iss", "")).rstrip("/") != issuer:
        raise SignOnFailed("the ID token was issued by another provider")
    audiences = claims.get("aud")
    audiences = [audiences] if isinstance(audiences, str) else audiences
    if not isinstance(audiences, list) or audience not in audiences:
        raise SignOnFailed("the ID token is meant for another application")
    if len(audiences) > 1 and claims.get("azp") != audience:
        raise SignOnFailed("the ID token is meant for another application")
    expires, issued = claims.get("exp"), claims.get("iat")
    if not isinstance(expires, int | float) or expires + LEEWAY_SECONDS < now:
        raise SignOnFailed("the ID token has expired")
    if not isinstance(issued, int | float) or issued - LEEWAY_SECONDS > now:
        raise SignOnFailed("the ID token was issued in the future")
    sent = claims.get("nonce")
    if not isinstance(sent, str) or not secrets.compare_digest(sent.encode(), nonce.encode()):
        raise SignOnFailed("the ID token answers another sign-in (wrong nonce)")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise SignOnFailed("the ID token names no subject")


def _public_key(keys: list, kid: object) -> Any:
    """The RSA public key of the JWKS with this key id (or the only one, without an id)."""
    candidates = [key for key in keys if isinstance(key, dict) and key.get("kty") == "RSA"
                  and key.get("use", "sig") == "sig" and key.get("alg", "RS256") == "RS256"]
    if kid is not None:
        candidates = [key for key in candidates if key.get("kid") == kid]
    if len(candidates) != 1:
        raise SignOnFailed("the provider publishes no key for this ID token")
    try:
        numbers = RSAPublicNumbers(int.from_bytes(_unb64(candidates[0]["e"]), "big"),
                                   int.from_bytes(_unb64(candidates[0]["n"]), "big"))
        return numbers.public_key()
    except (KeyError, TypeError, ValueError):
        raise SignOnFailed("the provider's key is malformed") from None


def _get_json(url: str) -> dict:
    """A JSON object fetched from the provider."""
    try:
        response = requests.get(url, timeout=HTTP_TIMEOUT)
        response.raise_for_status()
        value = response.json()
    except (requests.RequestException, ValueError):
        raise SignOnFailed("the city sign-in service could not be reached") from None
    if not isinstance(value, dict):
        raise SignOnFailed("the city sign-in service answered with something unexpected")
    return value


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not isinstance(text, str):
        raise ValueError("not base64url text")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
