"""The node's storage: what reads off the sealing lock may see."""

from __future__ import annotations

from ledger.db import CHAIN_FILE, Storage


def test_the_committed_store_sees_writes_once_committed_and_refuses_its_own(tmp_path) -> None:
    storage = Storage(tmp_path / CHAIN_FILE)
    storage.kv[b"block"] = b"sealed"
    buffered = b"block" in storage.committed
    storage.commit()
    committed = storage.committed[b"block"]
    refusals = []
    for write in (
        lambda: storage.committed.__setitem__(b"block", b"forged"),
        lambda: storage.committed.__delitem__(b"block"),
        storage.committed.atomic_batch,
    ):
        try:
            write()
        except PermissionError as error:
            refusals.append(str(error))
    storage.close()
    fresh = Storage(tmp_path / CHAIN_FILE)
    from_disk = fresh.committed[b"block"]
    fresh.close()
    assert (buffered, committed, from_disk, refusals) == (
        False,
        b"sealed",
        b"sealed",
        ["the committed store is read-only"] * 3,
    )
