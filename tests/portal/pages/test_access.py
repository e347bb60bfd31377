"""Access by purpose over the Flask test client, on both databases: staff read a learner's
application or deposit only for a task, every read is logged and shown to the learner (page and
API), another institution is refused with nothing logged, and queues carry no identity."""

from __future__ import annotations

import re
from html import unescape

from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from bank.access import Reader, log_read
from bank.staff import INSTITUTION, OPERATOR, add_staff
from bank.tables import access_log, learners
from portal.pages.citizen import credential_ref
from portal.runtime import Runtime
from tests.support.bank import LEARNER_ID, RULE_SET, Bank, bearer, city_bank, outcome
from tests.support.citizen import sign_up
from tests.support.portal import form_token

STAFF_PASSWORD = "registrar password 1"
NAME = "Wang Fang"
ROW = re.compile(r'<tr data-read="(\d+)" data-purpose="([a-z-]+)">(.*?)</tr>', re.S)


def html(response) -> str:
    return response.get_data(as_text=True)


def staff_client(bank: Bank, username: str) -> FlaskClient:
    client = bank.client.application.test_client()
    signed = client.post("/staff/sign-in", data={
        "csrf_token": form_token(client, "/staff/sign-in"), "username": username,
        "password": STAFF_PASSWORD})
    assert signed.status_code == 303, html(signed)
    return client


def logged(runtime: Runtime) -> list[tuple[str, str, str, str, str]]:
    with runtime.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(
            select(access_log.c.actor, access_log.c.organisation, access_log.c.what,
                   access_log.c.object_id, access_log.c.purpose).order_by(access_log.c.id))]


