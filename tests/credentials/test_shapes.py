"""The per-shape conversion cache gives exactly the full converter's quads, errors and proofs.

Hypothesis builds credentials of many shapes (optional members present or not, arrays of
different lengths, status entries, a CLR embedding a signed credential), then gives the same
shape two sets of leaf values, tricky ones included (unicode, quotes, backslashes, newlines,
lone surrogates, empty strings, IRI-like and keyword-like strings, blank node labels, numbers at
the edges of xsd:integer and xsd:double, booleans, null). The first document records the
shape's template and the second is filled from it; both must give the full path's quads (the
same list, blank node labels and order included), the same canonical N-Quads, the same error
(type and message) when the full path refuses, and the same eddsa-rdfc-2022 proof. The W3C
toRdf suite runs through the cache as well, each input and a variant of its values.
"""

from __future__ import annotations

import copy
import json
import multiprocessing
import threading
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from credentials import jsonld, shapes
from credentials.canon import rdfc
from credentials.contexts import context_document
from credentials.dids import did_key, verification_method_id
from credentials.keys import SigningKey
from credentials.model import (
    Achievement,
    Alignment,
    LearnerRef,
    Level,
    Result,
    achievement_credential,
    clr_credential,
    hashed_identifier,
)
from credentials.proofs import sign
from credentials.rdfc import canonicalize
from credentials.status import StatusEntry
from tests.credentials.test_jsonld_conformance import BASE, CASES, SUITE, skip_reason, suite_loader
from tests.support.samples import ISSUER, ISSUER_DID, ISSUER_KEY, signed_credential

Path = tuple[str | int, ...]
METHOD = verification_method_id(ISSUER_DID, ISSUER_KEY.public_key)
TRICKY_TEXT = (
    "", " ", '"', "\\", "\n", "\r\n\t", 'say "hi"\\n', "\u0000\u001f\u007f", "\ud800", "学分银行",
    "é\u0301", "🎓", "urn:uuid:00000000-0000-4000-8000-000000000001", "did:example:123",
    "https://example.org/a b", "https://example.org/path#frag", "http://x/../y", "_:b0", "_:c14n0",
    "xsd:string", "schema:name", "rdf:type", "@id", "@type", "@foo", "rel/ative", "#frag", "?q",
    "Profile", "VerifiableCredential", "AchievementSubject", "Course", "name", "id",
    "2025-07-01T00:00:00Z", "3.5", "true", "null",
)
TRICKY_NUMBERS = (
    0, -1, 1, 48, 2**53 - 1, 2**53 + 1, 10**21, -(10**21), 10**400, 0.0, -0.0, 0.5, 3.5, -3.5,
    1e21, 1e-7, 1.7976931348623157e308, 5e-324, float("nan"), float("inf"),
)


def full_loader(url: str) -> dict[str, Any]:
    """The bundled contexts through a loader other than the default: the uncached path."""
    return context_document(url)


def outcome(convert: Callable[[Any], Any], document: Any) -> tuple[str, Any]:
    """What a conversion gives: its result, or its error's type and message."""
    try:
        return "converted", convert(document)
    except Exception as error:
        return "refused", (type(error), str(error))


def full_quads(document: Any) -> list[tuple[str, str, str, str]]:
    return jsonld.to_quads(document, context_document, compacted=True)


def credential_shapes() -> st.SearchStrategy[dict[str, Any]]:
    """Credentials built by the model, each optional member present or not."""
    text = st.text(min_size=1, max_size=12).filter(lambda value: value.strip() == value)
    level = st.builds(Level, framework=st.just("CQF"), level=st.integers(1, 8),
                      eqf_level=st.none() | st.integers(1, 8))
    alignment = st.builds(Alignment, target_name=text, target_url=st.just("https://example.org/a"),
                          target_framework=st.none() | text, target_code=st.none() | text)
    achievement = st.builds(
        Achievement, unit_code=st.sampled_from(["CS101", "MA-2", "X"]), title=text,
        description=text, kind=st.sampled_from(["course", "certificate", "mooc"]),
        credit_value=st.sampled_from([0.5, 1, 3.5, 12]), credit_scheme=st.just("CN-NCB"),
        level=st.none() | level, hours=st.none() | st.sampled_from([0, 16, 48.5]),
        field_of_study=st.none() | text,
        learning_outcomes=st.lists(text, max_size=3).map(tuple),
        alignments=st.lists(alignment, max_size=2).map(tuple),
    )
    learner = st.builds(
        LearnerRef, did=st.just(did_key(SigningKey.from_seed(bytes(32)).public_key)),
        identifiers=st.lists(st.just(hashed_identifier("110101199003074514", "pepper-0123456789")),
                             max_size=2).map(tuple))
    status = st.lists(st.builds(StatusEntry, purpose=st.sampled_from(["revocation", "suspension"]),
                                list_url=st.just("https://creditbank.example/status/1"),
                                index=st.integers(0, 131071)),
                      max_size=2, unique_by=lambda entry: entry.purpose)
    return st.builds(
        lambda number, achievement, learner, grade, optional, status: achievement_credential(
            credential_id=f"urn:uuid:00000000-0000-4000-8000-{number:012d}", issuer=ISSUER,
            learner=learner, achievement=achievement, result=Result(grade=grade),
            credits_earned=achievement.credit_value, valid_from="2025-07-01T00:00:00Z",
            valid_until="2035-07-01T00:00:00Z" if optional else None,
            activity_start="2025-02-20" if optional else None,
            session="2025 spring" if optional else None, status=status),
        st.integers(0, 10**6), achievement, learner, st.sampled_from(["A", "B+", "合格"]),
        st.booleans(), status)


