"""Credentials sent to a learner's wallet (OpenID for Verifiable Credential Issuance 1.0).

A learner offers one of their own anchored credentials: a random pre-authorized code (in the
offer's link and QR code) and a 6-digit transaction code (shown once on their page). A wallet
exchanges both for a short-lived access token at the token endpoint, fetches a `c_nonce`, and
sends a credential request with a JWT key proof over that nonce; it receives the anchored
credential exactly as stored. The bank issues no bound copy (that would be a new credential,
signed, batched and anchored): it records the RFC 7638 thumbprint of the key the wallet proved,
and `holder_bound` answers the presentation verifier's question from that record.

Codes, transaction codes, tokens and nonces are kept as SHA-256 hashes only; the transaction code
is hashed together with the pre-authorized code, so six digits cannot be guessed from the table.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import uuid
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from bank.errors import BankError
from bank.records import ISSUED, held_credentials
from bank.tables import wallet_deliveries, wallet_nonces, wallet_offers
from credentials import contexts
from credentials.base58 import b58decode
from credentials.errors import CredentialError
from credentials.keys import ed25519_jwk, jwk_thumbprint
from infra.audit import record
from infra.errors import NotFound
from infra.times import iso_utc
from issuers.tables import credentials

CONFIGURATION_ID = "AchievementCredential"
CREDENTIAL_TYPES = ("VerifiableCredential", "AchievementCredential")
CREDENTIAL_CONTEXTS = contexts.CREDENTIAL_CONTEXTS
PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
PROOF_TYPE = "openid4vci-proof+jwt"
PROOF_ALGORITHMS = ("EdDSA", "Ed25519", "ES256")
BINDING_METHODS = ("jwk", "did:key", "did:jwk")
OFFER_LIFETIME = 600
TOKEN_LIFETIME = 300
NONCE_LIFETIME = 300
TX_CODE_LENGTH = 6
MAX_TX_CODE_FAILURES = 3
PROOF_MAX_AGE = 300
CLOCK_SKEW = 60
MAX_PROOF_BYTES = 8192
_ED25519_KEY = b"\xed\x01"
_P256_KEY = b"\x80\x24"


class WalletRefusal(BankError):
    """A refusal in OAuth 2.0 / OID4VCI terms: `error` is the spec's code, `message` its
    `error_description`."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.status = status


@dataclass(frozen=True)
class NewOffer:
    """An offer just made: the codes its learner hands to the wallet (never stored as such)."""

    offer_id: str
    credential_id: str
    pre_authorized_code: str
    tx_code: str
    expires_at: float


@dataclass(frozen=True)
class AccessToken:
    """A bearer token for one credential request, and its lifetime in seconds."""

    token: str
    expires_in: int


@dataclass(frozen=True)
class Delivery:
    """A credential sent to a wallet: the anchored JSON text as stored, and the key it went to."""

    credential_id: str
    credential_json: str
    thumbprint: str


def create_offer(engine: Engine, learner: dict, credential_id: str, *, now: float,
                 lifetime: float = OFFER_LIFETIME) -> NewOffer:
    """Offer one of the learner's own anchored credentials to a wallet (audited)."""
    own = any(item.source == ISSUED and item.id == credential_id
              for item in held_credentials(engine, learner))
    if not own:
        raise NotFound("no anchored credential of yours has this id")
    code = secrets.token_urlsafe(32)
    tx_code = f"{secrets.randbelow(10 ** TX_CODE_LENGTH):0{TX_CODE_LENGTH}d}"
    offer = NewOffer(str(uuid.uuid4()), credential_id, code, tx_code, now + lifetime)
    with engine.begin() as connection:
        connection.execute(insert(wallet_offers).values(
            id=offer.offer_id, learner_id=learner["id"], credential_id=credential_id,
            code_sha256=_sha256(code), tx_code_sha256=_tx_code_hash(code, tx_code),
            status="open", failures=0, created_at=now, expires_at=offer.expires_at))
        record(connection, actor=f"learner:{learner['id']}", action="wallet.offer",
               subject=credential_id,
               details={"offer": offer.offer_id, "expires_at": iso_utc(offer.expires_at)})
    return offer


