"""Open Badges 3.0 baked badges in the portal: downloaded beside the JSON, safe headers, and
dropped on the verifier (page, API) with the same report as the credential's JSON."""

from __future__ import annotations

import io
import json
import re
import struct
import xml.etree.ElementTree as ET
import zlib

import pytest

from credentials.baking import (
    OB3_NAMESPACE,
    SVG_NAMESPACE,
    BadgeFace,
    bake_png,
    bake_svg,
    extract_svg,
)
from portal.pages.badges import BADGE_POLICY
from portal.runtime import Runtime
from tests.support.bank import Bank, city_bank
from tests.support.citizen import credential_refs, issue_record, sign_up
from tests.support.portal import form_token
from tests.support.samples import ISSUER_DID, ISSUER_KEY
from tests.support.verify import ISSUER_ID, MemoryLedger, anchored, signed
from verify.cli import print_reports
from verify.context import Context

TEXT = f"{{{SVG_NAMESPACE}}}text"


@pytest.fixture
def bank(runtime: Runtime) -> Bank:
    """The small city bank with Wang Fang signed up (through the form) and her record issued."""
    city = city_bank(runtime)
    sign_up(city.client)
    issue_record(city)
    return city


def drawn(svg: bytes) -> list[str]:
    """The text a badge draws, line by line."""
    return [element.text or "" for element in ET.fromstring(svg).iter(TEXT)]


