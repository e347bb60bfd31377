"""The institution and operator consoles, staff sign-in and the demo data, on both databases.

Most tests share one demo bank per database (`seed_demo`, seeded once per module); each acts on
objects no other test touches, and the statistics are read right after seeding.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from html import unescape
from pathlib import Path

import pytest
from click.testing import CliRunner
from eth_hash.auto import keccak
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from bank.accounts import Accounts
from bank.applications import applications_of
from bank.deposits import REVIEW, deposits_of
from bank.seed import DEMO_ACCOUNTS, RULE_SET, STAFF_PASSWORD, rule_set_document, seed_demo
from bank.staff import add_staff
from bank.statistics import Statistics, last_months, statistics
from bank.tables import access_log, sign_in_failures
from infra.audit import entries
from infra.errors import NotFound
from issuers.anchoring import AnchoringWorker
from issuers.publication import publish_rule_set
from issuers.records import rule_set_list
from issuers.registry import issuer_record
from issuers.tables import batches, credentials
from ledger.genesis import initialise
from ledger.views import ChainView
from portal import sessions
from portal.app import create_app
from portal.cli import cli
from portal.explain import REASONS
from portal.pages.charts import bar_chart, line_chart, nice_step
from portal.runtime import Runtime
from portal.tables import web_sessions
from tests.support.bank import LEARNER_ID
from tests.support.browser import ServedPortal, require_browser
from tests.support.citizen import sign_in as learner_sign_in
from tests.support.citizen import sign_up
from tests.support.portal import at_localhost, form_token
from tests.support.runtimes import seeded_bank
from verify import Context, Status, verify_credential
from verify.codes import Code

MONTHS = last_months(datetime.now(UTC), 12)
YEAR = MONTHS[-1][:4]


@dataclass
class Bank:
    """A seeded demo bank: its runtime, the portal app, and the statistics right after seeding."""

    runtime: Runtime
    app: Flask
    figures: Statistics

    def client(self, username: str | None = None) -> FlaskClient:
        """A test client, signed in as a console user when one is named."""
        client = self.app.test_client()
        if username is not None:
            response = sign_in(client, username, STAFF_PASSWORD)
            assert response.status_code == 303, response.get_data(as_text=True)
        return client

    def credential_of(self, issuer_id: str, unit_code: str, name: str) -> str:
        """The id of the credential a demo learner holds for a unit."""
        national_id = next(nid for nid, full in DEMO_ACCOUNTS.learners if name in full)
        did, _ = Accounts.of(self.runtime.engine, self.runtime.settings).identity(national_id)
        with self.runtime.engine.connect() as connection:
            return connection.execute(select(credentials.c.id).where(
                credentials.c.issuer_id == issuer_id, credentials.c.unit_code == unit_code,
                credentials.c.learner_did == did)).scalar_one()

    def batch_of(self, issuer_id: str) -> str:
        """The id of an institution's (only) demo batch."""
        with self.runtime.engine.connect() as connection:
            return connection.execute(select(batches.c.id).where(
                batches.c.issuer_id == issuer_id)).scalar_one()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def bank(request: pytest.FixtureRequest) -> Iterator[Bank]:
    """The demo bank, seeded once per database for this module."""
    with seeded_bank(request, "consoles", request.param) as runtime:
        figures = statistics(runtime.engine)
        yield Bank(runtime, create_app(at_localhost(runtime), {"TESTING": True}), figures)


def sign_in(client: FlaskClient, username: str, password: str) -> object:
    """Post the staff sign-in form."""
    return client.post("/staff/sign-in", data={
        "csrf_token": form_token(client), "username": username,
        "password": password})


def post(client: FlaskClient, path: str, data: dict) -> object:
    """Post a console form with the session's CSRF token."""
    return client.post(path, data={"csrf_token": form_token(client), **data})


def html(response: object) -> str:
    """A response's HTML."""
    return response.get_data(as_text=True)  # type: ignore[attr-defined]


def notices(client: FlaskClient, path: str) -> list[str]:
    """The notices a console page shows (after a redirect)."""
    return [unescape(text) for text in re.findall(
        r'<div class="notice notice-\w+" role="\w+"><p>([^<]*)</p>', html(client.get(path)))]


def month_series(value: float) -> list[tuple[str, float]]:
    """A monthly series with `value` this month and nothing before."""
    return [(month, value if month == MONTHS[-1] else 0.0) for month in MONTHS]


# -- the demo data and the statistics ------------------------------------------------------------


