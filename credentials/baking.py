"""Open Badges 3.0 baked images: a credential embedded in a self-contained SVG badge (and, read or
written into an existing image, a PNG), and the safe extraction of the credential from either.

Baking follows OB 3.0 §5.3.2 ("Baked Badge"): an SVG's root `svg` element declares
`xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"` and holds, first, exactly one
`<openbadges:credential>` element whose CDATA body is the credential's JSON (embedded proof);
a PNG holds exactly one uncompressed `iTXt` chunk with the keyword `openbadgecredential`.
Extraction reads untrusted files: it refuses DTDs and entity declarations (billion laughs, XXE),
bounds the input's size, nesting and element count, and refuses a second credential.
"""

from __future__ import annotations

import json
import re
import struct
import unicodedata
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal
from xml.parsers import expat
from xml.sax.saxutils import escape, quoteattr

from credentials.errors import BadBadge
from credentials.jsontypes import JsonObject

SVG_NAMESPACE = "http://www.w3.org/2000/svg"
OB3_NAMESPACE = "https://purl.imsglobal.org/ob/v3p0"
OB2_NAMESPACE = "http://openbadges.org"
PNG_KEYWORD = b"openbadgecredential"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_IMAGE_BYTES = 1024 * 1024
MAX_DEPTH = 32
MAX_ELEMENTS = 2000
MAX_PNG_CHUNKS = 1000

_SEPARATOR = " "
_SVG_ROOT = SVG_NAMESPACE + _SEPARATOR + "svg"
_CREDENTIAL = OB3_NAMESPACE + _SEPARATOR + "credential"
_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")
_WORDS = re.compile(r"\s+|[^\s]")
_FONTS = ('system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Noto Sans CJK SC", '
          '"PingFang SC", "Microsoft YaHei", sans-serif')
_BRAND = "#0b4f9c"
_TEXT = "#1b1f24"
_MUTED = "#4a5260"
_WIDTH = 512
_TEXT_WIDTH = 416
_BLOCK_TOP = 226
_BLOCK_HEIGHT = 196
_CHECK_MARK = "M-22 2l14 14 30-34"


@dataclass(frozen=True)
class BadgeFace:
    """What a badge image shows, already in the reader's language: `credits` is the number shown
    in the seal (none: a check mark), `date` a finished line such as "Completed on 5 June 2026"."""

    title: str
    issuer: str
    heading: str = ""
    credits: str | None = None
    credits_label: str = ""
    date: str = ""
    lang: str = "en"


def bake_svg(credential: JsonObject, face: BadgeFace) -> bytes:
    """A self-contained SVG badge (no scripts, links, external fonts or images) drawing `face`,
    with `credential` baked in as OB 3.0 describes; UTF-8 bytes."""
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        f'<svg xmlns="{SVG_NAMESPACE}" xmlns:openbadges="{OB3_NAMESPACE}" '
        f'width="{_WIDTH}" height="{_WIDTH}" viewBox="0 0 {_WIDTH} {_WIDTH}" '
        f'xml:lang={quoteattr(_clean(face.lang) or "en")} role="img" '
        'aria-labelledby="badge-title">\n',
        f"<openbadges:credential><![CDATA[{_cdata_json(credential)}]]></openbadges:credential>\n",
        f'<title id="badge-title">{_text(" · ".join(filter(None, (face.title, face.issuer))))}'
        "</title>\n",
        *_drawing(face),
        "</svg>\n",
    ]
    return "".join(parts).encode("utf-8")


def extract_svg(data: bytes, *, max_bytes: int = MAX_IMAGE_BYTES) -> str:
    """The credential JSON text baked in an OB 3.0 SVG; BadBadge for anything else."""
    if len(data) > max_bytes:
        raise BadBadge(f"The image is larger than the {max_bytes} bytes allowed.")
    reader = _SvgReader()
    try:
        reader.parser.Parse(data, True)
    except expat.ExpatError as error:
        message = expat.errors.messages.get(error.code, "malformed") if error.code else "malformed"
        raise BadBadge(
            f"The image is not well-formed SVG ({message} at line {error.lineno})."
        ) from error
    return reader.credential()


