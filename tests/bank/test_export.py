"""Download everything: the export holds every row that names the learner, in every table (found
by scanning the whole database independently), nothing of another learner, and reads as a PDF in
both languages; the pages and the API serve it as no-store downloads, each recorded in the audit
log."""

from __future__ import annotations

import io
import json
import re
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from bank.access import Reader, log_read
from bank.agreements import request_agreement
from bank.consents import give
from bank.corrections import request_correction
from bank.export import SECRET, SECTIONS, export_json, export_pdf
from bank.notices import save_preferences
from bank.sharing import save_result, share
from bank.tables import guardians
from bank.wallet import create_offer
from infra.audit import audit_log
from infra.classification import COLUMNS, OWNERS
from infra.metadata import metadata
from issuers.learners import credentials_of_learner
from ledger.views import ChainView
from portal import oidc
from portal.runtime import Runtime
from tests.support.bank import OTHER_ID, RULE_SET, Bank, bearer, city_bank
from tests.support.citizen import issue_record, sign_in

DAY = 86_400


def _account(bank: Bank, headers: dict) -> dict:
    did = bank.client.get("/api/v1/learners/me", headers=headers).json["account"]["did"]
    found = bank.runtime.accounts.by_did(did)
    assert found is not None
    return found


def full_record(bank: Bank, national_id: str | None = None) -> dict:
    """A learner with rows in every table the product fills: credentials, a deposit, a decided
    and appealed application, an agreement, consents, a correction, a share link, a wallet offer,
    notices and e-mail choices, a plan, a transcript, staff reads, a guardian, a city link, a web
    session, a verifier's saved result; their account row."""
    runtime, client = bank.runtime, bank.client
    engine = runtime.engine
    headers = bank.open_account(*(national_id,) if national_id else ())
    learner = _account(bank, headers)
    credential_ids = issue_record(bank, *(national_id,) if national_id else ())
    junk = {"id": f"urn:uuid:{learner['id']}", "type": ["Nothing"]}
    deposit = client.post("/api/v1/learners/me/deposits", json={"credential": junk,
                          "evidence": "my certificate, scanned"}, headers=headers)
    assert deposit.status_code == 201, deposit.json
    assert client.put("/api/v1/learners/me/target", json={"rule_set_id": RULE_SET, "version": 1},
                      headers=headers).status_code == 200
    assert client.post("/api/v1/learners/me/plan", json={"unit": "hdvc:ENG110"},
                       headers=headers).status_code == 201
    application = client.post("/api/v1/applications", json={}, headers=headers).json["id"]
    path = f"/api/v1/applications/{application}"
    review = {"verdict": "approve", "reasons": ["matches the rules"]}
    assert client.get(path, headers=bearer(bank.tokens["bjou"])).status_code == 200
    assert client.post(f"{path}/first-review", json=review,
                       headers=bearer(bank.tokens["bjou"])).status_code == 200
    assert client.post(f"{path}/second-review", json=review,
                       headers=bearer(bank.operator)).status_code == 200
    assert client.post(f"{path}/appeal", json={"grounds": "ENG110 should count"},
                       headers=headers).status_code == 201
    transcript = client.post("/api/v1/learners/me/transcripts", json={}, headers=headers)
    assert transcript.status_code == 202
    complete_by = (datetime.now(UTC) + timedelta(days=200)).strftime("%Y-%m-%d")
    request_agreement(engine, ChainView(runtime.ledger), learner, programme=f"{RULE_SET}@1",
                      units=["hdvc:ENG110"], complete_by=complete_by)
    save_preferences(engine, learner["id"], email="wang.fang@example.org",
                     kinds=["decision_made"])
    with engine.begin() as connection:
        consent = give(connection, learner["id"], "guardian", given_by="did:example:guardian")
        connection.execute(guardians.insert().values(
            learner_id=learner["id"], guardian_did="did:example:guardian", consent_id=consent,
            since=time.time()))
        log_read(connection, Reader("operator:city-centre", "centre"), learner_id=learner["id"],
                 what="record", object_id=learner["id"], purpose="deposit-check")
    request_correction(engine, learner, about="credential", object_id=credential_ids["LOG201"],
                       text="My name is misspelt.")
    anchored = json.dumps(credentials_of_learner(engine, learner["did"])[0])
    share(engine, anchored, "credential", now=time.time(), lifetime=30 * DAY,
          learner_id=learner["id"], subject_id=credential_ids["LOG201"])
    save_result(engine, anchored, now=time.time(), lifetime=30 * DAY)
    create_offer(engine, learner, credential_ids["LOG201"], now=time.time())
    oidc.link(engine, "https://city.example", f"subject-of-{learner['id']}", learner["id"])
    return learner