def shown(client: FlaskClient, path: str = "/me/access") -> list[tuple[str, str]]:
    """The rows of the learner's page: (purpose, the row's text)."""
    return [(purpose, re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", cells))).strip())
            for _id, purpose, cells in ROW.findall(html(client.get(path)))]


def test_reads_by_staff_are_logged_and_shown_to_the_learner(runtime: Runtime) -> None:
    bank = city_bank(runtime)
    learner = bank.client.application.test_client()
    sign_up(learner)
    did = runtime.accounts.identity(LEARNER_ID)[0]
    with runtime.engine.begin() as connection:
        connection.execute(update(learners).where(learners.c.did == did).values(
            display_name=NAME))
        learner_id = connection.execute(select(learners.c.id).where(
            learners.c.did == did)).scalar_one()
    token = bank.log_in(LEARNER_ID)
    for username, role, issuer in (("bjou-registrar", INSTITUTION, "bjou"),
                                   ("hdvc-registrar", INSTITUTION, "hdvc"),
                                   ("centre-duty", OPERATOR, None)):
        add_staff(runtime.engine, username, role=role, issuer_id=issuer, actor="cli:test",
                  password=STAFF_PASSWORD)
    (issued,) = bank.issue("bjou", [outcome("LOG201", "A")])
    bank.client.put("/api/v1/learners/me/target", headers=token,
                    json={"rule_set_id": RULE_SET, "version": 1})
    application = bank.client.post("/api/v1/applications", headers=token, json={}).json["id"]
    bjou, hdvc = staff_client(bank, "bjou-registrar"), staff_client(bank, "hdvc-registrar")
    operator = staff_client(bank, "centre-duty")
    path = f"/institution/applications/{application}"

    # Queues show the application's id, programme and status, never who the learner is.
    queue = html(bjou.get("/institution/applications"))
    listed = bank.client.get("/api/v1/applications", headers=bearer(bank.tokens["bjou"])).json
    assert (application[:8] in queue, did in queue, NAME in queue) == (True, False, False)
    assert [sorted(item) for item in listed["applications"]] == [
        ["agreement_id", "id", "programme", "rule_set", "status", "submitted_at", "updated_at"]]
    assert logged(runtime) == []

    # Another institution, and the centre before the second review, are refused: nothing logged.
    refused = (hdvc.get(path).status_code,
               bank.client.get(f"/api/v1/applications/{application}",
                               headers=bearer(bank.tokens["hdvc"])).status_code,
               operator.get(f"/operator/applications/{application}").status_code,
               bank.client.get(f"/api/v1/applications/{application}",
                               headers=bearer(bank.operator)).status_code)
    assert (refused, logged(runtime)) == ((403, 403, 403, 403), [])

    # The receiving institution's reviewer opens it, on the page and through the API.
    page = bjou.get(path)
    answer = bank.client.get(f"/api/v1/applications/{application}",
                             headers=bearer(bank.tokens["bjou"]))
    assert (page.status_code, answer.status_code, answer.json["id"]) == (200, 200, application)
    assert logged(runtime) == [
        ("institution:bjou-registrar", "bjou", "application", application, "first-review"),
        ("institution:bjou", "bjou", "application", application, "first-review")]

    # The learner sees both reads: when, who, what (linked to their application) and why.
    rows = shown(learner)
    assert [purpose for purpose, _text in rows] == ["first-review", "first-review"]
    assert rows[1][1].endswith("Beijing Open University (bjou-registrar) Application "
                               "the institution's review of your application")
    assert f'href="/me/applications/{application}"' in html(learner.get("/me/access"))
    api = bank.client.get("/api/v1/learners/me/access", headers=token).json
    assert [(read["actor"], read["organisation_name"]["en"], read["what"], read["object_id"],
             read["purpose"]) for read in api["reads"]] == [
        ("institution:bjou", "Beijing Open University", "application", application,
         "first-review"),
        ("institution:bjou-registrar", "Beijing Open University", "application", application,
         "first-review")]
    assert api["next"] is None

    # A deposit that did not verify: the centre's queue shows no identity or evidence; the
    # operator opens it to check it, and that read is logged.
    junk = {"id": "urn:uuid:3f1c0e0a-2222-4d2b-9a51-2f0c8e1d4a77", "type": ["Nothing"],
            "credentialSubject": {"id": did, "name": NAME}}
    deposit = bank.client.post("/api/v1/learners/me/deposits", headers=token, json={
        "credential": junk, "evidence": "a scan of my certificate"}).json["id"]
    queue = html(operator.get("/operator/deposits"))
    api_queue = bank.client.get("/api/v1/deposits", headers=bearer(bank.operator)).json
    assert f'data-deposit="{deposit}"' in queue
    assert [value in text for text in (queue, str(api_queue))
            for value in (did, NAME, junk["id"], "a scan of my certificate")] == [False] * 8
    checked = operator.get(f"/operator/deposits/{deposit}")
    assert (checked.status_code, "a scan of my certificate" in html(checked)) == (200, True)
    assert logged(runtime)[-1] == ("operator:centre-duty", "centre", "deposit", deposit,
                                   "deposit-check")
    reviewed = operator.post(f"/operator/deposits/{deposit}/review", data={
        "verdict": "reject", "reasons": "not a credential",
        "csrf_token": form_token(operator, f"/operator/deposits/{deposit}")})
    assert reviewed.status_code == 303
    assert len(logged(runtime)) == 4
    assert operator.get(f"/operator/deposits/{deposit}").status_code == 403
    assert len(logged(runtime)) == 4
    assert shown(learner)[0] == ("deposit-check", shown(learner)[0][1])
    assert shown(learner)[0][1].endswith(
        "the city learning centre (centre-duty) Deposit checking a credential you deposited")

    # Paging, newest first, by the id of the oldest read seen.
    reader = Reader("institution:bjou-registrar", "bjou")
    with runtime.engine.begin() as connection:
        for _ in range(41):
            log_read(connection, reader, learner_id=learner_id, what="application",
                     object_id=application, purpose="first-review")
        total = connection.execute(select(func.count()).select_from(access_log)).scalar()
    pages, cursor = [], None
    while True:
        query = "?limit=20" + (f"&before={cursor}" if cursor else "")
        answer = bank.client.get(f"/api/v1/learners/me/access{query}", headers=token).json
        pages.append([read["id"] for read in answer["reads"]])
        cursor = answer["next"]
        if cursor is None:
            break
    ids = [read_id for page_ids in pages for read_id in page_ids]
    assert ([len(page_ids) for page_ids in pages], ids) == (
        [20, 20, 5], sorted(ids, reverse=True))
    assert total == 45
    first = html(learner.get("/me/access"))
    older = re.search(r'href="(/me/access\?before=\d+)"', first)
    assert older is not None and len(ROW.findall(first)) == 20
    assert [int(read_id) for read_id, _p, _c in ROW.findall(html(learner.get(older.group(1))))
            ] == ids[20:40]
    assert learner.get("/me/access?before=x").status_code == 400
    wrong = bank.client.get("/api/v1/learners/me/access?before=0", headers=token)
    assert (wrong.status_code, list(wrong.json["errors"]["query"])) == (422, ["before"])

    # The issuing institution looks up a credential it issued (it names the learner): logged.
    looked_up = bank.client.get(f"/api/v1/credentials/{issued}",
                                headers=bearer(bank.tokens["bjou"]))
    assert (looked_up.status_code, logged(runtime)[-1]) == (
        200, ("institution:bjou", "bjou", "credential", issued, "issuer-record"))
    assert f'href="/me/credentials/{credential_ref(issued)}"' in html(learner.get("/me/access"))


def test_the_page_speaks_chinese(runtime: Runtime) -> None:
    bank = city_bank(runtime)
    learner = bank.client.application.test_client()
    sign_up(learner)
    learner_id = runtime.accounts.by_did(runtime.accounts.identity(LEARNER_ID)[0])["id"]
    with runtime.engine.begin() as connection:
        log_read(connection, Reader("operator:wu", "centre"), learner_id=learner_id,
                 what="deposit", object_id="d-1", purpose="deposit-check")
        log_read(connection, Reader("institution:li", "bjou"), learner_id=learner_id,
                 what="application", object_id="a-1", purpose="first-review")
    rows = shown(learner, "/me/access?lang=zh")
    assert (rows[1][1].endswith("城市学习中心 (wu) 存入 核查你存入的证书"),
            rows[0][1].endswith("Beijing Open University (li) 申请 院校对你的申请的初审")) == (
        True, True)
