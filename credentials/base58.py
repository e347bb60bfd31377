"""Base58btc (Bitcoin alphabet) encoding used by multibase `z` values."""

from credentials.errors import InvalidKey

ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_INDEX = {char: value for value, char in enumerate(ALPHABET)}


_PAIRS = tuple(high + low for high in ALPHABET for low in ALPHABET)
_PAIR = len(_PAIRS)
_QUAD = _PAIR * _PAIR


def b58encode(data: bytes) -> str:
    """Encode bytes as base58btc text (four digits per division of the big number)."""
    number = int.from_bytes(data, "big")
    quads = []
    while number:
        number, remainder = divmod(number, _QUAD)
        high, low = divmod(remainder, _PAIR)
        quads.append(_PAIRS[high] + _PAIRS[low])
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * zeros + "".join(reversed(quads)).lstrip("1")


def b58decode(text: str) -> bytes:
    """Decode base58btc text; raises InvalidKey on a character outside the alphabet."""
    number = 0
    try:
        for char in text:
            number = number * 58 + _INDEX[char]
    except KeyError as exc:
        raise InvalidKey(f"invalid base58 character {exc.args[0]!r}") from None
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + body
