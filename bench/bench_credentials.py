"""Benchmark credentials/: raw Ed25519, signing per cryptosuite, bulk verify, Merkle builds.

Prints a markdown table. Signing runs on one core (in this process, in slices interleaved with
as many raw Ed25519 signatures, ratio of CPU times: the same core under the same load) and in a
process pool over every core (`multiprocessing`, one worker per core), as does verifying; raw
Ed25519 and Merkle builds run on one core. The documents are frozen out of the garbage
collector's sight (`gc.freeze`) once built, so what a collection costs does not grow with --count.
Usage: python bench/bench_credentials.py [--count N]
"""

import argparse
import gc
import hashlib
import multiprocessing
import os
import time

from credentials.dids import did_key, did_web, verification_method_id
from credentials.keys import SigningKey, verify_signature
from credentials.merkle import MerkleTree
from credentials.model import (
    Achievement,
    IssuerProfile,
    LearnerRef,
    Level,
    Result,
    achievement_credential,
    hashed_identifier,
)
from credentials.proofs import sign, verify

KEY = SigningKey.from_seed(hashlib.sha256(b"bench issuer").digest())
ISSUER_DID = did_web("creditbank.example", "issuers", "bench")
METHOD = verification_method_id(ISSUER_DID, KEY.public_key)
ISSUER = IssuerProfile(did=ISSUER_DID, name="Bench University", name_zh="基准大学")


def credential(number: int, unit: int | None = None) -> dict:
    """A realistic unsigned AchievementCredential, distinct per number (one of 500 units, or
    the given one: a batch of one unit and session)."""
    learner_key = hashlib.sha256(number.to_bytes(8, "big")).digest()
    return achievement_credential(
        credential_id=f"urn:uuid:00000000-0000-4000-8000-{number:012d}",
        issuer=ISSUER,
        learner=LearnerRef(
            did=did_key(SigningKey.from_seed(learner_key).public_key),
            identifiers=(hashed_identifier(f"1101011990{number:08d}", "bench-pepper-0123456789"),),
        ),
        achievement=Achievement(
            unit_code=f"CS{(number if unit is None else unit) % 500:03d}", title="Data Structures",
            description="Lists, trees, graphs and their algorithms.", kind="course",
            credit_value=3.5, credit_scheme="CN-NCB", level=Level("CQF", 6, 6), hours=48,
            field_of_study="Computer Science", learning_outcomes=("Analyse algorithms",),
        ),
        result=Result(grade="A"),
        credits_earned=3.5,
        valid_from="2025-07-01T00:00:00Z",
    )


def _sign(job: tuple[str, list[dict]]) -> list[dict]:
    cryptosuite, documents = job
    return [sign(document, KEY, verification_method=METHOD, cryptosuite=cryptosuite,
                 created="2025-07-01T08:00:00Z") for document in documents]


def _verify(signed: list[dict]) -> int:
    return sum(verify(document, document["proof"], KEY.public_key) for document in signed)


def chunks(items: list, parts: int) -> list[list]:
    size = -(-len(items) // parts)
    return [items[index:index + size] for index in range(0, len(items), size)]


def rate(count: int, seconds: float) -> float:
    return count / seconds


def timed(function, *args) -> tuple[float, object]:
    start = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - start, result


def same_core(cryptosuite: str, documents: list[dict], message: bytes) -> tuple[float, float]:
    """CPU seconds signing `documents` and signing as many raw messages, interleaved in slices
    in this process so both see the same core and the same load."""
    signing = raw = 0.0
    for part in chunks(documents, max(1, len(documents) // 500)):
        start = time.process_time()
        signed = _sign((cryptosuite, part))
        signing += time.process_time() - start
        del signed
        start = time.process_time()
        for _ in part:
            KEY.sign(message)
        raw += time.process_time() - start
    return signing, raw


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=20_000, help="credentials per measurement")
    arguments = parser.parse_args()
    cores = os.cpu_count() or 1
    count = arguments.count
    rows = []

    message = hashlib.sha256(b"raw").digest() * 2
    seconds, signatures = timed(lambda: [KEY.sign(message) for _ in range(count)])
    raw_sign = rate(count, seconds)
    seconds, _ = timed(lambda: [verify_signature(KEY.public_key, s, message) for s in signatures])
    raw_verify = rate(count, seconds)
    rows.append(("raw Ed25519 sign (1 core)", raw_sign, 1.0))
    rows.append(("raw Ed25519 verify (1 core)", raw_verify, 1.0))

    documents = [credential(number) for number in range(count)]
    one_unit = [credential(number, unit=7) for number in range(count)]
    gc.freeze()
    for cryptosuite in ("eddsa-rdfc-2022", "eddsa-jcs-2022"):
        signing, raw = same_core(cryptosuite, documents, message)
        rows.append((f"credentials signed/s, {cryptosuite} (1 core, CPU time)",
                     rate(count, signing), raw / signing))
    signing, raw = same_core("eddsa-rdfc-2022", one_unit, message)
    rows.append(("credentials signed/s, eddsa-rdfc-2022, one unit's batch (1 core, CPU time)",
                 rate(count, signing), raw / signing))
    del one_unit
    with multiprocessing.get_context("fork").Pool(cores) as pool:
        pool.map(_verify, [[] for _ in range(cores)])
        signed_by_suite = {}
        for cryptosuite in ("eddsa-rdfc-2022", "eddsa-jcs-2022"):
            jobs = [(cryptosuite, part) for part in chunks(documents, cores)]
            seconds, parts = timed(pool.map, _sign, jobs)
            signed_by_suite[cryptosuite] = [doc for part in parts for doc in part]
            signed_rate = rate(count, seconds)
            rows.append((f"credentials signed/s, {cryptosuite} ({cores} cores)", signed_rate,
                         signed_rate / raw_sign))
        for cryptosuite, signed in signed_by_suite.items():
            seconds, valid = timed(pool.map, _verify, chunks(signed, cores))
            assert sum(valid) == count
            verified_rate = rate(count, seconds)
            rows.append((f"bulk verified/s, {cryptosuite} ({cores} cores)", verified_rate,
                         verified_rate / raw_verify))

    for leaves in (100_000, 1_000_000):
        digests = [hashlib.sha256(index.to_bytes(8, "big")).digest() for index in range(leaves)]
        seconds, _ = timed(MerkleTree, digests)
        rows.append((f"Merkle build {leaves:,} leaves (1 core): leaves/s", rate(leaves, seconds),
                     rate(leaves, seconds) / raw_sign))
        print(f"<!-- Merkle {leaves:,} leaves built in {seconds:.2f} s -->")

    print(f"\n{count:,} credentials per measurement; ratio = rate / raw Ed25519 rate "
          "(sign rows vs raw sign, verify rows vs raw verify, Merkle vs raw sign)\n")
    print("| measurement | per second | ratio to raw |")
    print("| --- | ---: | ---: |")
    for name, value, ratio in rows:
        print(f"| {name} | {value:,.0f} | {ratio:.3f} |")


if __name__ == "__main__":
    main()
