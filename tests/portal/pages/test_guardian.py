"""The guardian's pages, against the tests' own OpenID provider: a child under 14 cannot sign up
alone; an adult the city vouches for signs in as guardian, opens the child's account with their
consent and an activation code, reads the record (logged for the child), downloads its data and
withdraws a consent; a minor cannot be a guardian; the access ends on the fourteenth birthday;
and every guardian route answers each role as it should (on SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from html import unescape
from urllib.parse import urlsplit

import pytest
import requests
from flask.testing import FlaskClient
from sqlalchemy import insert, select, update

from bank.access import reads_of
from bank.consents import EMAIL_NOTICES, TEXTS, consents_of, give
from bank.identity import IN_PERSON, add_proof
from bank.staff import INSTITUTION, OPERATOR, add_staff
from bank.tables import applications, consents, learners
from bank.verdicts import verdicts
from issuers.tables import rule_sets
from portal.app import create_app
from portal.runtime import Runtime
from tests.support.bank import PASSWORD, RULE_SET, Bank, city_bank, outcome
from tests.support.citizen import sign_up
from tests.support.minors import born_ago, national_id
from tests.support.oidc_provider import OidcProvider
from tests.support.portal import at_localhost, form_token

CALLBACK = "http://localhost/sign-in/city/callback"
GUARDIAN_ID = national_id(born_ago(40), 11)
OTHER_GUARDIAN_ID = national_id(born_ago(35), 12)
CHILD_ID = national_id(born_ago(9), 13)
CODE = re.compile(r"data-activation-code>([^<]+)<")
WARD = re.compile(r'data-ward="([^"]+)"')


@pytest.fixture
def provider() -> Iterator[OidcProvider]:
    """The tests' OpenID provider, served on 127.0.0.1."""
    with OidcProvider() as served:
        yield served


@pytest.fixture
def bank(runtime: Runtime) -> Bank:
    """The city bank: its institutions, catalogues and rules."""
    return city_bank(runtime)


@pytest.fixture
def app(runtime: Runtime, provider: OidcProvider, bank: Bank) -> FlaskClient:
    """The portal, with city sign-on that vouches for national ids; a test client."""
    runtime.settings = replace(runtime.settings,
                               city_sign_on=provider.sign_on(CALLBACK, "national_id"))
    return create_app(at_localhost(runtime), {"TESTING": True}).test_client()


def guardian(client: FlaskClient, provider: OidcProvider, national: str = GUARDIAN_ID,
             sub: str = "city-g1") -> tuple[int, str]:
    """Sign in as guardian through the city: to the provider, its consent, back; the answer."""
    provider.person = {"sub": sub, "national_id": national, "name": "王丽"}
    start = client.get("/guardian/sign-in/city")
    assert start.status_code == 303
    consent = requests.get(start.headers["Location"], allow_redirects=False, timeout=10)
    back = urlsplit(consent.headers["Location"])
    done = client.get(f"{back.path}?{back.query}")
    return done.status_code, done.headers.get("Location", "")


def open_child(client: FlaskClient, national: str = CHILD_ID,
               name: str = "小明") -> tuple[int, str]:
    """Post the guardian's form for a child's account: the status and the page."""
    answer = client.post("/guardian/minors/new", data={
        "csrf_token": form_token(client, "/guardian/minors/new"), "national_id": national,
        "display_name": name, "consent": TEXTS["guardian"].version})
    return answer.status_code, answer.get_data(as_text=True)


def child_id(client: FlaskClient) -> str:
    """The id of the (one) child the guardian's list shows."""
    (found,) = WARD.findall(client.get("/guardian").get_data(as_text=True))
    return found


def test_a_child_under_14_cannot_sign_up_alone(app: FlaskClient) -> None:
    page = app.post("/sign-up", data={
        "csrf_token": form_token(app, "/sign-up"), "national_id": CHILD_ID,
        "password": PASSWORD, "password_again": PASSWORD})
    api = app.post("/api/v1/learners", json={"national_id": CHILD_ID, "password": PASSWORD})
    text = page.get_data(as_text=True)
    assert (page.status_code, 'id="national_id-error"' in text, "/guardian/sign-in" in text,
            "a parent or other guardian opens it" in text) == (403, True, True, True)
    assert (api.status_code, list(api.json["errors"])) == (403, ["national_id"])


