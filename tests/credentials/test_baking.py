"""Open Badges 3.0 baked images: the SVG drawn and read back, hostile SVG refused, PNG iTXt."""

from __future__ import annotations

import json
import struct
import xml.etree.ElementTree as ET
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from credentials.baking import (
    MAX_DEPTH,
    MAX_ELEMENTS,
    OB3_NAMESPACE,
    SVG_NAMESPACE,
    BadgeFace,
    bake_png,
    bake_svg,
    extract_png,
    extract_svg,
    image_kind,
    unbake,
)
from credentials.errors import BadBadge
from tests.support.samples import signed_credential

SVG = f"{{{SVG_NAMESPACE}}}"
CREDENTIAL_TAG = f"{{{OB3_NAMESPACE}}}credential"
FACE = BadgeFace(title="Introduction to Programming", issuer="Demo University",
                 heading="Lifelong Learning Credit Bank", credits="3.5", credits_label="credits",
                 date="Completed on 30 June 2025")
HEAD = (f'<svg xmlns="{SVG_NAMESPACE}" xmlns:openbadges="{OB3_NAMESPACE}" '
        'viewBox="0 0 10 10">')
ONE = '<openbadges:credential><![CDATA[{"a": 1}]]></openbadges:credential>'


@pytest.fixture(scope="module")
def credential() -> dict:
    """A signed sample AchievementCredential."""
    return signed_credential()


def texts(svg: bytes) -> list[str]:
    """The text of every drawn `text` element, in order."""
    return [element.text or "" for element in ET.fromstring(svg).iter(f"{SVG}text")]