def bake_png(image: bytes, credential: JsonObject) -> bytes:
    """The PNG `image` with `credential` baked in an uncompressed `openbadgecredential` iTXt
    chunk; refuses an image that already carries one."""
    chunks = _png_chunks(image, len(image))
    if any(kind == b"iTXt" and body.startswith(PNG_KEYWORD + b"\0") for kind, body, _ in chunks):
        raise BadBadge("The image already carries a credential.")
    text = json.dumps(credential, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    body = PNG_KEYWORD + b"\0\0\0\0\0" + text
    chunk = struct.pack(">I", len(body)) + b"iTXt" + body + struct.pack(
        ">I", zlib.crc32(b"iTXt" + body))
    end = chunks[-1][2]
    return image[:end] + chunk + image[end:]


def extract_png(data: bytes, *, max_bytes: int = MAX_IMAGE_BYTES) -> str:
    """The credential JSON text baked in an OB 3.0 PNG; BadBadge for anything else."""
    if len(data) > max_bytes:
        raise BadBadge(f"The image is larger than the {max_bytes} bytes allowed.")
    found = [body for kind, body, _ in _png_chunks(data, max_bytes)
             if kind == b"iTXt" and body.startswith(PNG_KEYWORD + b"\0")]
    if not found:
        raise BadBadge("The image carries no Open Badges 3.0 credential.")
    if len(found) > 1:
        raise BadBadge("The image carries more than one credential.")
    rest = found[0][len(PNG_KEYWORD) + 1:]
    if len(rest) < 2 or rest[0] != 0:
        raise BadBadge("The image's credential is compressed, which Open Badges forbids.")
    fields = rest[2:].split(b"\0", 2)
    if len(fields) != 3:
        raise BadBadge("The image's credential chunk is damaged.")
    try:
        text = fields[2].decode("utf-8").strip()
    except UnicodeDecodeError as error:
        raise BadBadge("The image's credential is not UTF-8 text.") from error
    return _embedded_json(text)


def image_kind(data: bytes) -> Literal["svg", "png"] | None:
    """Which baked image format `data` looks like; None for anything else (such as JSON)."""
    if data.startswith(PNG_SIGNATURE):
        return "png"
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            start = data[len(bom):1024].decode(encoding, errors="ignore")
            break
    else:
        start = data[:1024].decode("utf-8", errors="ignore")
    return "svg" if start.lstrip(" \t\r\n").startswith("<") else None


def unbake(data: bytes, *, max_bytes: int = MAX_IMAGE_BYTES) -> str | None:
    """The credential JSON baked in an SVG or PNG image; None when `data` is not an image."""
    kind = image_kind(data)
    if kind == "png":
        return extract_png(data, max_bytes=max_bytes)
    if kind == "svg":
        return extract_svg(data, max_bytes=max_bytes)
    return None


class _SvgReader:
    """An expat reader that refuses DTDs and entities and keeps the one credential's text."""

    def __init__(self) -> None:
        self.parser = expat.ParserCreate(namespace_separator=_SEPARATOR)
        self.parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        self.parser.StartDoctypeDeclHandler = self._doctype
        self.parser.EntityDeclHandler = self._entity
        self.parser.ExternalEntityRefHandler = self._external
        self.parser.StartElementHandler = self._start
        self.parser.EndElementHandler = self._end
        self.parser.CharacterDataHandler = self._characters
        self.depth = 0
        self.elements = 0
        self.found = 0
        self.inside = False
        self.parts: list[str] = []

    def credential(self) -> str:
        """The credential's JSON text, once the whole document was read."""
        if not self.found:
            raise BadBadge("The image carries no Open Badges 3.0 credential.")
        return _embedded_json("".join(self.parts).strip())

    def _doctype(self, *_: Any) -> None:
        raise BadBadge("The image declares a document type (DTD), which a badge may not.")

    def _entity(self, *_: Any) -> None:
        raise BadBadge("The image declares an entity, which a badge may not.")

    def _external(self, *_: Any) -> int:
        raise BadBadge("The image refers to an external entity, which a badge may not.")

    def _start(self, name: str, attributes: dict[str, str]) -> None:
        self.depth += 1
        self.elements += 1
        if self.depth > MAX_DEPTH:
            raise BadBadge(f"The image is nested deeper than the {MAX_DEPTH} levels allowed.")
        if self.elements > MAX_ELEMENTS:
            raise BadBadge(f"The image has more than the {MAX_ELEMENTS} elements allowed.")
        if self.inside:
            raise BadBadge("The image's credential element holds markup instead of JSON.")
        if self.depth == 1 and name != _SVG_ROOT:
            raise BadBadge("The file is XML but not an SVG image.")
        if name == OB2_NAMESPACE + _SEPARATOR + "assertion":
            raise BadBadge("The image is an Open Badges 2.0 badge, not an Open Badges 3.0 "
                           "credential.")
        if name != _CREDENTIAL:
            return
        self.found += 1
        if self.found > 1:
            raise BadBadge("The image carries more than one credential.")
        if self.depth != 2:
            raise BadBadge("The image's credential is not a child of its svg element.")
        if "verify" in attributes:
            raise BadBadge("The image carries a VC-JWT credential; the credit bank verifies "
                           "credentials with an embedded proof.")
        self.inside = True

    def _end(self, name: str) -> None:
        self.depth -= 1
        if name == _CREDENTIAL:
            self.inside = False

    def _characters(self, text: str) -> None:
        if self.inside:
            self.parts.append(text)


def _png_chunks(data: bytes, max_bytes: int) -> list[tuple[bytes, bytes, int]]:
    """The chunks of a PNG up to IEND: (type, body, offset of the chunk), CRCs checked."""
    if len(data) > max_bytes:
        raise BadBadge(f"The image is larger than the {max_bytes} bytes allowed.")
    if not data.startswith(PNG_SIGNATURE):
        raise BadBadge("The file is not a PNG image.")
    chunks: list[tuple[bytes, bytes, int]] = []
    offset = len(PNG_SIGNATURE)
    while len(chunks) < MAX_PNG_CHUNKS:
        if offset + 12 > len(data):
            raise BadBadge("The PNG image is truncated.")
        (length,) = struct.unpack(">I", data[offset:offset + 4])
        kind = data[offset + 4:offset + 8]
        end = offset + 12 + length
        if end > len(data):
            raise BadBadge("The PNG image is truncated.")
        body = data[offset + 8:offset + 8 + length]
        (crc,) = struct.unpack(">I", data[end - 4:end])
        if zlib.crc32(kind + body) != crc:
            raise BadBadge("The PNG image is damaged (a chunk's checksum does not match).")
        chunks.append((kind, body, offset))
        if kind == b"IEND":
            return chunks
        offset = end
    raise BadBadge(f"The PNG image has more than the {MAX_PNG_CHUNKS} chunks allowed.")


def _embedded_json(text: str) -> str:
    """The baked credential text, which must be JSON (an object), not a VC-JWT or nothing."""
    if not text:
        raise BadBadge("The image's credential element is empty.")
    if not text.startswith("{"):
        raise BadBadge("The image's credential is not JSON; the credit bank verifies "
                       "credentials with an embedded proof.")
    return text


def _cdata_json(credential: JsonObject) -> str:
    """The credential as JSON text safe inside CDATA: `>` only occurs inside JSON strings, so
    `]]>` and characters XML cannot carry are written as JSON escapes (same JSON value)."""
    text = json.dumps(credential, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("]]>", "]]\\u003e")
    return _NOT_XML_CHAR.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def _clean(text: str) -> str:
    """Text without control characters, non-characters or lone surrogates (not XML)."""
    return _CONTROL.sub("", text).strip()


def _text(text: str) -> str:
    """Text escaped for an SVG element's content."""
    return escape(_clean(text))


def _drawing(face: BadgeFace) -> list[str]:
    """The badge's shapes and text, laid out top to bottom within the 512×512 square."""
    centre = _WIDTH // 2
    out = [
        f'<g font-family={quoteattr(_FONTS)} text-anchor="middle">\n',
        f'<rect x="8" y="8" width="496" height="496" rx="28" fill="#ffffff" stroke="{_BRAND}" '
        'stroke-width="6"/>\n',
        f'<rect x="24" y="24" width="464" height="464" rx="18" fill="none" stroke="{_BRAND}" '
        'stroke-opacity="0.25" stroke-width="2"/>\n',
    ]
    if face.heading:
        line = _fit(face.heading, 16, 1)[0]
        out.append(_line(line, 64, 16, _MUTED, weight="600"))
    out += [
        f'<circle cx="{centre}" cy="150" r="66" fill="{_BRAND}"/>\n',
        f'<circle cx="{centre}" cy="150" r="56" fill="none" stroke="#ffffff" '
        'stroke-opacity="0.6" stroke-width="2"/>\n',
    ]
    if face.credits:
        out.append(_line(_fit(face.credits, 40, 1, width=100)[0], 158, 40, "#ffffff",
                         weight="700"))
        if face.credits_label:
            out.append(_line(_fit(face.credits_label, 14, 1, width=90)[0], 182, 14, "#ffffff"))
    else:
        out.append(f'<path transform="translate({centre} 152)" d="{_CHECK_MARK}" fill="none" '
                   'stroke="#ffffff" stroke-width="9" stroke-linecap="round" '
                   'stroke-linejoin="round"/>\n')
    size, lines = 30, _fit(face.title, 30, 2)
    if _width(face.title, 30) > 2 * _TEXT_WIDTH:
        size, lines = 24, _fit(face.title, 24, 3)
    issuer = _fit(face.issuer, 20, 2) if face.issuer.strip() else []
    step = round(size * 1.25)
    height = len(lines) * step + (14 + 26 * len(issuer) if issuer else 0)
    y = _BLOCK_TOP + (_BLOCK_HEIGHT - height) // 2 + size
    for line in lines:
        out.append(_line(line, y, size, _TEXT, weight="700"))
        y += step
    y += 14 - step + 26
    for line in issuer:
        out.append(_line(line, y, 20, _BRAND, weight="600"))
        y += 26
    if face.date:
        out.append(_line(_fit(face.date, 16, 1)[0], 452, 16, _MUTED))
    out.append("</g>\n")
    return out


def _line(text: str, y: int, size: int, fill: str, *, weight: str = "400") -> str:
    """One centred line of text."""
    return (f'<text x="{_WIDTH // 2}" y="{y}" font-size="{size}" font-weight="{weight}" '
            f'fill="{fill}">{escape(text)}</text>\n')


def _fit(text: str, size: int, most: int, *, width: int = _TEXT_WIDTH) -> list[str]:
    """`text` broken into at most `most` lines of `width` at font `size` (by estimated glyph
    widths: wide CJK glyphs 1 em, others about half), the last shortened with an ellipsis."""
    lines = _wrap(" ".join(_clean(text).split()), size, width)
    if len(lines) <= most:
        return lines or [""]
    kept = lines[:most]
    last = kept[-1]
    while last and _width(last + "…", size) > width:
        last = last[:-1]
    kept[-1] = last.rstrip() + "…"
    return kept


def _wrap(text: str, size: int, width: int) -> list[str]:
    """Greedy line breaking: between words, or between any two wide (CJK) characters; a word
    wider than a line is cut."""
    lines: list[str] = []
    line = ""
    for unit in _units(text):
        if line and _width((line + unit).rstrip(), size) > width:
            lines.append(line.rstrip())
            line = unit
        else:
            line += unit
        while len(line.rstrip()) > 1 and _width(line.rstrip(), size) > width:
            cut = _longest_prefix(line, size, width)
            lines.append(line[:cut])
            line = line[cut:]
    if line.strip():
        lines.append(line.rstrip())
    return lines


def _units(text: str) -> Sequence[str]:
    """Units that may not be broken: a wide character, or a word with its following space."""
    units: list[str] = []
    word = ""
    for char in _WORDS.findall(text):
        if char.isspace():
            units.append(word + " ")
            word = ""
        elif _wide(char):
            if word:
                units.append(word)
                word = ""
            units.append(char)
        else:
            word += char
    if word:
        units.append(word)
    return units


def _longest_prefix(text: str, size: int, width: int) -> int:
    """How many characters of `text` fit in `width` (at least one)."""
    cut = 1
    while cut < len(text) and _width(text[:cut + 1], size) <= width:
        cut += 1
    return cut


def _width(text: str, size: int) -> float:
    """The estimated width of `text` at font `size`."""
    return sum(size * (1.0 if _wide(char) else 0.7 if char.isupper() else 0.6)
               for char in text)


def _wide(char: str) -> bool:
    """Whether a character is drawn full width (CJK ideographs, kana, full-width forms)."""
    return unicodedata.east_asian_width(char) in ("W", "F")
