"""pyld, the reference JSON-LD processor the tests cross-check the converter with (tests only)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyld import jsonld as pyld_jsonld

from credentials.contexts import context_document
from credentials.jsontypes import Loader


def pyld_loader(loader: Loader = context_document) -> Callable[..., dict[str, Any]]:
    """A pyld document loader serving what `loader` serves (the bundled contexts by default)."""

    def load(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"contextUrl": None, "documentUrl": url, "document": loader(url)}

    return load


def pyld_rdfc(document: Any, loader: Loader = context_document) -> str:
    """pyld's canonical N-Quads (URDNA2015, which is RDFC-1.0 for these inputs)."""
    return pyld_jsonld.normalize(
        document,
        {"algorithm": "URDNA2015", "format": "application/n-quads",
         "documentLoader": pyld_loader(loader)},
    )


def pyld_expand(document: Any, loader: Loader = context_document) -> list[Any]:
    """pyld's expanded form of `document`."""
    return pyld_jsonld.expand(document, {"documentLoader": pyld_loader(loader)})
