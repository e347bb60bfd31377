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
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from multiprocessing.pool import AsyncResult, Pool
from pathlib import Path

from eth_account.signers.local import LocalAccount
from sqlalchemy import Connection, Engine, RowMapping, bindparam, column, select, update, values
from sqlalchemy.exc import IntegrityError

from credentials.merkle import MerkleTree
from infra.coordination import AccountBusy, Leadership, account_sender, leader
from infra.sealing import ring_of
from infra.settings import Settings
from issuers.aggregates import count_anchored
from issuers.chain_changes import (
    KEY_RETIRED,
    LEAF_REVOKED,
    ROOT_REVOKED,
    ChainChange,
    changed,
)
from issuers.errors import AnchoringFailed
from issuers.issuance import BatchPolicy
from issuers.registry import issuer_account
from issuers.signing import Anchored, Sealing, Stored, anchor_sealed, anchor_stored
from issuers.status import PUBLISH_PERIOD, StatusLists
from issuers.tables import (
    batches,
    credentials,
    issuer_keys,
    issuers,
    revocations,
    stored_credentials,
)
from ledger.client import Ledger
from ledger.errors import LedgerError, LedgerUnavailable, TransactionReverted
from ledger.views import ChainView

logger = logging.getLogger(__name__)

RESEND_AFTER = 30.0
ANCHOR_GAS = 150_000
IDLE_SLEEP = 0.1
CLAIM_LIMIT = 50
"""Closed batches one worker claims in a pass (the others take the rest)."""
SENDER_WAIT = 5.0
"""Seconds a worker waits for an account another worker is sending for, before moving on."""
QUIET_WAIT = 10.0
"""Seconds the account's sender waits for the account's pending transactions to be mined."""
FINISH_CHUNK = 250
"""Credentials of a batch a signing process anchors in one task (see `pool`)."""
PUBLISHER = "status-list-publisher"

Step = Callable[[str], None]


def no_step(name: str) -> None:
    """The default step hook: does nothing."""


