"""A throwaway PostgreSQL server for the test session, and a fresh database per test."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import psycopg

from tests.support.nodes import free_port

POSTGRES_USER = "postgres"


def postgres_bin() -> Path | None:
    """The newest installed PostgreSQL server's bin directory, if any."""
    root = Path("/usr/lib/postgresql")
    versions = sorted(root.iterdir(), key=lambda p: int(p.name)) if root.exists() else []
    candidates = [
        version / "bin" for version in versions if (version / "bin" / "postgres").exists()
    ]
    return candidates[-1] if candidates else None


class PostgresServer:
    """A PostgreSQL cluster in a temporary folder, on 127.0.0.1, trusting local connections."""

    def __init__(self, *, durable: bool = False) -> None:
        """`durable`: commits wait for the WAL (they survive the server being killed)."""
        binaries = postgres_bin()
        if binaries is None:
            raise RuntimeError("PostgreSQL is not installed: run `bash tests/install.sh`")
        self.bin = binaries
        self.folder = Path(tempfile.mkdtemp(prefix="creditbank-postgres-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self.durable = durable
        self.process: subprocess.Popen | None = None

    def _as_postgres(self) -> list[str]:
        """Run as the postgres user when we are root (the server refuses to run as root)."""
        return ["runuser", "-u", POSTGRES_USER, "--"] if os.geteuid() == 0 else []

    def start(self) -> None:
        """initdb (the first time) and start the server; wait until it accepts connections."""
        if not self.data.exists():
            self._initdb()
        self._serve()

    def _initdb(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.folder, POSTGRES_USER)
        subprocess.run(
            [
                *self._as_postgres(),
                str(self.bin / "initdb"),
                "-D",
                str(self.data),
                "-A",
                "trust",
                "-U",
                "creditbank",
                "-E",
                "UTF8",
                "--no-locale",
            ],
            check=True,
            capture_output=True,
        )

    def _serve(self) -> None:
        commit = "synchronous_commit=on" if self.durable else "synchronous_commit=off"
        self.process = subprocess.Popen(
            [
                *self._as_postgres(),
                str(self.bin / "postgres"),
                "-D",
                str(self.data),
                "-p",
                str(self.port),
                "-k",
                str(self.folder),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
                "-c",
                commit,
                "-c",
                "max_connections=200",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(self.dsn("postgres"), connect_timeout=1):
                    return
            except psycopg.OperationalError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("PostgreSQL did not start") from None
                time.sleep(0.1)

    def dsn(self, database: str) -> str:
        """A libpq connection string for a database of this server."""
        return f"host=127.0.0.1 port={self.port} user=creditbank dbname={database}"

    def new_database(self) -> str:
        """Create an empty database; returns its SQLAlchemy URL."""
        name = f"t_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(self.dsn("postgres"), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://creditbank@127.0.0.1:{self.port}/{name}"

    def kill(self) -> None:
        """SIGKILL the server and every one of its processes at once, as a crash would."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        children = Path(f"/proc/{postmaster}/task/{postmaster}/children").read_text().split()
        for pid in (postmaster, *map(int, children)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        assert self.process is not None
        self.process.wait(timeout=30)

    def stop(self) -> None:
        """Stop the server and remove its files."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        shutil.rmtree(self.folder, ignore_errors=True)