def test_a_guardian_opens_a_childs_account_and_manages_it(app: FlaskClient,
                                                          provider: OidcProvider) -> None:
    assert guardian(app, provider) == (303, "/guardian")
    consent_form = app.get("/guardian/minors/new").get_data(as_text=True)
    assert f'data-consent-version="{TEXTS["guardian"].version}"' in consent_form
    refused, page = app.post("/guardian/minors/new", data={
        "csrf_token": form_token(app, "/guardian/minors/new"), "national_id": CHILD_ID}
    ).status_code, ""
    status, page = open_child(app)
    code = CODE.findall(page)
    assert (refused, status, len(code)) == (422, 200, 1)
    listed = app.get("/guardian").get_data(as_text=True)
    assert ("小明" in listed, "6–11 years" in listed) == (True, True)
    learner_id = child_id(app)
    engine = app.application.extensions["creditbank"].engine
    record = app.get(f"/guardian/minors/{learner_id}")
    exported = app.get(f"/guardian/minors/{learner_id}/export.json")
    pdf = app.get(f"/guardian/minors/{learner_id}/export.pdf")
    assert record.status_code == 200
    assert (exported.mimetype, json.loads(exported.data)["learner"]["id"]) == (
        "application/json", learner_id)
    assert (pdf.mimetype, pdf.data[:5]) == ("application/pdf", b"%PDF-")
    reads, _cursor = reads_of(engine, learner_id)
    assert sorted((read["what"], read["purpose"]) for read in reads) == [
        ("export", "guardian"), ("export", "guardian"), ("record", "guardian")]
    with engine.begin() as connection:
        email = give(connection, learner_id, EMAIL_NOTICES)
    (guardian_consent,) = [item["id"] for item in consents_of(engine, learner_id).consents
                           if item["purpose"] == "guardian"]
    token = form_token(app, f"/guardian/minors/{learner_id}")
    answers = [app.post(f"/guardian/minors/{learner_id}/consents/{consent}/withdraw",
                        data={"csrf_token": token}).status_code
               for consent in (email, guardian_consent)]
    states = {item["purpose"]: item["status"] for item in consents_of(engine, learner_id).consents}
    assert (answers, states[EMAIL_NOTICES], states["guardian"]) == (
        [303, 409], "withdrawn", "given")
    child = app.application.test_client()
    activated = child.post("/sign-up", data={
        "csrf_token": form_token(child, "/sign-up"), "national_id": CHILD_ID,
        "password": PASSWORD, "password_again": PASSWORD, "activation_code": code[0]})
    assert (activated.status_code, activated.headers["Location"]) == (303, "/me")
    assert 'data-guardian="active"' in child.get("/me").get_data(as_text=True)


def test_only_an_adult_the_city_vouches_for_signs_in_as_guardian(
        app: FlaskClient, provider: OidcProvider) -> None:
    minor = guardian(app, provider, national_id(born_ago(18, days=1), 14), sub="city-g2")
    minor_page = app.get("/guardian")
    provider.person = {"sub": "city-g3"}
    start = app.get("/guardian/sign-in/city")
    consent = requests.get(start.headers["Location"], allow_redirects=False, timeout=10)
    back = urlsplit(consent.headers["Location"])
    unvouched = app.get(f"{back.path}?{back.query}")
    adult = guardian(app, provider, national_id(born_ago(18), 15), sub="city-g4")
    assert (minor, minor_page.status_code) == ((403, ""), 302)
    assert (unvouched.status_code, 'data-refused="unvouched"' in unvouched.get_data(True)) == (
        403, True)
    assert adult == (303, "/guardian")


def test_the_guardians_access_ends_when_the_child_turns_14(app: FlaskClient,
                                                           provider: OidcProvider) -> None:
    child = national_id(born_ago(14, days=1), 16)
    guardian(app, provider)
    status, page = open_child(app, child)
    learner_id = child_id(app)
    before = app.get(f"/guardian/minors/{learner_id}").status_code
    engine = app.application.extensions["creditbank"].engine
    with engine.begin() as connection:
        connection.execute(update(learners).where(learners.c.id == learner_id).values(
            birth_date=born_ago(14, days=-1).isoformat()))
    after = [app.get(f"/guardian/minors/{learner_id}{tail}").status_code
             for tail in ("", "/export.json", "/export.pdf")]
    listed = app.get("/guardian").get_data(as_text=True)
    learner = app.application.test_client()
    learner.post("/sign-up", data={
        "csrf_token": form_token(learner, "/sign-up"), "national_id": child,
        "password": PASSWORD, "password_again": PASSWORD,
        "activation_code": CODE.findall(page)[0]})
    assert (status, before, after, WARD.findall(listed)) == (200, 200, [403, 403, 403], [])
    assert 'data-guardian="ended"' in learner.get("/me").get_data(as_text=True)


