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
    """RFC 8785 JSON Canonicalization Scheme serialisation, as UTF-8 bytes.

    Documents of plain JSON types take the fast path (`_write`); anything it does not vouch for
    (a subclass, another type, a number out of range, a lone surrogate, deep nesting) takes the
    full path (`_serialise`), which writes the same bytes and raises every error.
    """
    parts: list[str] = []
    try:
        _write(value, parts)
        return "".join(parts).encode("utf-8")
    except (_Unvouched, RecursionError, UnicodeEncodeError):
        return _jcs(value)


def _jcs(value: Any) -> bytes:
    """The full path of `jcs`."""
    parts: list[str] = []
    _serialise(value, parts.append)
    try:
        return "".join(parts).encode("utf-8")
    except UnicodeEncodeError:
        raise CanonicalizationError("JCS input holds a lone surrogate; it is not valid Unicode") \
            from None


class _Unvouched(Exception):
    """The fast path of `jcs` does not vouch for this input: the full path takes it."""


_ORDERS: dict[tuple[str, ...], tuple[tuple[str, str], ...]] = {}
_ORDERS_KEPT = 4096


def _write(value: Any, parts: list[str]) -> None:
    """The fast path of `jcs`: what `_serialise` writes, for exact dicts with exact string keys,
    lists, tuples, strings, booleans, None, safe ints and finite floats; _Unvouched otherwise.

    Each object's key order and written keys are kept per key tuple (`_order`); strings and
    keys are escaped by the same function as in `_serialise`, numbers written as there."""
    kind = type(value)
    if kind is str:
        parts.append(_encode_string(value))
    elif kind is dict:
        if not value:
            parts.append("{}")
            return
        keys = tuple(value)
        for key in keys:
            if type(key) is not str:
                raise _Unvouched
        out = parts.append
        for key, head in _ORDERS.get(keys) or _order(keys):
            out(head)
            item = value[key]
            if type(item) is str:
                out(_encode_string(item))
            else:
                _write(item, parts)
        out("}")
    elif kind is list or kind is tuple:
        if not value:
            parts.append("[]")
            return
        out = parts.append
        out("[")
        for item in value:
            if type(item) is str:
                out(_encode_string(item))
            else:
                _write(item, parts)
            out(",")
        parts[-1] = "]"
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif value is None:
        parts.append("null")
    elif kind is int and -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
        parts.append(str(value))
    elif kind is float and math.isfinite(value):
        parts.append(_float(value))
    else:
        raise _Unvouched


def _order(keys: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """An object's keys in RFC 8785 order, each with what precedes its value ("{" or ",", the
    key, ":"), kept for the next object with the same keys."""
    ordered = sorted(keys) if all(key.isascii() for key in keys) else sorted(keys, key=_utf16)
    order = tuple((key, ("," if index else "{") + _encode_string(key) + ":")
                  for index, key in enumerate(ordered))
    if len(_ORDERS) >= _ORDERS_KEPT:
        _ORDERS.clear()
    _ORDERS[keys] = order
    return order


def _float(value: float) -> str:
    """`es6_number(value)` of a finite float, without its digit work where Python's own forms
    are the same: integral floats within ±(2^53−1) as ints, others in [1e-4, 1e16) as `repr`
    writes them (no exponent there)."""
    if value.is_integer():
        if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            return str(int(value))
    elif 1e-4 <= abs(value) < 1e16:
        return repr(value)
    return es6_number(value)


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
