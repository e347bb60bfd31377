"""The portal's pages over the Flask test client: languages, forms, result and share links."""

from __future__ import annotations

import json
import time
from dataclasses import replace

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from bank.errors import InvalidShare
from bank.sharing import save_result, share, share_token, shared
from bank.tables import shared_links
from portal.app import create_app
from portal.explain import CHECK_NAMES, PASSED, REASONS
from portal.runtime import Runtime
from tests.support.paths import ROOT
from tests.support.portal import at_localhost, form_token, runtime_issuer
from verify import CHECKS
from verify.codes import Code

TRANSLATIONS = ROOT / "portal" / "translations"
DAY = 24 * 3600
MAX_BYTES = 1024


@pytest.fixture
def client(runtime: Runtime):
    """A test client of the portal (small credential limit, public URL http://localhost)."""
    app = create_app(at_localhost(runtime), {"TESTING": True, "MAX_CREDENTIAL_BYTES": 64 * 1024},
    )
    return app.test_client()


@pytest.fixture
def anchored(runtime: Runtime) -> list[dict]:
    """Two anchored credentials of the accredited sample issuer."""
    issuer = runtime_issuer(runtime)
    return issuer.anchor([issuer.sign(1), issuer.sign(2)])


def page(response) -> str:
    """A response's HTML."""
    return response.get_data(as_text=True)


def verdict_of(html: str) -> str:
    """The verdict a result page shows (its data-verdict attribute)."""
    return html.split('data-verdict="', 1)[1].split('"', 1)[0]


def plain(value: object) -> object:
    """A message id or string, plural forms as a tuple (.mo files read them as lists)."""
    return tuple(value) if isinstance(value, list | tuple) else value


def entries(catalog: Catalog) -> dict[object, object]:
    """A catalogue's translations as {id: string}."""
    return {plain(m.id): plain(m.string) for m in catalog if m.id}


def test_every_check_and_reason_code_has_a_plain_explanation() -> None:
    names = {check.NAME for check in CHECKS}
    assert (set(CHECK_NAMES), set(PASSED), set(REASONS)) == (names, names, set(Code))