@pytest.fixture
def bank(runtime: Runtime) -> Bank:
    """The city bank with two learners, each with a full record."""
    city = city_bank(runtime)
    full_record(city)
    full_record(city, OTHER_ID)
    return city


def learner_of(bank: Bank, national_id: str | None = None) -> dict:
    did, _hash = bank.runtime.accounts.identity(national_id or "110101199003074514")
    found = bank.runtime.accounts.by_did(did)
    assert found is not None
    return found


def rows_naming(bank: Bank, learner: dict) -> dict[str, list[dict]]:
    """Every row of every table that holds the learner's id or DID in any text column (Core
    selects; sealed values open on the way out)."""
    found: dict[str, list[dict]] = {}
    names = (learner["id"], learner["did"])
    with bank.runtime.engine.connect() as connection:
        for name, table in sorted(metadata.tables.items()):
            for row in connection.execute(select(table)).mappings():
                if any(isinstance(value, str) and any(name in value for name in names)
                       for value in row.values()):
                    found.setdefault(name, []).append(dict(row))
    return found


def exported_keys(exported: dict) -> Counter:
    """(table, primary key) of every row the export holds (nested ones too) and of every
    mention; a withheld key column stands as the marker."""
    keys: Counter = Counter()

    def walk(name: str, row: dict) -> None:
        table = metadata.tables[name]
        keys[(name, tuple(str(row[column.name]) for column in table.primary_key.columns))] += 1
        for child in OWNERS:
            for item in row.get(child, []) if OWNERS[child].parent == name else []:
                walk(child, item)

    for section in exported["sections"].values():
        for name, rows in section.items():
            for row in rows:
                walk(name, row)
    for mention in exported["mentions"]:
        table = metadata.tables[mention["table"]]
        keys[(mention["table"], tuple(str(mention["key"][column.name])
                                      for column in table.primary_key.columns))] += 1
    return keys


def scanned_key(name: str, row: dict) -> tuple:
    table = metadata.tables[name]
    return (name, tuple(SECRET if column.name.endswith("_sha256") else
                        ("0x" + row[column.name].hex() if isinstance(row[column.name], bytes)
                         else str(row[column.name]))
                        for column in table.primary_key.columns))


def test_the_export_holds_every_row_naming_the_learner_and_nothing_of_another(
        bank: Bank) -> None:
    learner, other = learner_of(bank), learner_of(bank, OTHER_ID)
    exported = export_json(bank.runtime.engine, learner)
    scanned = rows_naming(bank, learner)
    keys = exported_keys(exported)
    wanted = Counter(scanned_key(name, row) for name, rows in scanned.items() for row in rows)

    assert {key: count for key, count in wanted.items() if keys[key] < count} == {}
    assert set(scanned) >= {
        "bank_learners", "bank_deposits", "bank_applications", "bank_agreements",
        "bank_consents", "bank_corrections", "shared_links", "wallet_offers", "bank_notices",
        "bank_access_log", "audit_log", "bank_guardians", "credentials", "oidc_links",
        "bank_learner_tokens", "bank_targets", "bank_planned_units", "bank_transcripts",
        "bank_notice_preferences", "bank_identity_proofs", "verification_results"}
    text = json.dumps(exported, ensure_ascii=False)
    assert (other["id"] in text, other["did"] in text) == (False, False)
    application = exported["sections"]["applications"]["bank_applications"][0]
    (decision,) = application["bank_decisions"]
    assert ([review["stage"] for review in application["bank_reviews"]],
            decision["bank_appeals"][0]["grounds"], decision["document"]["rule_set"]["id"],
            type(application["audit"])) == (
        ["first", "second"], "ENG110 should count", RULE_SET, dict)
    assert [mention["table"] for mention in exported["mentions"]] == ["verification_results"]


