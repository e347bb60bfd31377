"""Structural fuzz: a signed credential whose JSON is changed in shape never verifies.

Hypothesis takes valid signed credentials (eddsa-rdfc-2022 and eddsa-jcs-2022 achievement
credentials, and an eddsa-rdfc-2022 CLR that embeds credentials with their own contexts) and
changes one object the way an attacker rewrites JSON-LD while keeping its RDF: a member renamed
to its full IRI, an alias written as its keyword or doubled by it (`id` + `@id`, `type` +
`@type`), `@` members added (`@id`, `@type`, an unknown `@foo`, features outside the subset),
a value wrapped in a value object or a JSON literal, a member set to null, a context added.
Every change of the JSON's data must fail the offline checks: `credentials.proofs.verify`
returns False or refuses the document, and the verifier's parse, format and proof checks (run
with no chain) end INVALID with a reason code, never INDETERMINATE. A change that only adds a
context leaves the data as it was: it may verify, but only if its quads are still the ones signed.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from credentials.contexts import FILES, context_document
from credentials.dids import verification_method_id
from credentials.errors import CredentialError
from credentials.model import clr_credential
from credentials.proofs import sign, verify
from tests.support.samples import (
    ISSUER,
    ISSUER_DID,
    ISSUER_KEY,
    learner,
    signed_credential,
)
from tests.support.verify import MemoryLedger
from verify import Context, Status, verify_credential

Path = tuple[str | int, ...]
OFFLINE_CHECKS = ("parse", "format", "proof")
XSD = "http://www.w3.org/2001/XMLSchema#"
FUZZ = settings(max_examples=400, deadline=None, derandomize=True,
                suppress_health_check=list(HealthCheck))


def signed_clr() -> dict[str, Any]:
    """A CLR bundling two signed credentials, itself signed with eddsa-rdfc-2022."""
    parts = [signed_credential(number=1), signed_credential("eddsa-jcs-2022", number=2)]
    clr = clr_credential(credential_id="urn:uuid:cafe0000-0000-4000-8000-000000000001",
                         issuer=ISSUER, learner=learner(), credentials=parts,
                         valid_from="2025-08-01T00:00:00Z")
    return sign(clr, ISSUER_KEY,
                verification_method=verification_method_id(ISSUER_DID, ISSUER_KEY.public_key))


CREDENTIALS = {
    "rdfc": signed_credential("eddsa-rdfc-2022"),
    "jcs": signed_credential("eddsa-jcs-2022"),
    "clr": signed_clr(),
}


def term_iris() -> dict[str, list[str]]:
    """Every term of the bundled contexts (scoped ones too) with the absolute IRIs it names."""
    found: dict[str, set[str]] = {}

    def walk(context: dict[str, Any]) -> None:
        for term, definition in context.items():
            if term.startswith("@"):
                continue
            iri = definition.get("@id") if isinstance(definition, dict) else definition
            if isinstance(iri, str) and "://" in iri:
                found.setdefault(term, set()).add(iri)
            if isinstance(definition, dict) and isinstance(definition.get("@context"), dict):
                walk(definition["@context"])

    for url in FILES:
        walk(context_document(url)["@context"])
    return {term: sorted(iris) for term, iris in found.items()}


TERM_IRIS = term_iris()


def objects(value: Any, path: Path = ()) -> Iterator[Path]:
    """The path of every JSON object in `value`."""
    if isinstance(value, dict):
        yield path
        for name, item in value.items():
            if name != "@context":
                yield from objects(item, (*path, name))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from objects(item, (*path, index))


def at(document: Any, path: Path) -> Any:
    """The value at `path`."""
    for step in path:
        document = document[step]
    return document


Draw = Callable[..., Any]
Mutation = Callable[[dict[str, Any], Draw], bool]
"""Change an object in place; False when the change does not apply to it."""


def members(node: dict[str, Any]) -> list[str]:
    """The member names of an object other than its context."""
    return [name for name in node if name != "@context"]


def rename_to_iri(node: dict[str, Any], draw: Draw) -> bool:
    """A member renamed to (one of) the IRIs its term stands for."""
    names = [name for name in members(node) if name in TERM_IRIS]
    if not names:
        return False
    name = draw(st.sampled_from(names))
    node[draw(st.sampled_from(TERM_IRIS[name]))] = node.pop(name)
    return True


def alias_to_keyword(node: dict[str, Any], draw: Draw) -> bool:
    """`id` or `type` written as the keyword it aliases."""
    names = [name for name in ("id", "type") if name in node]
    if not names:
        return False
    name = draw(st.sampled_from(names))
    node["@" + name] = node.pop(name)
    return True


def double_alias(node: dict[str, Any], draw: Draw) -> bool:
    """`id` + `@id` or `type` + `@type`, with the same or another value."""
    names = [name for name in ("id", "type") if name in node]
    if not names:
        return False
    name = draw(st.sampled_from(names))
    other = "urn:uuid:00000000-0000-4000-8000-00000000dead" if name == "id" else "Profile"
    node["@" + name] = draw(st.sampled_from([node[name], other]))
    return True


def add_keyword(node: dict[str, Any], draw: Draw) -> bool:
    """An `@` member the object did not have."""
    keyword, value = draw(st.sampled_from([
        ("@id", "did:example:someone-else"), ("@id", "relative/id"), ("@type", "Profile"),
        ("@type", "https://example.org/Type"), ("@foo", "bar"), ("@index", "x"),
        ("@reverse", {}), ("@included", []), ("@nest", {}), ("@graph", []),
        ("@language", "en"), ("@direction", "ltr"), ("@value", "x"), ("@json", 1),
        ("@list", []), ("@set", []), ("@", "x"),
    ]))
    if keyword in node:
        return False
    node[keyword] = value
    return True


def wrap_value(node: dict[str, Any], draw: Draw) -> bool:
    """A string, number or boolean member wrapped in a value object."""
    names = [name for name in members(node) if isinstance(node[name], str | int | float)
             and not name.startswith("@")]
    if not names:
        return False
    name = draw(st.sampled_from(names))
    value = node[name]
    datatype = {bool: "boolean", int: "integer", float: "double", str: "string"}[type(value)]
    node[name] = draw(st.sampled_from([
        {"@value": value},
        {"@value": value, "type": XSD + datatype},
        {"@value": value, "@type": XSD + datatype},
        {"@value": value, "type": XSD + "dateTime"},
        {"@value": value, "@language": "en"},
        {"@value": value, "type": "@json"},
        {"id": value} if isinstance(value, str) else {"@value": value},
    ]))
    return True


def json_literal(node: dict[str, Any], draw: Draw) -> bool:
    """A member's value made a JSON literal (`@json`), null included."""
    names = members(node)
    if not names:
        return False
    name = draw(st.sampled_from(names))
    content = draw(st.sampled_from([node[name], None]))
    node[name] = {"@value": content, draw(st.sampled_from(["@type", "type"])): "@json"}
    return True