def offer_document(issuer_url: str, pre_authorized_code: str) -> dict:
    """The credential offer object a wallet resolves (pre-authorized code with a tx_code)."""
    return {
        "credential_issuer": issuer_url,
        "credential_configuration_ids": [CONFIGURATION_ID],
        "grants": {PRE_AUTHORIZED_GRANT: {
            "pre-authorized_code": pre_authorized_code,
            "tx_code": {"input_mode": "numeric", "length": TX_CODE_LENGTH,
                        "description": "The 6-digit code shown on your credit bank page"},
        }},
    }


def offer_exists(engine: Engine, pre_authorized_code: str) -> bool:
    """Whether an offer was made with this code (used, expired or not: the token endpoint is
    where a wallet learns, in the spec's terms, that it can no longer be redeemed)."""
    query = select(wallet_offers.c.id).where(
        wallet_offers.c.code_sha256 == _sha256(pre_authorized_code))
    with engine.connect() as connection:
        return connection.execute(query).first() is not None


def exchange(engine: Engine, pre_authorized_code: str, tx_code: str | None, *,
             now: float) -> AccessToken:
    """The token endpoint's pre-authorized code grant: one access token per offer, once.

    Each try claims one of the offer's attempts before its code is compared, so guesses sent in
    parallel get no more tries than guesses sent one after another."""
    table = wallet_offers
    with engine.begin() as connection:
        row = connection.execute(select(table).where(
            table.c.code_sha256 == _sha256(pre_authorized_code))).one_or_none()
        if row is None or row.status != "open":
            raise WalletRefusal("invalid_grant", "the pre-authorized code is unknown or was "
                                "already used")
        if row.expires_at < now:
            raise WalletRefusal("invalid_grant", "the pre-authorized code has expired")
        if not tx_code:
            raise WalletRefusal("invalid_request", "tx_code is required for this offer")
        attempt = connection.execute(update(table).where(
            table.c.id == row.id, table.c.status == "open",
            table.c.failures < MAX_TX_CODE_FAILURES).values(failures=table.c.failures + 1))
        if attempt.rowcount != 1:
            raise WalletRefusal("invalid_grant", "the pre-authorized code was already used")
        token: str | None = None
        if hmac.compare_digest(row.tx_code_sha256, _tx_code_hash(pre_authorized_code, tx_code)):
            token = secrets.token_urlsafe(32)
            connection.execute(update(table).where(table.c.id == row.id).values(
                status="redeemed", failures=table.c.failures - 1, token_sha256=_sha256(token),
                token_expires_at=now + TOKEN_LIFETIME))
        else:
            locked = connection.execute(update(table).where(
                table.c.id == row.id, table.c.failures >= MAX_TX_CODE_FAILURES).values(
                status="locked")).rowcount == 1
    if token is None:
        raise WalletRefusal("invalid_grant", "the transaction code is wrong; the offer is "
                            "withdrawn" if locked else "the transaction code is wrong")
    return AccessToken(token, TOKEN_LIFETIME)


def new_nonce(engine: Engine, *, now: float) -> tuple[str, int]:
    """A fresh c_nonce for one key proof, and its lifetime in seconds."""
    nonce = secrets.token_urlsafe(32)
    with engine.begin() as connection:
        connection.execute(delete(wallet_nonces).where(wallet_nonces.c.expires_at < now))
        connection.execute(insert(wallet_nonces).values(
            nonce_sha256=_sha256(nonce), expires_at=now + NONCE_LIFETIME))
    return nonce, NONCE_LIFETIME


def deliver(engine: Engine, access_token: str, request: object, *, issuer_url: str,
            now: float) -> Delivery:
    """Answer a credential request: check the token, the request and its key proof, spend the
    proof's nonce, and send the offered credential as anchored, recording the wallet's key."""
    table = wallet_offers
    with engine.begin() as connection:
        offer = connection.execute(select(table).where(
            table.c.token_sha256 == _sha256(access_token), table.c.status == "redeemed",
            table.c.token_expires_at >= now)).one_or_none()
        if offer is None:
            raise WalletRefusal("invalid_token", "the access token is unknown, expired or "
                                "already used", status=401)
        jwt = _proof_of(request)
        thumbprint, nonce = verify_key_proof(jwt, audience=issuer_url, now=now)
        spent = connection.execute(delete(wallet_nonces).where(
            wallet_nonces.c.nonce_sha256 == _sha256(nonce), wallet_nonces.c.expires_at >= now))
        if spent.rowcount != 1:
            raise WalletRefusal("invalid_nonce", "the key proof's nonce is unknown, expired or "
                                "already used: fetch a new one from the nonce endpoint")
        done = connection.execute(update(table).where(
            table.c.id == offer.id, table.c.status == "redeemed").values(status="delivered"))
        if done.rowcount != 1:
            raise WalletRefusal("invalid_token", "the access token was already used", status=401)
        anchored = connection.execute(select(credentials.c.anchored).where(
            credentials.c.id == offer.credential_id)).scalar_one()
        connection.execute(insert(wallet_deliveries).values(
            offer_id=offer.id, credential_id=offer.credential_id, thumbprint=thumbprint,
            delivered_at=now))
        record(connection, actor=f"wallet:{thumbprint}", action="wallet.deliver",
               subject=offer.credential_id,
               details={"offer": offer.id, "learner": offer.learner_id})
    return Delivery(offer.credential_id, anchored, thumbprint)


