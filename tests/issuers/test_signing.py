"""Signing processes (`issuers.signing.signing_pool`): spawned by the `creditbank` command, each
imports what checking and signing need (credentials, the outcome's schema), not the command's
rooms, the web, the database or the chain."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import ROOT

pytestmark = pytest.mark.slow

COMMAND_LIKE = '''
import json
import sys

from portal.cli import main  # the `creditbank` console script's import: every room

from issuers.signing import signing_pool

LOADED = "[__import__('issuers.signing'), sorted(__import__('sys').modules)][1]"

if __name__ == "__main__":
    with signing_pool(1) as pool:
        loaded = pool.apply(eval, (LOADED,))
    print(json.dumps({"loaded": loaded, "spec": repr(sys.modules["__main__"].__spec__)}))
'''
HEAVY = ("portal", "flask", "werkzeug", "jinja2", "click", "sqlalchemy", "psycopg", "alembic",
         "web3", "eth_account", "ledger", "rules", "verify", "bank")
LIGHT = {"issuers", "issuers.signing", "issuers.outcomes", "infra", "infra.errors",
         "infra.secrets", "infra.keyring"}


def test_a_signing_process_of_the_command_imports_only_checking_and_signing(
        tmp_path: Path) -> None:
    """Started as `creditbank issue` starts it: from a main script that imported every room."""
    script = tmp_path / "command_like.py"
    script.write_text(COMMAND_LIKE, encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    loaded = set(seen["loaded"])
    heavy = sorted(name for name in loaded if name.split(".")[0] in HEAVY)
    ours = {name for name in loaded if name.split(".")[0] in ("issuers", "infra")}
    assert (heavy, sorted(ours - LIGHT), seen["spec"]) == ([], [], "None")
    assert {"credentials.proofs", "credentials.rdfc", "marshmallow"} <= loaded