def test_the_demo_statistics_count_learners_credentials_and_conversions(bank: Bank) -> None:
    assert bank.figures == Statistics(
        months=MONTHS,
        learners=8, activated=7, learners_by_month=month_series(8),
        issuers=4, suspended=0, credentials=28, anchored_batches=4,
        credentials_by_kind=[("course", 13), ("certificate", 6), ("mooc", 7), ("training", 2)],
        credentials_by_month=month_series(28),
        applications_by_status=[("submitted", 1), ("first_reviewed", 1), ("decided", 1)],
        decisions_by_month=month_series(1), credits_by_month=month_series(19),
        credits_granted=19, years=[YEAR], learners_by_year=[(YEAR, 8)],
        credentials_by_year=[(YEAR, 28)], decisions_by_year=[(YEAR, 1)],
        credits_by_year=[(YEAR, 19)],
    )


def test_seeding_again_changes_nothing(bank: Bank) -> None:
    with bank.runtime.engine.connect() as connection:
        before = connection.execute(select(credentials.c.id).order_by(credentials.c.id)).all()
    rt = bank.runtime
    assert seed_demo(rt.engine, rt.chain, settings=rt.settings) == DEMO_ACCOUNTS
    with bank.runtime.engine.connect() as connection:
        assert connection.execute(select(credentials.c.id).order_by(credentials.c.id)).all() \
            == before


def test_the_demo_learners_are_proven_in_real_name_and_see_what_was_issued_to_them(
        bank: Bank) -> None:
    seen = {}
    for national_id, name in DEMO_ACCOUNTS.learners:
        client = bank.app.test_client()
        response = learner_sign_in(client, national_id, DEMO_ACCOUNTS.learner_password)
        assert response.status_code == 303, name
        page = html(client.get("/me"))
        seen[name.split()[1]] = (len(re.findall(r'data-credential="', page)),
                                 re.findall(r'data-identity="([^"]+)"', page))
    assert seen == {"Wang": (6, ["real-name"]), "Li": (5, ["real-name"]),
                    "Zhang": (5, ["real-name"]), "Liu": (2, ["real-name"]),
                    "Chen": (3, ["real-name"]), "Yang": (2, ["real-name"]),
                    "Zhao": (3, ["real-name"])}


def test_every_printed_demo_account_can_sign_in(bank: Bank) -> None:
    homes = {username: sign_in(bank.app.test_client(), username, DEMO_ACCOUNTS.staff_password)
             for username, _ in DEMO_ACCOUNTS.staff}
    institution = (303, "/institution/batches")
    assert {name: (response.status_code, response.location) for name, response in homes.items()} \
        == {"bjou-admin": institution, "hdvc-admin": institution, "jingxue-admin": institution,
            "bjskills-admin": institution, "city-centre": (303, "/operator/statistics")}
    client = bank.app.test_client()
    tokens = [client.post("/api/v1/learners/token", json={
        "national_id": national_id, "password": DEMO_ACCOUNTS.learner_password}).status_code
        for national_id, _ in DEMO_ACCOUNTS.learners]
    assert tokens == [201] * 7
    assert [line for line in DEMO_ACCOUNTS.lines() if "city-centre" in line] == [
        "    city-centre     city credit bank centre (operator)"]


def test_the_statistics_page_draws_six_charts_with_their_figures(bank: Bank) -> None:
    page = html(bank.client("city-centre").get("/operator/statistics"))
    titles = re.findall(r'<figcaption id="chart-[\w-]+-title"><h2>([^<]+)</h2>', page)
    assert titles == ["New learner accounts by month", "Credentials by kind",
                      "Credentials issued by month", "Applications by status",
                      "Decisions by month", "Credits granted by month",
                      "New learner accounts by year", "Credentials issued by year",
                      "Decisions by year", "Credits granted by year"]
    assert re.findall(r'<title id="chart-kinds-svg-title">([^<]+)</title>', page) == [
        "Credentials by kind: Course 13; Certificate 6; Online course (MOOC) 7; Training 2"]
    assert (page.count('<rect class="bar"'), page.count('<polyline class="line"')) == (
        12 + 4 + 3 + 12 + 3, 3)


def test_a_chart_scales_its_bars_to_a_round_maximum() -> None:
    chart = bar_chart("Credentials by kind", [("Course", 13), ("MOOC", 7), ("Training", 0)])
    assert [(mark.label, mark.value, mark.height) for mark in chart.marks] == [
        ("Course", 13, 119.6), ("MOOC", 7, 64.4), ("Training", 0, 0.0)]
    assert [label for _, label in chart.ticks] == ["0", "5", "10", "15", "20"]
    months = line_chart("Credits", [("2025-12", 2), ("2026-01", 1), ("2026-02", 0)], monthly=True)
    assert [(mark.axis_label, mark.axis_note) for mark in months.marks] == [
        ("12", "2025"), ("01", "2026"), ("02", "")]
    assert [label for _, label in months.ticks] == ["0", "1", "2", "3", "4"]
    assert (chart.empty, line_chart("Nothing", [("2026-01", 0)]).empty) == (False, True)
    assert [nice_step(value) for value in (0, 0.25, 3, 3.25, 7, 60, 240)] == [
        1, 1, 5, 5, 10, 100, 500]


