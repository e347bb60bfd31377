"""The JSON-LD converter refuses what it would otherwise read wrongly, and a signature over its
quads means exactly the JSON: the attacks of issue 14, sent as an attacker would, to the library."""

from __future__ import annotations

import copy
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from credentials import contexts
from credentials.canon import rdfc
from credentials.contexts import context_document
from credentials.jsonld import (
    RDF_JSON,
    Ambiguous,
    InvalidIri,
    JsonLdError,
    NotCompacted,
    Undefined,
    Unsupported,
    escape_literal,
    escape_literals,
    literal,
    resolve,
    to_quads,
)
from credentials.proofs import verify
from credentials.rdfc import canonicalize
from tests.support.jsonld_attacks import ATTACKS
from tests.support.paths import ROOT
from tests.support.pyld_reference import pyld_rdfc
from tests.support.samples import ISSUER_KEY, signed_credential, unsigned_credential

VC = contexts.VC_V2
EX = "https://example.org/"
RDFC = "eddsa-rdfc-2022"


def quads(document: Any, **options: Any) -> list[tuple[str, str, str, str]]:
    """The converter's quads with the bundled contexts."""
    return to_quads(document, context_document, **options)


def node(**members: Any) -> dict[str, Any]:
    """A node object under an inline context with two example terms."""
    return {"@context": {"name": EX + "name", "knows": {"@id": EX + "knows", "@type": "@id"},
                         "id": "@id", "type": "@type"},
            **members}


# --- RFC 3986 reference resolution (§5.4) -------------------------------------------------

RFC3986_BASE = "http://a/b/c/d;p?q"
RFC3986_EXAMPLES = {
    "g:h": "g:h", "g": "http://a/b/c/g", "./g": "http://a/b/c/g", "g/": "http://a/b/c/g/",
    "/g": "http://a/g", "//g": "http://g", "?y": "http://a/b/c/d;p?y", "g?y": "http://a/b/c/g?y",
    "#s": "http://a/b/c/d;p?q#s", "g#s": "http://a/b/c/g#s", "g?y#s": "http://a/b/c/g?y#s",
    ";x": "http://a/b/c/;x", "g;x": "http://a/b/c/g;x", "g;x?y#s": "http://a/b/c/g;x?y#s",
    "": "http://a/b/c/d;p?q", ".": "http://a/b/c/", "./": "http://a/b/c/", "..": "http://a/b/",
    "../": "http://a/b/", "../g": "http://a/b/g", "../..": "http://a/", "../../": "http://a/",
    "../../g": "http://a/g", "../../../g": "http://a/g", "../../../../g": "http://a/g",
    "/./g": "http://a/g", "/../g": "http://a/g", "g.": "http://a/b/c/g.",
    ".g": "http://a/b/c/.g", "g..": "http://a/b/c/g..", "..g": "http://a/b/c/..g",
    "./../g": "http://a/b/g", "./g/.": "http://a/b/c/g/", "g/./h": "http://a/b/c/g/h",
    "g/../h": "http://a/b/c/h", "g;x=1/./y": "http://a/b/c/g;x=1/y",
    "g;x=1/../y": "http://a/b/c/y", "g?y/./x": "http://a/b/c/g?y/./x",
    "g?y/../x": "http://a/b/c/g?y/../x", "g#s/./x": "http://a/b/c/g#s/./x",
    "g#s/../x": "http://a/b/c/g#s/../x", "http:g": "http:g",
}


def test_relative_references_resolve_as_rfc_3986_says() -> None:
    resolved = {reference: resolve(reference, RFC3986_BASE) for reference in RFC3986_EXAMPLES}
    assert resolved == RFC3986_EXAMPLES


# --- what a JSON-LD processor would drop or read another way is refused -------------------

def test_colliding_keywords_are_refused() -> None:
    document = node(id=EX + "learner", **{"@id": EX + "someone-else"}, name="x")
    with pytest.raises(Ambiguous, match="@id"):
        quads(document)
    aliases = {"@context": {"id": "@id", "ident": "@id"}, "id": EX + "a", "ident": EX + "b"}
    with pytest.raises(Ambiguous, match="@id"):
        quads(aliases)


