"""The impact of a new rule-set version before it is published: every learner who aims at the
programme and every decided application under it, audited under the version in force and
under the new one, compared line by line; the summary is kept with the version once published.

The institution sees its applicants by application id (it reviews them anyway); learners who
only aim at the programme appear under a keyed pseudonym, stable for that programme, and no
credential id, name, national id or DID is in the summary.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from bank.applications import approved_rule_set
from bank.minors import minor
from bank.records import held_credentials, verified_outcomes
from bank.tables import applications, decisions, learners, rule_impacts, targets
from infra.errors import Conflict, NotFound
from infra.secrets import derive_secret
from infra.times import iso_utc
from issuers.publication import MAX_VERSION, check_rule_set, publish_rule_set
from issuers.tables import rule_sets
from ledger.client import Ledger
from ledger.views import ChainView
from rules.audit import audit
from rules.fields import json_value
from rules.outcomes import Outcome
from rules.report import AuditReport, Line, Refusal
from rules.rulesets import RuleSet, load_rule_set
from verify import Context

MAX_AUDITED = 50
PSEUDONYM_PURPOSE = b"creditbank rule impact pseudonyms"
PSEUDONYM_HEX = 10
_ZERO = Decimal(0)


@dataclass(frozen=True)
class Subject:
    """Whom one comparison is about: a learner, by application id or by pseudonym."""

    learner: dict
    label: dict
    decision: dict | None = None


def preview_impact(engine: Engine, view: ChainView, context: Context, issuer: dict,
                   document: object, *, master_key: bytes, limit: int = MAX_AUDITED,
                   now: float | None = None) -> dict:
    """The impact of publishing `document` (checked as publishing checks it); nothing is kept."""
    rule_set = check_rule_set(issuer, document)
    return _impact(engine, view, context, rule_set, master_key=master_key, limit=limit, now=now)


def publish_with_impact(engine: Engine, ledger: Ledger, context: Context, issuer: dict,
                        document: object, *, master_key: bytes, previewed: str | None = None,
                        limit: int = MAX_AUDITED, now: float | None = None) -> dict:
    """Publish a version and keep its impact (once: a retry answers the kept summary); with
    `previewed`, refuse a document whose hash is not the one previewed."""
    rule_set = check_rule_set(issuer, document)
    content_hash = "0x" + rule_set.content_hash().hex()
    if previewed is not None and previewed != content_hash:
        raise Conflict("the rule set changed since its impact was previewed; preview it again",
                       {"content_hash": [f"the document's hash is {content_hash}"]})
    published = publish_rule_set(engine, ledger, issuer, document, master_key=master_key)
    kept = _kept(engine, rule_set)
    if kept is None:
        kept = _keep(engine, rule_set, _impact(engine, ChainView(ledger), context, rule_set,
                                               master_key=master_key, limit=limit, now=now))
    return {**published, "impact": kept}


def kept_impact(engine: Engine, issuer_id: str, rule_set_id: str, version: int) -> dict:
    """The impact kept with one of the issuer's published versions; else `NotFound`."""
    if not 1 <= version <= MAX_VERSION:
        raise NotFound(f"no impact is kept for version {version} of {rule_set_id!r}")
    query = (select(rule_impacts.c.summary)
             .join(rule_sets, (rule_sets.c.rule_set_id == rule_impacts.c.rule_set_id)
                   & (rule_sets.c.version == rule_impacts.c.version))
             .where(rule_impacts.c.rule_set_id == rule_set_id,
                    rule_impacts.c.version == version, rule_sets.c.issuer_id == issuer_id))
    with engine.connect() as connection:
        row = connection.execute(query).first()
    if row is None:
        raise NotFound(f"no impact is kept for version {version} of {rule_set_id!r}")
    summary: dict = json.loads(row.summary)
    return summary


def kept_versions(engine: Engine, issuer_id: str) -> set[tuple[str, int]]:
    """The issuer's published versions that have a kept impact."""
    query = (select(rule_impacts.c.rule_set_id, rule_impacts.c.version)
             .join(rule_sets, (rule_sets.c.rule_set_id == rule_impacts.c.rule_set_id)
                   & (rule_sets.c.version == rule_impacts.c.version))
             .where(rule_sets.c.issuer_id == issuer_id))
    with engine.connect() as connection:
        return {(row.rule_set_id, row.version) for row in connection.execute(query)}


# -- computing ----------------------------------------------------------------------------------


