"""The credit-bank commands on a data directory: open accounts in bulk, create an operator
token, and one pass of the revocation watch."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from infra.settings import Settings
from issuers.catalogue import add_units
from issuers.registry import accredit, issuer_record
from ledger.genesis import initialise
from portal.app import create_app
from portal.cli import main
from portal.runtime import Runtime
from tests.support.bank import CATALOGUES, SCOPE, bearer


def test_bulk_accounts_operator_token_and_watch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture) -> None:
    monkeypatch.delenv("CREDITBANK_MASTER_KEY", raising=False)
    monkeypatch.setenv("CREDITBANK_BLOCK_PERIOD", "0.05")
    data_dir = tmp_path / "data"
    initialise(data_dir)
    settings = Settings.from_env(data_dir=data_dir,
                                 database_url=f"sqlite:///{data_dir / 'creditbank.sqlite'}")
    with Runtime(settings) as runtime:
        accredit(runtime.engine, runtime.chain, settings=settings,
                 name="Haidian Vocational College", slug="hdvc", scope=SCOPE,
                 actor="operator:test")
        with runtime.engine.begin() as connection:
            add_units(connection, issuer_record(runtime.engine, "hdvc"), CATALOGUES["hdvc"])
    roster = tmp_path / "roster.csv"
    roster.write_text("national_id,name\n110101199003074514,Wang Fang\n"
                      "320102198811123456,Li Lei\n", encoding="utf-8")
    data = ["--data", str(data_dir)]

    assert main(["learners", "open", "--institution", "hdvc", str(roster), *data]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(row["line"], row["did"].split(":")[-2], len(row["activation_code"]))
            for row in rows] == [("2", "learners", 16), ("3", "learners", 16)]
    assert main(["learners", "open", "--institution", "hdvc", str(roster), *data]) == 0
    assert [row["activation_code"] for row in csv.DictReader(
        io.StringIO(capsys.readouterr().out))] == ["", ""]
    assert main(["learners", "open", "--institution", "nobody", str(roster), *data]) == 65
    assert capsys.readouterr().err == "error: no issuer 'nobody'\n"

    assert main(["operator", "token", "--name", "duty officer", *data]) == 0
    token = capsys.readouterr().out.strip()
    assert main(["decisions", "watch", "--once", *data]) == 0
    assert capsys.readouterr().out == "0 decision(s) flagged\n"

    with Runtime(settings) as runtime:
        client = create_app(runtime).test_client()
        queue = client.get("/api/v1/deposits", headers=bearer(token))
        assert (queue.status_code, queue.json) == (200, {"deposits": []})
