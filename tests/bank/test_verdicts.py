"""Stored verdicts: written once per credential, brought up to date at once by a revocation or
key retirement this bank makes on chain, and by the revocation watch for suspensions (they touch
every credential of an issuer: not in the operator's request) and changes made elsewhere, and
shown on the record page as current as the verify cache (a change made elsewhere shows within its
ttl, before the watch runs); registry events from before the indexer followed them backfilled;
the page in keyset pages."""

from __future__ import annotations

import re
import time
from dataclasses import replace

import pytest
from sqlalchemy import and_, delete, select, update

from bank.records import held_credentials, verify_held
from bank.revocation_watch import watch_once
from bank.tables import deposits
from bank.verdicts import rebuild_verdicts, refresh_from_chain, verdicts
from credentials.anchoring import anchor_proof_of
from issuers.registry import issuer_account, issuer_record, reinstate, rotate_key, suspend
from issuers.tables import batches, credentials, issuer_keys
from ledger.indexer import REGISTRY_EVENTS, Indexer, cursor, issuer_events, rows
from ledger.views import ChainView
from portal.pages.citizen import credential_ref
from portal.runtime import Runtime
from tests.support.bank import (
    LEARNER_ID,
    OPERATOR_ACTOR,
    Bank,
    bearer,
    city_bank,
    outcome,
    xuetang_credential,
)
from tests.support.citizen import issue_record, sign_up
from verify import Context, Status

TTL = 0.3
ROW = re.compile(r'<tr data-credential="([0-9a-f]+)">.*?<td data-status="(\w+)"'
                 r'(?: data-code="(\w+)")?', re.S)


@pytest.fixture
def bank(runtime: Runtime) -> Bank:
    """Wang Fang signed up with her record issued, the portal's verify cache kept `TTL` s."""
    runtime.settings = replace(runtime.settings, verify_cache_seconds=TTL)
    city = city_bank(runtime)
    sign_up(city.client)
    issue_record(city)
    return city


def page_statuses(bank: Bank, query: str = "") -> dict[str, tuple[str, str | None]]:
    """{credential ref: (status, code)} of a record page, in its order."""
    page = bank.client.get(f"/me{query}")
    assert page.status_code == 200
    return {ref: (status, code or None)
            for ref, status, code in ROW.findall(page.get_data(as_text=True))}


def verified_now(bank: Bank) -> dict[str, tuple[str, str | None]]:
    """{credential ref: (verdict, code of the first check with it)} by a full verification of
    every credential of the record against the chain itself (no cache)."""
    learner = bank.runtime.accounts.by_did(
        bank.client.get("/api/v1/learners/me", headers=bank.log_in(LEARNER_ID)).json[
            "account"]["did"])
    held = held_credentials(bank.runtime.engine, learner)
    reports = verify_held(Context(ChainView(bank.runtime.ledger)), held)
    return {credential_ref(item.id): (str(report.verdict), None if report.verdict is Status.VALID
                                      else str(next(f.code for f in report.fragments
                                                    if f.status is report.verdict)))
            for item, report in zip(held, reports, strict=True)}


def stored(bank: Bank) -> dict[str, tuple[str, str | None, bool, bool]]:
    """{credential ref: (status, revoked code, suspended, key retired)} as stored (a deposit's
    verdict is kept under the deposit's id)."""
    with bank.runtime.engine.connect() as connection:
        rows = connection.execute(select(verdicts, deposits.c.credential_id).outerjoin(
            deposits, and_(verdicts.c.source == "deposit", verdicts.c.ref == deposits.c.id)))
        return {credential_ref(row.credential_id or row.ref): (
            row.status, row.revoked_code, row.suspended, row.key_retired) for row in rows}


def ref_of(bank: Bank, unit: str) -> str:
    """The reference of the learner's credential of a unit."""
    with bank.runtime.engine.connect() as connection:
        return credential_ref(connection.scalar(
            select(credentials.c.id).where(credentials.c.unit_code == unit)))


def totals(bank: Bank) -> tuple[str, int, int]:
    """The record page's totals: credits in valid credentials, valid credentials, and how many
    credentials do not count now."""
    page = bank.client.get("/me?lang=en").get_data(as_text=True)
    credits = re.search(r"data-total-credits>([^<]+)<", page)
    valid = re.search(r'stat-number">(\d+)</span> <span class="stat-label">valid credentials', page)
    set_aside = re.search(r"(\d+) credentials? of your record do(?:es)? not verify now", page)
    assert credits is not None and valid is not None
    return credits.group(1), int(valid.group(1)), int(set_aside.group(1)) if set_aside else 0


