"""The pre-approval pages over the Flask test client: a learner asks, sees only their own
agreements; an institution decides only its own requests; forms need their CSRF token; an
approved agreement downloads as a signed credential and the learner applies under it."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy import select

from bank.applications import first_review, second_review
from bank.staff import add_staff
from issuers.tables import credentials
from portal.runtime import Runtime
from tests.support.bank import OTHER_ID, RULE_SET, city_bank, outcome
from tests.support.citizen import sign_up
from tests.support.portal import form_token

PROGRAMME = f"{RULE_SET}@1"
STAFF_PASSWORD = "registrar password 1"


def html(response) -> str:
    return response.get_data(as_text=True)


def staff_client(client: FlaskClient, username: str) -> FlaskClient:
    signed = client.post("/staff/sign-in", data={
        "csrf_token": form_token(client, "/staff/sign-in"), "username": username,
        "password": STAFF_PASSWORD})
    assert signed.status_code == 303, html(signed)
    return client


def test_pre_approval_pages_are_authorised_and_honoured(runtime: Runtime) -> None:
    bank = city_bank(runtime)
    app = bank.client.application
    learner, other = app.test_client(), app.test_client()
    sign_up(learner)
    sign_up(other, OTHER_ID)
    for issuer in ("bjou", "hdvc"):
        add_staff(runtime.engine, f"{issuer}-registrar", role="institution", issuer_id=issuer,
                  actor="cli:test", password=STAFF_PASSWORD)
    complete_by = (datetime.now(UTC).date() + timedelta(days=120)).isoformat()
    asked = {"programme": PROGRAMME, "unit": ["hdvc:WH110", "hdvc:MATH110"],
             "complete_by": complete_by}

    assert app.test_client().get("/me/agreements").status_code in (302, 303)
    forged = learner.post("/me/agreements", data={**asked, "csrf_token": "forged"})
    assert forged.status_code == 400
    token = form_token(learner, "/me/agreements")
    late = learner.post("/me/agreements", data={**asked, "complete_by": "2020-01-01",
                                                "csrf_token": token})
    assert late.status_code == 422
    assert 'id="complete_by-error"' in html(late)
    made = learner.post("/me/agreements", data={**asked, "csrf_token": token})
    assert made.status_code == 303
    path = made.headers["Location"]
    agreement_id = path.rsplit("/", 1)[1]
    page = html(learner.get(path))
    assert 'data-status="requested"' in page and "data-agreed-credits>7<" in page

    assert other.get(path).status_code == 404
    assert other.post(f"{path}/apply", data={
        "csrf_token": form_token(other, "/me/agreements")}).status_code == 404
    assert agreement_id not in html(other.get("/me/agreements"))

    hdvc = staff_client(app.test_client(), "hdvc-registrar")
    assert agreement_id not in html(hdvc.get("/institution/agreements"))
    assert hdvc.post(f"/institution/agreements/{agreement_id}", data={
        "verdict": "approve", "csrf_token": form_token(hdvc, "/institution/agreements")}
    ).status_code == 404
    bjou = staff_client(app.test_client(), "bjou-registrar")
    console = "/institution/agreements"
    assert f'data-agreement="{agreement_id}"' in html(bjou.get(console))
    assert bjou.post(f"{console}/{agreement_id}", data={"verdict": "approve"}).status_code == 400
    unreasoned = bjou.post(f"{console}/{agreement_id}", data={
        "verdict": "refuse", "reasons": "", "csrf_token": form_token(bjou, console)})
    assert unreasoned.status_code == 303
    assert "a refusal states its reasons" in html(bjou.get(console))
    approved = bjou.post(f"{console}/{agreement_id}", data={
        "verdict": "approve", "csrf_token": form_token(bjou, console)})
    assert approved.status_code == 303

    with runtime.engine.connect() as connection:
        batch = connection.execute(select(credentials.c.batch_id).where(
            credentials.c.session == agreement_id)).scalar_one()
    bank.worker.drain({batch})
    page = html(learner.get(path))
    assert 'data-credential="anchored"' in page and 'id="apply"' not in page
    signed = json.loads(learner.get(f"{path}/agreement.json").data)
    assert signed["type"] == ["VerifiableCredential", "LearningAgreementCredential"]
    assert other.get(f"{path}/agreement.json").status_code == 404
    shared = learner.post(f"{path}/share", data={"days": "30",
                                                 "csrf_token": form_token(learner, path)})
    assert shared.status_code == 303
    public = html(app.test_client().get(
        re.sub(r"^/me/shares/", "/s/", shared.headers["Location"])))
    assert (public.count('data-status="VALID"'), 'data-verdict="VALID"' in public) == (8, True)

    bank.issue("hdvc", [outcome("WH110", "B"), outcome("MATH110", "A")])
    assert 'id="apply"' in html(learner.get(path))
    applied = learner.post(f"{path}/apply", data={"csrf_token": form_token(learner, path)})
    assert applied.status_code == 303
    application_id = applied.headers["Location"].rsplit("/", 1)[1]
    first_review(runtime.engine, application_id, "bjou", verdict="approve", reasons=[])
    second_review(runtime.engine, application_id, "city-centre", verdict="approve", reasons=[])
    decided = html(learner.get(applied.headers["Location"]))
    assert 'data-agreement-honoured="2" data-agreement-unmet="0"' in decided
