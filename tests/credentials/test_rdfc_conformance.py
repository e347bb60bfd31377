"""The W3C RDFC-1.0 test suite (vendored in tests/vectors/w3c/rdf-canon), every entry."""

import json
import time
from collections import Counter

import pytest

from credentials.errors import CanonicalizationError
from credentials.rdfc import canonical_labels, canonicalize
from tests.support.nquads import NQuadsError, parse
from tests.support.paths import VECTORS

SUITE = VECTORS / "w3c" / "rdf-canon"
MANIFEST = json.loads((SUITE / "manifest.jsonld").read_text())
ENTRIES = MANIFEST["entries"]
EVAL = [entry for entry in ENTRIES if entry["type"] == "rdfc:RDFC10EvalTest"]
MAP = [entry for entry in ENTRIES if entry["type"] == "rdfc:RDFC10MapTest"]
NEGATIVE = [entry for entry in ENTRIES if entry["type"] == "rdfc:RDFC10NegativeEvalTest"]


def ids(entries: list[dict]) -> list[str]:
    """The manifest's test ids, for pytest."""
    return [entry["id"].lstrip("#") for entry in entries]


def dataset(entry: dict) -> list:
    """The quads of the entry's input N-Quads."""
    return parse((SUITE / entry["action"]).read_text(encoding="utf-8"))


def hash_algorithm(entry: dict) -> str:
    """The hash the entry asks for (SHA-256 unless it says otherwise)."""
    return entry.get("hashAlgorithm", "SHA256")


def test_the_suite_is_complete() -> None:
    assert len(ENTRIES) == 86
    assert Counter(entry["type"] for entry in ENTRIES) == {
        "rdfc:RDFC10EvalTest": 64, "rdfc:RDFC10MapTest": 21, "rdfc:RDFC10NegativeEvalTest": 1}
    assert [entry["id"] for entry in ENTRIES if "hashAlgorithm" in entry] == [
        "#test075c", "#test075m"]


@pytest.mark.parametrize("entry", EVAL, ids=ids(EVAL))
def test_eval(entry: dict) -> None:
    expected = (SUITE / entry["result"]).read_text(encoding="utf-8")
    assert canonicalize(dataset(entry), hash_algorithm=hash_algorithm(entry)) == expected


@pytest.mark.parametrize("entry", MAP, ids=ids(MAP))
def test_issued_identifiers_map(entry: dict) -> None:
    expected = json.loads((SUITE / entry["result"]).read_text(encoding="utf-8"))
    labels = canonical_labels(dataset(entry), hash_algorithm=hash_algorithm(entry))
    assert {blank[2:]: label[2:] for blank, label in labels.items()} == expected


@pytest.mark.parametrize("entry", NEGATIVE, ids=ids(NEGATIVE))
def test_poison_graphs_abort_after_bounded_work(entry: dict) -> None:
    quads = dataset(entry)
    started = time.perf_counter()
    with pytest.raises(CanonicalizationError, match="exceeded its work limit"):
        canonicalize(quads)
    assert time.perf_counter() - started < 5


@pytest.mark.parametrize(("quads", "limit"), [
    ([(f"_:n{i}", "<urn:ex:p>", f"_:n{(i + 1) % 3000}", "") for i in range(3000)], "depth"),
    ([(f"_:a{i}", "<urn:ex:p>", f"_:b{j}", "") for i in range(30) for j in range(30)], "work"),
], ids=["ring of 3000", "complete bipartite 30x30"])
def test_hostile_graphs_outside_the_suite_abort_cleanly(quads: list, limit: str) -> None:
    started = time.perf_counter()
    with pytest.raises(CanonicalizationError, match=f"exceeded its {limit} limit"):
        canonicalize(quads)
    assert time.perf_counter() - started < 5


def test_the_hash_changes_the_output_and_unknown_hashes_are_refused() -> None:
    quads = dataset(next(entry for entry in EVAL if entry["id"] == "#test020c"))
    sha384 = (SUITE / "rdfc10" / "test075-rdfc10.nq").read_text(encoding="utf-8")
    assert canonicalize(quads, hash_algorithm="SHA384") == sha384
    assert canonicalize(quads) != sha384
    with pytest.raises(CanonicalizationError, match="SHA256, SHA384"):
        canonicalize(quads, hash_algorithm="MD5")


@pytest.mark.parametrize("line", [
    "<urn:ex:s> <urn:ex:p> <urn:ex:o>",
    '"literal" <urn:ex:p> <urn:ex:o> .',
    "<urn:ex:s> _:p <urn:ex:o> .",
    "<urn:ex:s> <urn:ex:p> <urn:ex:o> <urn:ex:g> <urn:ex:h> .",
    "<urn:ex:s> <urn:ex:p> <urn ex o> .",
    '<urn:ex:s> <urn:ex:p> "bad \\q escape" .',
])
def test_the_test_parser_is_strict(line: str) -> None:
    with pytest.raises(NQuadsError, match="line 2"):
        parse("# comment\n" + line + "\n")