def exported(bank: Bank) -> dict[str, str]:
    """{credential ref: stored status} of the delivered credentials, as the learner's export
    API gives their stored verdicts."""
    answer = bank.client.get("/api/v1/learners/me/export", headers=bank.log_in(LEARNER_ID))
    assert answer.status_code == 200
    rows = answer.json["sections"]["credentials"]["bank_verdicts"]
    return {credential_ref(row["ref"]): row["status"] for row in rows if row["source"] == "issued"}


def watch_changes(bank: Bank) -> int:
    """Run the revocation watch's indexing and refresh: how many verdict rows it changed."""
    Indexer(bank.runtime.ledger, bank.runtime.engine).sync()
    return refresh_from_chain(bank.runtime.engine)


def revoke_here(bank: Bank, unit: str) -> tuple[str, str]:
    """Revoke the learner's credential of a unit through the issuer's API and run the bank's
    worker once: the credential's reference and id."""
    with bank.runtime.engine.connect() as connection:
        credential_id = connection.scalar(select(credentials.c.id).where(
            credentials.c.unit_code == unit))
    asked = bank.client.post(f"/api/v1/credentials/{credential_id}/revocation",
                             headers=bearer(bank.tokens["hdvc"]), json={"reason": "fraud"})
    assert asked.status_code == 202, asked.json
    bank.worker.run_once()
    return credential_ref(credential_id), credential_id


def test_the_record_page_shows_a_revocation_made_here_while_its_cache_still_holds_valid(
        runtime: Runtime) -> None:
    runtime.settings = replace(runtime.settings, verify_cache_seconds=3600)
    city = city_bank(runtime)
    sign_up(city.client)
    issue_record(city)
    assert set(page_statuses(city).values()) == {("VALID", None)}
    wh110, _ = revoke_here(city, "WH110")
    shown = page_statuses(city)
    assert (shown.pop(wh110), set(shown.values())) == (
        ("INVALID", "REVOKED_CREDENTIAL"), {("VALID", None)})


def test_a_revocation_made_here_is_stored_at_once_and_the_watch_changes_nothing_more(
        bank: Bank) -> None:
    first = page_statuses(bank)
    assert (list(first.values()), first == verified_now(bank)) == ([("VALID", None)] * 5, True)
    assert set(stored(bank).values()) == {("VALID", None, False, False)}
    assert totals(bank) == ("22", 5, 0)

    wh110, credential_id = revoke_here(bank, "WH110")
    at_once = stored(bank)
    assert at_once.pop(wh110) == ("INVALID", "REVOKED_CREDENTIAL", False, False)
    assert set(at_once.values()) == {("VALID", None, False, False)}
    assert totals(bank) == ("19", 4, 1)
    assert exported(bank)[wh110] == "INVALID"
    assert page_statuses(bank) == verified_now(bank)

    before = stored(bank)
    assert (watch_changes(bank), stored(bank)) == (0, before)
    watch_once(bank.runtime.engine, bank.runtime.ledger)
    assert (stored(bank), totals(bank)) == (before, ("19", 4, 1))

    with bank.runtime.engine.connect() as connection:
        batch_id = connection.scalar(select(credentials.c.batch_id).where(
            credentials.c.id == credential_id))
        in_batch = {credential_ref(ref) for ref in connection.scalars(
            select(credentials.c.id).where(credentials.c.batch_id == batch_id))}
    asked = bank.client.post(f"/api/v1/batches/{batch_id}/revocation",
                             headers=bearer(bank.tokens["hdvc"]), json={"reason": "fraud"})
    assert asked.status_code == 202, asked.json
    bank.worker.run_once()
    assert ({ref for ref, row in stored(bank).items() if row[:2] == ("INVALID", "REVOKED_BATCH")},
            totals(bank)[1:]) == (in_batch, (5 - len(in_batch), len(in_batch)))
    assert len(in_batch) > 1
    before = stored(bank)
    assert (watch_changes(bank), stored(bank)) == (0, before)


