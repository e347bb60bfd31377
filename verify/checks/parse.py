"""Parse check: the input is one JSON object of bounded size and depth, with known contexts only;
an Open Badges 3.0 baked image (SVG or PNG) is read as the credential baked in it."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from credentials.baking import unbake
from credentials.canon import MAX_SAFE_INTEGER, unsafe_number
from credentials.contexts import FILES
from credentials.errors import BadBadge
from verify.codes import Code
from verify.context import Context
from verify.errors import Invalid
from verify.fragments import Fragment, Status
from verify.subject import Subject

NAME = "parse"
REQUIRES: tuple[str, ...] = ()

FORMATS = ("AchievementCredential", "ClrCredential", "LearningAgreementCredential")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SAFE_DIGITS = len(str(-MAX_SAFE_INTEGER))


def run(subject: Subject, context: Context) -> Fragment:
    """Parse the raw input into the credential document and detect its format."""
    document = load_object(subject.raw, context)
    check_contexts(document)
    subject.document = document
    subject.credential_format = _format_of(document)
    return Fragment(
        NAME,
        Status.VALID,
        None,
        f"The input is a well-formed {subject.credential_format}.",
        {"format": subject.credential_format},
    )


def load_object(raw: bytes | str | dict[str, Any], context: Context) -> dict[str, Any]:
    """The raw input as one JSON object, within the context's size and depth limits."""
    document = _load(raw, context)
    if not isinstance(document, dict):
        raise Invalid(Code.NOT_AN_OBJECT, "The input is JSON but not a JSON object.")
    return document


