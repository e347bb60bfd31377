"""The W3C JSON-LD 1.1 toRdf suite through the converter: every case matches or is refused.

Each entry of the vendored manifest (tests/vectors/w3c/json-ld-api/) runs through
`credentials.jsonld.to_quads`, with the entry's base IRI and a loader serving the suite's own
files for its remote contexts. A positive evaluation test must produce the expected dataset
(compared as RDFC-1.0 canonical N-Quads, so blank node labels do not matter) or be refused with
a CanonicalizationError (a feature outside the subset, or data a JSON-LD processor would drop);
a negative test must be refused. Output that differs from the expected dataset fails the test.

Skipped by manifest option, because the converter implements none of them: JSON-LD 1.0
processing (`specVersion` or `processingMode` json-ld-1.0; the two `produceGeneralizedRdf`
entries are also 1.0 ones), `rdfDirection`, `expandContext`; and `#ter56`, whose input the
manifest places outside toRdf/.
"""

from __future__ import annotations

import json
from collections import Counter
from functools import cache
from typing import Any

import pytest

from credentials.errors import CanonicalizationError, CredentialError, UnknownContext
from credentials.jsonld import Ambiguous, NotCompacted, to_quads
from credentials.rdfc import canonicalize
from tests.support.nquads import parse
from tests.support.paths import VECTORS

SUITE = VECTORS / "w3c" / "json-ld-api"
BASE = "https://w3c.github.io/json-ld-api/tests/"
MANIFEST = json.loads((SUITE / "toRdf-manifest.jsonld").read_text(encoding="utf-8"))
CASES = {entry["@id"].removeprefix("#"): entry for entry in MANIFEST["sequence"]}
UNSUPPORTED_OPTIONS = {
    "specVersion": "json-ld-1.0",
    "processingMode": "json-ld-1.0",
    "produceGeneralizedRdf": True,
    "rdfDirection": None,
    "expandContext": None,
}
EXPECTED_COUNTS = {
    "matched": 155,
    "parsed": 16,
    "refused": 179,
    "rejected": 92,
    "skipped": 25,
}


def suite_loader(url: str) -> dict[str, Any]:
    """The suite's own file for a URL under its base; any other context is unknown."""
    path = SUITE / url.removeprefix(BASE)
    if not url.startswith(BASE) or not path.is_file():
        raise UnknownContext(f"the suite has no document at {url!r}")
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def skip_reason(entry: dict[str, Any]) -> str | None:
    """Why the converter does not run an entry, if it does not."""
    for name, value in entry.get("option", {}).items():
        if name in UNSUPPORTED_OPTIONS and UNSUPPORTED_OPTIONS[name] in (None, value):
            return f"option {name}={value}"
    if not (SUITE / entry["input"]).is_file():
        return f"input {entry['input']} is not in toRdf/"
    return None


@cache
def outcome(name: str) -> str:
    """What the converter does with one entry: matched, parsed, refused, rejected or skipped.

    Fails (AssertionError) when its output differs from the expected dataset, when a negative
    test is not refused, or when compacted form changes the output instead of refusing it.
    """
    entry = CASES[name]
    if skip_reason(entry) is not None:
        return "skipped"
    document = json.loads((SUITE / entry["input"]).read_text(encoding="utf-8"))
    base = entry.get("option", {}).get("base", BASE + entry["input"])
    negative = "jld:NegativeEvaluationTest" in entry["@type"]
    try:
        quads = to_quads(document, suite_loader, base=base)
    except CredentialError as error:
        assert isinstance(error, CanonicalizationError | UnknownContext), error
        return "rejected" if negative else "refused"
    assert not negative, f"{name} must fail with {entry['expectErrorCode']!r}; it converted"
    produced = canonicalize(quads)
    try:
        strict = canonicalize(to_quads(document, suite_loader, base=base, compacted=True))
    except (NotCompacted, Ambiguous):
        strict = produced
    assert strict == produced, f"{name}: compacted form changed the output"
    if "jld:PositiveSyntaxTest" in entry["@type"]:
        return "parsed"
    expected = canonicalize(parse((SUITE / entry["expect"]).read_text(encoding="utf-8")))
    assert produced == expected, f"{name} ({entry['name']}) differs from the expected output"
    return "matched"


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_case_matches_or_is_refused(name: str) -> None:
    assert outcome(name) in EXPECTED_COUNTS


def test_suite_counts(capsys: pytest.CaptureFixture[str]) -> None:
    counts = Counter(outcome(name) for name in CASES)
    with capsys.disabled():
        print(f"\nJSON-LD 1.1 toRdf, {len(CASES)} entries: {dict(sorted(counts.items()))}")
    assert dict(counts) == EXPECTED_COUNTS


def test_skips_are_by_manifest_option_only() -> None:
    reasons = Counter(skip_reason(entry) for entry in CASES.values())
    del reasons[None]
    assert reasons == {
        "option specVersion=json-ld-1.0": 11,
        "option processingMode=json-ld-1.0": 8,
        "option rdfDirection=i18n-datatype": 2,
        "option rdfDirection=compound-literal": 2,
        "option expandContext=toRdf/e077-context.jsonld": 1,
        "input expand/er56-in.jsonld is not in toRdf/": 1,
    }
