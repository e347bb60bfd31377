"""An accredited issuer with a catalogue, on a runtime, for the issuer-service tests."""

from __future__ import annotations

import json

from issuers.catalogue import add_units
from issuers.registry import Accreditation, Scope, accredit, issuer_record
from portal.runtime import Runtime
from tests.support.paths import EXAMPLES

COURSES = Scope(kinds=("course", "certificate"), levels=tuple(range(1, 9)))


def accredited(runtime: Runtime, slug: str = "demo-university") -> Accreditation:
    """An issuer accredited for courses and certificates, with the example units."""
    accreditation = accredit(
        runtime.engine,
        runtime.chain,
        settings=runtime.settings,
        name=slug.replace("-", " ").title(),
        slug=slug,
        scope=COURSES,
        actor="cli:test",
    )
    units = json.loads((EXAMPLES / "units.json").read_text("utf-8"))["units"]
    with runtime.engine.begin() as connection:
        add_units(connection, issuer_record(runtime.engine, slug), units)
    return accreditation


def outcome(national_id: str = "110101199003074514", **fields: object) -> dict:
    """A valid outcome on CS101, with fields replaced."""
    return {
        "national_id": national_id,
        "unit": "CS101",
        "session": "2025 spring",
        "grade": "A",
        "credits": 3.5,
        "started_on": "2025-02-20",
        "completed_on": "2025-06-30",
        **fields,
    }
