"""Status lists: entries allocated at issuance, lists published from the chain by the worker,
served with ETag and caching headers, and compared with the chain by our verifier."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import select, update

from credentials.status import LIST_SIZE, bit, bitstring_of, encode_list, read_list_credential
from infra.coordination import leader
from issuers import registry
from issuers.anchoring import PUBLISHER, AnchoringWorker
from issuers.issuance import Issuance, outcomes_from_json
from issuers.registry import issuer_record
from issuers.revocation import request_revocation
from issuers.status import MAX_AGE, PUBLISH_PERIOD, PublishedStatusLists, allocate, list_url
from issuers.tables import credentials, published_status_lists, revocations, status_lists
from ledger.views import ChainView
from portal.app import create_app
from portal.runtime import Runtime
from tests.support.issuer import accredited, outcome
from tests.support.portal import at_localhost
from verify import Context, Status, verify_credential

ISSUER = "demo-university"


@dataclass
class Issued:
    """Three anchored credentials of one issuer, and the worker that anchored them."""

    runtime: Runtime
    worker: AnchoringWorker
    rows: list

    def document(self, number: int) -> dict:
        """The anchored credential `number` as issued."""
        return json.loads(self.rows[number].anchored)

    def published(self, purpose: str = "revocation") -> dict:
        """The list credential list 0 of the issuer publishes for `purpose` now."""
        found = self.runtime.status_lists.published(ISSUER, 0, purpose)
        assert found is not None
        return json.loads(found.document)

    def listed(self, number: int, purpose: str = "revocation") -> int:
        """The bit of credential `number` in the published list."""
        url = list_url(self.runtime.settings.public_url, ISSUER, 0, purpose)
        _, bitstring = read_list_credential(self.published(purpose), list_url=url,
                                            purpose=purpose)
        return bit(bitstring, self.rows[number].status_index)

    def request(self, number: int) -> None:
        """Ask for credential `number` to be revoked (the worker puts it on chain)."""
        with self.runtime.engine.begin() as connection:
            request_revocation(connection, ISSUER, reason=3, credential_id=self.rows[number].id,
                               actor="cli:test")

    def revoke(self, number: int) -> None:
        """Revoke credential `number` on chain through the worker."""
        self.request(number)
        self.worker.revoke_pending()

    def verify(self, number: int) -> dict:
        """Our verifier's status fragment for credential `number`, reading the published lists."""
        source = PublishedStatusLists(self.runtime.engine, self.runtime.settings.public_url)
        context = Context(ChainView(self.runtime.ledger), status_lists=source)
        return verify_credential(self.document(number), context).fragment("status").to_json()


@pytest.fixture
def issued(runtime: Runtime) -> Iterator[Issued]:
    at_localhost(runtime)
    accredited(runtime)
    issuance = Issuance.of(runtime.engine, settings=runtime.settings)
    outcomes = outcomes_from_json([outcome(session=f"2025 term {term}") for term in range(3)])
    with runtime.engine.begin() as connection:
        done = issuance.issue(connection, issuer_record(runtime.engine, ISSUER), outcomes,
                              cryptosuite="eddsa-rdfc-2022")
    worker = AnchoringWorker(runtime.engine, runtime.ledger, settings=runtime.settings)
    worker.drain({batch for _, _, batch in done.credentials})
    with runtime.engine.connect() as connection:
        rows = connection.execute(select(credentials).order_by(credentials.c.session)).all()
    yield Issued(runtime, worker, rows)


def test_every_credential_carries_its_entries_at_distinct_indexes(issued: Issued) -> None:
    url = "http://localhost/status/demo-university/0/"
    statuses = [issued.document(number)["credentialStatus"] for number in range(3)]
    indexes = [row.status_index for row in issued.rows]
    assert statuses == [
        [{"id": f"{url}{purpose}#{index}", "type": "BitstringStatusListEntry",
          "statusPurpose": purpose, "statusListIndex": str(index),
          "statusListCredential": url + purpose} for purpose in ("revocation", "suspension")]
        for index in indexes
    ]
    assert ({row.status_list for row in issued.rows}, len(set(indexes))) == ({0}, 3)
    with issued.runtime.engine.connect() as connection:
        assert connection.execute(select(status_lists.c.list, status_lists.c.allocated)).all() \
            == [(0, 3)]