# -- authorisation and CSRF ----------------------------------------------------------------------

INSTITUTION_PAGES = ("/institution/", "/institution/batches", "/institution/credentials",
                     "/institution/units", "/institution/rules", "/institution/applications")
OPERATOR_PAGES = ("/operator/", "/operator/statistics", "/operator/issuers", "/operator/rules",
                  "/operator/applications", "/operator/deposits", "/operator/data",
                  "/operator/issuers/hdvc/suspension")


def learner_client(bank: Bank) -> FlaskClient:
    """A client with a learner's web session (as the learner pages' sign-in makes one)."""
    client = bank.app.test_client()
    with bank.app.test_request_context():
        sessions.sign_in(bank.runtime.engine, role="learner", subject="learner-1",
                         label="Wang Fang", username="110108199503120024")
        token = sessions.session[sessions.COOKIE_KEY]
    with client.session_transaction() as cookie:
        cookie[sessions.COOKIE_KEY] = token
    return client


def test_each_console_admits_only_its_role(bank: Bank) -> None:
    clients = {"anonymous": bank.app.test_client(), "learner": learner_client(bank),
               "institution": bank.client("hdvc-admin"), "operator": bank.client("city-centre")}
    seen = {role: {path: client.get(path).status_code
                   for path in (*INSTITUTION_PAGES, *OPERATOR_PAGES)}
            for role, client in clients.items()}
    assert seen == {
        "anonymous": dict.fromkeys((*INSTITUTION_PAGES, *OPERATOR_PAGES), 302),
        "learner": dict.fromkeys((*INSTITUTION_PAGES, *OPERATOR_PAGES), 403),
        "institution": {**dict.fromkeys(INSTITUTION_PAGES, 200),
                        **dict.fromkeys(OPERATOR_PAGES, 403)},
        "operator": {**dict.fromkeys(INSTITUTION_PAGES, 403), **dict.fromkeys(OPERATOR_PAGES, 200)},
    }
    redirect = clients["anonymous"].get("/operator/rules")
    assert redirect.location == "/staff/sign-in?next=/operator/rules"


def test_an_institution_cannot_see_or_touch_another_institutions_records(bank: Bank) -> None:
    hdvc = bank.client("hdvc-admin")
    credential = bank.credential_of("bjou", "LOG301", "Wang Fang")
    batch = bank.batch_of("bjou")
    application = applications_of(bank.runtime.engine, institution_id="bjou",
                                  status="submitted")[0]["id"]
    seen = (
        hdvc.get(f"/institution/batches/{batch}").status_code,
        hdvc.get(f"/institution/credentials?id={credential}").status_code,
        hdvc.get(f"/institution/applications/{application}").status_code,
        batch in html(hdvc.get("/institution/batches")),
    )
    assert seen == (404, 404, 403, False)
    revoke = post(hdvc, "/institution/credentials/revocation",
                  {"credential_id": credential, "reason": "fraud"})
    refused = notices(hdvc, "/institution/batches")
    review = post(hdvc, f"/institution/applications/{application}/first-review",
                  {"verdict": "refuse", "reasons": "no"})
    refused += notices(hdvc, "/institution/batches")
    assert (revoke.status_code, review.status_code) == (303, 303)
    assert refused == [f"This could not be done: no credential {credential}",
                       f"This could not be done: no application {application}"]
    assert applications_of(bank.runtime.engine, institution_id="bjou",
                           status="submitted")[0]["id"] == application


def test_a_form_without_its_csrf_token_is_refused(bank: Bank) -> None:
    operator = bank.client("city-centre")
    responses = [
        operator.post("/operator/issuers/hdvc/suspension"),
        operator.post("/operator/rules/approval", data={"rule_set_id": RULE_SET, "version": "1",
                                                        "csrf_token": "forged"}),
        bank.app.test_client().post("/staff/sign-in", data={
            "username": "city-centre", "password": STAFF_PASSWORD}),
    ]
    assert [response.status_code for response in responses] == [400, 400, 400]
    assert issuer_record(bank.runtime.engine, "hdvc")["suspended"] is False