def null_member(node: dict[str, Any], draw: Draw) -> bool:
    """A member set to null, or a null member added."""
    name = draw(st.sampled_from([*members(node), "description", "name"]))
    node[name] = None
    return True


def add_context(node: dict[str, Any], draw: Draw) -> bool:
    """A context added to (or replacing) the object's own: the data stays as it was."""
    node["@context"] = draw(st.sampled_from([
        *FILES, None, list(FILES)[:2], {"name": "https://example.org/other#name"},
        {"@vocab": "https://example.org/vocab#"}, {"id": None}, {"type": "@id"},
        {"@protected": False, "name": "https://schema.org/name"},
    ]))
    return True


MUTATIONS: dict[str, Mutation] = {
    "rename_to_iri": rename_to_iri,
    "alias_to_keyword": alias_to_keyword,
    "double_alias": double_alias,
    "add_keyword": add_keyword,
    "wrap_value": wrap_value,
    "json_literal": json_literal,
    "null_member": null_member,
    "add_context": add_context,
}


def without_contexts(value: Any) -> Any:
    """`value` with every `@context` member left out: the data a JSON reader reads."""
    if isinstance(value, dict):
        return {name: without_contexts(item) for name, item in value.items()
                if name != "@context"}
    if isinstance(value, list):
        return [without_contexts(item) for item in value]
    return value


def library_verifies(document: dict[str, Any]) -> bool:
    """Whether `credentials.proofs.verify` accepts the document's (first) proof."""
    proof = document.get("proof")
    proof = proof[0] if isinstance(proof, list) and proof else proof
    try:
        return verify(document, proof, ISSUER_KEY.public_key)
    except CredentialError:
        return False


def offline_statuses(document: dict[str, Any]) -> dict[str, tuple[Status, str | None]]:
    """The parse, format and proof results of the verifier, with no chain to ask."""
    ledger = MemoryLedger()
    ledger.down = True
    report = verify_credential(document, Context(ledger))
    return {fragment.name: (fragment.status, fragment.code) for fragment in report.fragments
            if fragment.name in OFFLINE_CHECKS}


def test_the_unmutated_credentials_pass_the_offline_checks() -> None:
    for document in CREDENTIALS.values():
        assert library_verifies(document)
        assert offline_statuses(document) == {name: (Status.VALID, None)
                                              for name in OFFLINE_CHECKS}


@FUZZ
@given(st.data())
def test_every_structural_mutation_of_the_data_fails_the_offline_checks(
        data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(sorted(CREDENTIALS)), label="credential")
    document = copy.deepcopy(CREDENTIALS[name])
    path = data.draw(st.sampled_from(list(objects(document))), label="object")
    kind = data.draw(st.sampled_from(sorted(MUTATIONS)), label="mutation")
    assume(MUTATIONS[kind](at(document, path), data.draw))
    changed = without_contexts(document) != without_contexts(CREDENTIALS[name])
    statuses = offline_statuses(document)
    assert all(status in (Status.VALID, Status.INVALID, Status.SKIPPED)
               for status, _ in statuses.values()), statuses
    if changed:
        assert not library_verifies(document)
        assert any(status == Status.INVALID for status, _ in statuses.values()), statuses
        assert statuses["proof"][0] != Status.VALID, statuses
    elif library_verifies(document):
        assert without_contexts(document) == without_contexts(CREDENTIALS[name])
