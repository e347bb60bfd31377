"""The per-process caches: chain facts give the same verdicts as reading the chain each time, with
revocations and suspensions seen within the TTL and an unreachable ledger never VALID; remembered
signatures are checked once and failures never remembered."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from issuers.batch import Batch
from ledger import rpc
from ledger.errors import LedgerError
from ledger.records import Revocation
from ledger.views import ChainView
from tests.support.chains import TestChain
from tests.support.issuing import Issuer
from tests.support.nodes import free_port
from tests.support.samples import ISSUER_DID, ISSUER_KEY
from verify import Code, Context, Status, verify_credential
from verify.cache import CachedLedgerView, VerifiedSignatures, VerifiedStatusLists
from verify.checks import proof as proof_check

NOW = datetime(2026, 6, 1, tzinfo=UTC)
TTL = 5.0


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def verdict(view: CachedLedgerView, credential: dict) -> tuple[Status, str | None]:
    """The verdict and the status check's code."""
    report = verify_credential(credential, Context(view, clock=lambda: NOW))
    code = report.fragment("status").code
    return report.verdict, None if code is None else str(code)


@pytest.fixture
def issuer(embedded: TestChain) -> Issuer:
    """The demo university on the embedded chain."""
    return Issuer(embedded, ISSUER_DID, ISSUER_KEY)


def test_revocations_and_suspensions_are_seen_within_the_ttl(
    embedded: TestChain, issuer: Issuer
) -> None:
    clock = Clock()
    view = CachedLedgerView(ChainView(embedded.ledger), ttl=TTL, clock=clock)
    first = issuer.anchor([issuer.sign(n) for n in range(1, 4)])
    second = issuer.anchor([issuer.sign(n) for n in range(4, 6)])
    assert [verdict(view, credential) for credential in first + second] == [
        (Status.VALID, None)
    ] * 5

    batch = Batch.of([c | {"proof": c["proof"][0]} for c in first])
    embedded.ledger.transact(issuer.account, "CredentialAnchor", "revokeLeafRecord",
                             batch.root, batch.digests[1], 4)
    second_root = bytes.fromhex(second[0]["proof"][1]["merkleRoot"][2:])
    embedded.ledger.transact(issuer.account, "CredentialAnchor", "revokeRoot", second_root, 3)
    clock.now += TTL - 0.1
    assert verdict(view, first[1]) == (Status.VALID, None)
    clock.now += 0.2
    assert [verdict(view, credential) for credential in first + second] == [
        (Status.VALID, None),
        (Status.INVALID, str(Code.REVOKED_CREDENTIAL)),
        (Status.VALID, None),
        (Status.INVALID, str(Code.REVOKED_BATCH)),
        (Status.INVALID, str(Code.REVOKED_BATCH)),
    ]
    block = embedded.ledger.block_number()
    assert view.leaf_revocation(batch.root, batch.digests[1]) == ChainView(
        embedded.ledger).leaf_revocation(batch.root, batch.digests[1])
    assert view.root_revocation(second_root).block <= block

    embedded.ledger.transact(embedded.operator, "IssuerRegistry", "suspend", issuer.issuer_id, 1)
    assert verdict(view, first[0]) == (Status.VALID, None)
    clock.now += TTL
    report = verify_credential(first[0], Context(view, clock=lambda: NOW))
    assert (report.verdict, str(report.fragment("accreditation").code)) == (
        Status.INVALID, str(Code.ISSUER_SUSPENDED))


def test_an_unreachable_ledger_is_indeterminate_and_not_remembered(
    embedded: TestChain, issuer: Issuer
) -> None:
    (credential,) = issuer.anchor([issuer.sign(1)])
    down = ChainView.connect([f"http://127.0.0.1:{free_port()}"], embedded.deployment)
    clock = Clock()
    view = CachedLedgerView(down, ttl=TTL, clock=clock)
    report = verify_credential(credential, Context(view, clock=lambda: NOW))
    assert report.verdict is Status.INDETERMINATE
    view.view = ChainView(embedded.ledger)
    assert verdict(view, credential) == (Status.VALID, None)