# -- the institution console ---------------------------------------------------------------------


def test_the_batches_page_shows_status_root_transaction_and_block(bank: Bank) -> None:
    page = html(bank.client("jingxue-admin").get("/institution/batches"))
    with bank.runtime.engine.connect() as connection:
        row = connection.execute(select(batches).where(batches.c.issuer_id == "jingxue")).one()
    cells = re.findall(r"<td[^>]*>(.*?)</td>", page.split("<tbody>")[1], re.S)
    assert [re.sub(r"<[^>]+>", "", cell).split() for cell in cells[1:]] == [
        ["Anchored"], ["7"], [f"0x{bytes(row.root).hex()[:8]}…{bytes(row.root).hex()[-6:]}"],
        [f"{row.transaction_hash[:10]}…{row.transaction_hash[-6:]}"], [str(row.block)]]


def test_staff_revoke_a_credential_and_the_worker_puts_it_on_chain(bank: Bank) -> None:
    bjskills = bank.client("bjskills-admin")
    credential = bank.credential_of("bjskills", "CERT-WH-3", "Yang Fan")
    page = f"/institution/credentials?id={credential}"
    assert "Anchored" in html(bjskills.get(page))
    response = post(bjskills, "/institution/credentials/revocation", {
        "credential_id": credential, "reason": "issued-in-error", "note": "wrong candidate"})
    assert (response.status_code, response.location) == (303, page)
    assert notices(bjskills, page) == [
        "The revocation is recorded; it is put on the ledger once the batch is anchored."]
    worker = AnchoringWorker(bank.runtime.engine, bank.runtime.ledger,
                             settings=bank.runtime.settings)
    assert worker.revoke_pending() == 1
    shown = html(bjskills.get(page))
    assert re.findall(r'<span class="badge badge-(\w+)">', shown) == ["revoked"]
    assert "Issued in error · Revoked on the ledger" in shown
    with bank.runtime.engine.connect() as connection:
        anchored = json.loads(connection.execute(select(credentials.c.anchored).where(
            credentials.c.id == credential)).scalar_one())
    report = verify_credential(anchored, Context(ChainView(bank.runtime.ledger)))
    assert (report.verdict, [str(f.code) for f in report.fragments if f.name == "status"]) == (
        Status.INVALID, ["REVOKED_CREDENTIAL"])
    again = post(bjskills, "/institution/credentials/revocation", {
        "credential_id": credential, "reason": "fraud"})
    assert again.status_code == 303
    assert notices(bjskills, page) == [f"This could not be done: {credential} is already revoked"]


def test_staff_revoke_a_whole_batch_with_a_reason(bank: Bank) -> None:
    hdvc = bank.client("hdvc-admin")
    batch = bank.batch_of("hdvc")
    path = f"/institution/batches/{batch}"
    unknown = post(hdvc, f"{path}/revocation", {"reason": "because"})
    assert notices(hdvc, path) == ["This could not be done: Choose why it is revoked."]
    response = post(hdvc, f"{path}/revocation", {"reason": "key-compromise"})
    assert (unknown.status_code, response.status_code) == (303, 303)
    AnchoringWorker(bank.runtime.engine, bank.runtime.ledger,
                    settings=bank.runtime.settings).revoke_pending()
    page = html(hdvc.get(path))
    assert re.findall(r"<dd>([^<]+)</dd>", page.split("id=\"revocation-title\"")[1])[:2] == [
        "Signing key compromised", "Revoked on the ledger"]
    assert 'action="/institution/batches/' not in page


def test_staff_add_a_new_version_of_a_unit_and_see_field_errors(bank: Bank) -> None:
    bjou = bank.client("bjou-admin")
    form = html(bjou.get("/institution/units?code=GEN202"))
    assert re.findall(r'id="unit-(\w+)" name="\w+" value="([^"]*)"', form)[:3] == [
        ("code", "GEN202"), ("title", "思想道德与法治 Ethics and Law"), ("category", "general")]
    fields = {"code": "GEN202", "title": "思想道德与法治 Ethics and Law", "kind": "course",
              "framework": "CQF", "level": "6", "eqf_level": "6", "credit_value": "2",
              "credit_scheme": "CN-NCB", "hours": "36", "category": "general",
              "valid_from": "2026-09-01", "learning_outcomes": "Apply the basics of law\n"}
    response = post(bjou, "/institution/units", fields)
    assert (response.status_code, notices(bjou, "/institution/units")) == (
        303, ["Unit GEN202 is in the catalogue as version 2."])
    bad = post(bjou, "/institution/units", {**fields, "kind": "certificate", "credit_value": "x"})
    errors = re.findall(r"<li>([^<]+)</li>", html(bad).split("id=\"error-summary-title\"")[1])
    assert (bad.status_code, errors) == (422, [
        "some units are invalid; none was added", "units.0.credit_value: Not a valid number."])


