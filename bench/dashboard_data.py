"""Fill a bench database with many credentials for the learner-dashboard read benchmark.

The rows are what the issuer service stores (same tables, same columns, same JSON shape), made
by copying one real signed and anchored credential with a new id, learner, unit and session.
They are NOT individually signed and their Merkle proofs do not hold: this data is only for
reading the learner's record, never for verifying it. Inserts are SQLAlchemy Core bulk
inserts, 5,000 rows a statement, in one transaction per 50,000 rows.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
import uuid
from collections.abc import Iterator

from sqlalchemy import Connection, Engine, insert, select

from bank.tables import identity_proofs, learner_tokens, learners
from credentials.datamodel import valid_until_seconds
from infra.schema import upgrade
from issuers.learners import learner_pepper, learner_ref
from issuers.tables import batches, credentials, issuer_keys

CHUNK = 5_000
TRANSACTION = 50_000
BATCH = 1_000
TOKEN_SECONDS = 30 * 24 * 3600


def fill(engine: Engine, template: dict, *, issuer_id: str, master_key: bytes, did_host: str,
         learners_with_tokens: int, per_learner: int, filler: int = 0) -> list[str]:
    """Give `learners_with_tokens + filler` learners `per_learner` credentials each; the first
    ones get accounts (proven in person, so their records show what was issued to them) and
    bearer tokens, which are returned."""
    upgrade(engine)
    pepper = learner_pepper(master_key)
    with engine.connect() as connection:
        key_id = connection.execute(select(issuer_keys.c.id).where(
            issuer_keys.c.issuer_id == issuer_id)).scalars().first()
    shapes = Shapes(template)
    tokens = []
    with engine.begin() as connection:
        for number in range(learners_with_tokens):
            ref = learner_ref(national_id(number), pepper, did_host)
            learner_id = str(uuid.uuid4())
            connection.execute(insert(learners).values(
                id=learner_id, did=ref.did, identity_hash=ref.identifiers[0]["identityHash"],
                opened_by="self", created_at=time.time()))
            connection.execute(insert(identity_proofs).values(
                learner_id=learner_id, method="in_person", vouched_by="bench",
                proved_at=time.time()))
            token = "cbl_" + secrets.token_urlsafe(32)
            connection.execute(insert(learner_tokens).values(
                token_sha256=hashlib.sha256(token.encode()).hexdigest(), learner_id=learner_id,
                expires_at=time.time() + TOKEN_SECONDS))
            tokens.append(token)
    rows = shapes.rows(issuer_id, key_id, pepper, did_host,
                       learners_with_tokens + filler, per_learner)
    pending: list[dict] = []
    batch_rows: list[dict] = []
    with engine.connect() as connection:
        transaction = connection.begin()
        for count, row in enumerate(rows, 1):
            if row["position"] == 0:
                batch_rows.append(batch_row(row["batch_id"], issuer_id, row["issued_at"]))
            pending.append(row)
            if len(pending) == CHUNK:
                flush(connection, batch_rows, pending)
            if count % TRANSACTION == 0:
                transaction.commit()
                transaction = connection.begin()
        flush(connection, batch_rows, pending)
        transaction.commit()
    return tokens


def flush(connection: Connection, batch_rows: list[dict], rows: list[dict]) -> None:
    """Insert the batches then the credentials gathered so far, and forget them."""
    if batch_rows:
        connection.execute(insert(batches), batch_rows)
        batch_rows.clear()
    if rows:
        connection.execute(insert(credentials), rows)
        rows.clear()


def national_id(number: int) -> str:
    """The bench learner's national id."""
    return f"DASH-{number:07d}"


def batch_row(batch_id: str, issuer_id: str, at: float) -> dict:
    """An anchored batch of the generated credentials (its root is random)."""
    return {"id": batch_id, "issuer_id": issuer_id, "status": "anchored", "size": BATCH,
            "root": secrets.token_bytes(32), "transaction_hash": "0x" + secrets.token_hex(32),
            "block": 1, "opened_at": at, "closed_at": at, "sent_at": at, "anchored_at": at}


class Shapes:
    """Copies of one anchored credential, as text with the varying parts replaced (held once, in
    `anchored`, with `signed` empty, as anchoring leaves it)."""

    def __init__(self, template: dict) -> None:
        subject = template["credentialSubject"]
        self.marks = {
            template["id"]: "{id}",
            subject["id"]: "{learner}",
            subject["achievement"]["humanCode"]: "{unit}",
        }
        self.anchored = self._marked(json.dumps(template, ensure_ascii=False))
        self.credits = float(subject["creditsEarned"])
        self.valid_until = valid_until_seconds(json.dumps(template))
        self.completed_on = subject["activityEndDate"]

    def _marked(self, text: str) -> str:
        text = text.replace("{", "{{").replace("}", "}}")
        for value, mark in self.marks.items():
            text = text.replace(value, mark)
        return text

    def rows(self, issuer_id: str, key_id: int, pepper: bytes, did_host: str, count: int,
             per_learner: int) -> Iterator[dict]:
        """Credential rows, learner by learner, batches of BATCH across learners."""
        issued_at = time.time() - 3 * 365 * 24 * 3600
        index = 0
        batch_id = str(uuid.uuid4())
        for number in range(count):
            ref = learner_ref(national_id(number), pepper, did_host)
            identity = ref.identifiers[0]["identityHash"]
            for held in range(per_learner):
                if index % BATCH == 0:
                    batch_id = str(uuid.uuid4())
                unit = f"U{held % 20:03d}"
                fields = {"id": f"urn:uuid:{uuid.uuid4()}", "learner": ref.did, "unit": unit}
                yield {
                    "id": fields["id"], "issuer_id": issuer_id, "learner_did": ref.did,
                    "learner_hash": identity, "unit_code": unit, "unit_version": 1,
                    "session": f"s{held}", "key_id": key_id, "batch_id": batch_id,
                    "position": index % BATCH, "digest": secrets.token_bytes(32),
                    "signed": None,
                    "anchored": self.anchored.format(**fields),
                    "issued_at": issued_at + index,
                    "credits": self.credits, "completed_on": self.completed_on,
                    "valid_until": self.valid_until,
                }
                index += 1