def _impact(engine: Engine, view: ChainView, context: Context, rule_set: RuleSet, *,
            master_key: bytes, limit: int, now: float | None) -> dict:
    """Audit every subject (at most `limit`) under the version in force and the new one."""
    moment = now or time.time()
    today = datetime.fromtimestamp(moment, UTC).date()
    previous = _previous(engine, view, rule_set, today)
    subjects = _subjects(engine, rule_set.rule_set_id,
                         derive_secret(master_key, PSEUDONYM_PURPOSE))
    before_day = _day_in_force(previous, today) if previous is not None else None
    after_day = _day_in_force(rule_set, today)
    compared = []
    for subject in subjects[:limit]:
        outcomes = verified_outcomes(context, subject.learner,
                                     held_credentials(engine, subject.learner)).outcomes
        before = (audit(outcomes, previous, as_of=before_day)
                  if previous is not None and before_day is not None else None)
        after = audit(outcomes, rule_set, as_of=after_day)
        compared.append(_compare(subject, outcomes, before, after))
    affected = [item for item in compared if item["lines"] or item["requirements"]["met"]
                or item["requirements"]["unmet"]]
    withheld = {id(item) for item, subject in zip(compared, subjects[:limit], strict=True)
                if _withheld(subject, today)}
    listed = [item for item in affected if id(item) not in withheld]
    return {
        "rule_set_id": rule_set.rule_set_id,
        "version": rule_set.version,
        "content_hash": "0x" + rule_set.content_hash().hex(),
        "previous_version": previous.version if previous is not None else None,
        "as_of": {"before": before_day.isoformat() if before_day else None,
                  "after": after_day.isoformat()},
        "computed_at": iso_utc(moment),
        "totals": _totals(compared, affected, len(subjects), limit),
        "learners": listed,
        "minors_withheld": len(affected) - len(listed),
    }


def _previous(engine: Engine, view: ChainView, rule_set: RuleSet,
              today: date) -> RuleSet | None:
    """The version the new one would replace: the latest approved version in force today."""
    query = (select(rule_sets.c.version, rule_sets.c.document)
             .where(rule_sets.c.rule_set_id == rule_set.rule_set_id,
                    rule_sets.c.version != rule_set.version,
                    rule_sets.c.approved_block.is_not(None))
             .order_by(rule_sets.c.version.desc()))
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    for row in rows:
        if load_rule_set(json.loads(row.document)).in_force(today):
            return approved_rule_set(engine, view, rule_set.rule_set_id, row.version)[0]
    return None


def _day_in_force(rule_set: RuleSet, today: date) -> date:
    """Today, or the nearest day the version is in force (its first, or its last)."""
    if today < rule_set.valid_from:
        return rule_set.valid_from
    if rule_set.valid_until is not None and today > rule_set.valid_until:
        return rule_set.valid_until
    return today


def _subjects(engine: Engine, rule_set_id: str, key: bytes) -> list[Subject]:
    """Learners with a decided application under the rule set (the latest each, by its id),
    then learners who only aim at it (by pseudonym), in a stable order."""
    decided = (select(applications.c.id, applications.c.version, decisions.c.document,
                      learners.c.id.label("learner_id"), learners.c.did)
               .join(decisions, (decisions.c.application_id == applications.c.id)
                     & decisions.c.in_force.is_(True))
               .join(learners, learners.c.id == applications.c.learner_id)
               .where(applications.c.rule_set_id == rule_set_id)
               .order_by(applications.c.submitted_at.desc(), applications.c.id))
    aiming = (select(learners.c.id.label("learner_id"), learners.c.did, learners.c.birth_date)
              .join(targets, targets.c.learner_id == learners.c.id)
              .where(targets.c.rule_set_id == rule_set_id)
              .order_by(learners.c.id))
    with engine.connect() as connection:
        decided_rows = connection.execute(decided).all()
        aiming_rows = connection.execute(aiming).all()
    subjects: dict[str, Subject] = {}
    for row in decided_rows:
        if row.learner_id not in subjects:
            document = json.loads(row.document)
            subjects[row.learner_id] = Subject(
                {"id": row.learner_id, "did": row.did}, {"application": row.id},
                {"version": row.version, "verdict": document["verdict"],
                 "credits": document["credits"]})
    ordered = sorted(subjects.values(), key=lambda item: item.label["application"])
    for aiming_row in aiming_rows:
        learner_id = aiming_row.learner_id
        if learner_id not in subjects:
            ordered.append(Subject({"id": learner_id, "did": aiming_row.did,
                                    "birth_date": aiming_row.birth_date},
                                   {"pseudonym": _pseudonym(key, rule_set_id, learner_id)}))
    return ordered


def _withheld(subject: Subject, today: date) -> bool:
    """Whether a learner's lines stay out of the listing: a minor the institution does not review
    (only aiming at the programme) is counted in the totals alone."""
    return "pseudonym" in subject.label and minor(subject.learner, today)


def _pseudonym(key: bytes, rule_set_id: str, learner_id: str) -> str:
    """A learner's name in one programme's impact: keyed, stable, unlinkable across programmes."""
    message = f"{rule_set_id}\n{learner_id}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:PSEUDONYM_HEX]


