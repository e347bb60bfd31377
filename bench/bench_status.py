"""Benchmark status lists: publishing one issuer's lists for 1,000,000 credentials, and
verification throughput with the status-list comparison on and off (same run, one core).

Publication: allocate 1M places (claims of `--claim` credentials, as issuance chunks do, on a
SQLite database, then the keyed permutation), then for each of the 8 lists of 131,072 entries
and each purpose build the bitstring (`--revoked` of the credentials revoked, at random), encode
it (GZIP, base64url) and sign it (eddsa-rdfc-2022). Sizes are the JSON bytes served per list.
Verification: anchored credentials with entries, verified by the whole pipeline against an
in-memory ledger, with no status-list source (the chain alone, as before) and with one serving
the signed lists; a context per `--per-context` credentials (1 = a context per request).
Usage: python bench/bench_status.py [--credentials N] [--verify N]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import time
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from eth_utils import keccak
from sqlalchemy import insert

from credentials.dids import did_web, verification_method_id
from credentials.keys import SigningKey
from credentials.model import Achievement, IssuerProfile, LearnerRef, Result, achievement_credential
from credentials.proofs import sign
from credentials.status import LIST_SIZE, PURPOSES, bitstring_of, list_credential
from infra.database import open_engine
from infra.metadata import metadata
from issuers.batch import Batch
from issuers.status import allocate, entries, list_url
from issuers.tables import issuers, status_lists
from ledger.records import AnchorRecord, IssuerRecord, KeyRecord, Revocation
from verify import Context, Status, verify_many
from verify.cache import VerifiedSignatures, VerifiedStatusLists

KEY = SigningKey.from_seed(hashlib.sha256(b"bench status issuer").digest())
ISSUER_ID = "bench-university"
ISSUER_DID = did_web("creditbank.example", "issuers", ISSUER_ID)
METHOD = verification_method_id(ISSUER_DID, KEY.public_key)
PUBLIC_URL = "https://creditbank.example"
MASTER_KEY = hashlib.sha256(b"bench master key").digest()
ROUNDS = 3
CHAIN_ID, CONTRACT, TX = 1337, "0x" + "11" * 20, "0x" + "22" * 32


class Ledger:
    """The chain facts verification reads, in memory: one issuer, its key, anchored roots."""

    def __init__(self) -> None:
        self.issuer = IssuerRecord(keccak(ISSUER_DID.encode()), ISSUER_DID, 2**16 - 1,
                                   2**65 - 1, 0, 0, False)
        self.roots: set[bytes] = set()

    def chain_id(self) -> int:
        """The chain id."""
        return CHAIN_ID

    def anchor_contract(self) -> str:
        """The anchor contract."""
        return CONTRACT

    def anchor(self, root: bytes) -> AnchorRecord | None:
        """Every known root is anchored by the issuer at block 10."""
        return AnchorRecord(root, self.issuer.issuer_id, "0x" + "33" * 20, 10, 1_750_000_000) \
            if root in self.roots else None

    def anchored_in(self, transaction_hash: str) -> set[bytes]:
        """The roots of the one transaction."""
        return self.roots

    def root_revocation(self, root: bytes) -> Revocation | None:
        """No batch is revoked."""
        return None

    def leaf_revocation(self, root: bytes, leaf: bytes) -> Revocation | None:
        """No credential is revoked."""
        return None

    def issuer_by_did(self, did: str) -> IssuerRecord | None:
        """The one issuer."""
        return self.issuer if did == ISSUER_DID else None

    def key(self, issuer_id: bytes, public_key: bytes) -> KeyRecord | None:
        """The issuer's one key, registered at block 1."""
        return KeyRecord(public_key, 1, 0) if public_key == KEY.public_key else None


class Lists:
    """A status-list source over signed lists in memory."""

    def __init__(self, documents: dict[str, dict]) -> None:
        self.documents = documents

    def status_list(self, url: str) -> dict[str, Any] | None:
        """The list at `url`."""
        return self.documents.get(url)


def publish(count: int, claim: int, revoked_share: float) -> tuple[dict, list]:
    """Allocate `count` places and publish every list; prints the timings and sizes."""
    with TemporaryDirectory() as folder:
        engine = open_engine(f"sqlite:///{Path(folder) / 'bench.sqlite'}")
        metadata.create_all(engine, tables=[issuers, status_lists])
        with engine.begin() as connection:
            connection.execute(insert(issuers).values(
                id=ISSUER_ID, did=ISSUER_DID, chain_id=keccak(ISSUER_DID.encode()),
                name="Bench", kinds="course", levels="", valid_from=0, valid_until=0,
                suspended=False, created_at=0.0))
        started = time.perf_counter()
        placements = []
        for first in range(0, count, claim):
            with engine.begin() as connection:
                placements += allocate(connection, MASTER_KEY, ISSUER_ID,
                                       min(claim, count - first))
        allocated = time.perf_counter() - started
        engine.dispose()
    revoked: dict[int, list[int]] = {}
    for placement in random.Random(7).sample(placements, int(count * revoked_share)):
        revoked.setdefault(placement.list, []).append(placement.index)
    numbers = sorted({placement.list for placement in placements})
    documents, sizes = {}, []
    build = encode = signing = 0.0
    for number in numbers:
        for purpose in PURPOSES:
            url = list_url(PUBLIC_URL, ISSUER_ID, number, purpose)
            mark = time.perf_counter()
            bitstring = bitstring_of(revoked.get(number, []) if purpose == "revocation" else [])
            built = time.perf_counter()
            unsigned = list_credential(list_url=url, issuer=ISSUER_DID, purpose=purpose,
                                       bitstring=bitstring, valid_from="2026-12-05T00:00:00Z")
            encoded = time.perf_counter()
            signed = sign(unsigned, KEY, verification_method=METHOD,
                          created="2026-12-05T00:00:00Z")
            done = time.perf_counter()
            build, encode, signing = build + built - mark, encode + encoded - built, \
                signing + done - encoded
            documents[url] = signed
            sizes.append((purpose, len(json.dumps(signed, separators=(",", ":")).encode())))
    total = allocated + build + encode + signing
    print(f"\n### Publication: {count:,} credentials, {len(numbers)} lists of {LIST_SIZE:,} "
          f"× {len(PURPOSES)} purposes, {revoked_share:.1%} revoked\n")
    print("| step | seconds |")
    print("| --- | ---: |")
    print(f"| allocate (claims of {claim:,} on SQLite + permutation) | {allocated:.2f} |")
    print(f"| build bitstrings | {build:.3f} |")
    print(f"| encode (GZIP + base64url) | {encode:.3f} |")
    print(f"| sign (eddsa-rdfc-2022) | {signing:.3f} |")
    print(f"| **total** | **{total:.2f}** |")
    revocation = [size for purpose, size in sizes if purpose == "revocation"]
    suspension = [size for purpose, size in sizes if purpose == "suspension"]
    print(f"\nBytes on the wire: a revocation list {min(revocation):,}–{max(revocation):,}, "
          f"a suspension list {min(suspension):,}–{max(suspension):,}; all {len(sizes)} lists "
          f"{sum(size for _, size in sizes):,} bytes.")
    return documents, placements


