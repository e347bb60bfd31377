"""Tests of `creditbank verify`: exit statuses, usage errors, and human and JSON output."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from ledger.deployment import Deployment
from tests.support.samples import ISSUER_DID, ISSUER_KEY
from tests.support.verify import ISSUER_ID, MemoryLedger, anchored, signed
from verify import CHECKS
from verify.cli import EXIT_USAGE, human_report, print_reports, verify_command
from verify.codes import Code
from verify.context import Context
from verify.fragments import Fragment, Report, Status

NOW = datetime(2026, 1, 15, tzinfo=UTC)
UNREACHABLE = "http://127.0.0.1:1"

CHECK_NAMES = [check.NAME for check in CHECKS]


@pytest.fixture
def ledger() -> MemoryLedger:
    """A ledger on which the demo issuer is accredited with its key registered."""
    ledger = MemoryLedger()
    ledger.accredit(ISSUER_DID)
    ledger.register_key(ISSUER_ID, ISSUER_KEY.public_key)
    return ledger


@pytest.fixture
def deployment(tmp_path: Path) -> Path:
    """A deployment file trusting the MemoryLedger's chain id and anchor contract."""
    path = tmp_path / "deployment.json"
    Deployment(
        chain_id=2021,
        issuer_registry="0x" + "11" * 20,
        credential_anchor="0x5FbDB2315678afecb367f032d93F642f64180aa3",
        rule_registry="0x" + "33" * 20,
        block=0,
    ).save(path)
    return path


def write(path: Path, credential: dict) -> str:
    """Write a credential file and return its path as text."""
    path.write_text(json.dumps(credential), encoding="utf-8")
    return str(path)


def test_human_report() -> None:
    report = Report(
        (
            Fragment("parse", Status.VALID, None, "Parsed."),
            Fragment("anchor", Status.INVALID, Code.NOT_ANCHORED, "Never anchored."),
            Fragment("status", Status.SKIPPED, Code.PRECONDITION_FAILED, "Skipped."),
            Fragment("validity", Status.INDETERMINATE, Code.LEDGER_UNAVAILABLE, "Unreachable."),
        ),
        Status.INVALID,
    )
    assert human_report("a.json", report).splitlines() == [
        "a.json: INVALID",
        "  ✓ parse     Parsed.",
        "  ✗ anchor    Never anchored. [NOT_ANCHORED]",
        "  – status    Skipped.",
        "  ? validity  Unreachable. [LEDGER_UNAVAILABLE]",
    ]


def test_exit_status_follows_the_worst_verdict(
    ledger: MemoryLedger, capsys: pytest.CaptureFixture[str]
) -> None:
    valid, expired = anchored(ledger, [signed(1), signed(2, validUntil="2026-01-01T00:00:00Z")])
    context = Context(ledger, clock=lambda: NOW)
    raws = [json.dumps(valid).encode(), json.dumps(expired).encode()]
    statuses = [
        print_reports(["valid.json"], raws[:1], context, as_json=False),
        print_reports(["valid.json", "expired.json"], raws, context, as_json=False),
    ]
    ledger.down = True
    statuses.append(print_reports(["valid.json"], raws[:1], Context(ledger), as_json=False))
    assert statuses == [0, 1, 2]
    assert [line for line in capsys.readouterr().out.splitlines() if ".json" in line] == [
        "valid.json: VALID",
        "valid.json: VALID",
        "expired.json: INVALID",
        "valid.json: INDETERMINATE",
    ]


def test_json_output(ledger: MemoryLedger, capsys: pytest.CaptureFixture[str]) -> None:
    [credential] = anchored(ledger, [signed()])
    context = Context(ledger, clock=lambda: NOW)
    status = print_reports(["c.json"], [json.dumps(credential).encode()], context, as_json=True)
    [document] = json.loads(capsys.readouterr().out)
    assert (status, document["file"], document["verdict"]) == (0, "c.json", "VALID")
    assert [(check["name"], check["status"]) for check in document["checks"]] == [
        (name, "VALID") for name in CHECK_NAMES
    ]


def test_unreachable_ledger_is_indeterminate(
    ledger: MemoryLedger, tmp_path: Path, deployment: Path
) -> None:
    """Through the real chain view: no node answers, so every chain check is indeterminate."""
    [credential] = anchored(ledger, [signed()])
    file = write(tmp_path / "c.json", credential)
    result = CliRunner().invoke(
        verify_command, [file, "--json", "--ledger", UNREACHABLE, "--deployment", str(deployment)]
    )
    [document] = json.loads(result.output)
    unavailable = ("INDETERMINATE", "LEDGER_UNAVAILABLE")
    assert (
        result.exit_code,
        [(c["name"], c["status"], c["code"]) for c in document["checks"]],
    ) == (
        2,
        [
            ("parse", "VALID", None),
            ("format", "VALID", None),
            ("proof", "VALID", None),
            ("key_binding", *unavailable),
            ("accreditation", *unavailable),
            ("anchor", *unavailable),
            ("status", "SKIPPED", "PRECONDITION_FAILED"),
            ("validity", "VALID", None),
        ],
    )


def test_oversize_file_is_refused_without_reading_it_whole(
    tmp_path: Path, deployment: Path
) -> None:
    file = tmp_path / "big.json"
    file.write_bytes(b" " * 2000 + b"{}")
    result = CliRunner().invoke(
        verify_command,
        [
            str(file),
            "--json",
            "--max-bytes",
            "1000",
            "--ledger",
            UNREACHABLE,
            "--deployment",
            str(deployment),
        ],
    )
    [document] = json.loads(result.output)
    assert (result.exit_code, document["checks"][0]["code"], document["checks"][0]["details"]) == (
        1,
        "INPUT_TOO_LARGE",
        {"size": 1001, "limit": 1000},
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ([], "Missing argument 'FILES...'"),
        (["missing.json", "--ledger", UNREACHABLE], "Cannot read missing.json: No such file"),
        (["{credential}", "--ledger", UNREACHABLE], "/empty/deployment.json cannot be read."),
        (["{credential}", "--ledger", UNREACHABLE, "--colour"], "No such option '--colour'"),
    ],
)
def test_usage_errors_exit_64(
    tmp_path: Path, deployment: Path, arguments: list[str], message: str
) -> None:
    credential = write(tmp_path / "c.json", {})
    arguments = [argument.replace("{credential}", credential) for argument in arguments]
    if "deployment" not in message:
        arguments += ["--deployment", str(deployment)]
    environment = {
        "CREDITBANK_LEDGER": None,
        "CREDITBANK_DEPLOYMENT": None,
        "CREDITBANK_DATA": str(tmp_path / "empty"),
    }
    result = CliRunner().invoke(verify_command, arguments, env=environment)
    assert (result.exit_code, message in result.output) == (EXIT_USAGE, True)


def test_missing_file_is_a_usage_error(tmp_path: Path, deployment: Path) -> None:
    result = CliRunner().invoke(
        verify_command,
        [str(tmp_path / "nope.json"), "--ledger", UNREACHABLE, "--deployment", str(deployment)],
    )
    assert result.exit_code == EXIT_USAGE
    assert result.output.splitlines()[-1] == (
        f"Error: Cannot read {tmp_path / 'nope.json'}: No such file or directory."
    )