def test_a_full_list_is_followed_by_a_new_one_in_one_claim_per_list(runtime: Runtime) -> None:
    accredited(runtime)
    key = runtime.settings.master_key()
    with runtime.engine.begin() as connection:
        allocate(connection, key, ISSUER, 1)
        connection.execute(update(status_lists).values(allocated=LIST_SIZE - 2))
        placements = allocate(connection, key, ISSUER, 5)
        counters = connection.execute(
            select(status_lists.c.list, status_lists.c.allocated).order_by(status_lists.c.list)
        ).all()
    assert ([placement.list for placement in placements], counters) == (
        [0, 0, 1, 1, 1], [(0, LIST_SIZE), (1, 3)])
    assert len({(p.list, p.index) for p in placements}) == 5


def test_two_requests_opening_the_first_list_at_once_both_get_places(runtime: Runtime) -> None:
    accredited(runtime)
    key = runtime.settings.master_key()
    second: list = []
    with runtime.engine.begin() as first:
        placed = allocate(first, key, ISSUER, 2)
        other = threading.Thread(
            target=lambda: second.extend(_allocate_apart(runtime, key, 3)), daemon=True
        )
        other.start()
        time.sleep(0.3)
    other.join(timeout=30)
    assert len(second) == 3
    assert len({(p.list, p.index) for p in [*placed, *second]}) == 5
    with runtime.engine.connect() as connection:
        assert connection.execute(select(status_lists.c.list, status_lists.c.allocated)).all() \
            == [(0, 5)]


def _allocate_apart(runtime: Runtime, key: bytes, count: int) -> list:
    """Places claimed on a connection of its own, as a concurrent request would."""
    with runtime.engine.begin() as connection:
        return allocate(connection, key, ISSUER, count)


def test_the_published_list_follows_the_chain(issued: Issued) -> None:
    before = [issued.listed(number) for number in range(3)]
    issued.revoke(1)
    assert issued.listed(1) == 0  # not yet republished: the worker's step does it
    published = issued.worker.publish_status_lists(now=time.monotonic() + PUBLISH_PERIOD)
    assert (before, published, [issued.listed(number) for number in range(3)]) == (
        [0, 0, 0], 1, [0, 1, 0])


def test_only_the_elected_publisher_publishes(issued: Issued) -> None:
    issued.revoke(1)
    moment = time.monotonic() + PUBLISH_PERIOD
    with leader(issued.runtime.engine, PUBLISHER) as elsewhere:
        while_another_leads = issued.worker.publish_status_lists(now=moment)
        listed_meanwhile = issued.listed(1)
    published = issued.worker.publish_status_lists(now=moment + PUBLISH_PERIOD)
    assert (elsewhere, while_another_leads, listed_meanwhile, published, issued.listed(1)) == (
        True, 0, 0, 1, 1)


def test_a_list_is_signed_again_only_when_its_chain_state_changes(issued: Issued) -> None:
    first = issued.published()
    assert issued.runtime.status_lists.refresh() == 0
    assert issued.published() == first


def test_the_suspension_list_is_all_ones_while_the_issuer_is_suspended(issued: Issued) -> None:
    runtime = issued.runtime
    registry.suspend(runtime.engine, runtime.chain, ISSUER, 1, actor="cli:test")
    runtime.status_lists.refresh()
    suspended = [issued.listed(number, "suspension") for number in range(3)]
    registry.reinstate(runtime.engine, runtime.chain, ISSUER, actor="cli:test")
    runtime.status_lists.refresh()
    assert (suspended, [issued.listed(number, "suspension") for number in range(3)]) == (
        [1, 1, 1], [0, 0, 0])


def test_the_list_is_served_with_a_strong_etag_and_a_short_cache(issued: Issued) -> None:
    client = create_app(issued.runtime).test_client()
    path = "/status/demo-university/0/revocation"
    first = client.get(path)
    again = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert (first.status_code, first.get_json(), first.headers["Cache-Control"],
            first.headers["ETag"].startswith('"'), again.status_code) == (
        200, issued.published(), f"public, max-age={MAX_AGE}", True, 304)


@pytest.mark.parametrize("path", [
    "/status/demo-university/1/revocation", "/status/demo-university/0/refresh",
    "/status/nobody/0/revocation", "/status/demo-university/x/revocation",
])
def test_an_unknown_list_is_404_json(issued: Issued, path: str) -> None:
    answer = create_app(issued.runtime).test_client().get(path)
    assert (answer.status_code, answer.is_json) == (404, True)


