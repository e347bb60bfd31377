"""Notices on both databases: each event gives its notice once, in the transaction that makes
the event; the inbox is the recipient's alone; e-mail preferences are validated; the outbox
sends each chosen notice once to the tests' SMTP server, and a failing server only delays it."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update

from bank.applications import appeal, decide_appeal
from bank.notices import (
    BACKOFF_SECONDS,
    CLAIM_SECONDS,
    email_text,
    inbox,
    mark_read,
    message,
    notice_deliveries,
    notice_expiring,
    notify,
    preferences_of,
    save_preferences,
    send_outbox,
    unread_count,
    work_once,
)
from bank.revocation_watch import watch_once
from bank.sharing import share
from bank.tables import notices
from infra.errors import InvalidInput, SettingsError
from infra.mail import Mailer
from infra.settings import Settings
from issuers.revocation import request_revocation
from issuers.tables import credentials
from ledger.views import ChainView
from portal.runtime import Runtime
from tests.support.bank import LEARNER_ID, OTHER_ID, RULE_SET, Bank, bearer, city_bank, outcome
from tests.support.smtp import SmtpServer

DAY = 86_400
ADDRESS = "wang.fang@example.cn"


def learner_id(bank: Bank, headers: dict) -> str:
    """The account id of the learner logged in with these headers."""
    return bank.client.get("/api/v1/learners/me", headers=headers).json["account"]["id"]


def kinds(engine, recipient_kind: str, recipient_id: str) -> list[str]:
    """The kinds of a recipient's notices, newest first."""
    return [row["kind"] for row in inbox(engine, recipient_kind, recipient_id)]


def decided(bank: Bank, headers: dict) -> str:
    """Apply under BJOU's rules, pass both reviews; the application id."""
    client = bank.client
    application = client.post("/api/v1/applications", headers=headers,
                              json={"rule_set_id": RULE_SET, "version": 1}).json["id"]
    path = f"/api/v1/applications/{application}"
    assert client.post(f"{path}/first-review", headers=bearer(bank.tokens["bjou"]),
                       json={"verdict": "approve"}).status_code == 200
    assert client.post(f"{path}/second-review", headers=bearer(bank.operator),
                       json={"verdict": "approve"}).status_code == 200
    return application


def test_each_event_gives_its_notice_once_to_its_recipient(runtime: Runtime) -> None:
    bank = city_bank(runtime)
    engine = runtime.engine
    headers = bank.open_account()
    wang = learner_id(bank, headers)
    other = learner_id(bank, bank.open_account(OTHER_ID))
    wh110, math110 = bank.issue("hdvc", [outcome("WH110", "B"), outcome("MATH110", "A")])
    bank.issue("hdvc", [outcome("ENG110", "B", national_id=OTHER_ID)])

    assert notice_deliveries(engine) == 3
    assert notice_deliveries(engine) == 0
    delivered = inbox(engine, "learner", wang)
    assert sorted(row["params"]["credential"] for row in delivered) == sorted([wh110, math110])
    assert {(row["kind"], row["link"], row["params"]["title"], row["params"]["issuer"])
            for row in delivered} == {
        ("credential_delivered", "/me", "Warehouse Operations", "Haidian Vocational College"),
        ("credential_delivered", "/me", "Applied Mathematics", "Haidian Vocational College")}
    assert kinds(engine, "learner", other) == ["credential_delivered"]

    application = decided(bank, headers)
    assert kinds(engine, "institution", "bjou") == ["application_waiting"]
    waiting = inbox(engine, "institution", "bjou")[0]
    assert (waiting["link"], waiting["params"]["programme"]) == (
        f"/institution/applications/{application}", "Associate in Logistics Management")
    made = inbox(engine, "learner", wang)[0]
    assert (made["kind"], made["link"], made["params"]["verdict"], made["params"]["credits"],
            made["params"]["amended"]) == (
        "decision_made", f"/me/applications/{application}", "granted", 7, False)
    assert message("decision_made", made["params"], "en").text == (
        "Your application for Associate in Logistics Management was decided: granted, "
        "7 credits.")
    assert message("decision_made", made["params"], "zh").text == (
        "你申请认定的“Associate in Logistics Management”已作出决定：准予认定，7学分。")

    with engine.begin() as connection:
        batch = connection.execute(select(credentials.c.batch_id).where(
            credentials.c.id == wh110)).scalar_one()
        request_revocation(connection, "hdvc", reason=5, batch_id=batch,
                           actor="institution:hdvc")
    bank.worker.run_once()
    assert len(watch_once(engine, runtime.ledger)) == 1
    assert watch_once(engine, runtime.ledger) == []
    flagged = inbox(engine, "learner", wang)[0]
    assert (flagged["kind"], flagged["link"]) == (
        "decision_flagged", f"/me/applications/{application}")

    appeal(engine, application, {"id": wang}, "my warehouse course was not fraudulent")
    decide_appeal(engine, ChainView(runtime.ledger), application, "city-centre",
                  outcome="amended", reasons=["the revoked course no longer counts"])
    answered, amended = inbox(engine, "learner", wang)[:2]
    assert {answered["kind"], amended["kind"]} == {"appeal_answered", "decision_made"}
    assert {row["kind"]: row["params"].get("outcome") or row["params"]["amended"]
            for row in (answered, amended)} == {"appeal_answered": "amended",
                                                "decision_made": True}
    assert message("appeal_answered", {"outcome": "amended", "programme": "P"}, "zh").text == (
        "市学分银行中心变更了你在“P”的认定决定。")
    assert kinds(engine, "learner", other) == ["credential_delivered"]
    stored = json.dumps([row["params"] for row in inbox(engine, "learner", wang)])
    assert LEARNER_ID not in stored