def test_staff_publish_a_new_rule_set_version_and_the_operator_approves_it(bank: Bank) -> None:
    bjou, operator = bank.client("bjou-admin"), bank.client("city-centre")
    start = html(bjou.get(f"/institution/rules?from={RULE_SET}"))
    document = json.loads(re.search(r'<textarea id="document"[^>]*>(.*?)</textarea>', start,
                                    re.S).group(1).replace("&#34;", '"'))
    assert document["version"] == 2
    document["programme"]["total_credits"] = 150
    invalid = post(bjou, "/institution/rules/impact", {"document": "{not json"})
    previewed = post(bjou, "/institution/rules/impact", {"document": json.dumps(document)})
    content_hash = re.search(r'name="content_hash" value="(0x[0-9a-f]{64})"', html(previewed))
    assert (invalid.status_code, previewed.status_code, content_hash is not None) == (
        400, 200, True)
    published = post(bjou, "/institution/rules", {"document": json.dumps(document),
                                                  "content_hash": content_hash.group(1)})
    assert (published.status_code, published.location) == (
        303, f"/institution/rules/{RULE_SET}/2/impact")
    assert notices(bjou, published.location) == [
        f"Version 2 of {RULE_SET} is published and waits for approval; its impact is kept "
        "with it."]
    waiting = html(operator.get("/operator/rules")).split("Waiting for approval</caption>")[1]
    assert re.findall(r'name="version" value="(\d+)"', waiting.split("</table>")[0]) == ["2"]
    approved = post(operator, "/operator/rules/approval", {"rule_set_id": RULE_SET,
                                                           "version": "2"})
    assert (approved.status_code, notices(operator, "/operator/rules")) == (
        303, [f"Version 2 of {RULE_SET} is approved."])
    on_chain = ChainView(bank.runtime.ledger).rule_set(keccak(RULE_SET.encode()), 2)
    block = on_chain.approved_block if on_chain is not None else 0
    approvals = {item["version"]: item["approved_block"]
                 for item in rule_set_list(bank.runtime.engine, "bjou")}
    assert (block > 0, approvals[2], approvals[1] is not None) == (True, block, True)


def test_staff_publish_rule_sets_only_under_their_institutions_id(bank: Bank) -> None:
    bjou = bank.client("bjou-admin")
    dids = {key: issuer_record(bank.runtime.engine, key)["did"] for key in ("bjou", "hdvc",
                                                                             "bjskills")}
    document = {**rule_set_document(dids), "rule_set_id": "hdvc:LOG-BA"}

    refused = post(bjou, "/institution/rules/impact", {"document": json.dumps(document)})

    errors = re.findall(r"<li>([^<]+)</li>", html(refused).split("id=\"error-summary-title\"")[1])
    assert (refused.status_code, [unescape(error) for error in errors]) == (422, [
        "a rule set's id begins with its owner's issuer id",
        "rule_set_id: must be bjou:<programme>, under the publishing issuer's id"])
    assert [item["rule_set_id"] for item in rule_set_list(bank.runtime.engine, "bjou")
            if item["rule_set_id"] != RULE_SET] == []


# -- reviews, deposits and issuers (operator) ------------------------------------------------------


def test_first_review_then_second_review_decide_an_application(bank: Bank) -> None:
    bjou, operator = bank.client("bjou-admin"), bank.client("city-centre")
    (waiting,) = applications_of(bank.runtime.engine, institution_id="bjou", status="submitted")
    path = f"/institution/applications/{waiting['id']}"
    assert waiting["id"][:8] in html(bjou.get("/institution/applications")).split(
        "Reviewed</caption>")[0]
    mooc = bank.credential_of("jingxue", "JX-LOG01", "Wang Fang")
    first = post(bjou, f"{path}/first-review", {
        "verdict": "approve", "reasons": "符合转换规则\nRecognised under v1\n",
        "exclude": mooc, "exclusion_reason": "MOOC outcomes differ substantially"})
    assert (first.status_code, notices(bjou, path)) == (303, [
        "Your first review is recorded; the city centre does the second review."])
    operator_path = f"/operator/applications/{waiting['id']}"
    queue = html(operator.get("/operator/applications")).split("Appeals</caption>")[0]
    assert waiting["id"][:8] in queue
    refused = post(operator, f"{operator_path}/second-review", {"verdict": "refuse"})
    assert notices(operator, operator_path) == [
        "This could not be done: the review is invalid"]
    decided = post(operator, f"{operator_path}/second-review", {
        "verdict": "approve", "reasons": "复审通过"})
    assert (refused.status_code, decided.status_code) == (303, 303)
    (application,) = [item for item in applications_of(bank.runtime.engine, status="decided")
                      if item["id"] == waiting["id"]]
    decision = application["decisions"][0]
    assert [(review["stage"], review["reviewer"], review["reasons"])
            for review in application["reviews"]] == [
        ("first", "institution:bjou", ["符合转换规则", "Recognised under v1"]),
        ("second", "operator:city-centre", ["复审通过"])]
    assert [(item["credential"], item["reason"]) for item in decision["excluded"]] == [
        (mooc, "MOOC outcomes differ substantially")]
    assert "Decision 1 · in force" in html(bjou.get(path))
    assert operator.get(operator_path).status_code == 403


