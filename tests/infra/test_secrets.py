"""Files at rest are their owner's alone: after `creditbank init`, opening the runtime, serving
requests and the commands that write the database, credential files and backups, nothing in the
data directory is open to the group or others, whatever the umask; databases left readable by an
older version are closed up when they are opened."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.settings import Settings
from portal.app import create_app
from portal.cli import main
from portal.runtime import Runtime
from tests.support.paths import EXAMPLES
from tests.support.samples import signed_credential

DATABASES = ("chain.sqlite", "creditbank.sqlite")


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Where `creditbank init` makes a data directory, under the usual umask 022."""
    monkeypatch.delenv("CREDITBANK_MASTER_KEY", raising=False)
    monkeypatch.setenv("CREDITBANK_BLOCK_PERIOD", "0.05")
    monkeypatch.setenv("CREDITBANK_DATA", str(tmp_path / "data"))
    before = os.umask(0o022)
    yield tmp_path / "data"
    os.umask(before)


def modes(folder: Path) -> dict[str, str]:
    """The permission bits of the folder and of everything in it, by relative path."""
    return {str(path.relative_to(folder)): oct(stat.S_IMODE(path.stat().st_mode))
            for path in (folder, *sorted(folder.rglob("*")))}


def served_modes(data_dir: Path) -> dict[str, str]:
    """Open the runtime as the portal does, answer a page, a form and a verification, and read
    the data directory's modes while it is open (the write-ahead logs exist only then)."""
    with Runtime(Settings.from_env()) as runtime:
        client = create_app(runtime).test_client()
        answers = [client.get("/verify").status_code, client.get("/sign-in").status_code,
                   client.post("/api/v1/verify", json=signed_credential()).status_code]
        seen = modes(data_dir)
    assert answers == [200, 200, 200]
    return seen


def test_the_data_directory_is_its_owners_alone(data_dir: Path) -> None:
    assert main(["init", "--data", str(data_dir)]) == 0

    assert served_modes(data_dir) == {
        ".": "0o700",
        "admin.token": "0o600",
        "chain.sqlite": "0o600",
        "chain.sqlite-shm": "0o600",
        "chain.sqlite-wal": "0o600",
        "creditbank.sqlite": "0o600",
        "creditbank.sqlite-shm": "0o600",
        "creditbank.sqlite-wal": "0o600",
        "creditbank.sqlite.migrate-lock": "0o600",
        "deployment.json": "0o600",
        "keys": "0o700",
        "keys/operator.key": "0o600",
        "master.key": "0o600",
        "ratelimit.table": "0o600",
    }


def test_databases_an_older_version_left_readable_are_closed_up_when_opened(
        data_dir: Path) -> None:
    assert main(["init", "--data", str(data_dir)]) == 0
    served_modes(data_dir)
    for name in DATABASES:
        (data_dir / name).chmod(0o644)

    seen = served_modes(data_dir)

    assert {name: seen[name] for name in seen if name.startswith(DATABASES)} == {
        f"{name}{suffix}": "0o600" for name in DATABASES for suffix in ("", "-shm", "-wal")
    } | {"creditbank.sqlite.migrate-lock": "0o600"}


def test_every_file_the_commands_write_is_owner_only_under_umask_022(tmp_path: Path) -> None:
    data = tmp_path / "data"
    environment = {name: value for name, value in os.environ.items()
                   if name not in ("CREDITBANK_MASTER_KEY", "CREDITBANK_DATABASE_URL")}
    environment |= {"CREDITBANK_DATA": str(data), "CREDITBANK_BLOCK_PERIOD": "0.05"}
    commands = [
        ["init", "--data", str(data)],
        ["issuers", "add", "Demo University", "--scope", "course,certificate", "--levels",
         "1-8"],
        ["units", "add", "--issuer", "demo-university", str(EXAMPLES / "units.json")],
        ["issue", "--issuer", "demo-university", str(EXAMPLES / "outcomes.csv"),
         "--out", str(data / "issued")],
        ["db", "backup", str(data / "backups" / "first.backup")],
    ]
    script = "import os, sys; os.umask(0o022); from portal.cli import main; sys.exit(main())"

    for arguments in commands:
        subprocess.run([sys.executable, "-c", script, *arguments], env=environment, check=True,
                       capture_output=True, timeout=300)

    seen = modes(data)
    assert {path for path in seen if path.startswith("issued/")}
    assert "backups/first.backup" in seen
    wider = {path: mode for path, mode in seen.items()
             if mode != ("0o700" if (data / path).is_dir() else "0o600")}
    assert wider == {}