def documents() -> st.SearchStrategy[dict[str, Any]]:
    """A model credential, or a CLR embedding a signed credential (contexts inside contexts)."""
    clr = st.builds(lambda number: clr_credential(
        credential_id=f"urn:uuid:10000000-0000-4000-8000-{number:012d}", issuer=ISSUER,
        learner=LearnerRef(did=did_key(SigningKey.from_seed(bytes(32)).public_key)),
        credentials=[signed_credential(number=number)], valid_from="2025-07-01T00:00:00Z"),
        st.integers(0, 3))
    return credential_shapes() | clr


def leaf_paths(value: Any, path: Path = ()) -> list[Path]:
    """Every path to a string, number, boolean or null in `value`."""
    if isinstance(value, dict):
        return [found for name, item in value.items() for found in leaf_paths(item, (*path, name))]
    if isinstance(value, list):
        return [found for index, item in enumerate(value)
                for found in leaf_paths(item, (*path, index))]
    return [path]


def put(document: Any, path: Path, value: Any) -> None:
    for step in path[:-1]:
        document = document[step]
    document[path[-1]] = value


def get(document: Any, path: Path) -> Any:
    for step in path:
        document = document[step]
    return document


def same_kind(draw: st.DrawFn, original: Any) -> Any:
    """A tricky value of the original's kind (mostly), so the shape usually stays."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.sampled_from([*TRICKY_TEXT, *TRICKY_NUMBERS, True, False, None]))
    if isinstance(original, str):
        return draw(st.sampled_from(TRICKY_TEXT) | st.text(max_size=8)
                    | st.builds(lambda head, tail: head + tail,
                                st.sampled_from(["urn:x:", "did:web:", "https://e.org/", ""]),
                                st.text(max_size=6)))
    if isinstance(original, bool):
        return draw(st.booleans())
    if isinstance(original, int | float):
        return draw(st.sampled_from(TRICKY_NUMBERS) | st.integers() | st.floats())
    return original


@st.composite
def pairs(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two documents of one shape (usually): a base credential given two sets of leaf values."""
    base = draw(documents())
    paths = leaf_paths(base)
    if draw(st.booleans()):  # gently: values the credential keeps valid, in its holes only
        paths = [path for path in paths if "@context" not in path and path[-1] != "type"
                 and not (len(path) > 1 and path[-2] == "type")]
    variants = []
    for _ in range(2):
        document = copy.deepcopy(base)
        for path in draw(st.lists(st.sampled_from(paths), max_size=6, unique=True)):
            put(document, path, same_kind(draw, get(base, path)))
        variants.append(document)
    return variants[0], variants[1]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pairs())
def test_a_template_gives_the_full_paths_quads_and_errors(pair: tuple[dict, dict]) -> None:
    cache = shapes.ShapeCache()
    for document in (*pair, *pair):
        cached = outcome(lambda value: shapes.to_quads(value, context_document, compacted=True,
                                                       cache=cache), document)
        assert cached == outcome(full_quads, document)
    first, second = pair
    if shapes.shape_of(first)[0] == shapes.shape_of(second)[0] and cache.misses == 1:
        assert cache.hits == 3
    event(f"{cache.misses} templates recorded, {cache.hits} documents filled from one")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pairs())