def test_the_operator_rejects_a_deposit_with_reasons(bank: Bank) -> None:
    operator = bank.client("city-centre")
    (waiting,) = deposits_of(bank.runtime.engine, status=REVIEW)
    queue = html(operator.get("/operator/deposits"))
    page = html(operator.get(f"/operator/deposits/{waiting['id']}"))
    reason = unescape(str(REASONS[Code.SIGNATURE_INVALID]))
    assert (waiting["credential_id"] in queue, f'data-deposit="{waiting["id"]}"' in queue,
            reason in unescape(queue)) == (False, True, True)
    assert (waiting["credential_id"] in page, reason in unescape(page)) == (True, True)
    response = post(operator, f"/operator/deposits/{waiting['id']}/review", {
        "verdict": "reject", "reasons": "成绩被篡改 the grade was altered"})
    assert (response.status_code, notices(operator, "/operator/deposits")) == (
        303, ["The deposit is reviewed."])
    assert deposits_of(bank.runtime.engine, status=REVIEW) == []
    assert [(item["status"], item["reviewer"], item["review_reasons"])
            for item in deposits_of(bank.runtime.engine) if item["id"] == waiting["id"]] == [
        ("rejected", "operator:city-centre", ["成绩被篡改 the grade was altered"])]


def test_the_operator_suspends_and_reinstates_an_issuer_on_chain(bank: Bank) -> None:
    operator = bank.client("city-centre")
    did = issuer_record(bank.runtime.engine, "bjskills")["did"]
    view = ChainView(bank.runtime.ledger)
    confirm = html(operator.get("/operator/issuers/bjskills/suspension"))
    assert re.findall(r"<h1>([^<]+)</h1>", confirm) == [
        "Suspend Beijing Vocational Skills Testing Centre?"]
    suspended = post(operator, "/operator/issuers/bjskills/suspension", {})
    states = [view.issuer_by_did(did).suspended]
    row = html(operator.get("/operator/issuers")).split("<code class=\"muted\">bjskills")[1]
    assert ">Suspended<" in row.split("</tr>")[0]
    again = post(operator, "/operator/issuers/bjskills/suspension", {})
    assert notices(operator, "/operator/issuers") == [
        "This could not be done: issuer 'bjskills' is already suspended"]
    reinstated = post(operator, "/operator/issuers/bjskills/reinstatement", {})
    states.append(view.issuer_by_did(did).suspended)
    assert ([r.status_code for r in (suspended, again, reinstated)], states) == (
        [303, 303, 303], [True, False])
    assert notices(operator, "/operator/issuers") == ["bjskills is reinstated."]


# -- accreditation, sign-in and sessions (each on a fresh bank) ----------------------------------


def test_the_operator_accredits_only_with_an_http_web_site(bank: Bank) -> None:
    operator = bank.client("city-centre")
    form = {"name": "Tongzhou Night School", "slug": "tongzhou", "kinds": ["course"],
            "levels": "2-5"}
    urls = ("javascript:alert(document.cookie)", "data:text/html,<b>x</b>", "//evil.example",
            "/about", "tongzhou.example.edu")

    answers = {url: post(operator, "/operator/issuers", {**form, "url": url}) for url in urls}

    seen = {url: (answer.status_code, [unescape(error) for error in re.findall(
        r"<li>([^<]+)</li>", html(answer).split("id=\"error-summary-title\"")[1])])
        for url, answer in answers.items()}
    assert seen == dict.fromkeys(urls, (422, [
        "an institution's web site is an http:// or https:// address",
        "url: must be an absolute http(s) URL, like https://example.edu"]))
    with pytest.raises(NotFound):
        issuer_record(bank.runtime.engine, "tongzhou")