def test_the_export_is_ordered_classified_and_keeps_secrets_out(bank: Bank) -> None:
    learner = learner_of(bank)
    first = export_json(bank.runtime.engine, learner)
    again = export_json(bank.runtime.engine, learner)
    account = first["sections"]["account"]
    credential = first["sections"]["credentials"]["credentials"][0]

    assert ({**first, "generated_at": None} == {**again, "generated_at": None})
    assert list(first["sections"]) == [*(name for name, _tables in SECTIONS), "other"]
    assert first["sections"]["other"] == {}
    assert (first["format"], first["learner"]["did"]) == (
        "creditbank.learner-export/1", learner["did"])
    assert (account["bank_learners"][0]["password_hash"],
            account["bank_learner_tokens"][0]["token_sha256"]) == (SECRET, SECRET)
    assert {(item["table"], item["column"]) for item in first["withheld"]} >= {
        ("bank_learners", "password_hash"), ("wallet_offers", "code_sha256"),
        ("bank_learner_tokens", "token_sha256")}
    assert first["classes"]["bank_learners"]["columns"] == {
        column: str(kind) for column, kind in COLUMNS["bank_learners"].columns.items()}
    assert first["classes"]["bank_deposits"]["columns"]["evidence"] == "sensitive"
    assert (credential["anchored"]["credentialSubject"]["id"], credential["issued_at"][-1]) == (
        learner["did"], "Z")
    assert set(first["class_policies"]) == {"public", "internal", "personal", "sensitive"}


def test_an_unproven_account_does_not_export_what_it_has_not_proved(runtime: Runtime) -> None:
    bank = city_bank(runtime)
    bank.issue("hdvc", [{"national_id": OTHER_ID, "unit": "WH110", "session": "2025 spring",
                         "grade": "A", "completed_on": "2025-07-10"}])
    headers = bank.open_account(OTHER_ID, proven=False)
    exported = export_json(runtime.engine, _account(bank, headers))

    assert exported["sections"]["credentials"]["credentials"] == []
    assert [item["table"] for item in exported["withheld"] if item["column"] is None] == [
        "credentials"]


def pdf_text(content: bytes) -> str:
    """Every page's text without spaces (pypdf reads the embedded CJK font's text as UTF-16)."""
    reader = PdfReader(io.BytesIO(content))
    return "".join(page.extract_text() for page in reader.pages).replace("\x00", "").replace(
        " ", "")


def test_the_pdf_reads_in_english_and_chinese(bank: Bank) -> None:
    learner = learner_of(bank)
    english = export_pdf(bank.runtime.engine, learner, lang="en")
    chinese = export_pdf(bank.runtime.engine, learner, lang="zh")
    english_text, chinese_text = pdf_text(english), pdf_text(chinese)

    assert (english[:5], chinese[:5]) == (b"%PDF-", b"%PDF-")
    for words in ("Everythingthecreditbankholdsaboutyou", "SupplyChainManagement",
                  "BeijingOpenUniversity", "AssociateinLogisticsManagement",
                  "Wholookedatyourrecord", "thecitylearningcentre", "deposit-check", "guardian"):
        assert words in english_text, words
    for words in ("学分银行保存的关于你的全部数据", "学习成果证书", "谁查看过你的档案",
                  "城市学习中心", "SupplyChainManagement"):
        assert words in chinese_text, words


# -- pages and API --------------------------------------------------------------------------


