"""Rewrites of a signed credential's JSON that kept an eddsa-rdfc-2022 signature valid before
issue 14, each with what the library raises and the code the verifier's proof check reports."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from credentials.jsonld import (
    Ambiguous,
    InvalidIri,
    JsonLdError,
    NotCompacted,
    Undefined,
    Unsupported,
)
from verify.codes import Code

ATTACKER = "did:key:z6MkattackerattackerattackerattackerattackerA"


@dataclass(frozen=True)
class Attack:
    """A rewrite, the converter's refusal (None: it converts, and the signature fails) and the
    verifier's code."""

    rewrite: Callable[[dict[str, Any]], None]
    refusal: type[JsonLdError] | None
    code: Code


def learner_swapped(document: dict[str, Any]) -> None:
    """`id` names the attacker; the `@id` that follows names the learner who was signed."""
    subject = document["credentialSubject"]
    subject["@id"] = subject["id"]
    subject["id"] = ATTACKER


def nested_hidden(document: dict[str, Any]) -> None:
    """An `@nest` member, which pyld used to ignore along with what it holds."""
    document["credentialSubject"]["@nest"] = {"creditsEarned": 30}


def unknown_keyword(document: dict[str, Any]) -> None:
    """A keyword-like member a JSON-LD processor ignores."""
    document["credentialSubject"]["@grade"] = "A+"


def undefined_term(document: dict[str, Any]) -> None:
    """A member no context defines."""
    document["credentialSubject"]["honours"] = "first class"


def json_null(document: dict[str, Any]) -> None:
    """A JSON-null `@json` value object, which used to be dropped."""
    document["credentialSubject"]["achievement"]["description"] = {"@value": None,
                                                                   "type": "@json"}


def renamed_to_iri(document: dict[str, Any]) -> None:
    """`name` written as the IRI it stands for: same RDF, but a JSON reader finds no name."""
    document["https://schema.org/name"] = document.pop("name")


def wrapped_value(document: dict[str, Any]) -> None:
    """A value wrapped in a value object: same RDF, another JSON value."""
    document["credentialSubject"]["term"] = {"@value": document["credentialSubject"]["term"]}


def nulled(document: dict[str, Any]) -> None:
    """A member added with a null value."""
    document["credentialSubject"]["achievement"]["image"] = None


def relative_identifier(document: dict[str, Any]) -> None:
    """An identifier without a scheme: a JSON-LD processor drops it, or resolves it elsewhere."""
    document["credentialSubject"]["achievement"]["id"] = "unit-CS101"


def invalid_value(document: dict[str, Any]) -> None:
    """A value object the specification calls an error (a datatype and a language)."""
    document["credentialSubject"]["term"] = {
        "@value": "2025 spring", "@language": "en",
        "type": "http://www.w3.org/2001/XMLSchema#string",
    }


def result_split(document: dict[str, Any]) -> None:
    """The result split into two JSON objects joined by one blank node: the same RDF, but a JSON
    reader of the first object finds no value."""
    [result] = document["credentialSubject"]["result"]
    value = result.pop("value")
    result["id"] = "_:r"
    document["credentialSubject"]["result"] = [result, {"id": "_:r", "type": ["Result"],
                                                        "value": value}]


ATTACKS = {
    "learner swapped with @id": Attack(learner_swapped, Ambiguous, Code.JSONLD_AMBIGUOUS),
    "data hidden in @nest": Attack(nested_hidden, Unsupported, Code.JSONLD_UNSUPPORTED),
    "unknown keyword": Attack(unknown_keyword, Undefined, Code.JSONLD_UNDEFINED),
    "undefined term": Attack(undefined_term, Undefined, Code.JSONLD_UNDEFINED),
    "@json null": Attack(json_null, None, Code.SIGNATURE_INVALID),
    "member renamed to its IRI": Attack(renamed_to_iri, NotCompacted, Code.JSONLD_NOT_COMPACTED),
    "value object": Attack(wrapped_value, NotCompacted, Code.JSONLD_NOT_COMPACTED),
    "null member": Attack(nulled, NotCompacted, Code.JSONLD_NOT_COMPACTED),
    "relative identifier": Attack(relative_identifier, InvalidIri, Code.JSONLD_INVALID_IRI),
    "invalid value object": Attack(invalid_value, JsonLdError, Code.JSONLD_INVALID),
    "object split by a blank node": Attack(result_split, NotCompacted, Code.JSONLD_NOT_COMPACTED),
}