def holder_bound(connection: Connection, credential_id: str, thumbprint: str) -> float | None:
    """When the credential was first delivered to a wallet that proved this key (None if never)."""
    query = select(func.min(wallet_deliveries.c.delivered_at)).where(
        wallet_deliveries.c.credential_id == credential_id,
        wallet_deliveries.c.thumbprint == thumbprint)
    return connection.execute(query).scalar_one_or_none()


def verify_key_proof(jwt: str, *, audience: str, now: float) -> tuple[str, str]:
    """Check a JWT key proof (`openid4vci-proof+jwt`): its header, key, audience, age and
    signature; return the key's JWK thumbprint and the proof's nonce (not yet spent)."""
    header, payload, signing_input, signature = _decode_jwt(jwt)
    if header.get("typ") != PROOF_TYPE:
        raise _invalid_proof(f"the proof's typ must be {PROOF_TYPE}")
    alg = header.get("alg")
    if alg not in PROOF_ALGORITHMS:
        raise _invalid_proof(f"the proof's alg must be one of {', '.join(PROOF_ALGORITHMS)}")
    jwk = _proof_key(header)
    _check_claims(payload, audience=audience, now=now)
    _check_signature(alg, jwk, signing_input, signature)
    try:
        return jwk_thumbprint(jwk), payload["nonce"]
    except CredentialError:
        raise _invalid_proof("the proof's key is not a complete public JWK") from None


def _proof_of(request: object) -> str:
    """The one JWT key proof of a credential request for our configuration."""
    if not isinstance(request, dict):
        raise WalletRefusal("invalid_credential_request", "the credential request must be a "
                            "JSON object")
    if "credential_identifier" in request:
        raise WalletRefusal("invalid_credential_request", "this issuer gives out no "
                            "credential_identifier: send credential_configuration_id")
    if "credential_response_encryption" in request:
        raise WalletRefusal("invalid_encryption_parameters", "this issuer does not encrypt "
                            "credential responses")
    configuration = request.get("credential_configuration_id")
    if not isinstance(configuration, str):
        raise WalletRefusal("invalid_credential_request", "credential_configuration_id is "
                            "required")
    if configuration != CONFIGURATION_ID:
        raise WalletRefusal("unknown_credential_configuration",
                            f"this issuer offers only {CONFIGURATION_ID}")
    if "proof" in request:
        raise WalletRefusal("invalid_credential_request", "proof is not OID4VCI 1.0: send "
                            "proofs: {\"jwt\": [<proof>]}")
    proofs = request.get("proofs")
    if not isinstance(proofs, dict) or list(proofs) != ["jwt"]:
        raise _invalid_proof("proofs must be an object with one member, jwt")
    jwts = proofs["jwt"]
    if not isinstance(jwts, list) or len(jwts) != 1 or not isinstance(jwts[0], str):
        raise _invalid_proof("proofs.jwt must hold exactly one JWT (no batch issuance)")
    return jwts[0]


def _decode_jwt(jwt: str) -> tuple[dict, dict, bytes, bytes]:
    """The header, payload, signing input and signature of a compact JWS."""
    parts = jwt.split(".")
    if len(jwt) > MAX_PROOF_BYTES or len(parts) != 3:
        raise _invalid_proof("the proof is not a compact JWT")
    try:
        header = json.loads(_unb64(parts[0]))
        payload = json.loads(_unb64(parts[1]))
        signature = _unb64(parts[2])
    except (ValueError, binascii.Error):
        raise _invalid_proof("the proof is not a compact JWT") from None
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise _invalid_proof("the proof's header and payload must be JSON objects")
    return header, payload, f"{parts[0]}.{parts[1]}".encode("ascii"), signature