def test_a_suspension_shows_on_the_page_at_once_and_in_the_totals_after_the_watch_a_key_too(
        bank: Bank) -> None:
    runtime = bank.runtime
    page_statuses(bank)
    hdvc = {ref_of(bank, unit) for unit in ("WH110", "MATH110", "ACC110")}
    suspend(runtime.engine, runtime.chain, "hdvc", actor=OPERATOR_ACTOR)
    time.sleep(TTL + 0.1)
    suspended = page_statuses(bank)
    assert ({ref for ref, shown in suspended.items()
             if shown == ("INVALID", "ISSUER_SUSPENDED")}, suspended) == (hdvc, verified_now(bank))
    assert (watch_changes(bank), watch_changes(bank)) == (3, 0)
    assert {ref for ref, row in stored(bank).items() if row == ("INVALID", None, True, False)} \
        == hdvc
    assert totals(bank) == ("12", 2, 3)

    reinstate(runtime.engine, runtime.chain, "hdvc", actor=OPERATOR_ACTOR)
    time.sleep(TTL + 0.1)
    assert set(page_statuses(bank).values()) == {("VALID", None)}
    assert (watch_changes(bank), watch_changes(bank)) == (3, 0)
    assert (set(stored(bank).values()), totals(bank)) == ({("VALID", None, False, False)},
                                                          ("22", 5, 0))

    rotate_key(runtime.engine, runtime.ledger, "hdvc", master_key=runtime.settings.master_key(),
               actor=OPERATOR_ACTOR)
    bank.worker.run_once()
    with runtime.engine.connect() as connection:
        assert "retired" in set(connection.scalars(select(issuer_keys.c.state).where(
            issuer_keys.c.issuer_id == "hdvc")))
    assert (set(stored(bank).values()), watch_changes(bank)) == ({("VALID", None, False, False)},
                                                                 0)

    courier = ref_of(bank, "CERT-COURIER")
    with runtime.engine.connect() as connection:
        public_key, block = connection.execute(
            select(issuer_keys.c.public_key, batches.c.block)
            .join(credentials, credentials.c.key_id == issuer_keys.c.id)
            .join(batches, batches.c.id == credentials.c.batch_id)
            .where(credentials.c.unit_code == "CERT-COURIER")).one()
    runtime.ledger.transact(runtime.chain.operator(), "IssuerRegistry", "retireIssuerKey",
                            issuer_record(runtime.engine, "courier")["chain_id"], public_key,
                            block)
    time.sleep(TTL + 0.1)
    retired = page_statuses(bank)
    assert (retired[courier], retired) == (("INVALID", "KEY_RETIRED"), verified_now(bank))
    watch_once(runtime.engine, runtime.ledger)
    assert stored(bank)[courier] == ("INVALID", None, False, True)


def test_paging_lists_every_credential_once_in_order_forward_and_back(bank: Bank) -> None:
    bank.issue("hdvc", [outcome("ENG110", "B", session=f"evening {number:03}")
                        for number in range(125)])
    expected = list(verified_now(bank))
    forward, query, previous_links = [], "", []
    while True:
        page = bank.client.get(f"/me{query}").get_data(as_text=True)
        forward.append(list(page_statuses(bank, query)))
        previous_links.append(re.search(r'href="/me\?before=([^"]+)"', page))
        found = re.search(r'href="/me\?after=([^"]+)" rel="next"', page)
        if found is None:
            break
        query = f"?after={found.group(1)}"
    assert ([len(refs) for refs in forward], [ref for refs in forward for ref in refs]) == (
        [50, 50, 30], expected)
    assert [link is not None for link in previous_links] == [False, True, True]
    chinese = bank.client.get("/me?lang=zh").get_data(as_text=True)
    assert re.search(r'rel="next" data-next>([^<]+)<', chinese).group(1) == "下一页"

    backward, query = [], f"?before={previous_links[-1].group(1)}"
    while True:
        page = bank.client.get(f"/me{query}").get_data(as_text=True)
        backward.insert(0, list(page_statuses(bank, query)))
        found = re.search(r'href="/me\?before=([^"]+)" rel="prev"', page)
        if found is None:
            break
        query = f"?before={found.group(1)}"
    assert backward + forward[-1:] == forward


def test_a_bad_cursor_gets_a_400_page(bank: Bank) -> None:
    answers = [bank.client.get(f"/me{query}").status_code
               for query in ("?after=nonsense", "?before=W10", "?after=abc&before=abc")]
    assert answers == [400, 400, 400]


