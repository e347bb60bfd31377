"""Canonical forms: JCS (RFC 8785) bytes and RDFC-1.0 canonical N-Quads."""

import json
import math
from collections.abc import Callable
from typing import Any, NotRequired, TypedDict

from credentials import jsonld
from credentials.contexts import RAW, RemoteDocument, context_document
from credentials.errors import CanonicalizationError, UnknownContext
from credentials.jsontypes import JsonObject, Loader
from credentials.rdfc import canonicalize

_encode_string = json.encoder.encode_basestring
_MAX_SAFE = 2**53


class _PyldTerm(TypedDict):
    """One RDF term of a pyld dataset."""

    type: str
    value: str
    datatype: NotRequired[str]
    language: NotRequired[str]


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
        out(str(value) if -_MAX_SAFE <= value <= _MAX_SAFE else es6_number(float(value)))
    elif isinstance(value, float):
        out(es6_number(value))
    else:
        raise CanonicalizationError(f"JCS cannot serialise a {type(value).__name__}")


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
    """RDFC-1.0 canonical N-Quads of a JSON-LD document (contexts from `loader`, default bundled).

    Uses the built-in JSON-LD subset converter; documents using JSON-LD features outside that
    subset are converted by pyld instead. Undefined terms raise CanonicalizationError.
    """
    fetch = loader or context_document
    try:
        quads = jsonld.to_quads(document, fetch)
    except jsonld.Unsupported:
        quads = _pyld_quads(document, fetch)
    return canonicalize(quads)


def _pyld_quads(document: JsonObject, fetch: Loader) -> list[jsonld.Quad]:
    from pyld import jsonld as pyld_jsonld

    def load(url: str, options: JsonObject | None = None) -> RemoteDocument:
        return {"contextUrl": None, "documentUrl": url, "document": fetch(url)}

    try:
        dataset = pyld_jsonld.to_rdf(document, {"documentLoader": load, "base": ""})
    except pyld_jsonld.JsonLdError as exc:
        cause = exc
        while cause is not None and not isinstance(cause, UnknownContext):
            cause = cause.__cause__ or getattr(cause, "cause", None)
        if cause is not None:
            raise cause from None
        raise CanonicalizationError(f"JSON-LD processing failed: {exc}") from None
    quads = []
    for graph_name, triples in dataset.items():
        graph = "" if graph_name == "@default" else _pyld_term({"type": _kind(graph_name),
                                                                "value": graph_name})
        for triple in triples:
            quads.append((_pyld_term(triple["subject"]), _pyld_term(triple["predicate"]),
                          _pyld_term(triple["object"]), graph))
    return quads


def _kind(name: str) -> str:
    return "blank node" if name.startswith("_:") else "IRI"


def _pyld_term(term: _PyldTerm) -> str:
    if term["type"] == "IRI":
        return "<" + term["value"] + ">"
    if term["type"] == "blank node":
        return term["value"]
    return jsonld.literal(term["value"], term.get("datatype"), term.get("language"))