class AnchoringWorker:
    """Moves batches from closed to anchored, and revocations and key retirements onto the chain.

    Any number of workers, on any hosts, may run against one database: a batch is claimed by
    one of them (row locks skipped by the others), every transaction of an issuer's account is
    sent by the one worker holding that account (`infra.coordination.account_sender`), which
    first waits until none of the account's transactions is pending and checks the chain, and
    the status lists are published by the elected leader only.

    `pool` (signing processes, `issuers.signing.signing_pool`) takes the opening, splicing and
    sealing of a finished batch's credentials off this process; `deliver_to` is a folder each
    credential of a batch this worker finishes is also written to (`delivered` names those
    batches).

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
        pool: Pool | None = None,
        deliver_to: Path | None = None,
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
        self._publisher: Leadership | None = None
        self._sent_through: dict[str, int] = {}
        self.pool = pool
        self.deliver_to = deliver_to
        self.delivered: set[str] = set()
        self._finishing: deque[tuple[str, str, int, AsyncResult[list[list[tuple[str, str]]]]]] = (
            deque())

    def run_once(self, *, close_all: bool = False) -> int:
        """One pass over every step (`close_all`: close open batches now); returns what moved."""
        moved = self.close_batches(everything=close_all)
        moved += self.send_closed()
        moved += self.settle_sent()
        moved += self.revoke_pending()
        moved += self.retire_keys()
        moved += self.publish_status_lists()
        self.finish_pending()
        return moved

    def run(self, stop: threading.Event) -> None:
        """Work until `stop` is set (publishing status lists while elected to); ledger outages
        are waited out."""
        self._publisher = Leadership(self.engine, PUBLISHER)
        try:
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
        finally:
            self._publisher.release()
            self._publisher = None

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
        """Claim closed batches and send their anchoring transactions, an account at a time."""
        claimed: dict[str, list[str]] = {}
        for batch_id, issuer_id in self._claim_closed():
            claimed.setdefault(issuer_id, []).append(batch_id)
        for issuer_id, batch_ids in claimed.items():
            self._send_batches(issuer_id, batch_ids)
        return sum(map(len, claimed.values()))

    def _claim_closed(self) -> list[tuple[str, str]]:
        """Move up to `CLAIM_LIMIT` closed batches to anchoring, each with its root, in one
        transaction whose row locks other workers skip: no batch is claimed twice."""
        query = (
            select(batches.c.id, batches.c.issuer_id)
            .where(batches.c.status == "closed")
            .order_by(batches.c.closed_at)
            .limit(CLAIM_LIMIT)
            .with_for_update(skip_locked=True)
        )
        claimed = []
        with self.engine.begin() as connection:
            for batch_id, issuer_id in connection.execute(query).all():
                root = self._tree(batch_id, connection).root
                moved = connection.execute(
                    update(batches)
                    .where(batches.c.id == batch_id, batches.c.status == "closed")
                    .values(status="anchoring", root=root, sent_at=time.time())
                ).rowcount
                if moved:
                    claimed.append((batch_id, issuer_id))
        return claimed

    def settle_sent(self) -> int:
        """Finish each batch whose root is anchored; resend, as the account's sender, those
        whose transaction may be lost."""
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
        lost: dict[str, list[str]] = {}
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
                lost.setdefault(batch["issuer_id"], []).append(batch["id"])
        for issuer_id, batch_ids in lost.items():
            moved += self._send_batches(issuer_id, batch_ids)
        return moved

    def _send_batches(self, issuer_id: str, batch_ids: list[str]) -> int:
        """As the only sender of the issuer's account, send each batch's anchoring transaction
        unless the chain holds its root or its recorded transaction may still be mined;
        returns how many batches moved."""
        return self._as_sender(
            self._account(issuer_id).address,
            lambda quiet: sum(self._send(batch_id, quiet) for batch_id in batch_ids))

    def _as_sender(self, address: str, work: Callable[[bool], int]) -> int:
        """Run `work(quiet)` as the only sender of the account, with the nonce read from the
        node, once none of the account's transactions is pending (`quiet`) or every pending one
        was sent and recorded by this worker's last round; 0 if the account stays busy."""
        try:
            with account_sender(self.engine, address, wait=SENDER_WAIT):
                quiet = self._settled(address)
                if quiet is None:
                    return 0
                self._sent_through.pop(address, None)
                self.ledger.forget_nonce(address)
                moved = work(quiet)
                self._sent_through[address] = self.ledger.nonces(address)[1]
                return moved
        except AccountBusy:
            logger.info("account %s is busy with another worker; next pass", address)
            return 0

    def _settled(self, address: str) -> bool | None:
        """True once none of the account's transactions is pending (waiting up to
        `QUIET_WAIT` s: a sender killed after sending leaves at most those); False at once if
        the pending ones are exactly those this worker's last round sent and recorded; None if
        others are still pending."""
        deadline = time.monotonic() + QUIET_WAIT
        while True:
            latest, pending = self.ledger.nonces(address)
            if pending <= latest:
                return True
            if self._sent_through.get(address) == pending:
                return False
            if time.monotonic() > deadline:
                logger.warning("account %s still has %d pending transaction(s)", address,
                               pending - latest)
                return None
            time.sleep(IDLE_SLEEP)

    def _send(self, batch_id: str, quiet: bool) -> int:
        """Send one batch's anchoring transaction as its account's sender and record its hash
        before anything waits for it; a recorded transaction is sent again only if it is lost
        (the account `quiet` and no receipt). 1 if the batch moved."""
        with self.engine.connect() as connection:
            batch = connection.execute(
                select(batches).where(batches.c.id == batch_id)
            ).mappings().one()
        if batch["status"] != "anchoring":
            return 0
        root, issuer_id = bytes(batch["root"]), batch["issuer_id"]
        if self._recognise(batch_id, root, issuer_id):
            return 1
        recorded = batch["transaction_hash"]
        if recorded and (not quiet or self.ledger.receipt(recorded) is not None):
            return 0
        self.on_step("before-send")
        try:
            tx_hash = self.ledger.send(
                self._account(issuer_id), "CredentialAnchor", "anchor", root, gas=ANCHOR_GAS
            )
        except TransactionReverted as error:
            if not self._recognise(batch_id, root, issuer_id):
                self._fail(batch_id, error.message)
            return 1
        self.on_step("after-send")
        with self.engine.begin() as connection:
            connection.execute(
                update(batches)
                .where(batches.c.id == batch_id, batches.c.status == "anchoring")
                .values(transaction_hash=tx_hash, sent_at=time.time())
            )
        return 1

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
        """Store every credential of the batch with its anchor proof in place of its signed text
        (a document is held once), and mark the batch anchored. A credential already anchored by
        an earlier finish, or erased, keeps what it holds. The texts are opened, spliced and
        sealed as stored; with a pool, in its processes while this one records the batch before
        (`finish_pending` records the last)."""
        table = stored_credentials
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(table.c.id, table.c.signed, table.c.anchored, table.c.digest)
                .where(table.c.batch_id == batch_id)
                .order_by(table.c.position)
            ).all()
        tree = MerkleTree([bytes(row.digest) for row in rows])
        where = Anchored(self.ledger.chain_id, self.view.deployment.credential_anchor, tx_hash,
                         tree.root, self.deliver_to)
        stored: list[Stored] = [
            (row.id, row.signed, row.anchored, tuple(tree.proof(index)))
            for index, row in enumerate(rows)
            if row.signed is not None or self.deliver_to is not None
        ]
        del rows
        parts = [stored[start:start + FINISH_CHUNK]
                 for start in range(0, len(stored), FINISH_CHUNK)]
        if self.pool is None:
            ring = ring_of(self.engine)
            self._record(batch_id, tx_hash, block,
                         [item for part in parts for item in anchor_stored(ring, where, part)])
            return
        sealing = Sealing(self.master_key, ring_of(self.engine).generation)
        self._finishing.append((batch_id, tx_hash, block, self.pool.starmap_async(
            anchor_sealed, [(sealing, where, part) for part in parts])))
        while len(self._finishing) > 1:
            self._record_finished()

    def finish_pending(self) -> None:
        """Record every batch whose credentials the pool is still anchoring."""
        while self._finishing:
            self._record_finished()

    def _record_finished(self) -> None:
        batch_id, tx_hash, block, done = self._finishing.popleft()
        self._record(batch_id, tx_hash, block, [item for part in done.get() for item in part])

    def _record(self, batch_id: str, tx_hash: str, block: int,
                anchored: list[tuple[str, str]]) -> None:
        """Store the batch's anchored texts (sealed) in place of its signed ones, and mark it
        anchored."""
        table = stored_credentials
        with self.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                # One statement per thousand credentials (a join on a VALUES list), not one each.
                for start in range(0, len(anchored), 1_000):
                    incoming = values(
                        column("id", table.c.id.type),
                        column("anchored", table.c.anchored.type),
                        name="incoming",
                    ).data(anchored[start:start + 1_000])
                    connection.execute(
                        update(table)
                        .where(table.c.id == incoming.c.id, table.c.signed.is_not(None))
                        .values(anchored=incoming.c.anchored, signed=None)
                    )
            elif anchored:
                connection.execute(
                    update(table)
                    .where(table.c.id == bindparam("credential_id"), table.c.signed.is_not(None))
                    .values(anchored=bindparam("anchored_json"), signed=None),
                    [{"credential_id": credential_id, "anchored_json": text}
                     for credential_id, text in anchored],
                )
            anchored_at = time.time()
            issuer_id = connection.execute(
                update(batches)
                .where(batches.c.id == batch_id, batches.c.status != "anchored")
                .values(
                    status="anchored",
                    transaction_hash=tx_hash,
                    block=block,
                    anchored_at=anchored_at,
                    error=None,
                )
                .returning(batches.c.issuer_id)
            ).scalar_one_or_none()
            if issuer_id is not None:
                count_anchored(connection, issuer_id, anchored_at)
        if self.deliver_to is not None:
            self.delivered.add(batch_id)

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
        """Whether a batch's transaction may need sending again (its account's sender decides):
        claimed or sent before this worker started (the node may have dropped it), claimed
        `SENDER_WAIT` s ago with no transaction recorded (its worker may have died), or pending
        for too long."""
        sent_at = batch["sent_at"] or 0.0
        waited = time.time() - sent_at
        if batch["transaction_hash"] is None:
            return sent_at < self.started_at or waited > SENDER_WAIT
        return sent_at < self.started_at or waited > self.resend_after

    def _tree(self, batch_id: str, connection: Connection | None = None) -> MerkleTree:
        """The Merkle tree of a batch's credential digests, in position order."""
        query = (
            select(credentials.c.digest)
            .where(credentials.c.batch_id == batch_id)
            .order_by(credentials.c.position)
        )
        if connection is not None:
            return MerkleTree([bytes(digest) for digest in connection.execute(query).scalars()])
        with self.engine.connect() as opened:
            return MerkleTree([bytes(digest) for digest in opened.execute(query).scalars()])

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
        """Carry out one revocation as the only sender of the issuer's account."""
        self._as_sender(self._account(row["issuer_id"]).address,
                        lambda _quiet: self._revoke_as_sender(row))

    def _revoke_as_sender(self, row: RowMapping) -> int:
        """Revoke on chain unless the chain shows it done (or another worker recorded it),
        waiting for the receipt; 1 if the revocation moved."""
        with self.engine.connect() as connection:
            status = connection.execute(
                select(revocations.c.status).where(revocations.c.id == row["id"])
            ).scalar_one()
        if status not in ("pending", "sent"):
            return 0
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
                    return 1
        with self.engine.begin() as connection:
            connection.execute(update(revocations).where(revocations.c.id == row["id"]).values(
                status="done", block=block, done_at=time.time()))
            chain_id = connection.execute(select(issuers.c.chain_id).where(
                issuers.c.id == row["issuer_id"])).scalar_one()
            changed(connection, ChainChange(
                LEAF_REVOKED if digest else ROOT_REVOKED, bytes(chain_id), block, root=root,
                digest=digest, reason=row["reason"]))
        return 1

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
        if self._publisher is not None:
            return self._publish() if self._publisher.held() else 0
        with leader(self.engine, PUBLISHER) as leading:
            return self._publish() if leading else 0

    def _publish(self) -> int:
        """Publish the status lists as the elected publisher."""
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
        moved = 0
        for key in keys:
            account = self._account(key["issuer_id"])
            moved += self._as_sender(account.address, partial(self._retire_key, key, account))
        return moved

    def _retire_key(self, key: RowMapping, account: LocalAccount, _quiet: bool) -> int:
        """Retire one key on chain as its account's sender, unless the chain shows it retired."""
        public_key = bytes(key["public_key"])
        registration = self.view.key(bytes(key["chain_id"]), public_key)
        retired = registration.retired_block if registration is not None else 0
        if not retired:
            receipt = self.ledger.transact(account, "IssuerRegistry", "retireKey", public_key, 0)
            retired = int(receipt["blockNumber"])
        with self.engine.begin() as connection:
            connection.execute(
                update(issuer_keys)
                .where(issuer_keys.c.id == key["id"])
                .values(state="retired", retired_block=retired)
            )
            changed(connection, ChainChange(KEY_RETIRED, bytes(key["chain_id"]), retired,
                                            public_key=public_key, retired_block=retired))
        return 1

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