def test_share_links_and_credentials_about_to_expire_are_noticed_once(runtime: Runtime) -> None:
    bank = city_bank(runtime)
    engine = runtime.engine
    wang = learner_id(bank, bank.open_account())
    now = time.time()
    share(engine, json.dumps({"name": "Warehouse Operations"}), "credential", now=now,
          lifetime=3 * DAY, learner_id=wang, subject_id="urn:x")
    share(engine, json.dumps({"name": "Later"}), "credential", now=now, lifetime=30 * DAY,
          learner_id=wang, subject_id="urn:y")
    (expiring,) = bank.issue("hdvc", [outcome("WH110", "B", valid_until="2030-01-10")])
    bank.issue("hdvc", [outcome("MATH110", "A", valid_until="2031-01-10")])

    assert notice_expiring(engine, now=now) == 1
    assert notice_expiring(engine, now=now) == 0
    link = inbox(engine, "learner", wang)[0]
    assert (link["kind"], link["link"], link["params"]) == (
        "share_expiring", "/me/shares",
        {"title": "Warehouse Operations",
         "expires_on": datetime.fromtimestamp(now + 3 * DAY, UTC).date().isoformat()})
    before = datetime(2030, 1, 5, tzinfo=UTC).timestamp()
    assert notice_expiring(engine, now=before) == 1
    assert notice_expiring(engine, now=before) == 0
    credential = inbox(engine, "learner", wang)[0]
    assert (credential["kind"], credential["params"]["credential"],
            credential["params"]["expires_on"]) == ("credential_expiring", expiring, "2030-01-10")
    assert message("credential_expiring", credential["params"], "en").text == (
        "“Warehouse Operations” from Haidian Vocational College is valid until 2030-01-10.")


def test_the_inbox_is_the_recipients_and_marks_read(runtime: Runtime) -> None:
    engine = runtime.engine
    with engine.begin() as connection:
        first = notify(connection, recipient_kind="learner", recipient_id="a",
                       kind="share_expiring", now=1.0,
                       params={"title": "T", "expires_on": "2030-01-01"})
        notify(connection, recipient_kind="learner", recipient_id="a",
               kind="credential_delivered", params={"title": "C", "issuer": "I"}, now=2.0)
        notify(connection, recipient_kind="institution", recipient_id="a",
               kind="application_waiting", params={"programme": "P", "submitted_on": "x"})
        assert notify(connection, recipient_kind="learner", recipient_id="b",
                      kind="decision_made", params={}, once_key="k") is not None
        assert notify(connection, recipient_kind="learner", recipient_id="b",
                      kind="decision_made", params={}, once_key="k") is None
    assert kinds(engine, "learner", "a") == ["credential_delivered", "share_expiring"]
    assert inbox(engine, "learner", "a")[1]["id"] == first
    assert (unread_count(engine, "learner", "a"), unread_count(engine, "institution", "a")) == (
        2, 1)
    assert mark_read(engine, "learner", "a") == 2
    assert (unread_count(engine, "learner", "a"), unread_count(engine, "institution", "a"),
            unread_count(engine, "learner", "b")) == (0, 1, 1)
    with pytest.raises(ValueError), engine.begin() as connection:
        notify(connection, recipient_kind="learner", recipient_id="a", kind="gossip", params={})


