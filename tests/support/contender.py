"""A process contending for a leadership (for the coordination tests):
`python -m tests.support.contender DATABASE_URL NAME FILE` appends "PID TIME" to FILE every
0.1 s while it leads NAME, trying to take the lead every 0.2 s, until SIGTERM."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from infra.cli import stop_on_signals
from infra.coordination import lead
from infra.database import open_engine

EVERY = 0.1
RETRY = 0.2


def main(database_url: str, name: str, out: Path) -> None:
    """Lead `name` (or wait to) until stopped, noting each pass led in `out`."""
    engine = open_engine(database_url)
    stop = stop_on_signals()

    def note() -> None:
        with out.open("a") as handle:
            handle.write(f"{os.getpid()} {time.time()}\n")

    print("contending", file=sys.stderr, flush=True)
    lead(engine, name, stop, note, every=EVERY, retry=RETRY)
    engine.dispose()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], Path(sys.argv[3]))