def png(*chunks: tuple[bytes, bytes]) -> bytes:
    """A 1×1 grey PNG, with extra chunks (type, body) before IEND."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(
            ">I", zlib.crc32(kind + body))
    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00\x80"))
            + b"".join(chunk(kind, body) for kind, body in chunks) + chunk(b"IEND", b""))


def test_a_baked_svg_is_well_formed_and_gives_back_the_credential(credential) -> None:
    svg = bake_svg(credential, FACE)
    root = ET.fromstring(svg)
    children = list(root)
    assert (root.tag, children[0].tag, len(list(root.iter(CREDENTIAL_TAG)))) == (
        f"{SVG}svg", CREDENTIAL_TAG, 1)
    assert svg.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<svg ')
    assert f'xmlns:openbadges="{OB3_NAMESPACE}"'.encode() in svg
    assert b"<openbadges:credential><![CDATA[{" in svg
    assert json.loads(extract_svg(svg)) == credential
    assert json.loads(children[0].text or "") == credential
    assert texts(svg) == ["Lifelong Learning Credit Bank", "3.5", "credits",
                          "Introduction to", "Programming", "Demo University",
                          "Completed on 30 June 2025"]


def test_a_badge_is_self_contained_no_script_link_image_or_font(credential) -> None:
    svg = bake_svg(credential, FACE)
    tags = {element.tag.rsplit("}", 1)[1] for element in ET.fromstring(svg).iter()}
    attributes = {name for element in ET.fromstring(svg).iter() for name in element.attrib}
    assert tags == {"svg", "credential", "title", "g", "rect", "circle", "text"}
    assert not any("href" in name or name.startswith("on") for name in attributes)
    assert b"url(" not in svg and b"@import" not in svg


def test_the_face_text_is_escaped_and_controls_removed(credential) -> None:
    face = BadgeFace(title='<b>&"', issuer="A\x00B\x1bC]]>",
                     lang='zh"><script>')
    svg = bake_svg(credential, face)
    root = ET.fromstring(svg)
    assert b"<script" not in svg
    assert texts(svg)[:2] == ['<b>&"', "ABC]]>"]
    assert b"&lt;b&gt;&amp;\"" in svg
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == 'zh"><script>'
    assert json.loads(extract_svg(svg)) == credential


def test_chinese_names_are_drawn_and_long_titles_wrap_with_an_ellipsis(credential) -> None:
    title = "面向对象程序设计与软件工程实践综合课程设计与项目实训" * 4
    svg = bake_svg(credential, BadgeFace(title=title, issuer="北京开放大学", lang="zh"))
    drawn = texts(svg)
    title_lines = drawn[:-1]
    assert drawn[-1] == "北京开放大学"
    assert len(title_lines) == 3 and title_lines[-1].endswith("…")
    assert "".join(title_lines).rstrip("…") == title[:len("".join(title_lines)) - 1]
    assert ET.fromstring(svg).get("{http://www.w3.org/XML/1998/namespace}lang") == "zh"


def test_json_that_would_break_cdata_or_xml_is_escaped_and_reads_back_the_same() -> None:
    tricky = {"name": "a]]>b</openbadges:credential><script/>", "odd": "\ufffe\x01\ud800",
              "zh": "终身学习"}
    svg = bake_svg(tricky, FACE)
    ET.fromstring(svg)
    assert b"]]>b" not in svg and "终身学习".encode() in svg
    assert json.loads(extract_svg(svg)) == tricky


@pytest.mark.parametrize(
    ("svg", "message"),
    [
        ('<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;">]>'
         f'{HEAD}{ONE}<text>&b;</text></svg>',
         "The image declares a document type (DTD), which a badge may not."),
        (f'<!DOCTYPE svg SYSTEM "file:///etc/passwd">{HEAD}{ONE}</svg>',
         "The image declares a document type (DTD), which a badge may not."),
        (f"{HEAD}{ONE}{ONE}</svg>", "The image carries more than one credential."),
        (f"{HEAD}</svg>", "The image carries no Open Badges 3.0 credential."),
        (f"{HEAD}<g>{ONE}</g></svg>",
         "The image's credential is not a child of its svg element."),
        (f"{HEAD}<openbadges:credential><g/></openbadges:credential></svg>",
         "The image's credential element holds markup instead of JSON."),
        (f'{HEAD}<openbadges:credential verify="a.b.c"/></svg>',
         "The image carries a VC-JWT credential; the credit bank verifies credentials with an "
         "embedded proof."),
        (f"{HEAD}<openbadges:credential>  </openbadges:credential></svg>",
         "The image's credential element is empty."),
        (f"{HEAD}<openbadges:credential>eyJhbGciOi.x.y</openbadges:credential></svg>",
         "The image's credential is not JSON; the credit bank verifies credentials with an "
         "embedded proof."),
        ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="http://openbadges.org">'
         "<openbadges:assertion verify=\"https://x\"/></svg>",
         "The image is an Open Badges 2.0 badge, not an Open Badges 3.0 credential."),
        (f'<html xmlns:openbadges="{OB3_NAMESPACE}">{ONE}</html>',
         "The file is XML but not an SVG image."),
        (f"{HEAD}{ONE}", "The image is not well-formed SVG (no element found at line 1)."),
        (HEAD + "<g>" * (MAX_DEPTH + 1) + ONE,
         f"The image is nested deeper than the {MAX_DEPTH} levels allowed."),
        (HEAD + ONE + "<g/>" * MAX_ELEMENTS + "</svg>",
         f"The image has more than the {MAX_ELEMENTS} elements allowed."),
    ],
    ids=["billion laughs", "external DTD", "two credentials", "no credential", "not top level",
         "markup inside", "VC-JWT", "empty", "not JSON", "OB 2.0", "not SVG", "malformed",
         "too deep", "too many elements"],
)
def test_hostile_or_foreign_svg_is_refused_with_its_reason(svg: str, message: str) -> None:
    with pytest.raises(BadBadge) as refused:
        extract_svg(svg.encode())
    assert refused.value.message == message


def test_an_external_entity_is_never_read(tmp_path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET")
    svg = (f'<!DOCTYPE svg [<!ENTITY x SYSTEM "{secret.as_uri()}">]>{HEAD}'
           "<openbadges:credential>&x;</openbadges:credential></svg>")
    with pytest.raises(BadBadge, match="document type"):
        extract_svg(svg.encode())


def test_a_huge_image_is_refused_before_it_is_parsed() -> None:
    svg = (HEAD + ONE + " " * 2000 + "</svg>").encode()
    with pytest.raises(BadBadge) as refused:
        extract_svg(svg, max_bytes=1000)
    assert refused.value.message == "The image is larger than the 1000 bytes allowed."
    assert json.loads(extract_svg(svg)) == {"a": 1}


def test_a_png_is_baked_in_one_uncompressed_itxt_chunk_and_read_back(credential) -> None:
    baked = bake_png(png(), credential)
    chunk = b"iTXt" + b"openbadgecredential\0\0\0\0\0"
    assert baked.count(chunk) == 1 and baked.endswith(b"IEND\xaeB`\x82")
    assert json.loads(extract_png(baked)) == credential
    with pytest.raises(BadBadge, match="already carries a credential"):
        bake_png(baked, credential)


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (png(), "The image carries no Open Badges 3.0 credential."),
        (png((b"iTXt", b"openbadgecredential\0\1\0\0\0x")),
         "The image's credential is compressed, which Open Badges forbids."),
        (png((b"iTXt", b"openbadgecredential\0\0\0\0\0{}"),
             (b"iTXt", b"openbadgecredential\0\0\0\0\0{}")),
         "The image carries more than one credential."),
        (png()[:-20], "The PNG image is truncated."),
        (png()[:-1] + b"\x00", "The PNG image is damaged (a chunk's checksum does not match)."),
        (png((b"iTXt", b"openbadgecredential\0\0\0\0\0\xff")),
         "The image's credential is not UTF-8 text."),
    ],
    ids=["none", "compressed", "two", "truncated", "bad crc", "not utf-8"],
)
def test_a_bad_png_is_refused_with_its_reason(image: bytes, message: str) -> None:
    with pytest.raises(BadBadge) as refused:
        extract_png(image)
    assert refused.value.message == message


def test_unbake_tells_images_from_json(credential) -> None:
    text = json.dumps(credential).encode()
    svg = bake_svg(credential, FACE)
    utf16 = b"\xff\xfe" + svg.decode().replace("UTF-8", "UTF-16").encode("utf-16-le")
    assert [image_kind(data) for data in (text, b"\xff\xfe{}", svg, b"\xef\xbb\xbf  " + svg,
                                          utf16, png())] == [None, None, "svg", "svg", "svg", "png"]
    assert json.loads(extract_svg(utf16)) == credential
    assert unbake(text) is None
    assert json.loads(unbake(svg) or "") == json.loads(unbake(bake_png(png(), credential)) or "")


@given(st.one_of(st.binary(max_size=400), st.text(max_size=400).map(
    lambda text: (HEAD + text).encode("utf-8", errors="replace"))))
def test_any_input_gives_a_credential_text_or_a_refusal(data: bytes) -> None:
    try:
        text = unbake(data)
    except BadBadge as refused:
        assert refused.message
    else:
        assert text is None or text.startswith("{")