def test_preferences_are_validated_and_none_by_default(runtime: Runtime) -> None:
    bank = city_bank(runtime, approve=False)
    wang = learner_id(bank, bank.open_account())
    engine = runtime.engine
    assert preferences_of(engine, wang).to_json() == {"email": None, "kinds": []}
    for email, chosen, fields in (
            ("not an address", [], ["email"]),
            ("a@b.cn\r\nBcc: x@y.cn", ["decision_made"], ["email"]),
            ("", ["decision_made"], ["email"]),
            (ADDRESS, ["decision_made", "application_waiting"], ["kinds"]),
            (ADDRESS, "decision_made", ["kinds"]),
            (7, [], ["email"])):
        with pytest.raises(InvalidInput) as refused:
            save_preferences(engine, wang, email=email, kinds=chosen)
        assert sorted(refused.value.errors) == fields
    saved = save_preferences(engine, wang, email=f" {ADDRESS} ",
                             kinds=["share_expiring", "decision_made"])
    assert saved.to_json() == {"email": ADDRESS, "kinds": ["decision_made", "share_expiring"]}
    assert preferences_of(engine, wang) == saved
    assert save_preferences(engine, wang, email="", kinds=[]).to_json() == {
        "email": None, "kinds": []}


def test_the_outbox_sends_each_chosen_notice_once_with_its_link(runtime: Runtime) -> None:
    bank = city_bank(runtime)
    engine = runtime.engine
    headers = bank.open_account()
    wang = learner_id(bank, headers)
    save_preferences(engine, wang, email=ADDRESS, kinds=["decision_made"])
    bank.issue("hdvc", [outcome("WH110", "B")])
    with SmtpServer() as server:
        settings = Settings(data_dir=runtime.settings.data_dir,
                            database_url=runtime.settings.database_url,
                            public_url="https://bank.example.cn", smtp_url=server.url,
                            mail_from="notices@bank.example.cn")
        application = decided(bank, headers)
        done = work_once(engine, settings)
        assert (done["delivered"], done["sent"], done["pending"], done["failed"]) == (1, 1, 0, 0)
        assert work_once(engine, settings)["sent"] == 0
        (mail,) = server.received()
        assert server.envelopes == [("notices@bank.example.cn", [ADDRESS])]
        assert (mail["To"], mail["From"], mail["Subject"]) == (
            ADDRESS, "notices@bank.example.cn",
            "你的认定申请已有决定 / Your application was decided")
        body = mail.get_content()
        link = f"https://bank.example.cn/me/applications/{application}"
        assert body == (
            "你申请认定的“Associate in Logistics Management”已作出决定：准予认定，3学分。\n"
            f"在学分银行查看：{link}\n\n"
            "Your application for Associate in Logistics Management was decided: granted, "
            f"3 credits.\nSee it in the credit bank: {link}\n")
        assert LEARNER_ID not in mail.as_string()
        statuses = {row["kind"]: row["email_status"] for row in inbox(engine, "learner", wang)}
        assert statuses == {"decision_made": "sent", "credential_delivered": None}


