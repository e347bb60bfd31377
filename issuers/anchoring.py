"""The anchoring worker: closes due batches, anchors their roots exactly once, delivers the
anchored credentials, and carries out revocations and key retirements on chain.

Every chain step is recorded before and after it happens, so a crash at any point resumes:
a root already anchored is recognised (`anchorOf`) and its transaction found in the logs,
never sent again; a transaction the node lost is sent again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from sqlalchemy import Engine, RowMapping, bindparam, select, update
from sqlalchemy.exc import IntegrityError

from credentials.anchoring import attach_anchor_text
from credentials.merkle import MerkleTree
from infra.settings import Settings
from issuers.errors import AnchoringFailed
from issuers.issuance import BatchPolicy
from issuers.registry import issuer_account
from issuers.status import PUBLISH_PERIOD, StatusLists
from issuers.tables import (
    batches,
    credentials,
    issuer_keys,
    issuers,
    revocations,
)
from ledger.client import Ledger
from ledger.errors import LedgerError, LedgerUnavailable, TransactionReverted
from ledger.views import ChainView

logger = logging.getLogger(__name__)

RESEND_AFTER = 30.0
ANCHOR_GAS = 150_000
IDLE_SLEEP = 0.1

Step = Callable[[str], None]


def no_step(name: str) -> None:
    """The default step hook: does nothing."""


class AnchoringWorker:
    """Moves batches from closed to anchored, and revocations and key retirements onto the chain.

    `on_step` is called with "before-send" once a batch's root is recorded and with
    "after-send" once its transaction is sent, before the hash is recorded (crash tests stop
    the worker there)."""

    def __init__(
        self,
        engine: Engine,
        ledger: Ledger,
        *,
        settings: Settings,
        policy: BatchPolicy | None = None,
        resend_after: float = RESEND_AFTER,
        on_step: Step = no_step,
    ) -> None:
        self.engine = engine
        self.ledger = ledger
        self.view = ChainView(ledger)
        self.on_step = on_step
        self.master_key = settings.master_key()
        self.policy = policy or BatchPolicy.of(settings)
        self.resend_after = resend_after
        self.started_at = time.time()
        self._accounts: dict[str, LocalAccount] = {}
        self.status_lists = StatusLists(
            engine, ledger, master_key=self.master_key, public_url=settings.public_url
        )
        self._published_at = 0.0

    def run_once(self, *, close_all: bool = False) -> int:
        """One pass over every step (`close_all`: close open batches now); returns what moved."""
        moved = self.close_batches(everything=close_all)
        moved += self.send_closed()
        moved += self.settle_sent()
        moved += self.revoke_pending()
        moved += self.retire_keys()
        moved += self.publish_status_lists()
        return moved

    def run(self, stop: threading.Event) -> None:
        """Work until `stop` is set; ledger outages are waited out."""
        while not stop.is_set():
            try:
                moved = self.run_once()
            except LedgerUnavailable as error:
                logger.warning("anchoring paused: %s", error.message)
                moved = 0
                stop.wait(1.0)
            except Exception:
                logger.exception("anchoring pass failed")
                moved = 0
                stop.wait(1.0)
            if not moved:
                stop.wait(IDLE_SLEEP)

    def drain(self, batch_ids: set[str], timeout: float = 600.0) -> None:
        """Anchor the given batches now (closing them if open) and wait until they are done."""
        deadline = time.monotonic() + timeout
        while True:
            self.run_once(close_all=True)
            with self.engine.connect() as connection:
                states = connection.execute(
                    select(batches.c.id, batches.c.status, batches.c.error).where(
                        batches.c.id.in_(batch_ids)
                    )
                ).all()
            failed = [row for row in states if row.status == "failed"]
            if failed:
                raise AnchoringFailed(f"batch {failed[0].id} failed to anchor: {failed[0].error}")
            if all(row.status == "anchored" for row in states):
                return
            if time.monotonic() > deadline:
                raise AnchoringFailed(f"batches not anchored within {timeout:.0f} s")
            time.sleep(IDLE_SLEEP)

    # -- batches ------------------------------------------------------------------------------

    def close_batches(self, *, everything: bool = False) -> int:
        """Close open batches older than the policy's age (or all of them)."""
        now = time.time()
        query = update(batches).where(batches.c.status == "open")
        if not everything:
            query = query.where(batches.c.opened_at <= now - self.policy.max_age)
        with self.engine.begin() as connection:
            return connection.execute(query.values(status="closed", closed_at=now)).rowcount

    def send_closed(self) -> int:
        """Record the root of each closed batch and send its anchoring transaction."""
        with self.engine.connect() as connection:
            ids = (
                connection.execute(
                    select(batches.c.id)
                    .where(batches.c.status == "closed")
                    .order_by(batches.c.closed_at)
                )
                .scalars()
                .all()
            )
        for batch_id in ids:
            root = self._tree(batch_id).root
            with self.engine.begin() as connection:
                connection.execute(
                    update(batches)
                    .where(batches.c.id == batch_id, batches.c.status == "closed")
                    .values(status="anchoring", root=root, sent_at=time.time())
                )
            self.on_step("before-send")
            self._send(batch_id, root)
        return len(ids)

    def settle_sent(self) -> int:
        """Finish each batch whose anchoring transaction is mined; resend one the node lost."""
        with self.engine.connect() as connection:
            rows = (
                connection.execute(
                    select(batches)
                    .where(batches.c.status == "anchoring")
                    .order_by(batches.c.sent_at)
                )
                .mappings()
                .all()
            )
        moved = 0
        for batch in rows:
            root = bytes(batch["root"])
            if self._recognise(batch["id"], root, batch["issuer_id"]):
                moved += 1
                continue
            receipt = (
                self.ledger.receipt(batch["transaction_hash"])
                if batch["transaction_hash"]
                else None
            )
            if receipt is not None and receipt["status"] != 1:
                self._fail(batch["id"], self._revert_reason(batch["transaction_hash"]))
                moved += 1
            elif receipt is None and self._lost(batch):
                self._send(batch["id"], root)
                moved += 1
        return moved

    def _send(self, batch_id: str, root: bytes) -> None:
        """Send the anchoring transaction and record its hash before anything waits for it."""
        issuer_id = self._issuer_of(batch_id)
        try:
            tx_hash = self.ledger.send(
                self._account(issuer_id), "CredentialAnchor", "anchor", root, gas=ANCHOR_GAS
            )
        except TransactionReverted as error:
            if not self._recognise(batch_id, root, issuer_id):
                self._fail(batch_id, error.message)
            return
        self.on_step("after-send")
        with self.engine.begin() as connection:
            connection.execute(
                update(batches)
                .where(batches.c.id == batch_id, batches.c.status == "anchoring")
                .values(transaction_hash=tx_hash, sent_at=time.time())
            )

    def _recognise(self, batch_id: str, root: bytes, issuer_id: str) -> bool:
        """If the root is on chain already, find its transaction and finish the batch."""
        anchor = self.view.anchor(root)
        if anchor is None:
            return False
        with self.engine.connect() as connection:
            ours = connection.execute(
                select(issuers.c.chain_id).where(issuers.c.id == issuer_id)
            ).scalar_one()
        if anchor.issuer_id != bytes(ours):
            self._fail(batch_id, "the root was anchored by another issuer")
            return True
        self._finish(batch_id, self._anchoring_transaction(root, anchor.block), anchor.block)
        return True

    def _anchoring_transaction(self, root: bytes, block: int) -> str:
        """The transaction that anchored `root` in `block`, from the contract's logs."""
        tx_hash = self.view.anchoring_transaction(root, block)
        if tx_hash is None:
            raise LedgerError(f"the node holds no Anchored event of the root in block {block}")
        return tx_hash

    def _finish(self, batch_id: str, tx_hash: str, block: int) -> None:
        """Store every credential of the batch with its anchor proof, and mark it anchored."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(credentials.c.id, credentials.c.signed, credentials.c.digest)
                .where(credentials.c.batch_id == batch_id)
                .order_by(credentials.c.position)
            ).all()
        tree = MerkleTree([bytes(row.digest) for row in rows])
        chain_id = self.ledger.chain_id
        contract = self.view.deployment.credential_anchor
        with self.engine.begin() as connection:
            connection.execute(
                update(credentials)
                .where(credentials.c.id == bindparam("credential_id"))
                .values(anchored=bindparam("anchored_json")),
                [
                    {
                        "credential_id": row.id,
                        "anchored_json": attach_anchor_text(
                            row.signed,
                            chain_id=chain_id,
                            contract=contract,
                            transaction_hash=tx_hash,
                            root=tree.root,
                            path=tree.proof(index),
                        ),
                    }
                    for index, row in enumerate(rows)
                ],
            )
            connection.execute(
                update(batches)
                .where(batches.c.id == batch_id)
                .values(
                    status="anchored",
                    transaction_hash=tx_hash,
                    block=block,
                    anchored_at=time.time(),
                    error=None,
                )
            )

    def _revert_reason(self, tx_hash: str) -> str:
        """Why a mined anchoring transaction reverted."""
        try:
            self.ledger.wait(tx_hash)
        except TransactionReverted as error:
            return error.message
        return "the anchoring transaction reverted"

    def _fail(self, batch_id: str, reason: str) -> None:
        logger.error("batch %s failed to anchor: %s", batch_id, reason)
        with self.engine.begin() as connection:
            connection.execute(
                update(batches)
                .where(batches.c.id == batch_id)
                .values(status="failed", error=reason)
            )

    def _lost(self, batch: RowMapping) -> bool:
        """Whether a sent transaction should be sent again: never recorded, sent before this
        worker started (the node may have dropped it), or pending for too long."""
        sent_at = batch["sent_at"] or 0.0
        return (
            batch["transaction_hash"] is None
            or sent_at < self.started_at
            or time.time() - sent_at > self.resend_after
        )

    def _tree(self, batch_id: str) -> MerkleTree:
        with self.engine.connect() as connection:
            digests = connection.execute(
                select(credentials.c.digest)
                .where(credentials.c.batch_id == batch_id)
                .order_by(credentials.c.position)
            ).scalars()
            return MerkleTree([bytes(digest) for digest in digests])

    # -- revocations and keys -----------------------------------------------------------------

    def revoke_pending(self) -> int:
        """Revoke on chain what was asked, once its batch is anchored (checking first if done)."""
        query = (
            select(revocations, batches.c.root)
            .join(batches, batches.c.id == revocations.c.batch_id)
            .where(revocations.c.status.in_(("pending", "sent")), batches.c.status == "anchored")
            .order_by(revocations.c.id)
        )
        with self.engine.connect() as connection:
            rows = connection.execute(query).mappings().all()
        for row in rows:
            self._revoke(row)
        return len(rows)

    def _revoke(self, row: RowMapping) -> None:
        root = bytes(row["root"])
        digest: bytes | None = None
        if row["credential_id"] is None:
            call: tuple = ("revokeRoot", root, row["reason"])
        else:
            digest, path = self._leaf(row["batch_id"], row["credential_id"])
            call = ("revokeLeaf", root, digest, path, row["reason"])
        block = self._revoked_block(root, digest)
        if not block:
            try:
                tx_hash = self.ledger.send(
                    self._account(row["issuer_id"]), "CredentialAnchor", *call
                )
                self._update_revocation(row["id"], status="sent", transaction_hash=tx_hash)
                block = int(self.ledger.wait(tx_hash)["blockNumber"])
            except TransactionReverted as error:
                block = self._revoked_block(root, digest)
                if not block:
                    self._update_revocation(row["id"], status="failed", error=error.message)
                    return
        self._update_revocation(row["id"], status="done", block=block, done_at=time.time())

    def _revoked_block(self, root: bytes, digest: bytes | None) -> int:
        """The block a root (`digest` None) or a leaf was revoked in (0 if it is not)."""
        if digest is None:
            revocation = self.view.root_revocation(root)
        else:
            revocation = self.view.leaf_revocation(root, digest)
        return revocation.block if revocation is not None else 0

    def _leaf(self, batch_id: str, credential_id: str) -> tuple[bytes, list[bytes]]:
        with self.engine.connect() as connection:
            position, digest = connection.execute(
                select(credentials.c.position, credentials.c.digest).where(
                    credentials.c.id == credential_id
                )
            ).one()
        return bytes(digest), self._tree(batch_id).proof(position)

    def _update_revocation(self, revocation_id: int, **values: object) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                update(revocations).where(revocations.c.id == revocation_id).values(**values)
            )

    def publish_status_lists(self, *, now: float | None = None) -> int:
        """Every `PUBLISH_PERIOD` seconds, index the chain's revocations and republish the
        status lists whose chain state changed; returns how many were published."""
        moment = time.monotonic() if now is None else now
        if moment - self._published_at < PUBLISH_PERIOD:
            return 0
        self._published_at = moment
        try:
            return self.status_lists.refresh()
        except IntegrityError:
            logger.info("another process indexed the same revocations; publishing next period")
            return 0

    def retire_keys(self) -> int:
        """Retire rotated-out keys on chain once every credential they signed is anchored."""
        pending = (
            select(credentials.c.id)
            .join(batches, batches.c.id == credentials.c.batch_id)
            .where(credentials.c.key_id == issuer_keys.c.id, batches.c.status != "anchored")
            .exists()
        )
        with self.engine.connect() as connection:
            keys = (
                connection.execute(
                    select(issuer_keys, issuers.c.chain_id)
                    .join(issuers, issuers.c.id == issuer_keys.c.issuer_id)
                    .where(issuer_keys.c.state == "retiring", ~pending)
                )
                .mappings()
                .all()
            )
        for key in keys:
            public_key = bytes(key["public_key"])
            registration = self.view.key(bytes(key["chain_id"]), public_key)
            retired = registration.retired_block if registration is not None else 0
            if not retired:
                account = self._account(key["issuer_id"])
                receipt = self.ledger.transact(
                    account, "IssuerRegistry", "retireKey", public_key, 0
                )
                retired = int(receipt["blockNumber"])
            with self.engine.begin() as connection:
                connection.execute(
                    update(issuer_keys)
                    .where(issuer_keys.c.id == key["id"])
                    .values(state="retired", retired_block=retired)
                )
        return len(keys)

    def _issuer_of(self, batch_id: str) -> str:
        with self.engine.connect() as connection:
            return connection.execute(
                select(batches.c.issuer_id).where(batches.c.id == batch_id)
            ).scalar_one()

    def _account(self, issuer_id: str) -> LocalAccount:
        if issuer_id not in self._accounts:
            self._accounts[issuer_id] = issuer_account(self.engine, self.master_key, issuer_id)
        return self._accounts[issuer_id]


@dataclass
class WorkerHandle:
    """A worker running in a thread of this process."""

    thread: threading.Thread
    stop_event: threading.Event

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the worker to stop and wait for it."""
        self.stop_event.set()
        self.thread.join(timeout)


def start_worker(
    engine: Engine, ledger: Ledger, *, settings: Settings, policy: BatchPolicy | None = None
) -> WorkerHandle:
    """Start the anchoring worker in a daemon thread."""
    worker = AnchoringWorker(engine, ledger, settings=settings, policy=policy)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), name="anchoring", daemon=True)
    thread.start()
    return WorkerHandle(thread=thread, stop_event=stop)
