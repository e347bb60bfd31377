"""The revocation watch runs in the one process elected to among all that start it: while another
holds the lead it idles, and it takes over within its retry period once the lead is free."""

from __future__ import annotations

import threading
import time

from bank.revocation_watch import WATCH_LEADER, watch
from infra.coordination import leader
from ledger.indexer import Indexer
from portal.runtime import Runtime
from tests.support.nodes import eventually

RETRY = 0.1


def test_the_watch_idles_while_another_process_leads_and_takes_over_after(
    runtime: Runtime
) -> None:
    indexer = Indexer(runtime.ledger, runtime.engine)
    unindexed = indexer.indexed_block()
    stop = threading.Event()
    watcher = threading.Thread(target=watch, args=(runtime.engine, runtime.ledger, stop, 0.05),
                               kwargs={"retry": RETRY})
    with leader(runtime.engine, WATCH_LEADER) as leading:
        watcher.start()
        time.sleep(10 * RETRY)
        idle = indexer.indexed_block()
    try:
        indexed = eventually(lambda: indexer.indexed_block() > unindexed, "the watch's pass", 10)
        with leader(runtime.engine, WATCH_LEADER) as while_it_watches:
            pass
    finally:
        stop.set()
        watcher.join(10)
    with leader(runtime.engine, WATCH_LEADER) as after_it_stopped:
        pass
    assert (leading, idle, indexed, while_it_watches, after_it_stopped) == (
        True, unindexed, True, False, True)
