"""CLI plumbing: stopping a long-running command on a signal."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import textwrap

ROUNDS = 50_000

WAITER = textwrap.dedent(f"""
    import sys
    from infra.cli import stop_on_signals
    stop = stop_on_signals()
    for _ in range({ROUNDS}):
        stop.clear()
        sys.stdout.write("waiting\\n")
        sys.stdout.flush()
        stop.wait()
""")


def test_every_signal_stops_the_wait_however_it_lands() -> None:
    """A signal sent the moment the command says it waits (inside `stop.wait()`'s own lock, or
    just before it blocks) still stops it; setting the event in the handler deadlocked."""
    waiter = subprocess.Popen([sys.executable, "-c", WAITER], stdout=subprocess.PIPE, bufsize=0)
    assert waiter.stdout is not None
    stopped = 0
    try:
        while stopped < ROUNDS:
            ready, _, _ = select.select([waiter.stdout], [], [], 10)
            said = os.read(waiter.stdout.fileno(), 4096) if ready else b""
            if not said:
                break
            for _ in range(said.count(b"\n")):
                waiter.send_signal(signal.SIGTERM)
                stopped += 1
        assert waiter.wait(10) == 0
    finally:
        waiter.kill()
    assert stopped == ROUNDS