def test_the_revocation_feed_lists_what_the_contract_holds(
    embedded: TestChain, issuer: Issuer
) -> None:
    credentials = issuer.anchor([issuer.sign(n) for n in range(1, 3)])
    batch = Batch.of([c | {"proof": c["proof"][0]} for c in credentials])
    chain_view = ChainView(embedded.ledger)
    start = chain_view.head()
    assert chain_view.revocations_between(0, start) == {}
    receipt = embedded.ledger.transact(issuer.account, "CredentialAnchor", "revokeLeafRecord",
                                       batch.root, batch.digests[0], 2)
    head = chain_view.head()
    assert (head >= receipt["blockNumber"], chain_view.revocations_between(start + 1, head)) == (
        True, {(batch.root, batch.digests[0]): Revocation(reason=2,
                                                          block=receipt["blockNumber"])})
    assert chain_view.revocations_between(head + 1, head) == {}


def test_revocations_are_read_in_block_ranges_the_node_accepts(
    embedded: TestChain, issuer: Issuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rpc, "MAX_LOG_RANGE", 3)
    credentials = issuer.anchor([issuer.sign(n) for n in range(1, 7)])
    batch = Batch.of([c | {"proof": c["proof"][0]} for c in credentials])
    blocks = [embedded.ledger.transact(issuer.account, "CredentialAnchor", "revokeLeafRecord",
                                       batch.root, digest, 2)["blockNumber"]
              for digest in batch.digests]
    assert blocks[-1] - embedded.deployment.block + 1 > 3

    head = embedded.ledger.block_number()
    with pytest.raises(LedgerError, match="max block range"):
        ChainView(embedded.ledger, log_step=head + 1).revocations_between(0, head)
    found = ChainView(embedded.ledger, log_step=3).revocations_between(0, head)
    assert found == {(batch.root, digest): Revocation(reason=2, block=block)
                     for digest, block in zip(batch.digests, blocks, strict=True)}
    view = CachedLedgerView(ChainView(embedded.ledger, log_step=2), ttl=TTL, clock=Clock())
    assert [verdict(view, credential)[1] for credential in credentials] == [
        str(Code.REVOKED_CREDENTIAL)] * 6