def _compare(subject: Subject, outcomes: Sequence[Outcome], before: AuditReport | None,
             after: AuditReport) -> dict:
    """One learner's comparison: totals, requirements newly met or unmet, and changed lines."""
    units = {outcome.id: outcome.unit_code for outcome in outcomes}
    rows = _rows(before, after, units)
    met_before = {item.id for item in before.requirements if item.met} if before else set()
    met_after = {item.id for item in after.requirements if item.met}
    credits_before = before.credits if before is not None else _ZERO
    changed = [row for row in rows if row["before"] != row["after"]]
    return {
        **subject.label,
        **({"decision": subject.decision} if subject.decision is not None else {}),
        "before": _standing(before),
        "after": _standing(after),
        "change": json_value(after.credits - credits_before),
        "requirements": {"met": sorted(met_after - met_before),
                         "unmet": sorted(met_before - met_after)},
        "lines": changed,
        "unchanged": len(rows) - len(changed),
    }


def _standing(report: AuditReport | None) -> dict | None:
    if report is None:
        return None
    return {"credits": json_value(report.credits), "exempted": json_value(report.exempted),
            "complete": report.complete}


def _rows(before: AuditReport | None, after: AuditReport, units: dict[str, str]) -> list[dict]:
    """Lines and refusals of both audits, grouped by the outcomes they share."""
    entries = [("before", item) for item in _entries(before)] + [
        ("after", item) for item in _entries(after)]
    parent: dict[str, str] = {}

    def root(outcome_id: str) -> str:
        while parent.setdefault(outcome_id, outcome_id) != outcome_id:
            outcome_id = parent[outcome_id]
        return outcome_id

    for _side, item in entries:
        first = root(item.outcome_ids[0])
        for other in item.outcome_ids[1:]:
            parent[root(other)] = first
    groups: dict[str, dict] = {}
    for side, item in entries:
        group = groups.setdefault(root(item.outcome_ids[0]), {"units": [], "before": [],
                                                              "after": []})
        group["units"].extend(code for code in item.units if code not in group["units"])
        group[side].append(_entry(item, units))
    rows = []
    for group in groups.values():
        change = _credits(group["after"]) - _credits(group["before"])
        effect = "gains" if change > 0 else "loses" if change < 0 else "changes"
        rows.append({**group, "change": json_value(change), "effect": effect})
    return rows


def _entries(report: AuditReport | None) -> list[Line | Refusal]:
    return [*report.lines, *report.refusals] if report is not None else []


def _entry(item: Line | Refusal, units: dict[str, str]) -> dict:
    """A line or refusal with no outcome id (a param naming one shows its unit instead)."""
    if isinstance(item, Line):
        return {"decision": item.decision, "code": str(item.code), "rule_id": item.rule_id,
                "category": item.category, "credits": json_value(item.credits),
                "exempted": json_value(item.exempted), "target_units": list(item.target_units)}
    params = {name: units.get(value, value) if isinstance(value, str) else value
              for name, value in item.params.items()}
    return {"decision": "refused", "code": str(item.code), "rule_id": item.rule_id,
            "params": json_value(params)}


def _credits(entries: Sequence[dict]) -> Decimal:
    return sum((Decimal(str(entry.get("credits", 0))) for entry in entries), _ZERO)


def _totals(compared: Sequence[dict], affected: Sequence[dict], subjects: int,
            limit: int) -> dict:
    changes = [Decimal(str(item["change"])) for item in compared]
    return {
        "learners": subjects,
        "audited": len(compared),
        "more": max(subjects - limit, 0),
        "affected": len(affected),
        "gaining": sum(1 for change in changes if change > 0),
        "losing": sum(1 for change in changes if change < 0),
        "credits_gained": json_value(sum((c for c in changes if c > 0), _ZERO)),
        "credits_lost": json_value(-sum((c for c in changes if c < 0), _ZERO)),
        "requirements_met": sum(len(item["requirements"]["met"]) for item in compared),
        "requirements_unmet": sum(len(item["requirements"]["unmet"]) for item in compared),
    }


def _keep(engine: Engine, rule_set: RuleSet, summary: dict) -> dict:
    """Keep the summary with its version (the first kept wins a race)."""
    try:
        with engine.begin() as connection:
            connection.execute(insert(rule_impacts).values(
                rule_set_id=rule_set.rule_set_id, version=rule_set.version,
                previous_version=summary["previous_version"],
                content_hash=rule_set.content_hash(), summary=json.dumps(summary),
                computed_at=time.time()))
    except IntegrityError:
        kept = _kept(engine, rule_set)
        assert kept is not None
        return kept
    return summary


def _kept(engine: Engine, rule_set: RuleSet) -> dict | None:
    """The summary kept for this version, if any."""
    with engine.connect() as connection:
        text = connection.execute(select(rule_impacts.c.summary).where(
            rule_impacts.c.rule_set_id == rule_set.rule_set_id,
            rule_impacts.c.version == rule_set.version)).scalar()
    return json.loads(text) if text is not None else None