def _load(raw: bytes | str | dict[str, Any], context: Context) -> Any:
    """The JSON value of the raw input, within the context's size and depth limits."""
    if isinstance(raw, dict):
        _check_object_depth(raw, context.max_depth)
        try:
            raw = json.dumps(raw, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as error:
            where = unsafe_number(raw)
            if where is not None:
                raise _unsafe(f"The credential's {where} is a number JSON cannot carry exactly.",
                              field=where) from error
            raise Invalid(
                Code.NOT_JSON, "The credential holds values JSON cannot express."
            ) from error
    if isinstance(raw, str):
        try:
            raw = raw.encode("utf-8")
        except UnicodeEncodeError as error:
            raise Invalid(Code.NOT_JSON, "The input is not valid Unicode text.") from error
    if len(raw) > context.max_bytes:
        raise Invalid(
            Code.INPUT_TOO_LARGE,
            f"The input is larger than the {context.max_bytes} bytes allowed.",
            size=len(raw),
            limit=context.max_bytes,
        )
    raw = _unbaked(raw, context)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Invalid(Code.NOT_JSON, "The input is not UTF-8 text.") from error
    _check_text_depth(text, context.max_depth)
    try:
        value = json.loads(text, object_pairs_hook=_object, parse_constant=_reject_constant,
                           parse_int=_integer, parse_float=_float)
    except json.JSONDecodeError as error:
        raise Invalid(
            Code.NOT_JSON,
            f"The input is not valid JSON ({error.msg} at line {error.lineno}).",
            line=error.lineno,
            column=error.colno,
        ) from error
    if _SURROGATE_ESCAPE.search(text) is not None:
        _check_unicode(value)
    return value


def _unbaked(raw: bytes, context: Context) -> bytes:
    """The credential baked in an Open Badges image, else the input itself."""
    try:
        baked = unbake(raw, max_bytes=context.max_bytes)
    except BadBadge as error:
        raise Invalid(Code.BADGE_UNREADABLE, error.message) from error
    return raw if baked is None else baked.encode("utf-8")


def _check_unicode(value: Any) -> None:
    """Refuse a string with an unpaired surrogate escape (`\\ud800`): it is not Unicode text, and
    no canonical form or hash of the credential can be computed."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as error:
        raise Invalid(
            Code.NOT_JSON, "The input holds an unpaired surrogate escape: it is not Unicode text."
        ) from error


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object, refusing a member name given twice (parsers disagree on which one wins)."""
    document = dict(pairs)
    if len(document) != len(pairs):
        names = [name for name, _ in pairs]
        name = next(name for name in names if names.count(name) > 1)
        raise Invalid(
            Code.DUPLICATE_MEMBER, f"The member {name!r} appears twice in one object.", field=name
        )
    return document


def _integer(text: str) -> int:
    """A JSON integer, refusing one beyond ±(2^53−1): JCS (RFC 8785) and most JSON parsers
    read such integers as IEEE doubles, so two different numbers would sign the same."""
    if len(text) <= _SAFE_DIGITS:
        value = int(text)
        if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            return value
    raise _unsafe(
        f"The input holds the integer {_shown(text)}, beyond the ±(2^53−1) JSON carries exactly.",
        number=_shown(text),
    )


def _float(text: str) -> float:
    """A JSON number with a fraction or exponent, refusing one too large for a double."""
    value = float(text)
    if not math.isfinite(value):
        raise _unsafe(f"The input holds the number {_shown(text)}, too large for a JSON number.",
                      number=_shown(text))
    if value.is_integer() and abs(value) > MAX_SAFE_INTEGER:
        raise _unsafe(
            f"The input holds the whole number {_shown(text)}, beyond the ±(2^53−1) JSON "
            "carries exactly.", number=_shown(text))
    return value


def _shown(text: str) -> str:
    """A number as the message shows it: at most 40 characters."""
    return text if len(text) <= 40 else f"{text[:20]}…({len(text)} characters)"


def _unsafe(message: str, **details: Any) -> Invalid:
    """The error for a number JSON cannot carry exactly."""
    return Invalid(Code.UNSAFE_NUMBER, message, **details)


def _reject_constant(name: str) -> None:
    """Refuse NaN and Infinity, which are not JSON."""
    raise Invalid(Code.NOT_JSON, f"The input is not valid JSON ({name} is not a JSON number).")


def _check_object_depth(value: Any, limit: int) -> None:
    """Refuse dicts and lists nested deeper than `limit` (the top-level object is level 1)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth > limit:
                raise _too_deep(limit)
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)


def _check_text_depth(text: str, limit: int) -> None:
    """Refuse JSON text nested deeper than `limit` before parsing it (deep input can crash the
    C parser when a library has raised the recursion limit)."""
    depth = 0
    for bracket in _NOT_BRACKET.sub("", _STRING.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        if depth > limit:
            raise _too_deep(limit)


def _too_deep(limit: int) -> Invalid:
    """The error for input nested deeper than `limit`."""
    return Invalid(
        Code.TOO_DEEP, f"The input is nested deeper than the {limit} levels allowed.", limit=limit
    )


def check_contexts(document: dict[str, Any]) -> None:
    """Refuse any JSON-LD context, anywhere in the document, that is not bundled with creditbank."""
    stack: list[Any] = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            if "@context" in node:
                _check_context_value(node["@context"])
            stack.extend(value for name, value in node.items() if name != "@context")


def _check_context_value(value: Any) -> None:
    """Refuse a context entry that is not the URL of a bundled context."""
    for entry in value if isinstance(value, list) else [value]:
        if not isinstance(entry, str):
            raise Invalid(
                Code.UNKNOWN_CONTEXT,
                "The credential defines its own JSON-LD context; only known contexts are accepted.",
                field="@context",
            )
        if entry not in FILES:
            raise Invalid(
                Code.UNKNOWN_CONTEXT,
                f"The credential uses the JSON-LD context {entry[:200]!r}, which is not supported.",
                field="@context",
                context=entry[:200],
            )


def _format_of(document: dict[str, Any]) -> str:
    """The credential format named by the document's `type`."""
    types = document.get("type")
    types = [types] if isinstance(types, str) else types
    if isinstance(types, list) and "VerifiableCredential" in types:
        for credential_format in FORMATS:
            if credential_format in types:
                return credential_format
    raise Invalid(
        Code.UNSUPPORTED_TYPE,
        "The input is not an achievement credential, a comprehensive learner record or a "
        "learning agreement.",
        field="type",
    )
