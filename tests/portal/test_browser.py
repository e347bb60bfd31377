"""The portal in a real browser: headless Chromium driven by Playwright (tests/js/journeys); the
verify form, its result and a shared credential also on a phone (390×844, touch)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import segno

from bank.sharing import share
from portal.runtime import Runtime
from tests.support.browser import ServedPortal
from tests.support.portal import runtime_issuer

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

CHECKS = (
    "parse",
    "format",
    "proof",
    "key_binding",
    "accreditation",
    "anchor",
    "status",
    "validity",
)
DAY = 24 * 3600
# The narrowest QR code a phone's camera reads off another phone's screen, in CSS pixels.
MIN_QR_WIDTH = 240


@pytest.fixture
def credentials(runtime: Runtime, tmp_path: Path) -> dict[str, Path]:
    """An anchored credential of an accredited issuer as a file, and a tampered copy of it."""
    issuer = runtime_issuer(runtime)
    (valid, _other) = issuer.anchor([issuer.sign(1), issuer.sign(2)])
    tampered = json.loads(json.dumps(valid))
    tampered["credentialSubject"]["creditsEarned"] = 30
    files = {"valid": tmp_path / "credential.json", "tampered": tmp_path / "tampered.json"}
    files["valid"].write_text(json.dumps(valid, ensure_ascii=False, indent=2), "utf-8")
    files["tampered"].write_text(json.dumps(tampered, ensure_ascii=False, indent=2), "utf-8")
    return files


def test_a_valid_upload_shows_every_check_the_issuer_and_the_block(
    browser_page: ServedPortal, credentials: dict[str, Path]
) -> None:
    seen = browser_page.run(
        "verify", method="file", credential_path=str(credentials["valid"]), name="upload-valid"
    )
    first = seen["first"]
    assert (first["verdict"], first["checks"], first["failed"]) == (
        "VALID",
        [[name, "VALID"] for name in CHECKS],
        [],
    )
    assert (first["issuer"], first["block"].isdigit()) == ("Demo University", True)
    assert (seen["violations"], seen["problems"]) == ([], [])


def test_a_tampered_upload_is_invalid_and_names_the_failing_checks(
    browser_page: ServedPortal, credentials: dict[str, Path]
) -> None:
    seen = browser_page.run(
        "verify",
        method="file",
        credential_path=str(credentials["tampered"]),
        name="upload-tampered",
    )
    first = seen["first"]
    assert (first["verdict"], first["failed"]) == (
        "INVALID",
        ["Issuer's signature", "Record on the ledger"],
    )
    assert [status for name, status in first["checks"] if name in ("proof", "anchor")] == [
        "INVALID",
        "INVALID",
    ]
    assert (seen["violations"], seen["problems"]) == ([], [])


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_pasted_json_is_verified_and_its_result_link_reopens_the_same_result(
    browser_page: ServedPortal, credentials: dict[str, Path], device: str
) -> None:
    seen = browser_page.run(
        "verify", method="paste", credential_path=str(credentials["valid"]),
        name=f"paste-{device}", device=device,
    )
    first, reopened = seen["first"], seen["reopened"]
    assert first["verdict"] == "VALID"
    assert first["link"] == browser_page.url + first["path"]
    assert reopened == first
    assert (seen["violations"], seen["problems"], seen["narrow"]) == ([], [], [])


def test_keyboard_only_paste_and_submit_in_chinese(
    browser_page: ServedPortal, credentials: dict[str, Path]
) -> None:
    seen = browser_page.run(
        "verify",
        method="keyboard",
        credential_path=str(credentials["valid"]),
        name="keyboard-zh",
        lang="zh",
    )
    focus, first = seen["focus"], seen["first"]
    assert (focus["field"], focus["outline"] != "none", focus["button"]) == (
        "credential",
        True,
        "核验粘贴的证书",
    )
    assert (first["verdict"], first["lang"], first["title"], first["issuer"]) == (
        "VALID",
        "zh-Hans",
        "核验结果",
        "示范大学",
    )
    assert (seen["violations"], seen["problems"]) == ([], [])


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_a_share_link_shows_the_credential_verified_with_a_qr_code(
    browser_page: ServedPortal, runtime: Runtime, credentials: dict[str, Path], tmp_path: Path,
    device: str,
) -> None:
    token = share(
        runtime.engine,
        credentials["valid"].read_text("utf-8"),
        "credential",
        now=time.time(),
        lifetime=7 * DAY,
    )
    link = f"{browser_page.url}/s/{token}"
    qr_image = tmp_path / "qr.png"
    segno.make(link, error="m").save(str(qr_image), scale=8, border=4)
    seen = browser_page.run("shared", share_link=link, qr_image=str(qr_image),
                            name=f"shared-{device}", device=device)
    direct = seen["direct"]
    assert (direct["verdict"], direct["title"], direct["link"], direct["qr"]) == (
        "VALID",
        "Shared credential",
        link,
        True,
    )
    assert seen["typed"] == direct
    assert seen["scanned"] == direct
    assert "Only share links of this portal" in seen["foreign"]
    assert (seen["code"]["visible"], seen["code"]["width"] >= MIN_QR_WIDTH) == (True, True)
    assert (seen["violations"], seen["problems"], seen["narrow"]) == ([], [], [])


@pytest.mark.parametrize(
    ("locale", "first", "switched"),
    [
        ("zh-CN", ("zh-Hans", "核验证书"), ("en", "Lifelong Learning Credit Bank")),
        ("en-GB", ("en", "Verify a credential"), ("zh-Hans", "终身学习学分银行")),
    ],
)
def test_both_languages_render_and_the_switch_is_remembered(
    browser_page: ServedPortal, locale: str, first: tuple[str, str], switched: tuple[str, str]
) -> None:
    seen = browser_page.run("languages", locale=locale, name=f"languages-{locale}")
    pages = {name: (page["lang"], page["h1"]) for name, page in seen["pages"].items()}
    assert pages["first"] == first
    assert pages["switched"] == switched
    assert pages["remembered"][0] == switched[0]
    assert (seen["violations"], seen["problems"]) == ([], [])
