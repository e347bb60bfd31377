"""The credit-bank commands on a data directory: open accounts in bulk, create an operator
token, and one pass of the revocation watch."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from infra.settings import Settings
from issuers.catalogue import add_units
from issuers.issuance import Issuance, outcomes_from_json
from issuers.registry import accredit, issuer_record
from ledger.genesis import initialise
from portal.app import create_app
from portal.cli import main
from portal.runtime import Runtime
from tests.support.bank import CATALOGUES, LEARNER_ID, OTHER_ID, SCOPE, bearer, outcome


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
            Issuance.of(runtime.engine, settings=settings).issue(
                connection, issuer_record(runtime.engine, "hdvc"), outcomes_from_json(
                    [outcome("WH110", "B", national_id=national_id)
                     for national_id in (LEARNER_ID, OTHER_ID)]), cryptosuite="eddsa-rdfc-2022")
    roster = tmp_path / "roster.csv"
    roster.write_text(f"national_id,name\n{LEARNER_ID},Wang Fang\n{OTHER_ID},Li Lei\n",
                      encoding="utf-8")
    strangers = tmp_path / "strangers.json"
    strangers.write_text(f'["{LEARNER_ID}", "44010619850315001X"]', encoding="utf-8")
    data = ["--data", str(data_dir)]

    assert main(["learners", "open", "--institution", "hdvc", str(roster), *data]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(row["line"], row["did"].split(":")[-2], len(row["activation_code"]))
            for row in rows] == [("2", "learners", 16), ("3", "learners", 16)]
    assert main(["learners", "open", "--institution", "hdvc", str(roster), *data]) == 0
    again = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(row["did"], len(row["activation_code"])) for row in again] == [
        (row["did"], 16) for row in rows]
    assert {row["activation_code"] for row in again}.isdisjoint(
        row["activation_code"] for row in rows)
    assert main(["learners", "open", "--institution", "nobody", str(roster), *data]) == 65
    assert capsys.readouterr().err == "error: no issuer 'nobody'\n"
    assert main(["learners", "open", "--institution", "hdvc", str(strangers), *data]) == 65
    assert capsys.readouterr().err == (
        "error: 1 national ids name learners this institution issued no credential to; no "
        "account was opened\n"
        "  national_ids, 1, national_id: this institution issued no credential to this learner\n")

    assert main(["operator", "token", "--name", "duty officer", *data]) == 0
    token = capsys.readouterr().out.strip()
    assert main(["decisions", "watch", "--once", *data]) == 0
    assert capsys.readouterr().out == "0 decision(s) flagged\n0 notice(s) given, 0 e-mailed\n"

    with Runtime(settings) as runtime:
        client = create_app(runtime).test_client()
        queue = client.get("/api/v1/deposits", headers=bearer(token))
        assert (queue.status_code, queue.json) == (200, {"deposits": [], "next": None})
