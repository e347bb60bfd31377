"""Source patterns: which learning outcomes a rule, cap or requirement applies to."""

from __future__ import annotations

from dataclasses import dataclass

from credentials.model import KINDS
from rules.fields import Reader

ORIGINS = ("any", "home", "external")


@dataclass(frozen=True)
class Source:
    """Outcomes a rule applies to; an empty member matches anything.

    `origin` tells the receiving institution's own outcomes ("home") from everyone else's
    ("external"); `min_level` is an EQF level.
    """

    kinds: frozenset[str] = frozenset()
    providers: frozenset[str] = frozenset()
    unit_codes: frozenset[str] = frozenset()
    min_level: int | None = None
    origin: str = "any"


@dataclass(frozen=True)
class UnitRef:
    """One unit of one provider (any provider when `provider` is None)."""

    code: str
    provider: str | None = None


def read_source(reader: Reader | None) -> Source:
    """Read a source pattern (absent = every outcome)."""
    if reader is None:
        return Source()
    kinds = reader.texts("kinds")
    for kind in kinds:
        if kind not in KINDS:
            reader.fail("kinds", f"{kind!r} is not one of {', '.join(KINDS)}")
    providers = reader.texts("providers")
    for provider in providers:
        if not provider.startswith("did:"):
            reader.fail("providers", f"{provider!r} is not a DID")
    min_level = reader.integer("min_level", minimum=1, default=0) or None
    if min_level is not None and min_level > 8:
        reader.fail("min_level", "must be an EQF level from 1 to 8")
    source = Source(
        kinds=frozenset(kinds),
        providers=frozenset(providers),
        unit_codes=frozenset(reader.texts("unit_codes")),
        min_level=min_level,
        origin=reader.choice("origin", ORIGINS, default="any"),
    )
    reader.done("kinds", "providers", "unit_codes", "min_level", "origin")
    return source


def read_unit_ref(reader: Reader) -> UnitRef:
    """Read a unit reference {code, provider?}."""
    provider = reader.text("provider", required=False)
    if provider is not None and not provider.startswith("did:"):
        reader.fail("provider", "must be a DID")
    ref = UnitRef(code=reader.text("code") or "", provider=provider)
    reader.done("code", "provider")
    return ref
