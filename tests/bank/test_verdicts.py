"""Stored verdicts: written once per credential, refreshed by the chain's events in the revocation
watch, and shown on the record page as current as the verify cache (a revocation, a suspension
or a key retirement shows within its ttl, before the watch runs); the page in keyset pages."""

from __future__ import annotations

import re
import time
from dataclasses import replace

import pytest
from sqlalchemy import and_, delete, select

from bank.records import held_credentials, verify_held
from bank.revocation_watch import watch_once
from bank.tables import deposits
from bank.verdicts import rebuild_verdicts, refresh_from_chain, verdicts
from credentials.anchoring import anchor_proof_of
from issuers.registry import issuer_account, issuer_record, reinstate, suspend
from issuers.revocation import request_revocation
from issuers.tables import batches, credentials, issuer_keys
from ledger.views import ChainView
from portal.pages.citizen import credential_ref
from portal.runtime import Runtime
from tests.support.bank import (
    LEARNER_ID,
    OPERATOR_ACTOR,
    Bank,
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


def test_a_revocation_shows_within_the_cache_bound_then_the_watch_stores_it(bank: Bank) -> None:
    first = page_statuses(bank)
    assert (list(first.values()), first == verified_now(bank)) == ([("VALID", None)] * 5, True)
    assert set(stored(bank).values()) == {("VALID", None, False, False)}

    wh110 = ref_of(bank, "WH110")
    with bank.runtime.engine.begin() as connection:
        credential_id = connection.scalar(select(credentials.c.id).where(
            credentials.c.unit_code == "WH110"))
        request_revocation(connection, "hdvc", reason=3, credential_id=credential_id,
                           actor="institution:hdvc")
    bank.worker.run_once()
    time.sleep(TTL + 0.1)
    before_watch = page_statuses(bank)
    assert before_watch[wh110] == ("INVALID", "REVOKED_CREDENTIAL")
    assert before_watch == verified_now(bank)
    assert stored(bank)[wh110] == ("VALID", None, False, False)

    watch_once(bank.runtime.engine, bank.runtime.ledger)
    after_watch = stored(bank)
    assert after_watch.pop(wh110) == ("INVALID", "REVOKED_CREDENTIAL", False, False)
    assert set(after_watch.values()) == {("VALID", None, False, False)}
    page = bank.client.get("/me").get_data(as_text=True)
    assert re.search(r"data-total-credits>([^<]+)<", page).group(1) == "19"
    assert refresh_from_chain(bank.runtime.engine) == 0


def test_a_suspension_and_a_key_cut_off_show_within_the_bound_and_are_stored(
        bank: Bank) -> None:
    runtime = bank.runtime
    page_statuses(bank)
    hdvc = {ref_of(bank, unit) for unit in ("WH110", "MATH110", "ACC110")}
    suspend(runtime.engine, runtime.chain, "hdvc", actor=OPERATOR_ACTOR)
    time.sleep(TTL + 0.1)
    suspended = page_statuses(bank)
    assert ({ref for ref, shown in suspended.items()
             if shown == ("INVALID", "ISSUER_SUSPENDED")}, suspended) == (hdvc, verified_now(bank))
    watch_once(runtime.engine, runtime.ledger)
    assert {ref for ref, row in stored(bank).items() if row == ("INVALID", None, True, False)} \
        == hdvc

    reinstate(runtime.engine, runtime.chain, "hdvc", actor=OPERATOR_ACTOR)
    time.sleep(TTL + 0.1)
    assert set(page_statuses(bank).values()) == {("VALID", None)}
    watch_once(runtime.engine, runtime.ledger)
    assert set(stored(bank).values()) == {("VALID", None, False, False)}

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


def test_rebuilding_stores_a_verdict_for_every_delivered_credential(bank: Bank) -> None:
    shown = page_statuses(bank)
    with bank.runtime.engine.begin() as connection:
        connection.execute(delete(verdicts))
    heard: list[int] = []
    assert (rebuild_verdicts(bank.runtime.engine, progress=heard.append), heard) == (5, [5])
    assert rebuild_verdicts(bank.runtime.engine) == 0
    assert page_statuses(bank) == shown


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
