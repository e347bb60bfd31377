"""The consents page over the Flask test client, on both databases: each consent with its purpose,
the words and version given under, when, by whom and its status; withdrawing (CSRF) with its
effect; the account consent ends only by closing; the apply form shows the words it gives."""

from __future__ import annotations

import re

from bank.consents import TEXTS
from portal.runtime import Runtime
from tests.support.bank import LEARNER_ID, OTHER_ID, city_bank, outcome
from tests.support.citizen import sign_up
from tests.support.portal import form_token


def html(response) -> str:
    """A response's HTML."""
    return response.get_data(as_text=True)


def consents_on(page: str) -> list[tuple[str, str]]:
    """The purposes and statuses of the consents a page lists, in order."""
    return re.findall(r'data-purpose="([a-z-]+)" data-status="([a-z-]+)"', page)


def withdraw_action(page: str, purpose: str) -> str:
    """The withdraw form's action of the first consent of a purpose."""
    section = page[page.index(f'data-purpose="{purpose}"'):]
    match = re.search(r'action="(/me/consents/[^"]+/withdrawal)"', section)
    assert match is not None
    return match.group(1)


def test_a_learner_sees_and_withdraws_consents_in_both_languages(runtime: Runtime) -> None:
    bank = city_bank(runtime)
    client = bank.client
    sign_up(client)
    bank.issue("bjou", [outcome("LOG201", "A")])

    form = html(client.get("/me/applications"))
    assert f'data-application-consent="{TEXTS["application"].version}"' in form
    assert TEXTS["application"].en in form
    applied = client.post("/me/applications", data={
        "csrf_token": form_token(client, "/me/applications"), "programme": "bjou:LOG-ASSOC@1"})
    assert applied.status_code == 303
    saved = client.post("/me/notices/preferences", data={
        "csrf_token": form_token(client, "/me/notices"), "email": "wang@example.cn",
        "kinds": ["decision_made"]})
    assert saved.status_code == 303

    page = html(client.get("/me/consents"))
    assert consents_on(page) == [("email-notices", "given"), ("application", "given"),
                                 ("account", "given")]
    assert page.count("data-withdraw") == 2 and "data-close-account" in page
    assert TEXTS["account"].en in page and f"version {TEXTS['account'].version}" in page
    chinese = html(client.get("/me/consents?lang=zh"))
    assert TEXTS["account"].zh in chinese and TEXTS["account"].en not in chinese
    client.get("/me/consents?lang=en")

    token = form_token(client, "/me/consents")
    email = withdraw_action(page, "email-notices")
    assert client.post(email, data={}).status_code == 400
    done = client.post(email, data={"csrf_token": token})
    assert (done.status_code, done.location) == (303, "/me/consents?done=email-erased")
    page = html(client.get(done.location))
    assert "your e-mail address is erased" in page
    assert 'value="wang@example.cn"' not in html(client.get("/me/notices"))
    application = client.post(withdraw_action(page, "application"), data={"csrf_token": token})
    assert application.location == "/me/consents?done=application-withdrawn"
    page = html(client.get(application.location))
    assert consents_on(page) == [("email-notices", "withdrawn"), ("application", "withdrawn"),
                                 ("account", "given")]
    assert 'data-status="withdrawn"' in html(client.get("/me/applications"))
    assert "data-withdraw" not in page

    stranger = client.application.test_client()
    sign_up(stranger, OTHER_ID)
    wangs = re.findall(r'data-consent="([0-9a-f-]+)"', page)
    others = [stranger.post(f"/me/consents/{consent}/withdrawal",
                            data={"csrf_token": form_token(stranger, "/me/consents")}).status_code
              for consent in wangs]
    assert others == [404, 404, 404]
    assert stranger.get("/me/consents").status_code == 200
    assert client.application.test_client().get("/me/consents").location.startswith(
        "/sign-in")
    assert LEARNER_ID not in page


def test_the_account_consent_is_withdrawn_only_by_closing(runtime: Runtime) -> None:
    bank = city_bank(runtime)
    client = bank.client
    sign_up(client)
    page = html(client.get("/me/consents"))
    account_id = re.search(r'data-consent="([0-9a-f-]+)" data-purpose="account"', page)
    assert account_id is not None
    refused = client.post(f"/me/consents/{account_id.group(1)}/withdrawal",
                          data={"csrf_token": form_token(client, "/me/consents")})
    assert refused.status_code == 409
    assert "This consent ends only when you close your account." in html(refused)
    assert consents_on(html(refused)) == [("account", "given")]


def test_the_consents_page_in_chinese_after_the_translation_merge(runtime: Runtime) -> None:
    bank = city_bank(runtime)
    client = bank.client
    sign_up(client)
    chinese = html(client.get("/me/consents?lang=zh"))
    assert "<h1>我的同意</h1>" in chinese
    assert "你的学习账户" in chinese and "撤回本同意" in TEXTS["account"].zh
