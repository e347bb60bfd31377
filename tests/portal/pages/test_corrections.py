"""Correction pages over the Flask test client, on both databases: the learner asks about one of
their own records (a select of only those; bad input is a form error naming the field), the
owner's console queue names no learner, opening a request is logged, the answer form (CSRF)
answers once and the learner sees the answer; the centre's queue gets deposits and accounts."""

from __future__ import annotations

import re
from html import unescape

from flask.testing import FlaskClient

from bank.staff import add_staff
from portal.runtime import Runtime
from tests.support.bank import LEARNER_ID, OTHER_ID, Bank, city_bank, outcome
from tests.support.citizen import sign_up
from tests.support.portal import form_token

STAFF_PASSWORD = "staff password 1"


def html(response) -> str:
    """A response's HTML."""
    return response.get_data(as_text=True)


def staff(bank: Bank, username: str, role: str = "institution",
          issuer_id: str | None = None) -> FlaskClient:
    """A client signed in to a console as a new staff member."""
    add_staff(bank.runtime.engine, username, role=role, issuer_id=issuer_id,
              password=STAFF_PASSWORD, actor="cli:operator")
    client = bank.client.application.test_client()
    signed = client.post("/staff/sign-in", data={
        "csrf_token": form_token(client), "username": username, "password": STAFF_PASSWORD})
    assert signed.status_code == 303, html(signed)
    return client


def options(page: str) -> list[str]:
    """The values of the record select's options."""
    select = page[page.index('name="object"'):page.index("</select>")]
    return re.findall(r'<option value="([^"]+)"', select)


def test_a_learner_asks_the_issuer_answers_in_its_console(runtime: Runtime) -> None:
    bank = city_bank(runtime)
    client = bank.client
    sign_up(client)
    [credential] = bank.issue("hdvc", [outcome("WH110", "B")])
    [theirs] = bank.issue("hdvc", [outcome("WH110", "C", national_id=OTHER_ID)])
    me = bank.client.get("/api/v1/learners/me", headers=bank.log_in(LEARNER_ID)).json["account"]

    page = html(client.get("/me/corrections"))
    assert options(page) == [f"account:{me['id']}"]
    record = html(client.get("/me"))
    opened = html(client.get(re.findall(r'href="(/me/credentials/[^"/]+)"', record)[0]))
    (ask,) = re.findall(r'href="([^"]+)" data-ask-correction', opened)
    assert options(html(client.get(unescape(ask)))) == [
        f"account:{me['id']}", f"credential:{credential}"]
    assert options(html(client.get("/me/corrections", query_string={
        "object": f"credential:{theirs}"}))) == [f"account:{me['id']}"]
    token = form_token(client, "/me/corrections")
    assert client.post("/me/corrections", data={"object": f"credential:{credential}",
                                                "request": "wrong"}).status_code == 400
    foreign = client.post("/me/corrections", data={
        "csrf_token": token, "object": f"credential:{theirs}", "request": "wrong"})
    assert foreign.status_code == 422
    assert 'id="object-error"' in html(foreign) and 'id="request-error"' not in html(foreign)
    empty = client.post("/me/corrections", data={
        "csrf_token": token, "object": f"credential:{credential}", "request": "  "})
    assert (empty.status_code, 'id="request-error"' in html(empty)) == (422, True)
    nul = client.post("/me/corrections", data={
        "csrf_token": token, "object": f"credential:{credential}", "request": "a\x00b"})
    assert nul.status_code == 400
    sent = client.post("/me/corrections", data={
        "csrf_token": token, "object": f"credential:{credential}",
        "request": "My grade was B+, not B."})
    assert (sent.status_code, sent.location) == (303, "/me/corrections?sent=1")
    page = html(client.get(sent.location))
    assert re.findall(r'data-status="([a-z]+)"', page) == ["open"]
    assert "Haidian Vocational College" in page

    hdvc = staff(bank, "hdvc-admin", issuer_id="hdvc")
    bjou = staff(bank, "bjou-admin", issuer_id="bjou")
    queue = html(hdvc.get("/institution/corrections"))
    [correction] = re.findall(r'data-correction="([0-9a-f-]+)"', queue)
    assert me["did"] not in queue and "My grade" not in queue
    assert html(bjou.get("/institution/corrections")).count("data-correction=") == 0
    assert bjou.get(f"/institution/corrections/{correction}").status_code == 404
    opened = html(hdvc.get(f"/institution/corrections/{correction}"))
    assert "My grade was B+, not B." in opened and "WH110" in opened
    access = bank.client.get("/api/v1/learners/me/access",
                             headers=bank.log_in(LEARNER_ID)).json["reads"]
    assert [(item["actor"], item["what"]) for item in access] == [
        ("institution:hdvc-admin", "correction")]
    answer = f"/institution/corrections/{correction}/answer"
    assert hdvc.post(answer, data={"status": "corrected", "answer": "x"}).status_code == 400
    token = form_token(hdvc, f"/institution/corrections/{correction}")
    bad = hdvc.post(answer, data={"csrf_token": token, "status": "maybe", "answer": ""})
    assert (bad.status_code, bad.location) == (303, f"/institution/corrections/{correction}")
    done = hdvc.post(answer, data={"csrf_token": token, "status": "corrected",
                                   "answer": "Reissued with B+."})
    assert (done.status_code, done.location) == (303, "/institution/corrections")
    assert "data-answer-form" not in html(hdvc.get(f"/institution/corrections/{correction}"))
    page = html(client.get("/me/corrections"))
    assert re.findall(r'data-status="([a-z]+)"', page) == ["corrected"]
    assert "Reissued with B+." in page
    assert client.get("/institution/corrections").status_code == 403
    assert hdvc.get("/me/corrections").status_code == 403


def test_the_centre_answers_requests_about_accounts_in_its_console(runtime: Runtime) -> None:
    bank = city_bank(runtime)
    client = bank.client
    sign_up(client)
    me = bank.client.get("/api/v1/learners/me", headers=bank.log_in(LEARNER_ID)).json["account"]
    sent = client.post("/me/corrections", data={
        "csrf_token": form_token(client, "/me/corrections"), "object": f"account:{me['id']}",
        "request": "My name is 王芳, not 王方."})
    assert sent.status_code == 303
    operator = staff(bank, "li-centre", role="operator")
    queue = html(operator.get("/operator/corrections"))
    [correction] = re.findall(r'data-correction="([0-9a-f-]+)"', queue)
    assert "王芳" not in queue and me["did"] not in queue
    opened = html(operator.get(f"/operator/corrections/{correction}"))
    assert "王芳" in opened and me["did"] in opened
    token = form_token(operator, f"/operator/corrections/{correction}")
    done = operator.post(f"/operator/corrections/{correction}/answer", data={
        "csrf_token": token, "status": "refused", "answer": "The ID card says 王方."})
    assert done.location == "/operator/corrections"
    assert "The ID card says 王方." in html(client.get("/me/corrections"))
    assert client.get("/operator/corrections").status_code == 403


def test_the_correction_pages_in_chinese_after_the_translation_merge(runtime: Runtime) -> None:
    bank = city_bank(runtime)
    client = bank.client
    sign_up(client)
    page = html(client.get("/me/corrections?lang=zh"))
    assert "<h1>申请更正</h1>" in page and "我的账户信息" in page
    operator = staff(bank, "li-centre", role="operator")
    assert "<h1>更正申请</h1>" in html(operator.get("/operator/corrections?lang=zh"))