def test_canonical_n_quads_and_proofs_are_the_full_paths(pair: tuple[dict, dict]) -> None:
    for document in pair:
        expected = outcome(lambda value: canonicalize(full_quads(value)), document)
        assert outcome(rdfc, document) == expected
        if expected[0] == "converted":
            assert sign_cached(document) == sign_full(document)


def sign_cached(document: dict[str, Any]) -> dict[str, Any]:
    return sign(document, ISSUER_KEY, verification_method=METHOD, created="2025-07-01T08:00:00Z")


def sign_full(document: dict[str, Any]) -> dict[str, Any]:
    return sign(document, ISSUER_KEY, verification_method=METHOD, created="2025-07-01T08:00:00Z",
                loader=full_loader)


def test_credentials_of_one_shape_are_served_by_one_template() -> None:
    cache = shapes.ShapeCache()
    base = signed_credential(number=7)
    base.pop("proof")
    for number in range(20):
        document = copy.deepcopy(base)
        document["id"] = f"urn:uuid:00000000-0000-4000-8000-{number:012d}"
        document["credentialSubject"]["creditsEarned"] = number / 2
        document["name"] = f'Unit "{number}"\n'
        quads = shapes.to_quads(document, context_document, compacted=True, cache=cache)
        assert quads == full_quads(document)
    assert (cache.misses, cache.hits, len(cache)) == (1, 19, 1)


def test_a_fixed_value_that_differs_records_another_template() -> None:
    cache = shapes.ShapeCache(variants=2)
    document = signed_credential()
    document.pop("proof")
    for kind in ("Profile", "Achievement", "Profile", "Organization"):
        document["issuer"]["type"] = [kind]
        assert outcome(lambda value: shapes.to_quads(value, context_document, compacted=True,
                                                     cache=cache), document) \
            == outcome(full_quads, document)
    assert (cache.misses, cache.hits, len(cache)) == (3, 1, 1)
    assert len(next(iter(cache.templates.values()))) == 2


def test_the_cache_is_bounded_least_recently_used_first() -> None:
    cache = shapes.ShapeCache(max_shapes=3, variants=2)
    documents = []
    for size in range(5):
        document = signed_credential()
        document.pop("proof")
        document["credentialSubject"]["achievement"]["learningOutcome"] = ["outcome"] * (size + 1)
        documents.append(document)
        shapes.to_quads(document, context_document, compacted=True, cache=cache)
    assert len(cache) == 3
    shapes.to_quads(documents[2], context_document, compacted=True, cache=cache)
    shapes.to_quads(documents[0], context_document, compacted=True, cache=cache)
    assert (cache.misses, cache.hits, len(cache)) == (6, 1, 3)
    for kind in ("Profile", "Achievement", "Image", "Profile"):
        documents[0]["issuer"]["type"] = [kind]
        shapes.to_quads(documents[0], context_document, compacted=True, cache=cache)
    key = next(reversed(cache.templates))
    assert len(cache.templates[key]) == 2
    cache.clear()
    assert len(cache) == 0


