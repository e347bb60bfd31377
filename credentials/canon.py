"""Canonical forms: JCS (RFC 8785) bytes and RDFC-1.0 canonical N-Quads."""

import json
import math
from collections.abc import Callable
from typing import Any

from credentials import jsonld, shapes
from credentials.contexts import RAW, context_document
from credentials.errors import CanonicalizationError
from credentials.jsontypes import JsonObject, Loader
from credentials.rdfc import canonicalize

_encode_string = json.encoder.encode_basestring
MAX_SAFE_INTEGER = 2**53 - 1


def jcs(value: Any) -> bytes:
    """RFC 8785 JSON Canonicalization Scheme serialisation, as UTF-8 bytes."""
    parts: list[str] = []
    _serialise(value, parts.append)
    try:
        return "".join(parts).encode("utf-8")
    except UnicodeEncodeError:
        raise CanonicalizationError("JCS input holds a lone surrogate; it is not valid Unicode") \
            from None


def _serialise(value: Any, out: Callable[[str], None]) -> None:
    if isinstance(value, str):
        out(_encode_string(value))
    elif isinstance(value, dict):
        out("{")
        keys = list(value)
        for key in keys:
            if not isinstance(key, str):
                raise CanonicalizationError(f"JCS object keys must be strings, got {key!r}")
        if not all(key.isascii() for key in keys):
            keys.sort(key=_utf16)
        else:
            keys.sort()
        first = True
        for key in keys:
            if not first:
                out(",")
            first = False
            out(_encode_string(key))
            out(":")
            _serialise(value[key], out)
        out("}")
    elif isinstance(value, list | tuple):
        out("[")
        for index, item in enumerate(value):
            if index:
                out(",")
            _serialise(item, out)
        out("]")
    elif value is True:
        out("true")
    elif value is False:
        out("false")
    elif value is None:
        out("null")
    elif isinstance(value, int):
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            raise CanonicalizationError(_UNSAFE_INTEGER)
        out(str(value))
    elif isinstance(value, float):
        out(es6_number(value))
    else:
        raise CanonicalizationError(f"JCS cannot serialise a {type(value).__name__}")


_UNSAFE_INTEGER = ("JCS cannot keep integers beyond ±(2^53−1) apart (they become the same "
                   "IEEE double); send such a number as a string")
SAFE_NUMBER_RULE = "must be an integer within ±(2^53−1) or a finite number"


def unsafe_number(value: Any) -> str | None:
    """Where `value` holds a number JSON cannot carry exactly, as a path like `a.b[0]` ("" for
    `value` itself): an integer beyond ±(2^53−1) or a float that is not finite; None if none."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        node, path = stack.pop()
        if isinstance(node, dict):
            stack.extend((item, f"{path}.{name}" if path else str(name))
                         for name, item in node.items())
        elif isinstance(node, list):
            stack.extend((item, f"{path}[{index}]") for index, item in enumerate(node))
        elif isinstance(node, bool):
            continue
        elif isinstance(node, int):
            if not -MAX_SAFE_INTEGER <= node <= MAX_SAFE_INTEGER:
                return path
        elif isinstance(node, float) and not math.isfinite(node):
            return path
    return None


def _utf16(key: str) -> bytes:
    return key.encode("utf-16-be", "surrogatepass")


def es6_number(value: float) -> str:
    """ECMAScript Number.prototype.toString of a double, as RFC 8785 requires."""
    if not math.isfinite(value):
        raise CanonicalizationError(f"JCS cannot serialise the number {value!r}")
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    text = repr(abs(value))
    mantissa, _, exponent = text.partition("e")
    whole, _, fraction = mantissa.partition(".")
    if fraction == "0":
        fraction = ""
    digits = (whole + fraction).lstrip("0")
    point = len(whole) + (int(exponent) if exponent else 0)
    if whole == "0":
        stripped = fraction.lstrip("0")
        point = -(len(fraction) - len(stripped)) + (int(exponent) if exponent else 0)
        digits = stripped
    digits = digits.rstrip("0") or "0"
    k, n = len(digits), point
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    exp = n - 1
    head = digits[0] + ("." + digits[1:] if k > 1 else "")
    return sign + head + "e" + ("+" if exp > 0 else "-") + str(abs(exp))


for _url in RAW:
    jsonld.share(context_document(_url))


def rdfc(document: JsonObject, *, loader: Loader | None = None) -> str:
    """RDFC-1.0 canonical N-Quads of a JSON-LD document in compacted form (contexts from
    `loader`, default bundled).

    Only the built-in converter reads the document, so the quads mean exactly what the JSON
    says; anything it does not convert exactly raises a `jsonld.JsonLdError` subclass. With the
    bundled loader the conversion goes through the per-shape cache (`shapes`), which gives the
    same quads.
    """
    if loader is None or loader is context_document:
        return shapes.canonical(document, context_document)
    return canonicalize(jsonld.to_quads(document, loader, compacted=True))
