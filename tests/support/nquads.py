"""A small strict N-Quads parser: lines in, quads of canonical N-Quads terms out."""

from __future__ import annotations

import re

from credentials.jsonld import literal
from credentials.rdfc import Quad

_UCHAR = r"\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}"
_IRI = rf"<((?:[^\x00-\x20<>\"{{}}|^`\\]|{_UCHAR})*)>"
_PN_CHARS_BASE = (
    "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d"
    "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"
)
_PN_CHARS = _PN_CHARS_BASE + "_:\\-0-9\u00b7\u0300-\u036f\u203f-\u2040"
_BLANK = rf"(_:[{_PN_CHARS_BASE}_:0-9](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?)"
_LITERAL = (
    rf"\"((?:[^\"\\\n\r]|\\[tbnrf\"'\\]|{_UCHAR})*)\""
    rf"(?:\^\^{_IRI}|@([a-zA-Z]+(?:-[a-zA-Z0-9]+)*))?"
)
_WS = r"[ \t]*"
_STATEMENT = re.compile(
    rf"{_WS}(?:{_IRI}|{_BLANK}){_WS}{_IRI}{_WS}(?:{_IRI}|{_BLANK}|{_LITERAL})"
    rf"{_WS}(?:(?:{_IRI}|{_BLANK}){_WS})?\.{_WS}(?:#[^\n\r]*)?"
)
_EMPTY = re.compile(rf"{_WS}(?:#[^\n\r]*)?")
_ESCAPE = re.compile(rf"\\[tbnrf\"'\\]|{_UCHAR}")
_ECHAR = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


class NQuadsError(ValueError):
    """A line is not an N-Quads statement."""


def parse(text: str) -> list[Quad]:
    """The quads of an N-Quads document, each term in canonical N-Quads form."""
    quads = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = _STATEMENT.fullmatch(line)
        if match is None:
            if _EMPTY.fullmatch(line):
                continue
            raise NQuadsError(f"line {number} is not an N-Quads statement: {line!r}")
        quads.append(_quad(match.groups()))
    return quads


def _quad(groups: tuple[str | None, ...]) -> Quad:
    """One quad from the regular expression's groups."""
    (subject_iri, subject_blank, predicate, object_iri, object_blank, lexical, datatype,
     language, graph_iri, graph_blank) = groups
    subject = _iri(subject_iri) if subject_iri is not None else str(subject_blank)
    if object_iri is not None:
        obj = _iri(object_iri)
    elif object_blank is not None:
        obj = object_blank
    else:
        obj = literal(_unescape(str(lexical)), _unescape(datatype) if datatype else None,
                      language)
    graph = _iri(graph_iri) if graph_iri is not None else graph_blank or ""
    return subject, _iri(str(predicate)), obj, graph


def _iri(escaped: str) -> str:
    """An IRI term with its escapes resolved."""
    return "<" + _unescape(escaped) + ">"


def _unescape(text: str) -> str:
    """`text` with ECHAR and UCHAR escapes resolved."""
    return _ESCAPE.sub(_resolve, text)


def _resolve(match: re.Match[str]) -> str:
    """The character one escape stands for."""
    escape = match.group()
    if escape[1] in "uU":
        return chr(int(escape[2:], 16))
    return _ECHAR[escape[1]]