def test_threads_sharing_a_small_cache_get_the_full_paths_quads() -> None:
    cache = shapes.ShapeCache(max_shapes=2, variants=1)
    bases = [signed_credential(number=number) for number in range(4)]
    for number, base in enumerate(bases):
        base.pop("proof")
        base["credentialSubject"]["achievement"]["learningOutcome"] = ["o"] * (number + 1)
    failures: list[str] = []

    def work(worker: int) -> None:
        for round_ in range(40):
            document = copy.deepcopy(bases[(worker + round_) % len(bases)])
            document["id"] = f"urn:uuid:00000000-0000-4000-8000-{worker * 1000 + round_:012d}"
            document["name"] = f"unit {worker} {round_} ✓"
            if shapes.to_quads(document, context_document, compacted=True, cache=cache) \
                    != full_quads(document):
                failures.append(f"worker {worker} round {round_}")

    threads = [threading.Thread(target=work, args=(worker,)) for worker in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(cache) <= 2
    assert cache.hits + cache.misses == 240


def _sign_numbered(number: int) -> dict[str, Any]:
    document = signed_credential(number=number)
    document.pop("proof")
    return sign_cached(document)


def test_forked_workers_sign_what_the_parent_signs() -> None:
    for number in range(3):
        _sign_numbered(number)
    with multiprocessing.get_context("fork").Pool(2) as pool:
        signed = pool.map(_sign_numbered, range(8))
    expected = []
    for number in range(8):
        document = signed_credential(number=number)
        document.pop("proof")
        expected.append(sign_full(document))
    assert signed == expected


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_tordf_suite_converts_through_the_cache_as_in_full(name: str) -> None:
    entry = CASES[name]
    if skip_reason(entry) is not None:
        pytest.skip(skip_reason(entry))
    document = json.loads((SUITE / entry["input"]).read_text(encoding="utf-8"))
    base = entry.get("option", {}).get("base", BASE + entry["input"])
    variant = _revalued(copy.deepcopy(document))
    for compacted in (False, True):
        cache = shapes.ShapeCache()

        def full(value: Any, compacted: bool = compacted) -> Any:
            return jsonld.to_quads(value, suite_loader, base=base, compacted=compacted)

        def cached(value: Any, cache: shapes.ShapeCache = cache,
                   compacted: bool = compacted) -> Any:
            return shapes.to_quads(value, suite_loader, base=base, compacted=compacted,
                                   cache=cache)

        def cached_canonical(value: Any, cache: shapes.ShapeCache = cache,
                             compacted: bool = compacted) -> Any:
            return shapes.canonical(value, suite_loader, base=base, compacted=compacted,
                                    cache=cache)

        for value in (document, variant, document, variant):
            assert outcome(cached, value) == outcome(full, value)
            assert outcome(cached_canonical, value) \
                == outcome(lambda value: canonicalize(full(value)), value)


def _revalued(value: Any) -> Any:
    """The same JSON with other leaf values of the same kinds, in @id and literal places alike."""
    if isinstance(value, dict):
        return {name: item if name in ("@context", "@type") else _revalued(item)
                for name, item in value.items()}
    if isinstance(value, list):
        return [_revalued(item) for item in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str):
        return value + "x" if value[-1:] != "/" else value + "y/"
    if isinstance(value, int | float):
        return value * 3 + 1
    return value


def no_contexts(url: str) -> dict[str, Any]:
    """A loader with no remote contexts (the documents embed theirs)."""
    raise AssertionError(f"no remote context expected, got {url}")


def test_blank_node_identifiers_stay_fixed_and_never_fill_a_hole() -> None:
    context = {"@vocab": "http://example.org/", "knows": {"@type": "@id"},
               "kind": {"@type": "@vocab"}}
    documents = [
        {"@context": context, "@id": subject, "knows": known, "kind": kind, "name": name}
        for subject, known, kind, name in (
            ("_:a", "_:b", "Person", "Ann"), ("_:c", "_:c", "Person", "Bo"),
            ("_:a", "_:b", "Person", "Cy"), ("http://e.org/1", "_:b", "_:k", "Di"),
            ("http://e.org/2", "http://e.org/3", "Robot", "Ed"))
    ]
    cache = shapes.ShapeCache()
    for document in documents:
        assert shapes.to_quads(document, no_contexts, cache=cache) \
            == jsonld.to_quads(document, no_contexts)
    assert cache.hits > 0


def test_documents_that_are_not_json_take_the_full_path() -> None:
    cache = shapes.ShapeCache()
    for document in ({"@context": {"@vocab": "http://e.org/"}, "tags": ("a", "b")},
                     {"@context": {"@vocab": "http://e.org/"}, 1: "one"}, "text", [1]):
        assert outcome(lambda value: shapes.to_quads(value, no_contexts, cache=cache),
                       document) == outcome(lambda value: jsonld.to_quads(value, no_contexts),
                                            document)
    assert len(cache) == 0


def test_values_that_merge_quads_or_tie_blank_nodes_are_canonicalised_in_full() -> None:
    base = signed_credential()
    base.pop("proof")
    subject = base["credentialSubject"]
    identity = subject["identifier"][0]
    subject["identifier"] = [identity, {**identity, "identityHash": "sha256$other"}]
    subject["achievement"]["learningOutcome"] = ["one", "two"]
    merged = copy.deepcopy(base)
    merged["credentialSubject"]["achievement"]["learningOutcome"] = ["same", "same"]
    tied = copy.deepcopy(base)
    tied["credentialSubject"]["identifier"][1]["identityHash"] = identity["identityHash"]
    for document in (base, merged, tied, base):
        assert rdfc(document) == canonicalize(full_quads(document))
    template, _ = shapes._template(base, context_document, True, None, shapes.CACHE) or (None, 0)
    assert template is not None
    assert template.pattern.usable and template.pattern.risky


def test_documents_over_the_size_bound_are_converted_in_full(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shapes, "MAX_VALUES", 10)
    cache = shapes.ShapeCache()
    document = signed_credential()
    document.pop("proof")
    assert shapes.to_quads(document, context_document, compacted=True, cache=cache) \
        == full_quads(document)
    assert (len(cache), cache.misses) == (0, 0)
