"""bench_scale's filler rows, made from signed templates: what a worker process making them
imports (this module alone, so each starts in a fraction of bench_scale's import time)."""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from eth_hash.auto import keccak
from sqlalchemy import Connection, Engine, Table

from bank.tables import learners
from credentials.anchoring import without_anchor
from credentials.canon import jcs
from credentials.dids import did_web
from infra.database import open_engine
from infra.sealing import ring_of
from infra.settings import Settings
from issuers.learners import learner_pepper, learner_ref
from issuers.tables import batches, credentials

ISSUER = "scale"
PER_LEARNER = 10
BATCH = 1_000
YEARS = 10
YEAR = 365.25 * 24 * 3600
MARKS = ("id", "learner", "identity", "session", "completed", "list", "index", "root", "tx")
SENTINELS = {name: f"@@{name}@@" for name in MARKS}
SENTINEL = re.compile(r"@@(" + "|".join(MARKS) + r")@@")
PLAIN = re.compile(r'[^"\\\x00-\x1f]*')
"""Text that JSON and JCS write as it is inside a string (no quote, backslash or control)."""


class Template:
    """One real anchored credential (its `anchored` text, opened: an anchored credential is
    stored once, its `signed` column empty) cut at the values that vary from credential to
    credential, so a filler row is one join of fixed parts and its values; and the JCS form its
    Merkle digest hashes (the document without its anchor proof), cut alike. Exact because every
    varying value sits inside a JSON string and holds nothing either form escapes (checked for
    each row: `PLAIN`), and JCS orders members by name, never by value."""

    def __init__(self, row: dict) -> None:
        self.unit_code = row["unit_code"]
        self.unit_version = row["unit_version"]
        self.credits = row["credits"]
        self.valid_until = row["valid_until"]
        self.key_id = row["key_id"]
        assert "@@" not in row["anchored"], "a template holds a sentinel's marker"
        anchored = self._marked(json.loads(row["anchored"]), row)
        self.canonical = self._cut(jcs(without_anchor(anchored)).decode("utf-8"))
        self.anchored = self._cut(json.dumps(anchored, ensure_ascii=False,
                                             separators=(",", ":")))

    @staticmethod
    def _marked(document: dict, row: dict) -> dict:
        """The document with every varying value replaced by its sentinel."""
        subject = document["credentialSubject"]
        document["id"] = SENTINELS["id"]
        subject["id"] = SENTINELS["learner"]
        subject["identifier"][0]["identityHash"] = SENTINELS["identity"]
        subject["term"] = SENTINELS["session"]
        subject["activityEndDate"] = SENTINELS["completed"]
        document["validFrom"] = f"{SENTINELS['completed']}T00:00:00Z"
        place = f"/{row['status_list']}/"
        for entry in document.get("credentialStatus", []):
            entry["statusListIndex"] = SENTINELS["index"]
            for name in ("id", "statusListCredential"):
                entry[name] = (entry[name].replace(place, f"/{SENTINELS['list']}/")
                               .replace(f"#{row['status_index']}", f"#{SENTINELS['index']}"))
        proofs = document["proof"] if isinstance(document["proof"], list) else [document["proof"]]
        for proof in proofs:
            if "merkleRoot" in proof:
                proof["merkleRoot"], proof["transactionHash"] = SENTINELS["root"], SENTINELS["tx"]
        return document

    @staticmethod
    def _cut(written: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """A text with sentinels as its fixed parts and the names of the values between them."""
        pieces = SENTINEL.split(written)
        return tuple(pieces[0::2]), tuple(pieces[1::2])

    @staticmethod
    def _fill(cut: tuple[tuple[str, ...], tuple[str, ...]], values: dict[str, str]) -> str:
        """A cut text with its values in place."""
        parts, names = cut
        pieces = [parts[0]]
        for name, part in zip(names, parts[1:], strict=True):
            pieces += (values[name], part)
        return "".join(pieces)

    def texts(self, **values: str) -> tuple[str, bytes]:
        """The anchored text of one credential, and its Merkle digest."""
        assert PLAIN.fullmatch("".join(values.values())), values
        digest = keccak(self._fill(self.canonical, values).encode("utf-8"))
        return self._fill(self.anchored, values), digest


def filler_learner(number: int) -> str:
    """The national id of filler learner `number`."""
    return f"SCALE-{number:08d}"


def when(round_number: int, learner: int, learners_count: int, start: float) -> float:
    """When a filler learner's credential of one round (a year) was issued: at the end of the
    spring or the autumn semester, spread over a few weeks."""
    season = 0.45 if learner % 3 else 0.95
    return start + (round_number + season + 0.04 * learner / max(learners_count, 1)) * YEAR


class Rows:
    """Writes rows the fastest way each database takes them: COPY on PostgreSQL, executemany on
    SQLite; values already in stored form (sealed text sealed)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        raw = connection.connection.driver_connection
        assert raw is not None
        self.raw = raw
        self.postgres = connection.dialect.name == "postgresql"

    def write(self, table: Table, columns: Sequence[str], rows: list[tuple]) -> None:
        """Write `rows` (tuples in `columns` order) into `table`."""
        if not rows:
            return
        names = ", ".join(f'"{name}"' for name in columns)
        if self.postgres:
            with self.raw.cursor() as cursor, cursor.copy(
                    f"COPY {table.name} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor = self.raw.cursor()
            try:
                cursor.executemany(f"INSERT INTO {table.name} ({names}) VALUES "
                                   f"({', '.join('?' * len(columns))})", rows)
            finally:
                cursor.close()
        rows.clear()


CREDENTIAL_COLUMNS = ("id", "issuer_id", "learner_did", "learner_hash", "unit_code",
                      "unit_version", "session", "key_id", "batch_id", "position", "digest",
                      "signed", "anchored", "issued_at", "credits", "completed_on",
                      "valid_until", "status_list", "status_index")
BATCH_COLUMNS = ("id", "issuer_id", "status", "size", "root", "transaction_hash", "block",
                 "opened_at", "closed_at", "sent_at", "anchored_at")
LEARNER_COLUMNS = ("id", "did", "identity_hash", "opened_by", "created_at")


Task = tuple[int, list[tuple[int, int]]]
"""A filler task: its first credential's number and each credential's status place."""
Made = tuple[int, list[str], dict[str, list[tuple]] | None]
"""A task made: how many rows, the sampled ids, the rows when the maker did not write them."""


@dataclass(frozen=True)
class Filler:
    """What every maker of filler rows needs (handed to each worker process once)."""

    settings: Settings
    templates: tuple[Template, ...]
    count: int
    start: float
    block: int
    copy: bool
    """Whether a maker writes its rows itself (COPY on PostgreSQL) or hands them back (SQLite
    takes one writer)."""

    @property
    def learners_count(self) -> int:
        """Filler learners: one for every `PER_LEARNER` credentials."""
        return math.ceil(self.count / PER_LEARNER)


class Maker:
    """Makes filler rows in one process, on its own engine (and, on PostgreSQL, writes them
    with COPY on its own connection, a transaction a task)."""

    def __init__(self, filler: Filler, engine: Engine | None = None) -> None:
        self.filler = filler
        self.engine = engine or open_engine(filler.settings.database_url,
                                            master_key=filler.settings.master_key())
        with self.engine.connect():
            pass  # a checkout makes the key ring follow the current generation
        self.pepper = learner_pepper(filler.settings.master_key())
        self.did_host = filler.settings.did_host
        self.keyed = hmac.new(self.pepper, digestmod=hashlib.sha256)
        self.did_prefix = did_web(self.did_host, "learners", "x")[:-1]
        self.ring = ring_of(self.engine)
        self.every = max(1, filler.count // 200)

    def run(self, task: Task) -> Made:
        """Make the rows of one task (its first index and its status places): how many, the
        sampled ids among them, and the rows themselves when this maker does not write them."""
        pending, sample = self.make(*task)
        if not self.filler.copy:
            return len(task[1]), sample, pending
        with self.engine.begin() as connection:
            write_pending(Rows(connection), pending)
        return len(task[1]), sample, None

    def make(self, first: int, places: list[tuple[int, int]]) -> tuple[
            dict[str, list[tuple]], list[str]]:
        """The rows of the credentials `first`, `first + 1`, … (a round of one credential per
        learner each year; `first` opens a batch), with their learners and batches."""
        assert first % BATCH == 0, first
        filler, learners_count = self.filler, self.filler.learners_count
        pending: dict[str, list[tuple]] = {"credentials": [], "batches": [], "learners": []}
        sample: list[str] = []
        batch_id, root, tx = "", "", ""
        seal = self.ring.seal
        for index, (status_list, status_index) in enumerate(places, start=first):
            round_number, learner = divmod(index, learners_count)
            did, identity = self.identity(learner, check=index == first)
            issued_at = when(round_number, learner, learners_count, filler.start)
            if round_number == 0:
                pending["learners"].append((str(uuid.uuid4()), did, identity, ISSUER,
                                            issued_at))
            if index % BATCH == 0:
                batch_id, root_bytes = str(uuid.uuid4()), secrets.token_bytes(32)
                root, tx = "0x" + root_bytes.hex(), "0x" + secrets.token_hex(32)
                pending["batches"].append((batch_id, ISSUER, "anchored",
                                           min(BATCH, filler.count - index), root_bytes, tx,
                                           filler.block, issued_at, issued_at, issued_at,
                                           issued_at))
            template = filler.templates[(learner + round_number) % len(filler.templates)]
            credential_id = f"urn:uuid:{uuid.uuid4()}"
            day = datetime.fromtimestamp(issued_at, UTC).date().isoformat()
            session = f"{day[:4]}-{round_number}"
            anchored, digest = template.texts(
                id=credential_id, learner=did, identity=identity, session=session,
                completed=day, list=str(status_list), index=str(status_index), root=root,
                tx=tx)
            pending["credentials"].append((
                credential_id, ISSUER, did, identity, template.unit_code,
                template.unit_version, session, template.key_id, batch_id, index % BATCH,
                digest, None, seal(anchored, "credentials.anchored"), issued_at,
                template.credits, day, template.valid_until, status_list, status_index))
            if index % self.every == 0:
                sample.append(credential_id)
        return pending, sample


    def identity(self, learner: int, *, check: bool = False) -> tuple[str, str]:
        """Filler learner `learner`'s DID and identity hash as `issuers.learners.learner_ref`
        makes them from an id already normalised (with `check`, asserted against it)."""
        national_id = filler_learner(learner)
        keyed = self.keyed.copy()
        keyed.update(national_id.encode("ascii"))
        found = (self.did_prefix + keyed.hexdigest()[:32], "sha256$" + hashlib.sha256(
            (national_id + self.pepper.hex()).encode("ascii")).hexdigest())
        if check:
            ref = learner_ref(national_id, self.pepper, self.did_host)
            assert found == (ref.did, ref.identifiers[0]["identityHash"]), national_id
        return found


_maker: Maker | None = None
"""A worker process's maker."""


def start_maker(filler: Filler) -> None:
    """A worker process's start: its maker, on its own engine."""
    global _maker
    _maker = Maker(filler)


def run_task(task: Task) -> Made:
    """One task in a worker process."""
    assert _maker is not None
    return _maker.run(task)


def write_pending(rows: Rows, pending: dict[str, list[tuple]]) -> None:
    """Write made rows: learners and batches before the credentials that name them."""
    rows.write(learners, LEARNER_COLUMNS, pending["learners"])
    rows.write(batches, BATCH_COLUMNS, pending["batches"])
    rows.write(credentials, CREDENTIAL_COLUMNS, pending["credentials"])
