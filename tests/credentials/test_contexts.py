"""Bundled contexts: the loader serves only them, and our context never clashes with theirs."""

import json

import pytest

from credentials.contexts import CREDITBANK_V1, FILES, RAW, context_document
from credentials.errors import UnknownContext


def test_loader_serves_every_bundled_context() -> None:
    for url in FILES:
        assert context_document(url) == json.loads(RAW[url])


def test_loader_refuses_anything_else() -> None:
    with pytest.raises(UnknownContext, match="not bundled"):
        context_document("https://www.w3.org/2018/credentials/v99")


def all_terms(context: dict, into: dict) -> dict:
    """Every term definition, including type- and property-scoped ones."""
    for term, definition in context.items():
        if term.startswith("@"):
            continue
        into.setdefault(term, []).append(definition)
        if isinstance(definition, dict) and isinstance(definition.get("@context"), dict):
            all_terms(definition["@context"], into)
    return into


def test_our_terms_do_not_redefine_published_ones() -> None:
    ours = context_document(CREDITBANK_V1)["@context"]
    assert ours["@protected"] is True
    published: dict = {}
    for url in FILES:
        if url != CREDITBANK_V1:
            all_terms(context_document(url)["@context"], published)
    clashes = {term for term in ours if term in published and term not in ("id", "type")}
    assert clashes == set()