def test_the_chinese_catalogue_is_complete_and_compiled() -> None:
    with (TRANSLATIONS / "messages.pot").open("rb") as handle:
        template = read_po(handle)
    with (TRANSLATIONS / "zh" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        chinese = read_po(handle)
    with (TRANSLATIONS / "zh" / "LC_MESSAGES" / "messages.mo").open("rb") as handle:
        compiled = read_mo(handle)
    ids = {message.id for message in template if message.id}
    assert {message.id for message in chinese if message.id} == ids
    assert [message.id for message in chinese if message.id and not message.string] == []
    assert entries(compiled) == entries(chinese)


@pytest.mark.parametrize(
    ("headers", "query", "expected"),
    [
        ({}, "", ("en", "Verify a credential")),
        ({"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}, "", ("zh-Hans", "核验证书")),
        ({"Accept-Language": "fr-FR"}, "", ("en", "Verify a credential")),
        ({"Accept-Language": "zh-CN"}, "?lang=en", ("en", "Verify a credential")),
        ({}, "?lang=zh", ("zh-Hans", "核验证书")),
    ],
)
def test_the_language_comes_from_the_link_else_the_browser(client, headers, query, expected):
    html = page(client.get(f"/verify{query}", headers=headers))
    lang = html.split('<html lang="', 1)[1].split('"', 1)[0]
    heading = html.split("<h1>", 1)[1].split("</h1>", 1)[0]
    assert (lang, heading) == expected


def test_a_chosen_language_is_remembered_in_a_cookie(client) -> None:
    response = client.get("/?lang=zh")
    assert response.headers["Set-Cookie"].startswith("lang=zh;")
    assert '<html lang="zh-Hans">' in page(client.get("/verify", headers={"Accept-Language": "en"}))


def test_a_form_without_its_csrf_token_is_refused(client, anchored) -> None:
    response = client.post("/verify", data={"source": "credential", "credential": "{}"})
    assert (response.status_code, "This form has expired" in page(response)) == (400, True)


def test_the_api_needs_no_csrf_token(client, anchored) -> None:
    response = client.post("/api/v1/verify", json=anchored[0])
    assert (response.status_code, response.get_json()["verdict"]) == (200, "VALID")


def test_a_pasted_credential_redirects_to_its_result_link(client, anchored) -> None:
    data = {
        "csrf_token": form_token(client),
        "source": "credential",
        "credential": json.dumps(anchored[0]),
    }
    response = client.post("/verify", data=data)
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/verify/result/")
    html = page(client.get(response.headers["Location"]))
    assert verdict_of(html) == "VALID"
    assert f'value="http://localhost{response.headers["Location"]}"' in html


def test_an_empty_or_oversized_submission_is_explained_on_the_form(client) -> None:
    token = form_token(client)
    empty = client.post("/verify", data={"csrf_token": token, "source": "file"})
    large = client.post(
        "/verify",
        data={"csrf_token": token, "source": "credential", "credential": "x" * (64 * 1024 + 1)},
    )
    assert (empty.status_code, large.status_code) == (400, 400)
    assert '<p class="field-error" id="file-error">Choose a credential file to check.</p>' in page(
        empty
    )
    assert 'id="credential-error">This is larger than 64 KB' in page(large)
    assert 'aria-invalid="true"' in page(large)


def test_a_result_link_checks_again_so_a_later_revocation_shows(runtime: Runtime) -> None:
    # Chain facts are cached for `verify_cache_seconds` (tests/verify/test_cache.py); 0 here.
    runtime.settings = replace(runtime.settings, verify_cache_seconds=0)
    client = create_app(runtime, {"TESTING": True}).test_client()
    issuer = runtime_issuer(runtime)
    credential, _other = issuer.anchor([issuer.sign(1), issuer.sign(2)])
    token = save_result(runtime.engine, json.dumps(credential), now=time.time(), lifetime=DAY)
    assert verdict_of(page(client.get(f"/verify/result/{token}"))) == "VALID"
    root = bytes.fromhex(credential["proof"][1]["merkleRoot"][2:])
    issuer.chain.ledger.transact(issuer.account, "CredentialAnchor", "revokeRoot", root, 3)
    html = page(client.get(f"/verify/result/{token}?lang=zh"))
    assert verdict_of(html) == "INVALID"
    assert "颁发机构已撤销该证书所在的整批证书。" in html


def test_an_unknown_or_expired_result_link_is_a_404_page(client, runtime: Runtime) -> None:
    expired = save_result(runtime.engine, "{}", now=time.time() - 2 * DAY, lifetime=DAY)
    for token in (expired, "no-such-token"):
        response = client.get(f"/verify/result/{token}")
        assert (
            response.status_code,
            "This result link is unknown or has expired." in page(response),
        ) == (
            404,
            True,
        )


def test_a_share_link_shows_the_credential_a_qr_code_and_a_download(
    client, runtime: Runtime, anchored
) -> None:
    text = json.dumps(anchored[0])
    token = share(runtime.engine, text, "credential", now=time.time(), lifetime=DAY)
    html = page(client.get(f"/s/{token}"))
    assert (verdict_of(html), '<svg class="segno"' in html or "<svg" in html) == ("VALID", True)
    download = client.get(f"/s/{token}/credential.json")
    assert (download.get_data(as_text=True), download.headers["Content-Disposition"]) == (
        text,
        'attachment; filename="credential.json"',
    )


def test_withdrawn_or_expired_share_links_are_gone(client, runtime: Runtime) -> None:
    now = time.time()
    expired = share(runtime.engine, "{}", "credential", now=now - 2 * DAY, lifetime=DAY)
    withdrawn = share(runtime.engine, "{}", "transcript", now=now, lifetime=DAY)
    with runtime.engine.begin() as connection:
        connection.execute(
            shared_links.update().where(shared_links.c.token == withdrawn).values(revoked=True)
        )
    assert [shared(runtime.engine, token, now=now) for token in (expired, withdrawn)] == [
        None,
        None,
    ]
    assert [client.get(f"/s/{token}").status_code for token in (expired, withdrawn)] == [404, 404]


def test_a_share_link_is_refused_for_an_unknown_kind(runtime: Runtime) -> None:
    with pytest.raises(InvalidShare, match="kind must be one of credential, transcript"):
        share(runtime.engine, "{}", "diploma", now=time.time(), lifetime=DAY)


@pytest.mark.parametrize(
    ("url", "token"),
    [
        ("http://localhost/s/abc_DEF-123", "abc_DEF-123"),
        ("  HTTP://LOCALHOST/s/abc/ ", "abc"),
        ("https://localhost/s/abc", None),
        ("http://localhost.evil.example/s/abc", None),
        ("http://localhost/verify/result/abc", None),
        ("http://localhost/s/", None),
        ("http://localhost/s/a%2Fb", None),
        ("file:///etc/passwd", None),
    ],
)
def test_only_share_links_of_this_portal_are_accepted(url: str, token: str | None) -> None:
    assert share_token(url, {"http://localhost"}) == token


def test_the_verify_page_opens_own_share_links_and_refuses_others(client) -> None:
    own = client.get("/verify", query_string={"url": "http://localhost/s/abc"})
    other = client.get("/verify", query_string={"url": "http://169.254.169.254/s/abc"})
    assert (own.status_code, own.headers["Location"]) == (303, "/s/abc")
    assert other.status_code == 400
    assert "Only share links of this portal can be opened here" in page(other)


def test_pages_work_without_javascript_and_name_every_field(client) -> None:
    html = page(client.get("/verify"))
    for field in ("file", "credential", "url", "issuer", "unit_code"):
        assert f'<label for="{field}">' in html
        assert f'id="{field}" name="{field}"' in html
    assert html.count("<fieldset>") == 4
    assert 'href="#main"' in html
