"""A printable PDF of a shared credential: what it says, and a QR code of its share link.

Chinese text needs a CJK font: the first Noto CJK font found on the server is embedded (only the
glyphs used). Without one, the PDF is written in a Latin core font and says so.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import segno
from fontTools.ttLib import TTCollection
from fpdf import FPDF

CJK_FONTS = (
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf"),
)
FAMILY = "cjk"
LATIN = "helvetica"
QR_MILLIMETRES = 45


@dataclass(frozen=True)
class Sheet:
    """The text of the printable sheet, already in the reader's language."""

    heading: str
    title: str
    rows: Sequence[tuple[str, str]]
    link_label: str
    link: str
    scan: str
    no_cjk_note: str


def cjk_font(candidates: Sequence[Path] = CJK_FONTS) -> tuple[Path, int] | None:
    """The first CJK font installed, with the index of its Simplified Chinese face; else None."""
    for path in candidates:
        if path.is_file():
            return path, _simplified_chinese_face(path)
    return None


@functools.cache
def _simplified_chinese_face(path: Path) -> int:
    """Which face of a font collection is Simplified Chinese (0 for a single font)."""
    if path.suffix.lower() != ".ttc":
        return 0
    collection = TTCollection(str(path), lazy=True)
    names = [font["name"].getDebugName(1) or "" for font in collection.fonts]
    return next((index for index, name in enumerate(names) if name.endswith(" SC")), 0)


@dataclass(frozen=True)
class Part:
    """One part of a booklet: a heading and its entries, each a list of (label, value) rows."""

    heading: str
    entries: Sequence[Sequence[tuple[str, str]]]


@dataclass(frozen=True)
class Booklet:
    """A document of several parts (a learner's data, for one), in the reader's language."""

    heading: str
    title: str
    intro: str
    parts: Sequence[Part]
    empty: str
    no_cjk_note: str


def credential_pdf(sheet: Sheet, font: tuple[Path, int] | None) -> bytes:
    """The sheet as an A4 PDF with the share link (clickable) and its QR code."""
    pdf, family, text = _document(sheet.title, font)
    width = pdf.epw
    pdf.set_font(family, size=11)
    pdf.set_text_color(11, 79, 156)
    pdf.cell(width, 7, text(sheet.heading), new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(27, 31, 36)
    pdf.set_font(family, size=20)
    pdf.multi_cell(width, 10, text(sheet.title), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font(family, size=11)
    _rows(pdf, sheet.rows, text)
    pdf.ln(6)
    qr_top = pdf.get_y()
    pdf.image(_qr_png(sheet.link), x=pdf.l_margin, y=qr_top, w=QR_MILLIMETRES,
              h=QR_MILLIMETRES, link=sheet.link)
    pdf.set_xy(pdf.l_margin + QR_MILLIMETRES + 6, qr_top + 4)
    column = width - QR_MILLIMETRES - 6
    pdf.multi_cell(column, 6.5, text(sheet.scan), new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(pdf.l_margin + QR_MILLIMETRES + 6)
    pdf.set_text_color(74, 82, 96)
    pdf.cell(column, 6.5, text(sheet.link_label), new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(pdf.l_margin + QR_MILLIMETRES + 6)
    pdf.set_text_color(11, 87, 183)
    pdf.set_font(family, size=9)
    pdf.multi_cell(column, 5, sheet.link, link=sheet.link, new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(max(pdf.get_y(), qr_top + QR_MILLIMETRES) + 6)
    if font is None:
        pdf.set_text_color(122, 74, 0)
        pdf.multi_cell(width, 5, _latin(sheet.no_cjk_note), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def booklet_pdf(booklet: Booklet, font: tuple[Path, int] | None) -> bytes:
    """The booklet as an A4 PDF: each part under its heading, its entries one after another."""
    pdf, family, text = _document(booklet.title, font)
    width = pdf.epw
    pdf.set_font(family, size=11)
    pdf.set_text_color(11, 79, 156)
    pdf.cell(width, 7, text(booklet.heading), new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(27, 31, 36)
    pdf.set_font(family, size=18)
    pdf.multi_cell(width, 9, text(booklet.title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, size=10)
    pdf.set_text_color(74, 82, 96)
    pdf.multi_cell(width, 5.5, text(booklet.intro), new_x="LMARGIN", new_y="NEXT")
    if font is None:
        pdf.set_text_color(122, 74, 0)
        pdf.multi_cell(width, 5, _latin(booklet.no_cjk_note), new_x="LMARGIN", new_y="NEXT")
    for part in booklet.parts:
        pdf.ln(4)
        pdf.set_font(family, size=14)
        pdf.set_text_color(11, 79, 156)
        pdf.multi_cell(width, 8, text(part.heading), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(family, size=10)
        pdf.set_text_color(27, 31, 36)
        if not part.entries:
            pdf.multi_cell(width, 6, text(booklet.empty), new_x="LMARGIN", new_y="NEXT")
        for entry in part.entries:
            _rows(pdf, [(label, value) for label, value in entry if value], text)
            pdf.set_draw_color(227, 230, 234)
            pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + width, pdf.get_y())
            pdf.ln(1.5)
    return bytes(pdf.output())


def _document(title: str, font: tuple[Path, int] | None) -> tuple[FPDF, str, Callable[[str], str]]:
    """A new A4 document with its first page, the font family to write in and how to write
    text in it (Latin-1 only without a CJK font)."""
    pdf = FPDF(format="A4")
    pdf.set_title(title)
    pdf.set_creator("creditbank")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    if font is None:
        return pdf, LATIN, _latin
    pdf.add_font(FAMILY, "", str(font[0]), collection_font_number=font[1])
    return pdf, FAMILY, str


def _rows(pdf: FPDF, rows: Sequence[tuple[str, str]], text: Callable[[str], str]) -> None:
    """Label and value rows, the label in grey on the left."""
    label_width = 50
    width = pdf.epw
    for label, value in rows:
        top = pdf.get_y()
        pdf.set_text_color(74, 82, 96)
        pdf.multi_cell(label_width, 6.5, text(label), new_x="RIGHT", new_y="TOP")
        pdf.set_text_color(27, 31, 36)
        pdf.multi_cell(width - label_width, 6.5, text(value), new_x="LMARGIN", new_y="NEXT")
        pdf.set_y(max(pdf.get_y(), top + 6.5) + 1)


def _qr_png(link: str) -> io.BytesIO:
    """The QR code of a link as a PNG image."""
    image = io.BytesIO()
    segno.make(link, error="m").save(image, kind="png", scale=8, border=2)
    image.seek(0)
    return image


def _latin(value: str) -> str:
    """Text a core PDF font can show: characters outside Latin-1 become '?'."""
    return value.encode("latin-1", errors="replace").decode("latin-1")