def test_a_type_and_its_alias_merge_but_are_ambiguous_in_compacted_form() -> None:
    document = node(id=EX + "a", type="Thing", **{"@type": EX + "Other"})
    document["@context"]["Thing"] = EX + "Thing"
    assert sorted(quads(document)) == [
        (f"<{EX}a>", "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>", f"<{EX}{kind}>", "")
        for kind in ("Other", "Thing")
    ]
    with pytest.raises(Ambiguous, match="@type"):
        quads(document, compacted=True)


@pytest.mark.parametrize(("member", "error", "message"), [
    ("@foo", Undefined, "not a JSON-LD keyword"),
    ("@nest", Unsupported, "@nest"),
    ("@reverse", Unsupported, "@reverse"),
    ("@included", Unsupported, "@included"),
    ("@index", Unsupported, "@index"),
    ("nickname", Undefined, "not defined by the @context"),
])
def test_members_a_processor_would_drop_are_refused(member: str, error: type, message: str
                                                     ) -> None:
    with pytest.raises(error, match=message):
        quads(node(id=EX + "a", name="x", **{member: {}}))


def test_explicitly_undefined_terms_are_refused() -> None:
    document = node(id=EX + "a", name="x")
    document["@context"] = [document["@context"], {"name": None}]
    with pytest.raises(Undefined, match="explicitly undefined"):
        quads(document)


@pytest.mark.parametrize("identifier", [
    "relative/path", "http://example.org/a b", "http://example.org/a#b#c", "http://example.org/<>",
])
def test_identifiers_that_are_not_absolute_iris_are_refused(identifier: str) -> None:
    with pytest.raises(InvalidIri):
        quads(node(id=identifier, name="x"))
    with pytest.raises(InvalidIri):
        quads(node(id=EX + "a", knows=identifier))


def test_a_base_resolves_relative_identifiers() -> None:
    document = node(id="../people/a", knows="b#me")
    assert quads(document, base="https://example.org/dir/page") == [
        ("<https://example.org/people/a>", f"<{EX}knows>", "<https://example.org/dir/b#me>", ""),
    ]


def test_a_json_null_under_json_is_a_literal_not_dropped() -> None:
    typed = {"@context": {"data": {"@id": EX + "data", "@type": "@json"}}, "data": None}
    value_object = {"@context": {"data": EX + "data"},
                    "data": {"@value": None, "@type": "@json"}}
    expected = ("_:b1", f"<{EX}data>", literal("null", RDF_JSON), "")
    assert quads(typed) == [expected]
    assert quads(value_object) == [expected]


VP_CREDENTIAL = {"@context": [VC], "type": ["VerifiableCredential"], "issuer": "did:example:1",
                 "credentialSubject": {"id": "did:example:2", "name": "Ada"}}


def presentation(credential: dict[str, Any]) -> dict[str, Any]:
    """A verifiable presentation carrying `credential` (VC 2.0 gives it a null context)."""
    return {"@context": [VC], "type": ["VerifiablePresentation"],
            "verifiableCredential": [credential]}


def test_a_scoped_null_context_clears_the_outer_terms() -> None:
    bare = {name: value for name, value in VP_CREDENTIAL.items() if name != "@context"}
    with pytest.raises(Undefined, match="not defined"):
        quads(presentation(bare))
    document = presentation(VP_CREDENTIAL)
    assert canonicalize(quads(document)) == pyld_rdfc(document)


def test_a_null_context_cannot_clear_protected_terms() -> None:
    with pytest.raises(JsonLdError, match="protected"):
        quads({"@context": [VC, None], "name": "x"})


def test_an_unused_invalid_scoped_context_is_refused() -> None:
    document = {"@context": {"t1": {"@id": EX + "t1", "@context": {"t2": {"@context": {}}}}},
                "@id": EX + "a"}
    with pytest.raises(InvalidIri, match="scoped context of 't1'"):
        quads(document)


def test_a_context_that_includes_itself_is_refused() -> None:
    def loader(url: str) -> dict[str, Any]:
        return {"@context": [url, {"name": EX + "name"}]}

    with pytest.raises(JsonLdError, match="includes itself"):
        to_quads({"@context": EX + "context", "name": "x"}, loader)


