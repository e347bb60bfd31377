"""Closing an account: after the grace period and the retention job no personal field of the
learner is left in any column of any table, while the credential file they kept still verifies
and its issuer can still revoke it; keeping the account during the grace period keeps
everything; the retention job purges each kind of expired data, and a dry run changes nothing."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import Engine, func, insert, select, update

from bank import retention
from bank.access import Reader, record_read
from bank.closure import GRACE_SECONDS, closes_at
from bank.notices import save_preferences
from bank.sharing import save_result, share
from bank.tables import (
    access_log,
    learner_tokens,
    learners,
    notices,
    presentation_requests,
    shared_links,
    sign_in_failures,
    verification_results,
    wallet_nonces,
    wallet_offers,
)
from infra.audit import audit_log
from infra.metadata import metadata
from issuers.records import credential_record
from issuers.revocation import request_revocation
from issuers.tables import idempotency
from ledger.views import ChainView
from portal import oidc
from portal.cli import main
from portal.runtime import Runtime
from portal.tables import web_sessions
from tests.support.bank import (
    LEARNER_ID,
    PASSWORD,
    RULE_SET,
    Bank,
    bearer,
    city_bank,
    outcome,
    xuetang_credential,
)
from tests.support.citizen import sign_in
from tests.support.portal import form_token
from verify import Context, Status, verify_credential
from verify.codes import Code

DAY = 86_400
NAME = "Qiao Wenyuan-Closure"
EMAIL = "qiao.closure@example.cn"
BIRTH_DATE = "1990-03-07"
CITY = "https://sso.city.example"
CITY_SUBJECT = "city-subject-77810"


def full_record(bank: Bank, *, decide: bool = True) -> dict:
    """A learner with every kind of record: credentials delivered, deposits, an application
    decided (and another waiting), a transcript, a share link, a wallet offer, notices with an
    e-mail address, consents, a read in the access log, audit entries and a city link."""
    runtime, client = bank.runtime, bank.client
    checked = client.post("/api/v1/learners/identity-checks", headers=bearer(bank.operator),
                          json={"national_id": LEARNER_ID})
    opened = client.post("/api/v1/learners", json={
        "national_id": LEARNER_ID, "password": PASSWORD, "display_name": NAME,
        "activation_code": checked.json["activation_code"]})
    assert opened.status_code == 201, opened.json
    learner = bank.log_in(LEARNER_ID)
    account = runtime.accounts.by_did(opened.json["did"])
    assert account is not None and account["birth_date"] == BIRTH_DATE
    (wh110,) = bank.issue("hdvc", [outcome("WH110", "B+")])
    (courier,) = bank.issue("courier", [outcome("CERT-COURIER", "Pass", scale="pass-fail")])
    mooc = xuetang_credential(runtime, account["did"])
    accepted = client.post("/api/v1/learners/me/deposits", json={"credential": mooc},
                           headers=learner)
    tampered = {**mooc, "id": "urn:uuid:0d7c5e0a-1111-4d2b-9a51-2f0c8e1d4a77"}
    review = client.post("/api/v1/learners/me/deposits", headers=learner,
                         json={"credential": tampered, "evidence": "a scan of the certificate"})
    assert (accepted.json["status"], review.json["status"]) == ("accepted", "review")
    client.put("/api/v1/learners/me/target", headers=learner,
               json={"rule_set_id": RULE_SET, "version": 1})
    applied = client.post("/api/v1/applications", json={}, headers=learner)
    application = applied.json["id"]
    first = client.post(f"/api/v1/applications/{application}/first-review",
                        headers=bearer(bank.tokens["bjou"]),
                        json={"verdict": "approve", "reasons": ["recognised"]})
    assert first.json["status"] == "first_reviewed", first.json
    if decide:
        second = client.post(f"/api/v1/applications/{application}/second-review",
                             headers=bearer(bank.operator),
                             json={"verdict": "approve", "reasons": ["confirmed"]})
        assert second.json["status"] == "decided", second.json
    transcript = client.post("/api/v1/learners/me/transcripts", json={}, headers=learner).json
    bank.worker.drain({transcript["batch"]})
    offer = client.post(f"/api/v1/learners/me/credentials/{courier}/offers", headers=learner)
    assert offer.status_code == 201, offer.json
    share(runtime.engine, json.dumps(mooc), "credential", now=time.time(), lifetime=30 * DAY,
          learner_id=account["id"], subject_id=mooc["id"])
    save_preferences(runtime.engine, account["id"], email=EMAIL, kinds=["decision_made"])
    record_read(runtime.engine, Reader("institution:alice", "bjou"), learner_id=account["id"],
                what="application", object_id=application, purpose="first-review")
    oidc.link(runtime.engine, CITY, CITY_SUBJECT, account["id"])
    kept = credential_record(runtime.engine, "hdvc", wh110)["credential"]
    save_result(runtime.engine, json.dumps(kept), now=time.time(), lifetime=60 * DAY)
    return {"account": account, "headers": learner, "kept": kept, "wh110": wh110,
            "application": application, "deposits": [accepted.json["id"], review.json["id"]]}


def personal_fields(engine: Engine, record: dict) -> dict[str, str]:
    """Every personal field of the learner, by name."""
    account = record["account"]
    return {
        "id": account["id"], "did": account["did"], "display name": NAME,
        "identity hash": account["identity_hash"], "birth date": BIRTH_DATE,
        "national id": LEARNER_ID, "e-mail": EMAIL,
        "city subject hash": oidc.subject_hash(engine, CITY, CITY_SUBJECT),
        "application": record["application"],
        **{f"deposit {index}": deposit for index, deposit in enumerate(record["deposits"])},
    }


def found_anywhere(engine: Engine, values: dict[str, str]) -> list[tuple[str, str, str]]:
    """(table, column, field) of every personal value still in any column of any table, read
    through Core (sealed values opened)."""
    found = []
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(select(table)).mappings():
                for column, value in row.items():
                    text = value.hex() if isinstance(value, bytes) else str(value)
                    found.extend((table.name, column, name) for name, wanted in values.items()
                                 if wanted in text)
    return sorted(set(found))


def rows_of(engine: Engine) -> dict[str, int]:
    """How many rows each table holds (but the rate limits' counters, which the portal's
    processes send in the background)."""
    with engine.connect() as connection:
        return {table.name: connection.execute(select(func.count()).select_from(table))
                .scalar_one() for table in metadata.sorted_tables
                if table.name != "rate_limits"}


def test_after_closure_and_retention_nothing_personal_remains_and_the_credential_verifies(
        runtime: Runtime) -> None:
    bank = city_bank(runtime)
    record = full_record(bank)
    engine, client = runtime.engine, bank.client
    values = personal_fields(engine, record)
    before = found_anywhere(engine, values)
    assert {table for table, _column, _name in before} >= {
        "bank_learners", "bank_deposits", "bank_applications", "bank_decisions", "credentials",
        "bank_notices", "bank_notice_preferences", "bank_consents", "bank_access_log",
        "audit_log", "shared_links", "wallet_offers", "oidc_links", "bank_identity_proofs",
        "bank_transcripts", "verification_results"}

    closed = client.post("/api/v1/learners/me/closure", headers=record["headers"],
                         json={"password": PASSWORD})
    assert closed.status_code == 201, closed.json
    assert closed.json["closing"] is True and closed.json["grace_days"] == 30
    assert client.get("/api/v1/learners/me", headers=record["headers"]).status_code == 401
    account = runtime.accounts.by_id(record["account"]["id"])
    assert account is not None
    moment = closes_at(account)
    assert moment is not None

    early = retention.run(engine, now=moment - 60)
    assert early["closed_accounts"] == 0
    assert runtime.accounts.by_id(account["id"]) is not None
    purged = retention.run(engine, now=moment + 60)
    assert purged["closed_accounts"] == 1

    assert found_anywhere(engine, values) == []
    with engine.connect() as connection:
        erased = connection.execute(select(audit_log.c.details).where(
            audit_log.c.action == "account.erase")).scalar_one()
    assert json.loads(erased)["bank_learners"] == 1
    assert json.loads(erased)["verification_results"] == 1

    context = Context(ChainView(runtime.ledger))
    assert verify_credential(record["kept"], context).verdict is Status.VALID
    issuer_side = credential_record(engine, "hdvc", record["wh110"])
    assert (issuer_side["status"], issuer_side["credential"]) == ("anchored", None)
    assert issuer_side["learner"] == "erased:" + record["wh110"]
    with engine.begin() as connection:
        request_revocation(connection, "hdvc", reason=3, credential_id=record["wh110"],
                           actor="institution:hdvc")
    bank.worker.run_once()
    report = verify_credential(record["kept"], Context(ChainView(runtime.ledger)))
    assert report.verdict is Status.INVALID
    assert Code.REVOKED_CREDENTIAL in {fragment.code for fragment in report.fragments}
    assert retention.run(engine, now=moment + 120)["closed_accounts"] == 0


def test_keeping_the_account_during_the_grace_period_keeps_everything(
        runtime: Runtime) -> None:
    bank = city_bank(runtime)
    record = full_record(bank)
    engine, client = runtime.engine, bank.client
    wrong = client.post("/api/v1/learners/me/closure", headers=record["headers"],
                        json={"password": "not the password"})
    assert (wrong.status_code, wrong.json["errors"]) == (401, {"password": ["is wrong"]})
    unknown = client.post("/api/v1/learners/me/closure", headers=record["headers"],
                          json={"password": PASSWORD, "now": 1})
    assert (unknown.status_code, list(unknown.json["errors"]["json"])) == (422, ["now"])
    assert client.post("/api/v1/learners/me/closure", headers=record["headers"],
                       json={"password": PASSWORD}).status_code == 201
    headers = bank.log_in(LEARNER_ID)
    refused = client.get("/api/v1/learners/me", headers=headers)
    assert (refused.status_code, refused.json["errors"]) == (403, {"account": ["is closing"]})
    assert client.get("/api/v1/learners/me/closure", headers=headers).json["closing"] is True
    rows = rows_of(engine)

    assert client.delete("/api/v1/learners/me/closure", headers=headers).status_code == 204
    assert client.get("/api/v1/learners/me", headers=headers).status_code == 200
    account = runtime.accounts.by_id(record["account"]["id"])
    assert account is not None and account["closing_at"] is None
    again = client.delete("/api/v1/learners/me/closure", headers=headers)
    assert (again.status_code, again.json["errors"]) == (409, {"account": ["is not closing"]})
    counts = retention.run(engine, now=time.time() + GRACE_SECONDS + DAY)
    assert counts["closed_accounts"] == 0
    after = rows_of(engine)
    kept = {name for name in rows if name not in (
        "audit_log", "bank_consents", "bank_learner_tokens", "shared_links", "sign_in_failures",
        "idempotency", "web_sessions", "wallet_offers", "wallet_nonces")}
    assert {name: after[name] for name in kept} == {name: rows[name] for name in kept}
    assert after["bank_consents"] == rows["bank_consents"] + 1
    assert found_anywhere(engine, {"did": account["did"]}) != []


def test_closing_withdraws_what_is_open_and_staff_no_longer_open_the_record(
        runtime: Runtime) -> None:
    bank = city_bank(runtime)
    record = full_record(bank, decide=False)
    engine, client = runtime.engine, bank.client
    learner_id = record["account"]["id"]
    closed = client.post("/api/v1/learners/me/closure", headers=record["headers"],
                         json={"password": PASSWORD})
    assert closed.json["withdrawn"] == {
        "appeals": 0, "applications": 1, "agreements": 0, "deposits": 1, "share_links": 1,
        "wallet_offers": 1, "tokens": 1}
    with engine.connect() as connection:
        assert connection.execute(select(shared_links.c.revoked)).scalars().all() == [True]
        assert connection.execute(select(wallet_offers.c.status)).scalars().all() == ["locked"]
        kinds = connection.execute(select(notices.c.kind).where(
            notices.c.recipient_id == learner_id)).scalars().all()
        reads = connection.execute(select(func.count()).select_from(access_log)).scalar_one()
    assert "account_closing" in kinds
    assert client.get("/api/v1/deposits", headers=bearer(bank.operator)).json == {
        "deposits": [], "next": None}
    for path, token in ((f"/api/v1/deposits/{record['deposits'][1]}", bank.operator),
                        (f"/api/v1/applications/{record['application']}", bank.tokens["bjou"])):
        answer = client.get(path, headers=bearer(token))
        assert answer.status_code in (403, 404), (path, answer.json)
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(access_log)
                                  ).scalar_one() == reads
    status = client.get(f"/api/v1/applications/{record['application']}",
                        headers=record["headers"])
    assert status.status_code == 401


def test_the_closing_pages_in_both_languages(runtime: Runtime) -> None:
    bank = city_bank(runtime)
    full_record(bank)
    client = bank.client.application.test_client()
    elsewhere = bank.client.application.test_client()
    assert sign_in(client).status_code == 303 and sign_in(elsewhere).status_code == 303
    assert elsewhere.get("/me").status_code == 200
    page = client.get("/me/close")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "data-closing-kept" in text and "Cybersecurity Law" in text
    refused = client.post("/me/close", data={"csrf_token": form_token(client, "/me/close"),
                                             "password": "wrong password"})
    assert refused.status_code == 401
    assert "Tick the box" in refused.get_data(as_text=True)
    closed = client.post("/me/close", data={"csrf_token": form_token(client, "/me/close"),
                                            "understood": "yes", "password": PASSWORD})
    assert closed.status_code == 200 and "data-erased-on" in closed.get_data(as_text=True)
    assert client.get("/me").headers["Location"].startswith("/sign-in")
    assert elsewhere.get("/me").headers["Location"].startswith("/sign-in")

    assert sign_in(client).status_code == 303
    for path in ("/me", "/me/shares", "/me/data", "/me/notices"):
        answer = client.get(path)
        assert (answer.status_code, answer.headers["Location"]) == (303, "/me/close"), path
    closing = client.get("/me/close").get_data(as_text=True)
    assert "data-keep-account" in closing and "data-close-form" not in closing
    kept = client.post("/me/close/keep", data={"csrf_token": form_token(client, "/me/close")})
    assert (kept.status_code, kept.headers["Location"]) == (303, "/me")
    assert client.get("/me").status_code == 200


def test_the_closing_pages_in_chinese(runtime: Runtime) -> None:
    bank = city_bank(runtime)
    full_record(bank)
    client = bank.client.application.test_client()
    assert sign_in(client).status_code == 303
    page = client.get("/me/close?lang=zh").get_data(as_text=True)
    assert "保留的内容及原因" in page and "《网络安全法》" in page
    closed = client.post("/me/close", data={"csrf_token": form_token(client, "/me/close"),
                                            "understood": "yes", "password": PASSWORD})
    assert "你已在所有设备上退出登录" in closed.get_data(as_text=True)
    assert sign_in(client).status_code == 303
    closing = client.get("/me/close").get_data(as_text=True)
    assert "保留我的账户" in closing and "年" in closing


def expired_rows(engine: Engine, now: float) -> None:
    """One expired and one live row of every kind the retention job purges."""
    old, new = now - 3 * 365 * DAY - DAY, now + DAY
    with engine.begin() as connection:
        learner_id = connection.execute(select(learners.c.id)).scalars().first()
        for index, expires in enumerate((now - DAY, new)):
            connection.execute(insert(web_sessions).values(
                token_sha256=f"s{index}", role="learner", subject=learner_id, label="x",
                username="x", created_at=now - 2 * DAY, last_seen=now, expires_at=expires))
            connection.execute(insert(learner_tokens).values(
                token_sha256=f"t{index}", learner_id=learner_id, expires_at=expires))
            connection.execute(insert(verification_results).values(
                token=f"v{index}", credential="{}", created_at=now - 2 * DAY,
                expires_at=expires))
            connection.execute(insert(presentation_requests).values(
                id=f"p{index}", state=f"state{index}", nonce="n", viewer_sha256=f"w{index}",
                dcql_query="{}", client_id="c", response_uri="https://v.example/r",
                created_at=now - 2 * DAY, expires_at=expires))
            connection.execute(insert(wallet_nonces).values(
                nonce_sha256=f"n{index}", expires_at=expires))
            connection.execute(insert(sign_in_failures).values(
                key_sha256=f"f{index}", failures=3, wait_until=now - 2 * DAY if index == 0 else new,
                last_failure=now - 2 * DAY if index == 0 else now))
            connection.execute(insert(notices).values(
                recipient_kind="learner", recipient_id=learner_id, kind="decision_made",
                params="{}", created_at=now - 731 * DAY if index == 0 else now,
                email_attempts=0))
            connection.execute(insert(audit_log).values(
                at=old if index == 0 else now, actor="cli:test", action="test.old",
                subject="x", details="{}"))
            connection.execute(insert(access_log).values(
                at=old if index == 0 else now, learner_id=learner_id, actor="operator:x",
                organisation="centre", what="record", object_id="x", purpose="deposit-check"))
            connection.execute(insert(idempotency).values(
                issuer_id="hdvc", key=f"k{index}", request_sha256="r", status=201,
                response="{}", created_at=now - 8 * DAY if index == 0 else now))
        for token, revoked, expires in (("withdrawn", True, new), ("expired", False,
                                        now - 31 * DAY), ("recent", False, now - DAY),
                                        ("live", False, new)):
            connection.execute(insert(shared_links).values(
                token=token, credential_json="{}", kind="credential", expires_at=expires,
                created_at=now - 60 * DAY, revoked=revoked, learner_id=learner_id))
        connection.execute(update(wallet_offers).values(expires_at=now - 31 * DAY))


PURGED = {"web_sessions": 1, "learner_tokens": 1, "verification_results": 1,
          "presentation_requests": 1, "share_links": 2, "wallet_offers": 1, "wallet_nonces": 1,
          "idempotency": 1, "notices": 1, "sign_in_failures": 1, "access_log": 1,
          "audit_log": 1, "closed_accounts": 0}


def test_retention_purges_each_kind_once_and_a_dry_run_changes_nothing(
        runtime: Runtime) -> None:
    bank = city_bank(runtime)
    record = full_record(bank)
    engine = runtime.engine
    now = time.time()
    with engine.begin() as connection:
        for table in (learner_tokens, sign_in_failures, idempotency):
            connection.execute(table.delete())
        connection.execute(shared_links.delete())
    expired_rows(engine, now)
    rows = rows_of(engine)
    counted = retention.run(engine, now=now, dry_run=True)
    assert rows_of(engine) == rows
    assert {name: counted[name] for name in PURGED} == PURGED
    assert retention.run(engine, now=now) == {**counted}
    after = rows_of(engine)
    assert after["shared_links"] == 2 and after["bank_notices"] == rows["bank_notices"] - 1
    assert retention.run(engine, now=now) == dict.fromkeys(PURGED, 0)
    with engine.connect() as connection:
        entries = connection.execute(select(audit_log.c.details).where(
            audit_log.c.action == "retention.run")).scalars().all()
    assert [json.loads(details)["share_links"] for details in entries] == [2, 0]
    assert record["account"]["id"]


def test_the_retention_command_prints_its_report(runtime: Runtime,
                                                monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture) -> None:
    now = time.time()
    with runtime.engine.begin() as connection:
        connection.execute(insert(verification_results).values(
            token="old", credential="{}", created_at=now - 2 * DAY, expires_at=now - DAY))
    monkeypatch.setenv("CREDITBANK_DATABASE_URL", runtime.settings.database_url)
    monkeypatch.setenv("CREDITBANK_DATA", str(runtime.settings.data_dir))
    data: list[str] = []
    assert main(["data", "retention", "--dry-run", *data]) == 0
    dry = capsys.readouterr().out.splitlines()
    assert {"verification_results\t1", "closed_accounts\t0", "web_sessions\t0"} <= set(dry)
    assert dry[-1] == "would purge 1 in all"
    assert main(["data", "retention", *data]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "purged 1 in all"
    assert main(["data", "retention", *data]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "purged 0 in all"
