"""A process's first verification on a long chain: revocation events read from the deployment
(as before) against a day's backfill plus the contract asked for older batches (as now).

Credentials are issued and anchored, one of them revoked, then `--blocks` empty blocks are
appended to the chain straight through py-evm (about 4.6 days of 2-second blocks by default),
and `creditbank node` serves it over JSON-RPC. Each measurement starts from a new per-process
cache, as a freshly started portal worker does; the trivial eth_blockNumber round trip in the
same run is the baseline.

  python bench/bench_first_verification.py [--blocks 200000] [--credentials 200] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import loadkit
from bench_ledger import append_empty_blocks
from bench_load import ISSUER, issue_anchored, prepared, settings

from credentials.anchoring import anchor_proof_of
from issuers.anchoring import AnchoringWorker
from issuers.issuance import BatchPolicy
from issuers.revocation import request_revocation
from ledger.deployment import Deployment
from ledger.node import EmbeddedNode
from ledger.views import LOG_STEP, ChainView
from portal.runtime import Runtime
from verify import Context, Status, verify_credential, verify_many
from verify.cache import DEFAULT_BACKFILL, CachedLedgerView

NOW = datetime.now(UTC)


def seconds(action: Callable[[], object], runs: int) -> list[float]:
    """Seconds taken by each of `runs` calls."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    """Prepare the long chain, measure, and print the Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=200_000)
    parser.add_argument("--credentials", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="bench-first-verification-"))
    prepared(data_dir)
    documents = [json.loads(text) for text in issue_anchored(data_dir, args.credentials, 100)]
    with Runtime(settings(data_dir, block_period=0.05)) as runtime:
        with runtime.engine.begin() as connection:
            request_revocation(connection, ISSUER, reason=2,
                               credential_id=documents[0]["id"], actor="cli:bench")
        worker = AnchoringWorker(runtime.engine, runtime.ledger, settings=runtime.settings,
                                 policy=BatchPolicy(size=100, max_age=3600))
        assert worker.revoke_pending() == 1
    node = EmbeddedNode.open(data_dir)
    append_empty_blocks(node, args.blocks)
    node.close()

    port = loadkit.free_port()
    url = f"http://{loadkit.HOST}:{port}"
    with loadkit.node(data_dir, port, {}, block_period=2.0):
        loadkit.wait_for_node(url)
        view = ChainView.connect([url], Deployment.load(data_dir / "deployment.json"))
        head = view.head()
        chain_blocks = head - view.deployment.block + 1
        trivial = statistics.median(seconds(view.head, 50))
        one = documents[1]

        def first_verification(backfill: int) -> Callable[[], object]:
            def run() -> None:
                cached = CachedLedgerView(view, backfill=backfill)
                report = verify_credential(one, Context(cached, clock=lambda: NOW))
                assert report.verdict is Status.VALID, report.verdict
            return run

        def first_record(backfill: int) -> Callable[[], object]:
            def run() -> None:
                cached = CachedLedgerView(view, backfill=backfill)
                reports = verify_many(documents, Context(cached, clock=lambda: NOW))
                assert [r.verdict for r in reports] == (
                    [Status.INVALID] + [Status.VALID] * (len(documents) - 1))
            return run

        rows = []
        for label, backfill in (("events from the deployment (before)", chain_blocks),
                                (f"{DEFAULT_BACKFILL:,} blocks of events, contract for older "
                                 "batches (now)", DEFAULT_BACKFILL)):
            read = min(backfill, chain_blocks)
            queries = 2 * math.ceil(read / LOG_STEP)
            one_time = statistics.median(seconds(first_verification(backfill), args.runs))
            all_time = statistics.median(seconds(first_record(backfill), args.runs))
            rows.append(f"| {label} | {queries:,} | {one_time * 1000:,.0f} | "
                        f"{one_time / trivial:,.0f} | {all_time * 1000:,.0f} |")
    root = anchor_proof_of(one).root.hex()
    print(f"Chain of {chain_blocks:,} blocks since the deployment; credentials anchored at its "
          f"start (root 0x{root[:12]}…); eth_blockNumber p50 {trivial * 1000:.2f} ms.\n")
    print(f"| revocations read | eth_getLogs on the first look | first verification ms | "
          f"ratio to eth_blockNumber | first verification of all {len(documents)} "
          "(one revoked) ms |")
    print("|---|---:|---:|---:|---:|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