def test_every_guardian_route_answers_each_role_as_authorised(
        app: FlaskClient, provider: OidcProvider, runtime: Runtime) -> None:
    flask_app = app.application
    guardian(app, provider)
    open_child(app)
    learner_id = child_id(app)
    with runtime.engine.begin() as connection:
        email = give(connection, learner_id, EMAIL_NOTICES)
    other = flask_app.test_client()
    guardian(other, provider, OTHER_GUARDIAN_ID, sub="city-g5")
    learner = flask_app.test_client()
    sign_up(learner)
    staff = {}
    for username, role, issuer in (("hdvc-admin", INSTITUTION, "hdvc"),
                                   ("centre-operator", OPERATOR, None)):
        password = add_staff(runtime.engine, username, role=role, issuer_id=issuer,
                             actor="cli:test")
        client = flask_app.test_client()
        assert client.post("/staff/sign-in", data={
            "csrf_token": form_token(client), "username": username,
            "password": password}).status_code == 303
        staff[role] = client
    clients = {"anonymous": flask_app.test_client(), "learner": learner,
               "institution": staff[INSTITUTION], "operator": staff[OPERATOR],
               "other_guardian": other, "guardian": app}
    others = {"anonymous": 302, "learner": 403, "institution": 403, "operator": 403}
    minor = f"/guardian/minors/{learner_id}"
    matrix = [
        ("GET", "/guardian/sign-in", {role: 200 for role in clients}),
        ("GET", "/guardian", {**others, "other_guardian": 200, "guardian": 200}),
        ("GET", "/guardian/minors/new", {**others, "other_guardian": 200, "guardian": 200}),
        ("GET", minor, {**others, "other_guardian": 404, "guardian": 200}),
        ("GET", f"{minor}/export.json", {**others, "other_guardian": 404, "guardian": 200}),
        ("GET", f"{minor}/export.pdf", {**others, "other_guardian": 404, "guardian": 200}),
        ("POST", f"{minor}/consents/{email}/withdraw",
         {**others, "other_guardian": 404, "guardian": 303}),
        ("POST", "/guardian/minors/new",
         {**others, "other_guardian": 409, "guardian": 200}),
    ]
    answers = []
    for method, path, expected in matrix:
        statuses = {}
        for role in expected:
            client = clients[role]
            data = None
            if method == "POST":
                with client.session_transaction() as session:
                    session["csrf_token"] = "t"
                data = {"csrf_token": "t", "national_id": CHILD_ID,
                        "consent": TEXTS["guardian"].version}
            statuses[role] = client.open(path, method=method, data=data).status_code
        answers.append((method, path, statuses))
    assert answers == [(method, path, expected) for method, path, expected in matrix]


def test_an_institution_outside_a_review_sees_no_grade_of_a_learner_under_18(
        app: FlaskClient, bank: Bank, runtime: Runtime) -> None:
    teen, adult = national_id(born_ago(16), 17), national_id(born_ago(30), 18)
    issued = bank.issue("hdvc", [outcome("MATH110", "B", national_id=teen),
                                 outcome("MATH110", "A", national_id=adult)])
    runtime.accounts.open_in_bulk("hdvc", [teen, adult], actor="institution:hdvc")
    password = add_staff(runtime.engine, "hdvc-admin", role=INSTITUTION, issuer_id="hdvc",
                         actor="cli:test")
    staff = app.application.test_client()
    assert staff.post("/staff/sign-in", data={"csrf_token": form_token(staff),
                                              "username": "hdvc-admin",
                                              "password": password}).status_code == 303
    pages = [staff.get("/institution/credentials", query_string={"id": credential_id})
             for credential_id in issued]
    shown = [(page.status_code, 'data-withheld="minor"' in page.get_data(as_text=True),
              "The credential (JSON)" in page.get_data(as_text=True)) for page in pages]
    assert shown == [(200, True, False), (200, False, True)]


def test_the_centre_is_told_a_child_it_checks_waits_for_a_guardian(
        app: FlaskClient, runtime: Runtime) -> None:
    password = add_staff(runtime.engine, "centre-operator", role=OPERATOR, actor="cli:test")
    staff = app.application.test_client()
    assert staff.post("/staff/sign-in", data={"csrf_token": form_token(staff),
                                              "username": "centre-operator",
                                              "password": password}).status_code == 303
    token = form_token(staff, "/operator/identity-checks")
    pages = [staff.post("/operator/identity-checks",
                        data={"csrf_token": token, "national_id": national}).get_data(True)
             for national in (CHILD_ID, national_id(born_ago(14), 19))]
    assert ["data-guardian-needed" in page for page in pages] == [True, False]