def test_a_failing_smtp_server_delays_the_mail_and_loses_nothing(runtime: Runtime) -> None:
    engine = runtime.engine
    bank = city_bank(runtime, approve=False)
    wang = learner_id(bank, bank.open_account())
    save_preferences(engine, wang, email=ADDRESS, kinds=["share_expiring"])
    with engine.begin() as connection:
        notice = notify(connection, recipient_kind="learner", recipient_id=wang,
                        kind="share_expiring", link="/me/shares",
                        params={"title": "T", "expires_on": "2030-01-01"}, now=1000.0)
    closed = Mailer(host="127.0.0.1", port=1, tls=False, sender="bank@example.cn", timeout=2)
    assert send_outbox(engine, closed, public_url="http://x", now=1000.0)["pending"] == 1
    with SmtpServer() as server:
        mailer = Mailer.of(Settings(data_dir=runtime.settings.data_dir, database_url="sqlite://",
                                    smtp_url=server.url))
        assert mailer is not None
        assert send_outbox(engine, mailer, public_url="http://x", now=1001.0)["sent"] == 0
        server.failing = True
        due = 1000.0 + BACKOFF_SECONDS
        assert send_outbox(engine, mailer, public_url="http://x", now=due)["pending"] == 1
        with engine.connect() as connection:
            row = connection.execute(select(notices).where(notices.c.id == notice)).one()
        assert (row.email_status, row.email_attempts, row.email_after) == (
            "pending", 2, due + 2 * BACKOFF_SECONDS)
        server.failing = False
        assert send_outbox(engine, mailer, public_url="http://x", now=due + 60)["sent"] == 1
        assert send_outbox(engine, mailer, public_url="http://x", now=due + 10_000)["sent"] == 0
        assert len(server.received()) == 1
        assert "http://x/me/shares" in server.received()[0].get_content()


def test_a_claimed_notice_is_never_sent_twice(runtime: Runtime) -> None:
    engine = runtime.engine
    bank = city_bank(runtime, approve=False)
    wang = learner_id(bank, bank.open_account())
    save_preferences(engine, wang, email=ADDRESS, kinds=["share_expiring", "decision_made"])
    with engine.begin() as connection:
        claimed, dropped = (notify(connection, recipient_kind="learner", recipient_id=wang,
                                   kind=kind, params={}, now=10.0)
                            for kind in ("share_expiring", "decision_made"))
        connection.execute(update(notices).where(notices.c.id == claimed).values(
            email_status="sending"))
    save_preferences(engine, wang, email="", kinds=[])
    with SmtpServer() as server:
        mailer = Mailer.of(Settings(data_dir=runtime.settings.data_dir, database_url="sqlite://",
                                    smtp_url=server.url))
        assert mailer is not None
        assert send_outbox(engine, mailer, public_url="http://x", now=20.0) == {
            "sent": 0, "pending": 0, "failed": 0, "dropped": 1}
        assert send_outbox(engine, mailer, public_url="http://x",
                           now=10.0 + CLAIM_SECONDS + 1)["failed"] == 1
        assert server.received() == []
    with engine.connect() as connection:
        statuses = dict(connection.execute(select(notices.c.id, notices.c.email_status)).all())
    assert statuses == {claimed: "failed", dropped: None}


def test_smtp_settings_are_read_once_and_checked() -> None:
    base = {"CREDITBANK_DATA": "/tmp/cb"}
    assert Settings.from_env(base).smtp_url == ""
    settings = Settings.from_env({**base, "CREDITBANK_SMTP_URL": "smtps://bank:p%40ss@mail.cn",
                                  "CREDITBANK_MAIL_FROM": "notices@bank.cn"})
    assert "p%40ss" not in repr(settings)
    assert Mailer.of(settings) == Mailer(host="mail.cn", port=465, tls=True,
                                         sender="notices@bank.cn", user="bank", password="p@ss")
    assert Mailer.of(Settings.from_env(base)) is None
    for bad in ("http://mail.cn", "smtp://", "smtp://mail.cn:99999", "mail.cn:25"):
        with pytest.raises(SettingsError) as refused:
            Settings.from_env({**base, "CREDITBANK_SMTP_URL": bad})
        assert "CREDITBANK_SMTP_URL" in refused.value.message


def test_an_email_says_what_happened_in_both_languages_with_the_link() -> None:
    subject, body = email_text("application_waiting",
                               {"programme": "P", "submitted_on": "2026-12-06"}, "http://b/x")
    assert subject == "有认定申请等待初审 / An application waits for first review"
    assert body.splitlines() == [
        "一份“P”的认定申请已于2026-12-06提交，等待你方初审。", "在学分银行查看：http://b/x", "",
        "An application for P was submitted on 2026-12-06 and waits for your first review.",
        "See it in the credit bank: http://b/x"]
