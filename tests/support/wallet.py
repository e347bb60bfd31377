"""A wallet's key proofs for the OID4VCI tests: JWTs signed with Ed25519 or P-256 keys."""

from __future__ import annotations

import base64
import json
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from credentials.base58 import b58encode
from credentials.keys import ed25519_jwk, jwk_thumbprint

PROOF_TYP = "openid4vci-proof+jwt"


def b64(data: bytes) -> str:
    """base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class WalletKey:
    """A wallet's key pair: Ed25519 (EdDSA) or P-256 (ES256)."""

    def __init__(self, kind: str = "Ed25519") -> None:
        self.kind = kind
        self.private: Any
        if kind == "Ed25519":
            self.private = Ed25519PrivateKey.generate()
            raw = self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
            self.jwk: dict = ed25519_jwk(raw)
            self.did_key = "did:key:z" + b58encode(b"\xed\x01" + raw)
            self.alg = "EdDSA"
        else:
            self.private = ec.generate_private_key(ec.SECP256R1())
            numbers = self.private.public_key().public_numbers()
            self.jwk = {"kty": "EC", "crv": "P-256", "x": b64(numbers.x.to_bytes(32, "big")),
                        "y": b64(numbers.y.to_bytes(32, "big"))}
            compressed = self.private.public_key().public_bytes(
                Encoding.X962, PublicFormat.CompressedPoint)
            self.did_key = "did:key:z" + b58encode(b"\x80\x24" + compressed)
            self.alg = "ES256"

    @property
    def thumbprint(self) -> str:
        """The RFC 7638 thumbprint of the public key."""
        return jwk_thumbprint(self.jwk)

    def sign(self, header: dict, payload: dict) -> str:
        """A compact JWS of `payload` under `header`, signed with this key."""
        signing_input = (b64(json.dumps(header).encode()) + "."
                         + b64(json.dumps(payload).encode())).encode()
        if self.kind == "Ed25519":
            signature = self.private.sign(signing_input)
        else:
            r, s = decode_dss_signature(self.private.sign(signing_input, ec.ECDSA(hashes.SHA256())))
            signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return signing_input.decode() + "." + b64(signature)

    def proof(self, audience: str, nonce: str | None, iat: float, *, by: str = "jwk",
              header: dict | None = None, payload: dict | None = None) -> str:
        """A key proof for `audience` over `nonce`, naming the key by jwk, did:key or did:jwk."""
        names: dict[str, dict[str, Any]] = {
            "jwk": {"jwk": self.jwk},
            "did:key": {"kid": f"{self.did_key}#{self.did_key.removeprefix('did:key:')}"},
            "did:jwk": {"kid": "did:jwk:" + b64(json.dumps(self.jwk).encode()) + "#0"}}
        named = names[by]
        claims = {"aud": audience, "iat": int(iat), **({"nonce": nonce} if nonce else {})}
        return self.sign({"typ": PROOF_TYP, "alg": self.alg, **named, **(header or {})},
                         {**claims, **(payload or {})})