def section(text: str, marker: str) -> str:
    """The part of a page from `marker` to the end of its list's pager (or of its section)."""
    begin = text.index(marker)
    ends = [text.find(end, begin) for end in ("</nav>", "</section>")]
    return text[begin:min(end for end in ends if end != -1)]


def walk_section(client: FlaskClient, path: str, marker: str, shown: str,
                 rel: str = "next") -> tuple[list[list[str]], str]:
    """The ids `shown` finds in one list of a page on every page, following that list's own
    `rel` link from `path`; and the last page's address."""
    pages = []
    while True:
        answer = client.get(path)
        assert answer.status_code == 200
        part = section(answer.get_data(as_text=True), marker)
        pages.append(re.findall(shown, part))
        found = re.search(rf'<a href="([^"]+)" rel="{rel}"', part)
        if found is None:
            return pages, path
        path = unescape(found.group(1))


def test_a_guardian_pages_through_a_childs_record_applications_and_consents(
        app: FlaskClient, provider: OidcProvider, bank: Bank, runtime: Runtime) -> None:
    assert guardian(app, provider) == (303, "/guardian")
    assert open_child(app)[0] == 200
    learner_id = child_id(app)
    issued = bank.issue("hdvc", [outcome("MATH110", "B", national_id=CHILD_ID,
                                         session=f"2025 run {run}") for run in range(56)])
    with runtime.engine.begin() as connection:
        add_proof(connection, learner_id, IN_PERSON, vouched_by="operator:centre")
        rule_set = connection.execute(select(rule_sets).where(
            rule_sets.c.rule_set_id == RULE_SET)).mappings().one()
        connection.execute(insert(applications), [
            {"id": f"app-{index:03d}", "learner_id": learner_id, "rule_set_id": RULE_SET,
             "version": rule_set["version"], "content_hash": rule_set["content_hash"],
             "institution_id": rule_set["issuer_id"], "status": "withdrawn", "audit": "{}",
             "credentials": "[]", "set_aside": "[]", "submitted_at": 1_767_225_600.0 + index // 2,
             "updated_at": 1_767_225_600.0} for index in range(53)])
        connection.execute(insert(consents), [
            {"id": f"consent-{index:03d}", "learner_id": learner_id, "purpose": EMAIL_NOTICES,
             "text_version": TEXTS[EMAIL_NOTICES].version, "given_by": "learner",
             "given_at": 1_767_225_600.0 + index // 3, "withdrawn_at": 1_767_225_700.0}
            for index in range(53)])
        given = list(connection.execute(select(consents.c.id).where(
            consents.c.learner_id == learner_id).order_by(
            consents.c.given_at.desc(), consents.c.id.desc())).scalars())
    base = f"/guardian/minors/{learner_id}"

    record, _last = walk_section(app, f"{base}?lang=zh", "data-minor-credentials",
                                 r'<td data-status="([A-Z]+)"')
    assert [len(page) for page in record] == [50, 6]
    assert {status for page in record for status in page} == {"VALID"}
    with runtime.engine.connect() as connection:
        stored = connection.execute(select(verdicts.c.ref).where(
            verdicts.c.learner_did == runtime.accounts.by_id(learner_id)["did"])).scalars()
        assert len(set(stored)) == len(issued) == 56
    listed, _last = walk_section(app, base, "data-minor-applications",
                                 r'<li data-application="([^"]+)"')
    assert [len(page) for page in listed] == [50, 3]
    assert [item for page in listed for item in page] == [
        f"app-{index:03d}" for index in range(52, -1, -1)]
    forward, last = walk_section(app, base, "data-minor-consents", r'data-consent-id="([^"]*)"')
    assert [item for page in forward for item in page] == given
    backward, _first = walk_section(app, last, "data-minor-consents",
                                    r'data-consent-id="([^"]*)"', rel="prev")
    assert ([len(page) for page in forward], backward) == ([50, 4], forward[::-1])
    assert app.get(f"{base}?consents=bm90LWEtY3Vyc29y").status_code == 400
    assert app.get(f"{base}?after=bm90LWEtY3Vyc29y").status_code == 400