@pytest.fixture
def portal(runtime: Runtime) -> Flask:
    """The portal over an empty bank with one operator account."""
    app = create_app(at_localhost(runtime), {"TESTING": True})
    add_staff(runtime.engine, "operator-li", role="operator", password=STAFF_PASSWORD,
              actor="cli:test")
    return app


def test_the_operator_accredits_an_institution_and_its_staff_can_sign_in(
        portal: Flask, runtime: Runtime) -> None:
    operator = portal.test_client()
    sign_in(operator, "operator-li", STAFF_PASSWORD)
    missing = post(operator, "/operator/issuers", {"name": "", "levels": "9-2"})
    errors = re.findall(r"<li>([^<]+)</li>", html(missing).split("id=\"error-summary-title\"")[1])
    assert (missing.status_code, errors) == (422, [
        "scope must name kinds from course, module, certificate, mooc, training, degree, "
        "transcript", "scope: no kind given"])
    response = post(operator, "/operator/issuers", {
        "name": "Chaoyang Community College", "name_zh": "朝阳社区学院", "slug": "chaoyang",
        "kinds": ["course", "training"], "levels": "2-5", "valid_from": "2026-01-01",
        "staff_username": "chaoyang-admin"})
    page = html(response)
    token = re.search(r'<dt>API token</dt><dd><code class="secret">(cbk_[\w-]+)</code>', page)
    password = re.search(r'<dt>Console password</dt><dd><code class="secret">([^<]+)</code>',
                         page)
    assert (response.status_code, token is not None, password is not None) == (200, True, True)
    issuer = issuer_record(runtime.engine, "chaoyang")
    assert (issuer["name_zh"], issuer["kinds"], json.loads(issuer["levels"]),
            issuer["valid_from"]) == ("朝阳社区学院", "course,training", [2, 3, 4, 5],
                                      int(datetime(2026, 1, 1, tzinfo=UTC).timestamp()))
    staff = portal.test_client()
    assert sign_in(staff, "chaoyang-admin", password.group(1)).location == "/institution/batches"
    assert "朝阳社区学院" in html(staff.get("/institution/batches?lang=zh"))
    listed = portal.test_client().get("/api/v1/units",
                                      headers={"Authorization": f"Bearer {token.group(1)}"})
    assert (listed.status_code, listed.get_json()) == (200, {"units": []})
    assert [(item["actor"], item["action"], item["subject"])
            for item in entries(runtime.engine, actor="operator:operator-li")] == [
        ("operator:operator-li", "staff.add", "chaoyang-admin"),
        ("operator:operator-li", "issuer.accredit", "chaoyang")]


def test_sign_in_waits_after_five_failures_and_sign_out_ends_the_session(
        portal: Flask, runtime: Runtime) -> None:
    client = portal.test_client()
    wrong = [sign_in(client, "operator-li", "not the password").status_code for _ in range(5)]
    waiting = sign_in(client, "operator-li", STAFF_PASSWORD)
    assert (wrong, waiting.status_code, waiting.headers["Retry-After"]) == ([401] * 5, 429, "30")
    assert "Too many failed sign-ins. Try again in 30 seconds." in html(waiting)
    with runtime.engine.begin() as connection:
        connection.execute(update(sign_in_failures).values(wait_until=time.time() - 1))
    signed_in = sign_in(client, "operator-li", STAFF_PASSWORD)
    assert (signed_in.status_code, client.get("/operator/issuers").status_code) == (303, 200)
    with client.session_transaction() as cookie:
        stolen = dict(cookie)
    post(client, "/staff/sign-out", {})
    thief = portal.test_client()
    with thief.session_transaction() as cookie:
        cookie.update(stolen)
    assert (client.get("/operator/issuers").status_code,
            thief.get("/operator/issuers").status_code) == (302, 302)


def test_an_idle_session_expires_and_the_next_page_is_kept(
        portal: Flask, runtime: Runtime) -> None:
    client = portal.test_client()
    sign_in(client, "operator-li", STAFF_PASSWORD)
    with runtime.engine.begin() as connection:
        connection.execute(update(web_sessions).values(
            last_seen=time.time() - sessions.IDLE_SECONDS - 1))
    expired = client.get("/operator/deposits")
    assert expired.location == "/staff/sign-in?next=/operator/deposits"
    response = client.post("/staff/sign-in", data={
        "csrf_token": form_token(client), "username": "operator-li",
        "password": STAFF_PASSWORD, "next": "/operator/deposits"})
    outside = client.post("/staff/sign-in", data={
        "csrf_token": form_token(client), "username": "operator-li",
        "password": STAFF_PASSWORD, "next": "https://evil.example/"})
    assert (response.location, outside.location) == ("/operator/deposits", "/operator/statistics")


