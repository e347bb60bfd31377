"""Ed25519 signing keys, Multikey multibase encoding, and sealing secrets at rest."""

import base64
import functools
import hashlib
import json
import secrets

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from credentials.base58 import b58decode, b58encode
from credentials.errors import InvalidKey, SealError

ED25519_MULTICODEC = b"\xed\x01"
SEAL_VERSION = "cbseal1"
_SEAL_AAD = b"creditbank sealed secret v1"
_THUMBPRINT_MEMBERS = {
    "EC": ("crv", "kty", "x", "y"),
    "OKP": ("crv", "kty", "x"),
    "RSA": ("e", "kty", "n"),
}


class SigningKey:
    """An Ed25519 private key, built from a 32-byte seed."""

    __slots__ = ("_private", "_public", "_seed")

    def __init__(self, seed: bytes) -> None:
        if not isinstance(seed, bytes | bytearray) or len(seed) != 32:
            raise InvalidKey("an Ed25519 seed must be exactly 32 bytes")
        self._seed = bytes(seed)
        self._private = Ed25519PrivateKey.from_private_bytes(self._seed)
        self._public = self._private.public_key().public_bytes_raw()

    @classmethod
    def generate(cls) -> "SigningKey":
        """Create a key from 32 fresh random bytes."""
        return cls(secrets.token_bytes(32))

    @classmethod
    def from_seed(cls, seed: bytes) -> "SigningKey":
        """Rebuild a key from its 32-byte seed."""
        return cls(seed)

    @property
    def seed(self) -> bytes:
        """The 32-byte private seed (keep it sealed at rest)."""
        return self._seed

    @property
    def public_key(self) -> bytes:
        """The 32 raw bytes of the public key."""
        return self._public

    @property
    def multibase(self) -> str:
        """The public key as a Multikey multibase value (`z6Mk…`)."""
        return multibase_of(self._public)

    def sign(self, data: bytes) -> bytes:
        """Sign bytes; returns the 64-byte Ed25519 signature."""
        return self._private.sign(data)

    def __repr__(self) -> str:
        return f"SigningKey({self.multibase})"


@functools.lru_cache(maxsize=4096)
def _public_key_object(public_key: bytes) -> Ed25519PublicKey:
    if len(public_key) != 32:
        raise InvalidKey("an Ed25519 public key must be exactly 32 bytes")
    return Ed25519PublicKey.from_public_bytes(public_key)


def verify_signature(public_key: bytes, signature: bytes, data: bytes) -> bool:
    """True when `signature` is a valid Ed25519 signature of `data` by `public_key`."""
    key = _public_key_object(bytes(public_key))
    if len(signature) != 64:
        return False
    try:
        key.verify(signature, data)
    except InvalidSignature:
        return False
    return True


def multibase_of(public_key: bytes) -> str:
    """Multikey encoding: `z` + base58btc(0xed01 ‖ public key)."""
    if len(public_key) != 32:
        raise InvalidKey("an Ed25519 public key must be exactly 32 bytes")
    return "z" + b58encode(ED25519_MULTICODEC + bytes(public_key))


def public_key_from_multibase(value: str) -> bytes:
    """Parse a Multikey multibase Ed25519 public key back to its 32 raw bytes."""
    if not isinstance(value, str) or not value.startswith("z"):
        raise InvalidKey("a Multikey value must be a base58btc multibase string starting with 'z'")
    decoded = b58decode(value[1:])
    if len(decoded) != 34 or not decoded.startswith(ED25519_MULTICODEC):
        raise InvalidKey("a Multikey value must hold an Ed25519 key (multicodec 0xed01, 32 bytes)")
    return decoded[2:]


def ed25519_jwk(public_key: bytes) -> dict[str, str]:
    """The public JWK (RFC 8037, OKP) of an Ed25519 public key."""
    if len(public_key) != 32:
        raise InvalidKey("an Ed25519 public key must be exactly 32 bytes")
    return {"kty": "OKP", "crv": "Ed25519", "x": _b64(bytes(public_key))}


def jwk_thumbprint(jwk: dict[str, object]) -> str:
    """The RFC 7638 SHA-256 thumbprint (base64url) of a public EC, OKP or RSA JWK."""
    members = _THUMBPRINT_MEMBERS.get(str(jwk.get("kty")))
    if members is None or not all(isinstance(jwk.get(name), str) for name in members):
        raise InvalidKey("a JWK thumbprint needs kty EC (crv, x, y), OKP (crv, x) or RSA (e, n)")
    required = {name: jwk[name] for name in sorted(members)}
    text = json.dumps(required, separators=(",", ":"), ensure_ascii=False)
    return _b64(hashlib.sha256(text.encode("utf-8")).digest())


def seal_secret(secret: bytes, master_key: bytes) -> str:
    """Encrypt a secret with AES-256-GCM under `master_key`: `cbseal1.<nonce>.<ciphertext>`."""
    nonce = secrets.token_bytes(12)
    ciphertext = _aead(master_key).encrypt(nonce, bytes(secret), _SEAL_AAD)
    return ".".join((SEAL_VERSION, _b64(nonce), _b64(ciphertext)))


def open_secret(sealed: str, master_key: bytes) -> bytes:
    """Decrypt a value made by `seal_secret`; raises SealError on a wrong key or tampering."""
    parts = sealed.split(".") if isinstance(sealed, str) else []
    if len(parts) != 3 or parts[0] != SEAL_VERSION:
        raise SealError(f"a sealed secret must look like '{SEAL_VERSION}.<nonce>.<ciphertext>'")
    try:
        nonce, ciphertext = _unb64(parts[1]), _unb64(parts[2])
    except ValueError:
        raise SealError("a sealed secret is not valid base64url") from None
    if len(nonce) != 12:
        raise SealError("a sealed secret has a nonce of the wrong size")
    try:
        return _aead(master_key).decrypt(nonce, ciphertext, _SEAL_AAD)
    except InvalidTag:
        raise SealError("the sealed secret cannot be opened: wrong master key or tampering") \
            from None


def _aead(master_key: bytes) -> AESGCM:
    if not isinstance(master_key, bytes | bytearray) or len(master_key) != 32:
        raise InvalidKey("the master key must be exactly 32 bytes")
    return AESGCM(bytes(master_key))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