def test_rebuilding_stores_a_verdict_for_every_delivered_credential(
    bank: Bank, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown = page_statuses(bank)
    kept = [column for column in verdicts.c if column.name != "checked_at"]
    with bank.runtime.engine.begin() as connection:
        stored = connection.execute(select(*kept).order_by(verdicts.c.ref)).all()
        connection.execute(delete(verdicts))
    monkeypatch.setattr("bank.verdicts.CHUNK", 2)
    heard: list[int] = []
    assert (rebuild_verdicts(bank.runtime.engine, progress=heard.append, connections=2),
            heard) == (5, [2, 4, 5])
    assert rebuild_verdicts(bank.runtime.engine) == 0
    assert page_statuses(bank) == shown
    with bank.runtime.engine.connect() as connection:
        assert connection.execute(select(*kept).order_by(verdicts.c.ref)).all() == stored


def test_a_deposit_is_verified_once_and_its_batch_revocation_shows_within_the_bound(
        bank: Bank) -> None:
    runtime = bank.runtime
    learner = bank.log_in(LEARNER_ID)
    did = bank.client.get("/api/v1/learners/me", headers=learner).json["account"]["did"]
    credential = xuetang_credential(runtime, did)
    deposited = bank.client.post("/api/v1/learners/me/deposits", headers=learner,
                                 json={"credential": credential})
    assert deposited.json["status"] == "accepted"
    ref = credential_ref(credential["id"])
    assert (page_statuses(bank)[ref], stored(bank)[ref]) == (("VALID", None),
                                                             ("VALID", None, False, False))
    with runtime.engine.connect() as connection:
        assert connection.scalar(select(verdicts.c.basis).where(
            verdicts.c.source == "deposit")) == "verification"

    anchored = anchor_proof_of(credential)
    assert anchored is not None
    runtime.ledger.transact(issuer_account(runtime.engine, runtime.settings.master_key(),
                                           "xuetang"), "CredentialAnchor", "revokeRoot",
                            anchored.root, 1)
    time.sleep(TTL + 0.1)
    assert page_statuses(bank)[ref] == ("INVALID", "REVOKED_BATCH")
    assert page_statuses(bank) == verified_now(bank)
    watch_once(runtime.engine, runtime.ledger)
    assert stored(bank)[ref] == ("INVALID", "REVOKED_BATCH", False, False)


def as_before_migration_0016(bank: Bank) -> None:
    """Make the bank look as one upgraded from before migration 0016 does: no registry events
    indexed though the indexer's cursor is past them, and verdicts stored without their flags."""
    with bank.runtime.engine.begin() as connection:
        connection.execute(delete(issuer_events))
        connection.execute(delete(cursor).where(cursor.c.name.in_(
            ("default" + REGISTRY_EVENTS, "bank.verdicts" + REGISTRY_EVENTS))))
        connection.execute(update(verdicts).values(
            suspended=False, key_retired=False, status=verdicts.c.static_status))


def indexed(bank: Bank) -> list[dict]:
    """The registry events indexed, in chain order."""
    return sorted(rows(bank.runtime.engine, issuer_events),
                  key=lambda event: (event["block"], event["log_index"]))


def test_registry_events_from_before_the_indexer_followed_them_are_backfilled(
        bank: Bank) -> None:
    runtime = bank.runtime
    page_statuses(bank)
    suspend(runtime.engine, runtime.chain, "courier", actor=OPERATOR_ACTOR)
    suspend(runtime.engine, runtime.chain, "hdvc", actor=OPERATOR_ACTOR)
    reinstate(runtime.engine, runtime.chain, "hdvc", actor=OPERATOR_ACTOR)
    watch_once(runtime.engine, runtime.ledger)
    events, expected, shown = indexed(bank), stored(bank), totals(bank)
    assert ([event["event"] for event in events], shown) == (
        ["Suspended", "Suspended", "Reinstated"], ("14", 4, 1))

    as_before_migration_0016(bank)
    assert (totals(bank), indexed(bank)) == (("22", 5, 0), [])
    watch_once(runtime.engine, runtime.ledger)
    assert (indexed(bank), stored(bank), totals(bank)) == (
        events, expected, shown)

    as_before_migration_0016(bank)
    indexer = Indexer(runtime.ledger, runtime.engine)
    start, head = indexer.registry_block(), indexer.indexed_block()
    step = max(1, (head - start) // 4)
    passes = []
    while Indexer(runtime.ledger, runtime.engine).registry_block() < head:
        Indexer(runtime.ledger, runtime.engine).backfill(step=step, seconds=0)
        passes.append(Indexer(runtime.ledger, runtime.engine).registry_block())
        if passes[-1] < head:
            assert (refresh_from_chain(runtime.engine), totals(bank)) == (0, ("22", 5, 0))
    assert passes == [min(start + step * number, head) for number in range(1, len(passes) + 1)]
    assert indexed(bank) == events
    assert refresh_from_chain(runtime.engine) == 1
    assert (stored(bank), totals(bank), watch_changes(bank)) == (expected, shown, 0)