def credentials_to_verify(count: int, placements: list | None,
                          ledger: Ledger) -> list[dict]:
    """`count` anchored credentials, with entries unless `placements` is None (as issued
    before status lists), in batches of 1,000 anchored on `ledger`."""
    profile = IssuerProfile(did=ISSUER_DID, name="Bench University")
    anchored: list[dict] = []
    for first in range(0, count, 1000):
        signed = [
            sign(achievement_credential(
                credential_id=f"urn:uuid:00000000-0000-4000-8000-{number:012d}",
                issuer=profile, learner=LearnerRef(did=f"did:example:learner-{number}"),
                achievement=Achievement(unit_code="CS101", title="Data Structures",
                                        description="Lists, trees and graphs.", kind="course",
                                        credit_value=3.5, credit_scheme="CN-NCB"),
                result=Result(grade="A"), credits_earned=3.5, valid_from="2025-07-01T00:00:00Z",
                status=() if placements is None else entries(PUBLIC_URL, ISSUER_ID,
                                                             placements[number]),
            ), KEY, verification_method=METHOD, created="2025-07-01T08:00:00Z")
            for number in range(first, min(first + 1000, count))
        ]
        batch = Batch.of(signed)
        ledger.roots.add(batch.root)
        anchored += batch.anchored(chain_id=CHAIN_ID, contract=CONTRACT, transaction_hash=TX)
    return anchored


def verification(credentials: list[dict], ledger: Ledger, source: Lists | None,
                 per_context: int, *, public: bool = False) -> float:
    """Credentials verified per second (one core), a context per `per_context` credentials
    sharing one process memo of verified signatures; `public`: as public verification runs,
    with no signature memo but the process's memo of verified status lists."""
    memo = None if public else VerifiedSignatures()
    lists = VerifiedStatusLists() if public else None
    started = time.perf_counter()
    for first in range(0, len(credentials), per_context):
        context = Context(ledger, status_lists=source, signatures=memo, verified_lists=lists)
        reports = verify_many(credentials[first:first + per_context], context)
        assert all(report.verdict is Status.VALID for report in reports)
    return len(credentials) / (time.perf_counter() - started)


def main() -> None:
    """Run both measurements and print markdown."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--credentials", type=int, default=1_000_000)
    parser.add_argument("--claim", type=int, default=1_000, help="credentials per claim")
    parser.add_argument("--revoked", type=float, default=0.01, help="share revoked")
    parser.add_argument("--verify", type=int, default=2_000, help="credentials verified")
    arguments = parser.parse_args()
    documents, placements = publish(arguments.credentials, arguments.claim, arguments.revoked)
    ledger = Ledger()
    credentials = credentials_to_verify(arguments.verify, placements, ledger)
    plain = credentials_to_verify(arguments.verify, None, ledger)
    print(f"\n### Verification: {arguments.verify:,} credentials, whole pipeline, one core "
          f"(signature memo per process, as the portal keeps; best of {ROUNDS} alternated)\n")
    print("| context per | before: no entries /s | entries, lists off /s | entries, lists on /s "
          "| on ÷ off | on ÷ before | public path: off /s | public path: on /s | on ÷ off |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    verification(credentials, ledger, Lists(documents), 100)  # warm up: contexts, caches
    for per_context in (100, 1):
        # each credential is new to the memo in each run: only the lists repeat
        rates: dict[str, list[float]] = {name: [] for name in
                                         ("before", "off", "on", "public off", "public on")}
        for _ in range(ROUNDS):  # alternated, best of each: the machine is shared
            rates["before"].append(verification(plain, ledger, None, per_context))
            rates["off"].append(verification(credentials, ledger, None, per_context))
            rates["on"].append(verification(credentials, ledger, Lists(documents), per_context))
            rates["public off"].append(
                verification(credentials, ledger, None, per_context, public=True))
            rates["public on"].append(
                verification(credentials, ledger, Lists(documents), per_context, public=True))
        before, off, on, public_off, public_on = (max(rates[name]) for name in rates)
        print(f"| {per_context} credential(s) | {before:,.0f} | {off:,.0f} | {on:,.0f} "
              f"| {on / off:.2f} | {on / before:.2f} | {public_off:,.0f} | {public_on:,.0f} "
              f"| {public_on / public_off:.2f} |")


if __name__ == "__main__":
    main()