def test_a_list_never_published_is_built_on_first_request(issued: Issued) -> None:
    with issued.runtime.engine.begin() as connection:
        connection.execute(published_status_lists.delete())
    answer = create_app(issued.runtime).test_client().get("/status/demo-university/0/suspension")
    assert (answer.status_code, answer.get_json()["credentialSubject"]["statusPurpose"]) == (
        200, "suspension")


@pytest.mark.timeout(60)
def test_a_revocation_shows_in_the_list_within_10_s_of_its_block(issued: Issued) -> None:
    """The worker thread every portal process runs republishes within PUBLISH_PERIOD; a client
    caching the answer for MAX_AGE sees it within PUBLISH_PERIOD + MAX_AGE < 10 s."""
    runtime = issued.runtime
    client = create_app(runtime).test_client()
    stop = threading.Event()
    thread = threading.Thread(target=issued.worker.run, args=(stop,), daemon=True)
    thread.start()
    try:
        issued.request(0)
        while not _revoked_on_chain(runtime):
            time.sleep(0.01)
        revoked_at = time.monotonic()
        while issued.listed(0) == 0 and time.monotonic() - revoked_at < 10:
            time.sleep(0.05)
        shown_after = time.monotonic() - revoked_at
    finally:
        stop.set()
        thread.join(10)
    answer = client.get("/status/demo-university/0/revocation")
    assert issued.listed(0) == 1 and shown_after + MAX_AGE < 10, shown_after
    assert answer.headers["Cache-Control"] == f"public, max-age={MAX_AGE}"


def _revoked_on_chain(runtime: Runtime) -> bool:
    """Whether the worker has put the requested revocation in a block."""
    with runtime.engine.connect() as connection:
        return connection.scalar(select(revocations.c.status)) == "done"


def test_our_verifier_reads_the_list_and_finds_it_agrees(issued: Issued) -> None:
    issued.revoke(2)
    issued.runtime.status_lists.refresh()
    valid, revoked = issued.verify(0), issued.verify(2)
    assert (valid["status"], revoked["status"], revoked["code"]) == (
        "VALID", "INVALID", "REVOKED_CREDENTIAL")
    assert [(item["purpose"], item["consulted"], item["set"], item["agrees"])
            for item in revoked["details"]["status_list"]] == [
        ("revocation", True, True, True), ("suspension", True, False, True)]


def test_when_the_list_disagrees_the_chain_wins_and_says_so(issued: Issued) -> None:
    issued.revoke(1)  # on chain, but the list is not republished yet
    stale = issued.verify(1)
    lists = issued.runtime.status_lists
    did = issuer_record(issued.runtime.engine, ISSUER)["did"]
    key = lists._signer(ISSUER, did)[0]
    index = issued.rows[0].status_index
    lists._publish(ISSUER, did, 0, "revocation", 0, key, [index], None)  # a list gone wrong
    wrong = issued.verify(0)
    assert (stale["status"], stale["code"], stale["details"]["status_list"][0]["agrees"]) == (
        "INVALID", "REVOKED_CREDENTIAL", False)
    assert (wrong["status"], wrong["details"]["status_list"][0]["agrees"]) == ("VALID", False)
    assert "the chain is the source of truth" in wrong["message"]
    assert "the chain is the source of truth" in stale["message"]


def test_without_a_source_or_a_list_the_chain_alone_decides(issued: Issued) -> None:
    alone = verify_credential(issued.document(0), Context(ChainView(issued.runtime.ledger)))
    with issued.runtime.engine.begin() as connection:
        connection.execute(published_status_lists.delete())
    missing = issued.verify(0)
    assert (alone.verdict, alone.fragment("status").details["status_list"][0]["consulted"],
            missing["status"], missing["details"]["status_list"][0]["reason"]) == (
        Status.VALID, False, "VALID", "the status list is unavailable")


def test_a_tampered_list_is_not_consulted(issued: Issued) -> None:
    with issued.runtime.engine.connect() as connection:
        text = connection.scalar(select(published_status_lists.c.document).where(
            published_status_lists.c.purpose == "revocation"))
    forged = json.loads(text)
    forged["credentialSubject"]["encodedList"] = encode_list(
        bitstring_of([issued.rows[0].status_index]))
    with issued.runtime.engine.begin() as connection:
        connection.execute(update(published_status_lists).where(
            published_status_lists.c.purpose == "revocation").values(document=json.dumps(forged)))
    result = issued.verify(0)["details"]["status_list"][0]
    assert (result["consulted"], result["reason"]) == (
        False, "the status list's signature does not verify")
