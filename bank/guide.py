"""The public transfer guide: picked catalogue units and dropped credential files against every
programme in force, ranked, by the engine and the approved versions that decide applications.

Nothing is stored and nothing personal is answered: every outcome is read as the placeholder
learner "guest" (a credential's subject never appears), and a credential that does not count is
named by its position in the request, with the verdict and the check that failed."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from datetime import date

from sqlalchemy import Engine

from bank.public import in_force
from infra.errors import FieldErrors, InvalidInput
from issuers.catalogue import latest_units, parse_unit_ref, planned_outcome
from ledger.views import ChainView
from rules.errors import InvalidOutcome
from rules.guide import guide as programme_guide
from rules.guide import ranked
from rules.outcomes import Outcome, outcome_from_credential
from verify import Context, Status, verify_many

GUEST = "guest"
MAX_UNITS = 50
MAX_CREDENTIALS = 20


def guide(engine: Engine, view: ChainView, *, units: Sequence[str] = (),
          credentials: Sequence[object] = (), as_of: date,
          context: Context | None = None) -> dict:
    """Every programme in force on `as_of`, ranked, for the picked units ("ISSUER:CODE") and the
    credentials (JSON documents, verified in `context`: only VALID ones count)."""
    refs = _refs(units, credentials)
    with engine.connect() as connection:
        found = latest_units(connection, refs)
    unknown: FieldErrors = {f"units.{index}": ["no such unit in the catalogue"]
                            for index, ref in enumerate(refs) if ref not in found}
    if unknown:
        raise InvalidInput("some units are not in the catalogue", unknown)
    outcomes = [planned_outcome(found[ref], learner=GUEST, end_date=as_of) for ref in refs]
    picked = [{"ref": f"{issuer}:{code}", "title": found[issuer, code]["title"],
               "kind": found[issuer, code]["kind"], "credits": found[issuer, code]["credit_value"],
               "credit_scheme": found[issuer, code]["credit_scheme"], "outcome": outcome.id}
              for (issuer, code), outcome in zip(refs, outcomes, strict=True)]
    counted, not_counted = _read_credentials(credentials, context or Context(view))
    outcomes += [outcome for _index, outcome in counted]
    published = in_force(engine, view, as_of=as_of)
    guides = [programme_guide(outcomes, item.rule_set, as_of=as_of, book=item.book)
              for item in published]
    by_id = {item.rule_set.rule_set_id: item for item in published}
    return {
        "as_of": as_of.isoformat(),
        "units": picked,
        "credentials": [{"index": index, "outcome": outcome.id, "unit_code": outcome.unit_code,
                         "title": outcome.title, "kind": outcome.kind, "provider": outcome.provider,
                         "credits": float(outcome.credits), "credit_scheme": outcome.credit_scheme}
                        for index, outcome in counted],
        "not_counted": not_counted,
        "programmes": [{**item.to_json(), "content_hash": by_id[item.rule_set_id].content_hash,
                        "institution": by_id[item.rule_set_id].row["issuer_id"]}
                       for item in ranked(guides)],
    }


def _refs(units: Sequence[str], credentials: Sequence[object]) -> list[tuple[str, str]]:
    errors: FieldErrors = {}
    if len(units) > MAX_UNITS:
        errors["units"] = [f"at most {MAX_UNITS} units"]
    if len(credentials) > MAX_CREDENTIALS:
        errors["credentials"] = [f"at most {MAX_CREDENTIALS} credentials"]
    refs = []
    for index, ref in enumerate(units[:MAX_UNITS]):
        parsed = parse_unit_ref(ref) if isinstance(ref, str) else None
        if parsed is None:
            errors[f"units.{index}"] = ["must be ISSUER:CODE"]
        elif parsed in refs:
            errors[f"units.{index}"] = ["each unit may be picked once"]
        else:
            refs.append(parsed)
    if errors:
        raise InvalidInput("the guide's request is invalid", errors)
    return refs


def _read_credentials(credentials: Sequence[object],
                      context: Context) -> tuple[list[tuple[int, Outcome]], list[dict]]:
    """The outcomes of the credentials that verify (as the guest's), and why the others do not
    count (verdict and the first failed check; nothing of the credential itself)."""
    counted: list[tuple[int, Outcome]] = []
    not_counted: list[dict] = []
    seen: set[str] = set()
    raws = [item if isinstance(item, dict | str | bytes) else "" for item in credentials]
    for index, report in enumerate(verify_many(raws, context)):
        if report.verdict is not Status.VALID:
            failed = next((item for item in report.fragments if item.status is report.verdict),
                          None)
            not_counted.append({"index": index, "verdict": str(report.verdict),
                                "check": failed.name if failed else None,
                                "code": str(failed.code) if failed else None})
            continue
        try:
            raw = raws[index]
            outcome = outcome_from_credential(raw if isinstance(raw, dict) else json.loads(raw))
        except (InvalidOutcome, ValueError):
            not_counted.append({"index": index, "verdict": str(report.verdict),
                                "check": None, "code": "unreadable"})
            continue
        if outcome.id in seen:
            not_counted.append({"index": index, "verdict": str(report.verdict),
                                "check": None, "code": "duplicate"})
            continue
        seen.add(outcome.id)
        counted.append((index, dataclasses.replace(outcome, learner=GUEST)))
    return counted, not_counted