def test_staff_add_creates_accounts_and_prints_a_password_once(tmp_path: Path) -> None:
    data = tmp_path / "cli"
    initialise(data)
    runner = CliRunner()
    operator = runner.invoke(cli, ["staff", "add", "--operator", "zhao.min", "--data", str(data)])
    unknown = runner.invoke(cli, ["staff", "add", "--issuer", "nowhere", "x-admin",
                                  "--data", str(data)])
    both = runner.invoke(cli, ["staff", "add", "--issuer", "a", "--operator", "y",
                               "--data", str(data)])
    password = re.fullmatch(r"user:     zhao\.min\npassword: (\S+)   \(shown once: hand it over "
                            r"safely\)\n", operator.output)
    assert (operator.exit_code, password is not None) == (0, True)
    assert (unknown.exit_code, both.exit_code) == (1, 2)
    assert "give --issuer ID or --operator (one of them)" in both.output


# -- in a real browser ---------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("bank", ["sqlite"], indirect=True)
def test_operator_and_institution_journeys_in_a_browser(bank: Bank) -> None:
    require_browser()
    bjou = issuer_record(bank.runtime.engine, "bjou")
    version = max(item["version"] for item in rule_set_list(bank.runtime.engine, "bjou")) + 1
    document = {**rule_set_document({key: issuer_record(bank.runtime.engine, key)["did"]
                                     for key in ("bjou", "hdvc", "bjskills")}),
                "version": version}
    publish_rule_set(bank.runtime.engine, bank.runtime.ledger, bjou, document,
                     master_key=bank.runtime.settings.master_key())
    figures = statistics(bank.runtime.engine)
    bars = (2 * 12 + len(figures.credentials_by_kind) + len(figures.applications_by_status)
            + len(figures.learners_by_year) + len(figures.credentials_by_year)
            + len(figures.decisions_by_year))
    with ServedPortal(create_app(bank.runtime)) as portal:
        seen = portal.run("consoles", operator="city-centre", institution="bjou-admin",
                          password=STAFF_PASSWORD, rule_set=RULE_SET, version=version)
    assert (seen["operator_home"], seen["charts"], seen["bars"]) == (
        {"path": "/operator/statistics", "title": "Statistics"}, 10, bars)
    assert (seen["approved_notice"], seen["waiting_after"]) == (
        f"Version {version} of {RULE_SET} is approved.", 0)
    assert seen["institution_home"] == {"path": "/institution/batches", "title": "Batches"}
    assert (seen["credential_status_before"], seen["credential_status_after"]) == (
        "Anchored", "Being revoked")
    assert seen["revoked_notice"] == (
        "The revocation is recorded; it is put on the ledger once the batch is anchored.")
    assert (seen["violations"], seen["problems"]) == ([], [])


def test_the_operator_checks_a_learner_in_person_ending_whoever_held_the_account(
        portal: Flask, runtime: Runtime) -> None:
    squatter = portal.test_client()
    sign_up(squatter, proven=False)
    operator = portal.test_client()
    sign_in(operator, "operator-li", STAFF_PASSWORD)
    form = operator.get("/operator/identity-checks")
    bad = post(operator, "/operator/identity-checks", {"national_id": "not an id!"})
    checked = post(operator, "/operator/identity-checks", {"national_id": LEARNER_ID})
    code = re.search(r"data-activation-code>([\w-]+)<", html(checked))
    assert (form.status_code, bad.status_code, "There is a problem" in html(bad)) == (
        200, 422, True)
    assert (checked.status_code, code is not None, squatter.get("/me").status_code) == (
        200, True, 302)
    owner = portal.test_client()
    opened = owner.post("/sign-up", data={
        "csrf_token": form_token(owner, "/sign-up"), "national_id": LEARNER_ID,
        "password": "the owner's password", "password_again": "the owner's password",
        "activation_code": code.group(1)})
    assert (opened.status_code, 'data-identity="real-name"' in html(owner.get("/me"))) == (
        303, True)
    assert [(entry["actor"], entry["action"]) for entry in entries(
        runtime.engine, action="learners.")] == [
        ("operator:operator-li", "learners.check_in_person")]
    with runtime.engine.connect() as connection:
        reads = connection.execute(select(access_log.c.actor, access_log.c.organisation,
                                          access_log.c.what, access_log.c.purpose)).all()
    assert [tuple(read) for read in reads] == [
        ("operator:operator-li", "centre", "account", "identity-check")]
