"""Faults under load: while clients keep issuing through Gunicorn, kill -9 the ledger node, a web
worker and the PostgreSQL server (then bring back what does not come back by itself). Every
acknowledged credential must be stored, anchored exactly once and verify VALID; requests during
an outage get a clean 503 JSON answer or a refused connection, never a hang."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import select

from bench.loadkit import Child
from infra.database import open_engine
from infra.secrets import master_key
from issuers.tables import batches, credentials
from ledger.views import ChainView
from portal.app import create_app
from tests.support.databases import PostgresServer, postgres_bin
from tests.support.issuer import accredited, outcome
from tests.support.nodes import eventually, free_port, rpc
from tests.support.runtimes import opened_runtime
from verify import Context, Status, verify_many

pytestmark = pytest.mark.slow

CREDITBANK = [sys.executable, "-m", "portal.cli"]
CLIENTS = 4
REQUEST_TIMEOUT = 20.0
ANCHOR_TIMEOUT = 90.0


@dataclass
class Tally:
    """What the clients saw: acknowledged credential ids, and every other answer."""

    acknowledged: set[str] = field(default_factory=set)
    refused: list[tuple[int, dict]] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    hung: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def issue_until(url: str, token: str, stop: threading.Event, client: int, tally: Tally) -> None:
    """POST two outcomes at a time until `stop`; record each answer."""
    number = 0
    while not stop.is_set():
        number += 1
        session = f"fault {client} {number}"
        body = {"outcomes": [outcome(f"F{client}{number:05d}{n}", session=session)
                             for n in range(2)]}
        request = urllib.request.Request(
            f"{url}/api/v1/credentials", data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:
                ids = {item["id"] for item in json.load(response)["credentials"]}
            with tally.lock:
                tally.acknowledged |= ids
        except urllib.error.HTTPError as error:
            with tally.lock:
                tally.refused.append((error.code, json.load(error)))
        except TimeoutError:
            with tally.lock:
                tally.hung += 1
        except (urllib.error.URLError, ConnectionError, OSError) as error:
            with tally.lock:
                tally.dropped.append(type(error).__name__)
            time.sleep(0.2)
        time.sleep(0.05)


def gunicorn_workers(master: int) -> set[int]:
    """The live worker pids of a Gunicorn master."""
    return {int(pid) for pid in
            Path(f"/proc/{master}/task/{master}/children").read_text().split()}


@pytest.fixture
def database() -> Iterator[PostgresServer]:
    """A PostgreSQL server of this test's own, whose commits survive a kill -9."""
    if postgres_bin() is None:
        pytest.skip("PostgreSQL is not installed: run `bash tests/install.sh`")
    server = PostgresServer(durable=True)
    server.start()
    yield server
    server.stop()


def test_acknowledged_credentials_survive_killed_node_worker_and_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database: PostgresServer
) -> None:
    data_dir, url_of_database = tmp_path / "data", database.new_database()
    with opened_runtime(data_dir, url_of_database, monkeypatch) as runtime:
        token = accredited(runtime).token
        create_app(runtime)  # every table, before the workers race to create them
    node_port, web_port = free_port(), free_port()
    node_url, web_url = f"http://127.0.0.1:{node_port}", f"http://127.0.0.1:{web_port}"
    base = {key: value for key, value in os.environ.items() if not key.startswith("CREDITBANK_")}
    base.update(CREDITBANK_DATA=str(data_dir), CREDITBANK_DATABASE_URL=url_of_database,
                CREDITBANK_BATCH_SECONDS="0.5")
    served = {**base, "CREDITBANK_LEDGER_URLS": node_url}
    node = Child([*CREDITBANK, "node", "--data", str(data_dir), "--port", str(node_port),
                    "--block-period", "0.1"], base, tmp_path / "node.log")
    web = Child([sys.executable, "-m", "gunicorn", "--workers=2", "--worker-class=gthread",
                   "--threads=4", "--timeout=30", "--bind", f"127.0.0.1:{web_port}",
                   "portal.wsgi:app"], served, tmp_path / "gunicorn.log")
    worker = Child([*CREDITBANK, "worker"], served, tmp_path / "worker.log")
    tally, stop = Tally(), threading.Event()
    clients = [threading.Thread(target=issue_until, args=(web_url, token, stop, n, tally))
               for n in range(CLIENTS)]
    try:
        node.start()
        eventually(lambda: rpc(node_url, "eth_chainId"), "the node")
        web.start()
        worker.start()
        eventually(lambda: urllib.request.urlopen(f"{web_url}/healthz"), "gunicorn")
        for client in clients:
            client.start()
        time.sleep(3)

        node.kill()
        time.sleep(2)
        node.start()
        eventually(lambda: rpc(node_url, "eth_chainId"), "the node again")
        time.sleep(2)

        assert web.process is not None
        before = gunicorn_workers(web.process.pid)
        os.kill(min(before), signal.SIGKILL)
        eventually(lambda: len(gunicorn_workers(web.process.pid) - before) == 1,
                   "a new Gunicorn worker")
        time.sleep(2)

        database.kill()
        time.sleep(2)
        database.start()
        time.sleep(4)
        stop.set()
        for client in clients:
            client.join(timeout=REQUEST_TIMEOUT + 5)

        engine = open_engine(url_of_database, master_key=master_key(data_dir))
        query = (select(credentials.c.id, credentials.c.anchored, batches.c.root)
                 .join(batches, batches.c.id == credentials.c.batch_id))

        def all_anchored() -> list | None:
            with engine.connect() as connection:
                rows = connection.execute(
                    query.where(credentials.c.id.in_(tally.acknowledged))).all()
            return rows if all(row.anchored for row in rows) else None

        rows = eventually(all_anchored, "every acknowledged credential anchored", ANCHOR_TIMEOUT)
        engine.dispose()
    finally:
        stop.set()
        for service in (worker, web, node):
            service.stop()

    assert tally.hung == 0
    assert {row.id for row in rows} == tally.acknowledged
    assert len(tally.acknowledged) > 50
    assert {(status, body["code"], body["message"]) for status, body in tally.refused} <= {
        (503, 503, "the database is unavailable; try again shortly")}

    node.start()
    try:
        eventually(lambda: rpc(node_url, "eth_chainId"), "the node for verification")
        view = ChainView.connect([node_url], runtime.deployment)
        anchored = [json.loads(row.anchored) for row in rows]
        assert {report.verdict for report in verify_many(anchored, Context(view))} == {
            Status.VALID}
        roots = {bytes(row.root) for row in rows}
        anchors_of = view.anchored_between(0, view.head())
        assert sorted(root for root in anchors_of if root in roots) == sorted(roots)
    finally:
        node.stop()
