"""Ed25519 keys, Multikey multibase values and sealed secrets."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from credentials.base58 import ALPHABET, b58decode, b58encode
from credentials.errors import CredentialError, InvalidKey, SealError
from credentials.keys import (
    SigningKey,
    ed25519_jwk,
    jwk_thumbprint,
    multibase_of,
    open_secret,
    public_key_from_multibase,
    seal_secret,
    verify_signature,
)
from tests.support.paths import VECTORS

KEY_PAIR = json.loads((VECTORS / "keyPair.json").read_text())


def test_spec_key_pair_round_trips_through_multibase() -> None:
    secret = b58decode(KEY_PAIR["privateKeyMultibase"][1:])
    assert secret[:2] == b"\x80\x26"
    key = SigningKey.from_seed(secret[2:])
    assert key.multibase == KEY_PAIR["publicKeyMultibase"]
    assert public_key_from_multibase(key.multibase) == key.public_key
    assert multibase_of(key.public_key) == KEY_PAIR["publicKeyMultibase"]


def test_sign_and_verify() -> None:
    key = SigningKey.generate()
    signature = key.sign(b"credit")
    assert (len(signature), len(key.public_key), len(key.seed)) == (64, 32, 32)
    assert verify_signature(key.public_key, signature, b"credit") is True
    assert verify_signature(key.public_key, signature, b"credit!") is False
    assert verify_signature(key.public_key, signature[:-1] + bytes([signature[-1] ^ 1]),
                            b"credit") is False
    assert SigningKey.from_seed(key.seed).public_key == key.public_key


def test_base58_keeps_leading_zeros() -> None:
    for data in (b"", b"\0", b"\0\0\x01", bytes(range(40))):
        assert b58decode(b58encode(data)) == data
    assert b58encode(b"hello world") == "StV1DL6CwTryKyV"


@given(st.binary(max_size=80) | st.builds(lambda zeros, tail: bytes(zeros) + tail,
                                          st.integers(0, 5), st.binary(max_size=66)))
def test_base58_is_the_digit_by_digit_encoding(data: bytes) -> None:
    number, digits = int.from_bytes(data, "big"), ""
    while number:
        number, digit = divmod(number, 58)
        digits = ALPHABET[digit] + digits
    assert b58encode(data) == "1" * (len(data) - len(data.lstrip(b"\0"))) + digits
    assert b58decode(b58encode(data)) == data


@pytest.mark.parametrize("value", ["", "abc", "z", "z0OIl",
                                   "z" + b58encode(b"\xed\x01" + bytes(31)),
                                   "z" + b58encode(b"\xec\x01" + bytes(32))])
def test_bad_multibase_is_rejected(value: str) -> None:
    with pytest.raises(InvalidKey):
        public_key_from_multibase(value)


def test_bad_seed_is_rejected() -> None:
    with pytest.raises(InvalidKey, match="32 bytes"):
        SigningKey.from_seed(b"short")


def test_seal_and_open_secret() -> None:
    master = bytes(range(32))
    sealed = seal_secret(b"seed bytes", master)
    assert sealed.startswith("cbseal1.")
    assert sealed != seal_secret(b"seed bytes", master)
    assert open_secret(sealed, master) == b"seed bytes"


def test_wrong_master_key_or_tampering_fails_cleanly() -> None:
    sealed = seal_secret(b"seed bytes", bytes(32))
    with pytest.raises(SealError):
        open_secret(sealed, bytes(31) + b"\x01")
    version, nonce, body = sealed.split(".")
    flipped = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]
    with pytest.raises(SealError):
        open_secret(".".join((version, nonce, flipped)), bytes(32))
    with pytest.raises(CredentialError):
        open_secret("v0.x.y", bytes(32))
    with pytest.raises(InvalidKey):
        seal_secret(b"x", b"short")


def test_jwk_thumbprints_follow_rfc_7638_and_8037() -> None:
    rsa = {
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSo"
        "c_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_F"
        "DW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vM"
        "QFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29",
    }
    assert jwk_thumbprint(rsa) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    public_key = bytes.fromhex(
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    )
    jwk = ed25519_jwk(public_key)
    assert jwk["x"] == "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
    assert jwk_thumbprint(jwk) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
    with pytest.raises(InvalidKey):
        jwk_thumbprint({"kty": "OKP", "crv": "Ed25519"})