@pytest.fixture
def signed_in(bank: Bank) -> Iterator[Bank]:
    assert sign_in(bank.client).status_code == 303
    yield bank


def exports_recorded(bank: Bank) -> list[tuple[str, str, dict]]:
    with bank.runtime.engine.connect() as connection:
        rows = connection.execute(select(audit_log.c.actor, audit_log.c.subject,
                                         audit_log.c.details).where(
            audit_log.c.action == "learner.export").order_by(audit_log.c.id)).all()
    return [(row.actor, row.subject, json.loads(row.details)) for row in rows]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_data_page_links_the_downloads_and_the_rights_pages(signed_in: Bank,
                                                                lang: str) -> None:
    page = signed_in.client.get(f"/me/data?lang={lang}")
    html = page.get_data(as_text=True)
    served = {rule.rule for rule in signed_in.client.application.url_map.iter_rules()}

    assert page.status_code == 200
    assert re.findall(r'href="(/me/data/export\.\w+)"', html) == [
        "/me/data/export.json", "/me/data/export.pdf"]
    assert set(re.findall(r'<h3><a href="(/me/\w+)"', html)) == {
        path for path in ("/me/access", "/me/consents", "/me/corrections", "/me/close")
        if path in served}
    assert 'href="/me/data" aria-current="page"' in html
    if lang == "zh":  # waits for the translations' merge
        assert "我的数据" in html and "下载全部数据" in html


def test_the_downloads_are_no_store_files_recorded_in_the_audit_log(signed_in: Bank) -> None:
    client = signed_in.client
    learner = learner_of(signed_in)
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    as_json = client.get("/me/data/export.json")
    as_pdf = client.get("/me/data/export.pdf?lang=zh")

    assert (as_json.status_code, as_json.mimetype, as_json.headers["Cache-Control"],
            as_json.headers["Content-Disposition"]) == (
        200, "application/json", "no-store",
        f'attachment; filename="creditbank-my-data-{day}.json"')
    assert json.loads(as_json.data)["learner"]["id"] == learner["id"]
    assert (as_pdf.mimetype, as_pdf.data[:5], as_pdf.headers["Cache-Control"]) == (
        "application/pdf", b"%PDF-", "no-store")
    assert "城市学习中心" in pdf_text(as_pdf.data)
    assert exports_recorded(signed_in) == [
        (f"learner:{learner['id']}", learner["id"], {"format": "json"}),
        (f"learner:{learner['id']}", learner["id"], {"format": "pdf"})]


def test_the_api_export_answers_the_learner_only(bank: Bank) -> None:
    client = bank.client
    headers = bank.log_in("110101199003074514")
    learner = learner_of(bank)
    as_json = client.get("/api/v1/learners/me/export", headers=headers)
    as_pdf = client.get("/api/v1/learners/me/export?format=pdf&lang=en", headers=headers)
    bad = client.get("/api/v1/learners/me/export?format=xml", headers=headers)

    assert (as_json.status_code, as_json.json["learner"]["did"],
            as_json.headers["Cache-Control"]) == (200, learner["did"], "no-store")
    assert (as_pdf.mimetype, "SupplyChainManagement" in pdf_text(as_pdf.data)) == (
        "application/pdf", True)
    assert (bad.status_code, list(bad.json["errors"]["query"])) == (422, ["format"])
    assert client.get("/api/v1/learners/me/export").status_code == 401
    assert client.get("/api/v1/learners/me/export",
                      headers=bearer(bank.operator)).status_code == 403
    assert [details for _actor, _subject, details in exports_recorded(bank)] == [
        {"format": "json"}, {"format": "pdf"}]


def test_the_downloads_need_a_signed_in_learner(bank: Bank) -> None:
    client = bank.client.application.test_client()
    answers = [client.get(path) for path in ("/me/data", "/me/data/export.json",
                                            "/me/data/export.pdf")]
    assert [(answer.status_code, answer.headers["Location"].split("?")[0])
            for answer in answers] == [(302, "/sign-in")] * 3
    assert exports_recorded(bank) == []
