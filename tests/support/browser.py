"""Browser tests: the portal served on 127.0.0.1, driven by Node Playwright journeys in Chromium.

Each journey is a script in tests/js/journeys/ that takes one JSON argument (the portal's URL and
the journey's inputs), drives Debian's headless Chromium, saves a screenshot of every page it
sees in tests/screenshots/ and prints one JSON object: what it found, for pytest to assert on.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any, Self

import pytest
from flask import Flask

from tests.support.log_scan import LogCapture
from tests.support.paths import TESTS
from tests.support.served import ServedApp

CHROMIUM = Path("/usr/bin/chromium")
JOURNEYS = TESTS / "js" / "journeys"
PLAYWRIGHT = TESTS / "js" / "node_modules" / "playwright-core"
SCREENSHOTS = TESTS / "screenshots"
JOURNEY_TIMEOUT = 120


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None when Chromium and Playwright are installed."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing: run `bash tests/install.sh` as root"
    if not PLAYWRIGHT.exists() or shutil.which("node") is None:
        return "playwright-core is not installed: run `npm ci --prefix tests/js`"
    return None


def in_ci() -> bool:
    """Whether this is a CI run (CI=true), where browser tests must run, never be skipped."""
    return os.environ.get("CI", "").lower() == "true"


def require_browser() -> None:
    """Skip the calling test or fixture when the browser tests cannot run here; fail it in CI."""
    reason = missing_browser()
    if reason is not None:
        pytest.fail(reason) if in_ci() else pytest.skip(reason)


class ServedPortal(ServedApp):
    """A portal app served by werkzeug on 127.0.0.1 (a free port) in a background thread; every
    log line and all stderr output while it serves are scanned for personal data after each
    journey and when it stops (tests/support/log_scan.py)."""

    def __init__(self, app: Flask) -> None:
        super().__init__(app)
        served = app.extensions["creditbank"]
        served.settings = replace(served.settings, public_url=self.url)
        self.engine = served.engine
        self.logs = LogCapture()
        self.national_ids: set[str] = set()

    def __enter__(self) -> Self:
        self.logs.start()
        return super().__enter__()

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        try:
            super().__exit__(kind, *rest)
            if kind is None:
                self.logs.check(self.engine, self.national_ids)
        finally:
            self.logs.stop()

    def run(self, journey: str, **inputs: Any) -> dict[str, Any]:
        """Run tests/js/journeys/<journey>.mjs against this portal and return what it printed."""
        SCREENSHOTS.mkdir(exist_ok=True)
        argument = {
            "base_url": self.url,
            "chromium": str(CHROMIUM),
            "screenshots": str(SCREENSHOTS),
            **inputs,
        }
        completed = subprocess.run(
            ["node", str(JOURNEYS / f"{journey}.mjs"), json.dumps(argument)],
            capture_output=True,
            text=True,
            timeout=JOURNEY_TIMEOUT,
            check=False,
        )
        if completed.returncode != 0:
            raise AssertionError(f"journey {journey} failed:\n{completed.stderr}{completed.stdout}")
        self.national_ids |= {str(value) for name, value in inputs.items()
                              if "national_id" in name}
        self.logs.check(self.engine, self.national_ids)
        return json.loads(completed.stdout.strip().splitlines()[-1])
