"""The anchoring worker of a data directory, halted for good at one step (for kill -9 tests):
`python -m tests.support.paused_worker DATA_DIR STEP` prints "paused at STEP" on stderr there;
DATA_DIR "-" takes every setting (database and ledger too) from the environment."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from infra.cli import database, settings_of
from infra.settings import Settings
from issuers.anchoring import AnchoringWorker, Step
from ledger.chain import Chain


def pause_at(step: str) -> Step:
    """A step hook that announces `step` on stderr and then blocks its thread forever."""

    def hook(name: str) -> None:
        if name == step:
            print(f"paused at {name}", file=sys.stderr, flush=True)
            threading.Event().wait()

    return hook


def main(data_dir: Path, step: str) -> None:
    """Run the worker of `data_dir` until it halts at `step` (or is killed)."""
    settings = Settings.from_env() if str(data_dir) == "-" else settings_of(data_dir)
    with database(settings) as engine, Chain(settings) as chain:
        worker = AnchoringWorker(engine, chain.ledger, settings=settings, on_step=pause_at(step))
        print("anchoring worker running", file=sys.stderr, flush=True)
        worker.run(threading.Event())


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2])