def _proof_key(header: dict) -> dict:
    """The public JWK a proof names: by `jwk`, or by a did:key or did:jwk `kid`."""
    named = [name for name in ("jwk", "kid", "x5c", "trust_chain") if name in header]
    if len(named) != 1 or named[0] not in ("jwk", "kid"):
        raise _invalid_proof("the proof's header must name its key by exactly one of jwk or kid")
    jwk = header["jwk"] if "jwk" in header else _did_key_jwk(header["kid"])
    if not isinstance(jwk, dict) or "d" in jwk:
        raise _invalid_proof("the proof's jwk must be a public key")
    return {name: jwk[name] for name in ("kty", "crv", "x", "y") if name in jwk}


def _did_key_jwk(kid: object) -> dict:
    """The public JWK behind a did:key or did:jwk key id."""
    if not isinstance(kid, str):
        raise _invalid_proof("the proof's kid must be a string")
    did = kid.split("#", 1)[0]
    try:
        if did.startswith("did:jwk:"):
            jwk = json.loads(_unb64(did.removeprefix("did:jwk:")))
            return jwk if isinstance(jwk, dict) else {}
        if did.startswith("did:key:z"):
            decoded = b58decode(did.removeprefix("did:key:z"))
            if decoded.startswith(_ED25519_KEY) and len(decoded) == 34:
                return ed25519_jwk(decoded[2:])
            if decoded.startswith(_P256_KEY) and len(decoded) == 35:
                point = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), decoded[2:])
                numbers = point.public_numbers()
                return {"kty": "EC", "crv": "P-256", "x": _b64(numbers.x.to_bytes(32, "big")),
                        "y": _b64(numbers.y.to_bytes(32, "big"))}
    except (ValueError, binascii.Error, CredentialError):
        pass
    raise _invalid_proof("the proof's kid must be a did:key (Ed25519 or P-256) or did:jwk")


def _check_claims(payload: dict, *, audience: str, now: float) -> None:
    """The proof's audience is this issuer, it was made just now, and it carries a nonce."""
    aud = payload.get("aud")
    if aud != audience and not (isinstance(aud, list) and aud == [audience]):
        raise _invalid_proof(f"the proof's aud must be {audience}")
    iat = payload.get("iat")
    if isinstance(iat, bool) or not isinstance(iat, int | float):
        raise _invalid_proof("the proof's iat is required")
    if not now - PROOF_MAX_AGE <= iat <= now + CLOCK_SKEW:
        raise _invalid_proof(f"the proof's iat must be within the last {PROOF_MAX_AGE} s")
    exp = payload.get("exp")
    if exp is not None and (isinstance(exp, bool) or not isinstance(exp, int | float)
                            or exp < now):
        raise _invalid_proof("the proof has expired")
    if not isinstance(payload.get("nonce"), str) or not payload["nonce"]:
        raise _invalid_proof("the proof must carry the c_nonce from the nonce endpoint")


def _check_signature(alg: str, jwk: dict, signing_input: bytes, signature: bytes) -> None:
    """The proof is signed by its key, with an algorithm of that key's type."""
    try:
        if alg in ("EdDSA", "Ed25519") and jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519":
            Ed25519PublicKey.from_public_bytes(_unb64(str(jwk.get("x", "")))).verify(
                signature, signing_input)
            return
        if alg == "ES256" and jwk.get("kty") == "EC" and jwk.get("crv") == "P-256":
            x, y = (int.from_bytes(_unb64(str(jwk.get(name, ""))), "big") for name in "xy")
            key = ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
            if len(signature) != 64:
                raise InvalidSignature
            der = encode_dss_signature(int.from_bytes(signature[:32], "big"),
                                       int.from_bytes(signature[32:], "big"))
            key.verify(der, signing_input, ec.ECDSA(hashes.SHA256()))
            return
    except (InvalidSignature, ValueError, binascii.Error):
        raise _invalid_proof("the proof's signature does not verify") from None
    raise _invalid_proof(f"alg {alg} does not fit the proof's key")


def _invalid_proof(description: str) -> WalletRefusal:
    return WalletRefusal("invalid_proof", description)


def _tx_code_hash(pre_authorized_code: str, tx_code: str) -> str:
    return _sha256(f"{pre_authorized_code}\0{tx_code}")


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not isinstance(text, str) or "=" in text:
        raise ValueError("not base64url without padding")
    return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