def one_pixel_png() -> bytes:
    """A 1×1 grey PNG."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(
            ">I", zlib.crc32(kind + body))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\x80")) + chunk(b"IEND", b""))


def report(client, data: bytes, name: str, *, raw: bool = False) -> dict:
    """The API's report on an uploaded file (or a raw body), without the time it was checked at
    (the second may turn between two reports)."""
    if raw:
        response = client.post("/api/v1/verify", data=data, content_type="image/svg+xml")
    else:
        response = client.post("/api/v1/verify", data={"file": (io.BytesIO(data), name)},
                               content_type="multipart/form-data")
    assert response.status_code == 200
    body = response.get_json()
    for check in body["checks"]:
        check["details"].pop("checked_at", None)
    return body


def test_the_badge_downloads_beside_the_json_with_the_credential_inside(bank: Bank) -> None:
    client = bank.client
    ref = credential_refs(client)[0]
    page = client.get(f"/me/credentials/{ref}").get_data(as_text=True)
    badge = client.get(f"/me/credentials/{ref}/badge.svg")
    credential = client.get(f"/me/credentials/{ref}/credential.json").get_json()
    root = ET.fromstring(badge.data)
    assert f'href="/me/credentials/{ref}/badge.svg" download data-download-badge' in page
    assert (badge.status_code, badge.mimetype, badge.headers["Content-Disposition"],
            badge.headers["Content-Security-Policy"], badge.headers["X-Content-Type-Options"],
            badge.headers["Cache-Control"]) == (
        200, "image/svg+xml", f'attachment; filename="badge-{ref}.svg"', BADGE_POLICY,
        "nosniff", "no-store")
    assert (root.tag, root[0].tag) == (f"{{{SVG_NAMESPACE}}}svg",
                                       f"{{{OB3_NAMESPACE}}}credential")
    assert json.loads(extract_svg(badge.data)) == credential
    assert drawn(badge.data) == [
        "Lifelong Learning Credit Bank", "4", "credits", "Supply Chain", "Management",
        "Beijing Open University", "Completed on " + _completed(credential)]


def test_the_badge_speaks_the_page_s_language(bank: Bank) -> None:
    client = bank.client
    ref = credential_refs(client)[0]
    badge = client.get(f"/me/credentials/{ref}/badge.svg?lang=zh")
    lines = drawn(badge.data)
    root = ET.fromstring(badge.data)
    assert (lines[:3], lines[-1][:4]) == (["终身学习学分银行", "4", "学分"], "完成日期")
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "zh"


def test_only_the_learner_gets_her_badge(bank: Bank) -> None:
    client = bank.client
    ref = credential_refs(client)[0]
    stranger = client.application.test_client()
    assert client.get("/me/credentials/0123456789ab/badge.svg").status_code == 404
    assert stranger.get(f"/me/credentials/{ref}/badge.svg").status_code in (302, 303)


def test_a_dropped_badge_gets_the_same_report_as_its_json(bank: Bank) -> None:
    client = bank.client
    refs = credential_refs(client)
    verifier = client.application.test_client()
    verdicts = []
    for ref in refs:
        text = client.get(f"/me/credentials/{ref}/credential.json").data
        badge = client.get(f"/me/credentials/{ref}/badge.svg").data
        as_json = report(verifier, text, "credential.json")
        assert report(verifier, badge, "badge.svg") == as_json
        assert report(verifier, badge, "badge.svg", raw=True) == as_json
        verdicts.append(as_json["verdict"])
    assert verdicts == ["VALID"] * 5


def test_a_baked_png_is_verified_like_its_json(bank: Bank) -> None:
    client = bank.client
    ref = credential_refs(client)[0]
    credential = client.get(f"/me/credentials/{ref}/credential.json").get_json()
    verifier = client.application.test_client()
    png = bake_png(one_pixel_png(), credential)
    assert report(verifier, png, "badge.png") == report(
        verifier, json.dumps(credential).encode(), "credential.json")


def test_a_tampered_or_hostile_badge_is_invalid_with_the_check_named(bank: Bank) -> None:
    client = bank.client
    ref = credential_refs(client)[0]
    badge = client.get(f"/me/credentials/{ref}/badge.svg").data.decode()
    tampered = badge.replace('"creditsEarned":4', '"creditsEarned":40', 1)
    assert tampered != badge
    bomb = ('<!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
            + badge.split("\n", 1)[1])
    twice = badge.replace("</svg>", re.search(
        r"<openbadges:credential>.*?</openbadges:credential>", badge, re.S).group() + "</svg>")
    verifier = client.application.test_client()
    outcomes = [(body["verdict"], [(check["name"], check["code"]) for check in body["checks"]
                                   if check["status"] == "INVALID"])
                for body in (report(verifier, text.encode(), "badge.svg")
                             for text in (tampered, bomb, twice))]
    assert outcomes == [("INVALID", [("proof", "SIGNATURE_INVALID"),
                                     ("anchor", "MERKLE_PROOF_INVALID")]),
                        ("INVALID", [("parse", "BADGE_UNREADABLE")]),
                        ("INVALID", [("parse", "BADGE_UNREADABLE")])]
    answer = verifier.post("/api/v1/verify", data={"file": (io.BytesIO(bomb.encode()), "b.svg")},
                           content_type="multipart/form-data").get_json()
    assert answer["checks"][0]["message"] == (
        "The image declares a document type (DTD), which a badge may not.")


def test_the_verify_page_takes_a_dropped_badge(bank: Bank) -> None:
    client = bank.client
    ref = credential_refs(client)[0]
    badge = client.get(f"/me/credentials/{ref}/badge.svg").data
    credential = client.get(f"/me/credentials/{ref}/credential.json").get_json()
    employer = client.application.test_client()
    token = form_token(employer, "/verify")
    sent = employer.post("/verify", data={"csrf_token": token, "source": "file",
                                          "file": (io.BytesIO(badge), "badge.svg")},
                         content_type="multipart/form-data")
    result = employer.get(sent.headers["Location"]).get_data(as_text=True)
    refused = employer.post("/verify", data={"csrf_token": token, "source": "file",
                                             "file": (io.BytesIO(badge + badge), "two.svg")},
                            content_type="multipart/form-data")
    form = employer.get("/verify").get_data(as_text=True)
    assert (sent.status_code, re.findall(r'data-verdict="([A-Z]+)"', result)[:1]) == (
        303, ["VALID"])
    assert credential["credentialSubject"]["achievement"]["name"] in result
    assert refused.status_code == 400
    assert "does not carry one Open Badges 3.0 credential" in refused.get_data(as_text=True)
    assert 'accept=".json,application/json,application/ld+json,.svg,image/svg+xml' in form


def test_a_shared_credential_offers_its_badge_to_anyone(bank: Bank) -> None:
    client = bank.client
    ref = credential_refs(client)[0]
    made = client.post(f"/me/credentials/{ref}/share",
                       data={"csrf_token": form_token(client, "/me"), "days": "30"})
    token = made.headers["Location"].rsplit("/", 1)[1]
    employer = client.application.test_client()
    page = employer.get(f"/s/{token}").get_data(as_text=True)
    badge = employer.get(f"/s/{token}/badge.svg")
    credential = client.get(f"/me/credentials/{ref}/credential.json").get_json()
    assert f'href="/s/{token}/badge.svg"' in page
    assert (badge.status_code, badge.mimetype, badge.headers["Content-Disposition"],
            badge.headers["Content-Security-Policy"]) == (
        200, "image/svg+xml", 'attachment; filename="badge.svg"', BADGE_POLICY)
    assert json.loads(extract_svg(badge.data)) == credential
    client.post(f"/me/shares/{token}/withdraw", data={"csrf_token": form_token(client, "/me")})
    assert employer.get(f"/s/{token}/badge.svg").status_code == 404


def _completed(credential: dict) -> str:
    """The long English date the badge shows for the credential's completion."""
    year, month, day = credential["credentialSubject"]["activityEndDate"].split("-")
    months = ["January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December"]
    return f"{months[int(month) - 1]} {int(day)}, {year}"


def test_the_verify_command_reads_a_baked_badge_like_its_json(capsys) -> None:
    ledger = MemoryLedger()
    ledger.accredit(ISSUER_DID)
    ledger.register_key(ISSUER_ID, ISSUER_KEY.public_key)
    [credential] = anchored(ledger, [signed()])
    raws = [json.dumps(credential).encode(), bake_svg(credential, BadgeFace("CS101", "Demo")),
            bake_png(one_pixel_png(), credential)]
    status = print_reports(["c.json", "c.svg", "c.png"], raws, Context(ledger), as_json=True)
    documents = json.loads(capsys.readouterr().out)
    checks = [[(check["name"], check["status"], check["message"]) for check in document["checks"]
               if check["name"] != "validity"] for document in documents]
    assert (status, [document["verdict"] for document in documents]) == (0, ["VALID"] * 3)
    assert checks[1] == checks[0] and checks[2] == checks[0]
