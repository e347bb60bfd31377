"""Transcripts: on request, the learner's accumulated record signed by the bank as a CLR 2.0
credential and anchored through the issuers' batches and anchoring worker."""

from __future__ import annotations

import contextlib
import json
import time
import uuid

from sqlalchemy import Engine, RowMapping, Select, insert, select

from bank.records import held_credentials
from bank.tables import transcripts
from credentials.model import IssuerProfile, LearnerRef, clr_credential
from credentials.proofs import CRYPTOSUITES
from infra.errors import Conflict, InvalidInput, NotFound
from infra.paging import keyset_page
from infra.settings import Settings
from infra.times import iso_utc
from issuers.issuance import Draft, Issuance
from issuers.registry import Scope, accredit, issuer_record
from issuers.tables import credentials
from ledger.chain import Chain
from ledger.views import ChainView
from verify import Context, Status, verify_many

BANK_ISSUER_ID = "credit-bank"
BANK_NAME = "Lifelong Learning Credit Bank"
BANK_NAME_ZH = "终身学习学分银行"
TRANSCRIPT_UNIT = "TRANSCRIPT"
LIST_PAGE = 10


def ensure_bank_issuer(engine: Engine, chain: Chain, *, settings: Settings) -> dict:
    """The bank's own issuer record, accredited on chain for transcripts on first use."""
    with contextlib.suppress(NotFound):
        return issuer_record(engine, BANK_ISSUER_ID)
    with contextlib.suppress(Conflict):
        accredit(engine, chain, settings=settings, name=BANK_NAME, name_zh=BANK_NAME_ZH,
                 slug=BANK_ISSUER_ID, scope=Scope(kinds=("transcript",), levels=()),
                 url=settings.public_url, actor="system:transcripts")
    return issuer_record(engine, BANK_ISSUER_ID)


def request_transcript(engine: Engine, chain: Chain, learner: dict, *, settings: Settings,
                       cryptosuite: str = CRYPTOSUITES[0]) -> dict:
    """Sign the learner's record as a CLR and queue it for anchoring in the bank's batch.

    The CLR bundles the credentials of the record that verify now: revoked ones, and deposits
    a reviewer accepted on other evidence, stay out.
    """
    held = [item.credential for item in held_credentials(engine, learner)]
    reports = verify_many(held, Context(ChainView(chain.ledger)))
    bundled = [credential for credential, report in zip(held, reports, strict=True)
               if report.verdict is Status.VALID]
    if not bundled:
        raise InvalidInput("your record holds no credential that verifies",
                           {"credentials": ["no credential of the record verifies"]})
    bank = ensure_bank_issuer(engine, chain, settings=settings)
    credential_id = f"urn:uuid:{uuid.uuid4()}"
    unsigned = clr_credential(
        credential_id=credential_id,
        issuer=IssuerProfile(did=bank["did"], name=bank["name"], name_zh=bank["name_zh"],
                             url=bank["url"]),
        learner=LearnerRef(did=learner["did"]),
        credentials=bundled,
        valid_from=iso_utc(time.time()),
    )
    draft = Draft(credential_id=credential_id, learner_did=learner["did"],
                  learner_hash=learner["identity_hash"], unit_code=TRANSCRIPT_UNIT,
                  unit_version=1, session=credential_id.removeprefix("urn:uuid:"),
                  unsigned=unsigned)
    issuance = Issuance.of(engine, settings=settings)
    with engine.begin() as connection:
        drafts = issuance.with_status(connection, bank["id"], [draft])
        key_id, signed = issuance.sign(bank, drafts, cryptosuite=cryptosuite)
        issuance.store(connection, bank["id"], key_id, drafts, signed)
        connection.execute(insert(transcripts).values(
            id=credential_id, learner_id=learner["id"], requested_at=time.time()))
    return transcript_json(engine, learner, credential_id)


def transcript_json(engine: Engine, learner: dict, transcript_id: str) -> dict:
    """A transcript of the learner: its batch status and, once anchored, the credential."""
    query = _shown().where(transcripts.c.id == transcript_id,
                           transcripts.c.learner_id == learner["id"])
    with engine.connect() as connection:
        row = connection.execute(query).mappings().first()
    if row is None:
        raise NotFound(f"no transcript {transcript_id}")
    return _transcript(row)


def transcripts_of(engine: Engine, learner: dict, *, after: str | None = None,
                   before: str | None = None, limit: int = LIST_PAGE
                   ) -> tuple[list[dict], str | None, str | None]:
    """A page of the learner's transcripts, newest first, after the cursor `after` or before
    `before` (as `transcript_json` shows them, read in one query); and the cursors of the next
    and previous pages. The index on (learner, requested, id) serves it."""
    with engine.connect() as connection:
        page = keyset_page(connection, _shown().where(transcripts.c.learner_id == learner["id"]),
                           (transcripts.c.requested_at, transcripts.c.id), after=after,
                           before=before, limit=limit, descending=True)
    return [_transcript(row) for row in page.rows], page.after, page.before


def _shown() -> Select:
    """A transcript's row with its credential's stored forms and batch."""
    return (select(transcripts.c.id, transcripts.c.requested_at, credentials.c.signed,
                   credentials.c.anchored, credentials.c.batch_id)
            .join(credentials, credentials.c.id == transcripts.c.id))


def _transcript(row: RowMapping) -> dict:
    return {"id": row["id"], "status": "anchored" if row["anchored"] else "signed",
            "batch": row["batch_id"], "credential": json.loads(row["anchored"] or row["signed"])}
