"""The `creditbank` command as a user runs it: init, node over HTTP, verify with exit codes."""

from __future__ import annotations

import importlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
import pytest
from eth_account import Account

from ledger.client import Ledger
from ledger.errors import SenderNotPermitted, Unauthorized
from ledger.genesis import ChainHome
from ledger.permissions import allow_accounts, allowed_accounts
from portal.cli import COMMANDS, cli
from tests.support.chains import TestChain
from tests.support.issuing import Issuer
from tests.support.nodes import free_port, rpc
from tests.support.samples import ISSUER_DID, ISSUER_KEY

CREDITBANK = [sys.executable, "-m", "portal.cli"]


def run(*arguments: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run `creditbank ARGS…` and capture its output."""
    environment = {**os.environ, **(env or {})}
    environment.pop("CREDITBANK_MASTER_KEY", None)
    return subprocess.run(
        [*CREDITBANK, *arguments], capture_output=True, text=True, timeout=120, env=environment
    )


def test_every_command_a_room_defines_is_on_the_root_by_its_name() -> None:
    modules = {where.split(":")[0] for where in COMMANDS.values()}
    defined = [value for name in modules for value in vars(importlib.import_module(name)).values()
               if isinstance(value, click.Command) and value.callback is not None
               and value.callback.__module__ == name]
    under_groups = {id(command) for group in defined if isinstance(group, click.Group)
                    for command in group.commands.values()}
    context = click.Context(cli)
    on_root = {name: cli.get_command(context, name) for name in cli.list_commands(context)}
    assert (sorted(command.name or "" for command in defined if id(command) not in under_groups),
            all(command is not None and command.name == name
                for name, command in on_root.items())) == (sorted(on_root), True)


@pytest.fixture
def node(tmp_path: Path):
    """`creditbank init` then `creditbank node` on a free port; killed at the end."""
    data = tmp_path / "chain"
    initialised = run("init", "--data", str(data))
    assert initialised.returncode == 0, initialised.stderr
    port = free_port()
    process = subprocess.Popen(
        [*CREDITBANK, "node", "--data", str(data), "--port", str(port), "--block-period", "0.1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            rpc(url, "eth_chainId")
            break
        except OSError:
            assert process.poll() is None and time.monotonic() < deadline, process.stderr.read()
            time.sleep(0.1)
    yield url, ChainHome(data), process
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def test_init_refuses_a_directory_that_holds_a_chain(node) -> None:
    _, home, _ = node
    again = run("init", "--data", str(home.data_dir))
    assert (again.returncode, again.stderr.strip()) == (
        65,
        f"error: {home.data_dir} already holds a chain",
    )


def test_node_serves_json_rpc_and_its_allowlist(node) -> None:
    url, home, _ = node
    deployment = json.loads(home.deployment_path.read_text())
    assert int(rpc(url, "eth_chainId"), 16) == deployment["chain_id"] == 2021
    assert rpc(url, "eth_getCode", [deployment["credential_anchor"], "latest"]) != "0x"
    outsider = Account.create()
    with pytest.raises(Unauthorized):
        allow_accounts(url, "wrong-token", [outsider.address])
    allow_accounts(url, home.admin_token(), [outsider.address])
    assert outsider.address in allowed_accounts(url, home.admin_token())


def test_verify_command_exit_codes(node, tmp_path: Path) -> None:
    url, home, process = node
    ledger = Ledger.connect([url], home.deployment())
    with pytest.raises(SenderNotPermitted):
        ledger.transfer(Account.create(), home.operator().address, 0)
    chain = TestChain(
        ledger=ledger,
        operator=home.operator(),
        deployment=home.deployment(),
        allow=lambda addresses: allow_accounts(url, home.admin_token(), addresses),
    )
    issuer = Issuer(chain, ISSUER_DID, ISSUER_KEY)
    valid, other = issuer.anchor([issuer.sign(1), issuer.sign(2)])
    tampered = json.loads(json.dumps(other))
    tampered["credentialSubject"]["result"][0]["value"] = "A+"
    files = {}
    for name, document in (("valid", valid), ("other", other), ("tampered", tampered)):
        files[name] = tmp_path / f"{name}.json"
        files[name].write_text(json.dumps(document), encoding="utf-8")
    common = ["--ledger", url, "--deployment", str(home.deployment_path)]

    ok = run("verify", str(files["valid"]), str(files["other"]), *common)
    assert (ok.returncode, ok.stdout.count(": VALID")) == (0, 2), ok.stdout + ok.stderr

    bad = run("verify", str(files["valid"]), str(files["tampered"]), "--json", *common)
    reports = json.loads(bad.stdout)
    assert (bad.returncode, [report["verdict"] for report in reports]) == (1, ["VALID", "INVALID"])

    missing = run("verify", str(tmp_path / "nope.json"), *common)
    assert (missing.returncode, "Cannot read" in missing.stderr) == (64, True)

    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    down = run("verify", str(files["valid"]), "--json", *common)
    assert (down.returncode, json.loads(down.stdout)[0]["verdict"]) == (2, "INDETERMINATE")