def test_deep_nesting_is_refused_not_a_crash() -> None:
    document: dict[str, Any] = {"name": "x"}
    for _ in range(sys.getrecursionlimit()):
        document = {"knows": document}
    document["@context"] = {"name": EX + "name", "knows": EX + "knows"}
    with pytest.raises(JsonLdError, match="nested too deeply"):
        quads(document)


def test_a_lone_surrogate_is_refused() -> None:
    with pytest.raises(JsonLdError, match="surrogate"):
        quads(node(id=EX + "a", name="\ud800"))


# --- compacted form ----------------------------------------------------------------------

@pytest.mark.parametrize(("members", "message"), [
    ({"@id": EX + "a"}, "write its term"),
    ({f"{EX}name": "x"}, "not IRIs"),
    ({"name": {"@value": "x"}}, "plain value says the same"),
    ({"name": {"@value": "x", "type": "http://www.w3.org/2001/XMLSchema#string"}}, "plain value"),
    ({"name": None}, "null value"),
    ({"knows": "ex:b"}, "abbreviates an IRI"),
    ({"type": EX + "Thing"}, "write the term 'Thing'"),
])
def test_compacted_form_refuses_another_spelling_of_the_same_data(members: dict[str, Any],
                                                                  message: str) -> None:
    document = node(**members)
    document["@context"].update({"ex": EX, "Thing": EX + "Thing"})
    quads(document)
    with pytest.raises(NotCompacted, match=message):
        quads(document, compacted=True)


def test_compacted_form_keeps_value_objects_that_say_more() -> None:
    document = node(id=EX + "a", name=[{"@value": "示范大学", "@language": "zh"},
                                        {"@value": "5", "type": EX + "grade"}])
    assert quads(document, compacted=True) == quads(document)
    assert len(quads(document)) == 2


@pytest.mark.parametrize("credential", [signed_credential(RDFC), unsigned_credential()])
def test_our_credentials_are_in_compacted_form(credential: dict[str, Any]) -> None:
    unsecured = {name: value for name, value in credential.items() if name != "proof"}
    assert quads(unsecured, compacted=True) == quads(unsecured)


# --- the attacks, against the library's verify ---------------------------------------------

@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_a_signature_means_exactly_the_json(attack: str) -> None:
    document = copy.deepcopy(signed_credential(RDFC))
    ATTACKS[attack].rewrite(document)
    refusal = ATTACKS[attack].refusal
    if refusal is None:
        assert verify(document, document["proof"], ISSUER_KEY.public_key) is False
    else:
        with pytest.raises(refusal):
            verify(document, document["proof"], ISSUER_KEY.public_key)


def test_unsupported_features_are_refused_when_signing_too() -> None:
    document = unsigned_credential()
    document["credentialSubject"]["@included"] = []
    with pytest.raises(Unsupported):
        rdfc(document)


def production_sources() -> list[Path]:
    """The Python files of every room."""
    rooms = ("contracts", "credentials", "infra", "ledger", "rules", "verify", "issuers", "bank",
             "portal")
    return [path for room in rooms for path in (ROOT / room).rglob("*.py")]


def test_no_production_code_uses_pyld() -> None:
    users = [path.relative_to(ROOT).as_posix() for path in production_sources()
             if "pyld" in path.read_text(encoding="utf-8")]
    assert users == []


def test_pyld_is_a_test_dependency_only() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    users = {extra: [name for name in names if name.startswith("pyld")]
             for extra, names in [("", project["dependencies"]),
                                  *project["optional-dependencies"].items()]}
    assert {extra: names for extra, names in users.items() if names} == {"test": ["pyld>=2.0.4"]}


@given(st.lists(st.text(max_size=6) | st.sampled_from(["", '"', "\\", "\n", "\x7f", "\ud800",
                                                        "a\u2028b", "é"]), max_size=8))
def test_escape_literals_escapes_each_value_as_escape_literal_does(values: list[str]) -> None:
    try:
        expected: object = [escape_literal(value) for value in values]
    except JsonLdError as error:
        expected = type(error)
    try:
        assert escape_literals(values) == expected
    except JsonLdError as error:
        assert type(error) is expected