class CountingView(ChainView):
    """A chain view that records the event ranges and the contract reads it is asked for."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.ranges: list[tuple[int, int]] = []
        self.reads: list[tuple[str, bytes, bytes | None]] = []

    def revocations_between(self, first_block: int, last_block: int) -> dict:
        self.ranges.append((first_block, last_block))
        return super().revocations_between(first_block, last_block)

    def root_revocation(self, root: bytes) -> Revocation | None:
        self.reads.append(("root", root, None))
        return super().root_revocation(root)

    def leaf_revocation(self, root: bytes, digest: bytes) -> Revocation | None:
        self.reads.append(("leaf", root, digest))
        return super().leaf_revocation(root, digest)


def test_a_process_on_a_long_chain_reads_recent_events_and_asks_the_contract_for_older_batches(
    embedded: TestChain, issuer: Issuer
) -> None:
    old = issuer.anchor([issuer.sign(n) for n in range(1, 4)])
    old_batch = Batch.of([c | {"proof": c["proof"][0]} for c in old])
    revoked_at = embedded.ledger.transact(issuer.account, "CredentialAnchor", "revokeLeafRecord",
                                          old_batch.root, old_batch.digests[0], 4)["blockNumber"]
    (gone,) = issuer.anchor([issuer.sign(4)])
    gone_root = bytes.fromhex(gone["proof"][1]["merkleRoot"][2:])
    embedded.ledger.transact(issuer.account, "CredentialAnchor", "revokeRoot", gone_root, 3)
    recent = issuer.anchor([issuer.sign(n) for n in range(5, 7)])
    head = embedded.ledger.block_number()
    recent_root = bytes.fromhex(recent[0]["proof"][1]["merkleRoot"][2:])
    recent_block = ChainView(embedded.ledger).anchor(recent_root).block
    backfill = head - recent_block + 1
    assert revoked_at < recent_block

    clock = Clock()
    chain_view = CountingView(embedded.ledger)
    view = CachedLedgerView(chain_view, ttl=TTL, clock=clock, backfill=backfill)
    assert [verdict(view, credential) for credential in recent] == [(Status.VALID, None)] * 2
    assert (chain_view.ranges, chain_view.reads) == ([(recent_block, head)], [])

    assert [verdict(view, credential) for credential in [*old, gone]] == [
        (Status.INVALID, str(Code.REVOKED_CREDENTIAL)),
        (Status.VALID, None),
        (Status.VALID, None),
        (Status.INVALID, str(Code.REVOKED_BATCH)),
    ]
    assert view.leaf_revocation(old_batch.root, old_batch.digests[0]) == Revocation(
        reason=4, block=revoked_at)
    assert sorted(chain_view.reads) == sorted(
        [("root", old_batch.root, None), ("root", gone_root, None)]
        + [("leaf", old_batch.root, digest) for digest in old_batch.digests])
    reads = len(chain_view.reads)
    assert verdict(view, old[1]) == (Status.VALID, None)
    assert len(chain_view.reads) == reads

    later = embedded.ledger.transact(issuer.account, "CredentialAnchor", "revokeLeafRecord",
                                     old_batch.root, old_batch.digests[1], 2)["blockNumber"]
    clock.now += TTL
    assert verdict(view, old[1]) == (Status.INVALID, str(Code.REVOKED_CREDENTIAL))
    assert chain_view.ranges[-1][1] >= later
    assert len(chain_view.reads) == reads


def test_a_process_checks_each_signature_once_and_never_remembers_a_failure(
    embedded: TestChain, issuer: Issuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    (credential,) = issuer.anchor([issuer.sign(1)])
    tampered = json.loads(json.dumps(credential))
    tampered["credentialSubject"]["creditsEarned"] = 99
    checked = []
    real_verify = proof_check.proofs.verify
    monkeypatch.setattr(proof_check.proofs, "verify",
                        lambda *args: checked.append(args[0]["id"]) or real_verify(*args))
    signatures = VerifiedSignatures()
    view = ChainView(embedded.ledger)

    def verdict_with_memo(document: dict) -> tuple[Status, str | None]:
        report = verify_credential(document, Context(view, clock=lambda: NOW,
                                                     signatures=signatures))
        return report.verdict, report.fragment("proof").code

    assert verdict_with_memo(credential) == (Status.VALID, None)
    assert verdict_with_memo(credential) == (Status.VALID, None)
    assert verdict_with_memo(tampered) == (Status.INVALID, Code.SIGNATURE_INVALID)
    assert verdict_with_memo(tampered) == (Status.INVALID, Code.SIGNATURE_INVALID)
    assert checked == [credential["id"], tampered["id"], tampered["id"]]


def test_remembered_signatures_are_bounded_least_recently_used_out_first() -> None:
    signatures = VerifiedSignatures(max_entries=2)
    first, second, third = (VerifiedSignatures.digest({"id": n}, b"k" * 32) for n in range(3))
    assert VerifiedSignatures.digest({"id": 0}, b"j" * 32) != first
    signatures.add(first)
    signatures.add(second)
    assert first in signatures
    signatures.add(third)
    assert (first in signatures, second in signatures, third in signatures) == (True, False, True)


def test_verified_status_lists_are_kept_while_fresh_and_failures_never() -> None:
    now = [100.0]
    lists = VerifiedStatusLists(ttl=5, clock=lambda: now[0])
    calls: list[str] = []

    def read(answer: bytes | str) -> Callable[[], bytes | str]:
        def look_up() -> bytes | str:
            calls.append("read")
            return answer
        return look_up

    assert lists.get("revocation", read(b"\x80")) == b"\x80"
    assert lists.get("revocation", read(b"\x00")) == b"\x80"
    assert lists.get("suspension", read("the status list is unavailable")) == (
        "the status list is unavailable")
    assert lists.get("suspension", read(b"\x00")) == b"\x00"
    now[0] += 5
    assert lists.get("revocation", read(b"\x40")) == b"\x40"
    assert calls == ["read"] * 4
