"""Applications for recognition, and their two-level review as city credit banks run it: the
receiving institution does the first review (初审), the city centre (the operator) the second
(复审) and decides. A decision records the rule set and version applied (with its anchored
hash), the credits granted by category, the reasons, the reviewers and the appeal deadline.
The learner may appeal once before the deadline; the city centre upholds or amends."""

from __future__ import annotations

import json
import time
import uuid
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Connection, Engine, Select, insert, select, update
from sqlalchemy.exc import IntegrityError

from bank.aggregates import count_decision, count_statuses
from bank.consents import APPLICATION, TEXTS, application_consent, give
from bank.honour import approved_agreement, honour
from bank.notices import notify, programme_title
from bank.records import held_credentials, verified_outcomes
from bank.tables import (
    APPEALED,
    DECIDED,
    FIRST_REVIEWED,
    OPEN_STATUSES,
    SUBMITTED,
    WITHDRAWN,
    appeals,
    applications,
    decision_credentials,
    decisions,
    learners,
    reviews,
    targets,
)
from infra.audit import record
from infra.errors import Conflict, FieldErrors, InvalidInput, NotFound
from infra.paging import keyset_page
from infra.settings import Settings
from infra.times import iso_utc
from issuers.publication import MAX_VERSION
from issuers.tables import issuers, rule_sets
from ledger.views import ChainView
from rules.audit import audit
from rules.codes import Code
from rules.errors import RuleSetNotInForce
from rules.explain import explain
from rules.fields import json_value
from rules.outcomes import Outcome
from rules.rulesets import RuleSet, load_rule_set
from verify import Context

DAY = 86_400
LIST_PAGE = 50

STATUSES = (SUBMITTED, FIRST_REVIEWED, DECIDED, APPEALED, WITHDRAWN)

FIRST = "first"
SECOND = "second"
APPEAL = "appeal"
FLAG = "flag"
VERDICTS = ("approve", "refuse")
APPEAL_OUTCOMES = ("upheld", "amended")
FLAG_OUTCOMES = ("confirmed", "amended")


class Reason(StrEnum):
    """Reasons a reviewer adds to the engine's codes."""

    EXCLUDED = "excluded-by-reviewer"
    REFUSED = "refused-by-reviewer"


@dataclass(frozen=True)
class Review:
    """One reviewer's verdict at one stage, with reasons and the credentials it excludes."""

    stage: str
    reviewer: str
    verdict: str
    reasons: tuple[str, ...]
    excluded: tuple[dict, ...]
    at: float

    def to_json(self) -> dict:
        """The review as a decision lists it."""
        return {**asdict(self), "reasons": list(self.reasons), "excluded": list(self.excluded),
                "at": iso_utc(self.at)}


# -- rule sets and targets ----------------------------------------------------------------------


def approved_rule_set(engine: Engine, view: ChainView, rule_set_id: str,
                      version: int) -> tuple[RuleSet, dict]:
    """A published version approved for use, checked against its hash on RuleRegistry."""
    row = None
    if 1 <= version <= MAX_VERSION:
        with engine.connect() as connection:
            row = connection.execute(select(rule_sets).where(
                rule_sets.c.rule_set_id == rule_set_id, rule_sets.c.version == version)
            ).mappings().first()
    if row is None:
        raise NotFound(f"no rule set {rule_set_id!r} version {version}",
                       {"rule_set_id": ["unknown rule set or version"]})
    rule_set = load_rule_set(json.loads(row["document"]))
    on_chain = view.rule_set(rule_set.rule_set_key(), version)
    if row["approved_block"] is None or on_chain is None or not on_chain.approved_block:
        raise Conflict(f"version {version} of {rule_set_id!r} is not approved for use",
                       {"version": ["is not approved"]})
    if on_chain.content_hash != rule_set.content_hash():
        raise Conflict(f"version {version} of {rule_set_id!r} does not match its anchored hash")
    return rule_set, dict(row)


def approved_programmes(engine: Engine) -> list[dict]:
    """Every rule-set version approved for use: the programmes a learner may aim at."""
    query = (select(rule_sets.c.rule_set_id, rule_sets.c.version, rule_sets.c.document,
                    issuers.c.name, issuers.c.name_zh)
             .join(issuers, issuers.c.id == rule_sets.c.issuer_id)
             .where(rule_sets.c.approved_block.is_not(None))
             .order_by(rule_sets.c.rule_set_id, rule_sets.c.version.desc()))
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    programmes = []
    for row in rows:
        programme = json.loads(row.document)["programme"]
        programmes.append({"rule_set_id": row.rule_set_id, "version": row.version,
                           "code": programme["code"], "title": programme["title"],
                           "total_credits": programme["total_credits"],
                           "institution": row.name, "institution_zh": row.name_zh})
    return programmes


def choose_target(engine: Engine, view: ChainView, learner: dict, rule_set_id: str,
                  version: int) -> dict:
    """The learner aims at a programme: an approved rule-set version."""
    approved_rule_set(engine, view, rule_set_id, version)
    values = {"rule_set_id": rule_set_id, "version": version, "chosen_at": time.time()}
    with engine.begin() as connection:
        changed = connection.execute(
            update(targets).where(targets.c.learner_id == learner["id"]).values(**values))
        if changed.rowcount == 0:
            connection.execute(insert(targets).values(learner_id=learner["id"], **values))
    return {"rule_set_id": rule_set_id, "version": version}


def target_of(source: Engine | Connection, learner: dict) -> dict:
    """The learner's chosen programme; `NotFound` when none was chosen."""
    query = select(targets.c.rule_set_id, targets.c.version).where(
        targets.c.learner_id == learner["id"])
    if isinstance(source, Connection):
        row = source.execute(query).first()
    else:
        with source.connect() as connection:
            row = connection.execute(query).first()
    if row is None:
        raise NotFound("choose a programme first", {"rule_set_id": ["no programme chosen"]})
    return {"rule_set_id": row.rule_set_id, "version": row.version}


def progress(engine: Engine, view: ChainView, learner: dict, context: Context, *,
             planned: Sequence[Outcome] = (), now: float | None = None) -> dict:
    """The audit of the learner's record against their chosen programme, as of today, with the
    credentials verified in `context` (and `planned` outcomes, for a what-if)."""
    target = target_of(engine, learner)
    rule_set, _row = approved_rule_set(engine, view, target["rule_set_id"], target["version"])
    verified = verified_outcomes(context, learner, held_credentials(engine, learner))
    report = audit_json(verified.outcomes, rule_set, now=now, planned=planned)
    return {"audit": report, "set_aside": list(verified.set_aside)}


# -- applying and reviewing ---------------------------------------------------------------------


def apply(engine: Engine, view: ChainView, learner: dict, *, rule_set_id: str | None = None,
          version: int | None = None, agreement_id: str | None = None,
          now: float | None = None) -> dict:
    """Apply for recognition under an approved rule-set version (default: the chosen target),
    or under a learning agreement: its version, even when a newer one is in force. Applying
    gives the consent to share the audited record with the receiving institution (the words in
    force for "application", recorded with their version in the same transaction)."""
    agreement = None
    if agreement_id is not None:
        agreement = approved_agreement(engine, agreement_id, learner["id"])
        rule_set_id, version = agreement["rule_set_id"], agreement["version"]
    if rule_set_id is None or version is None:
        target = target_of(engine, learner)
        rule_set_id, version = target["rule_set_id"], target["version"]
    rule_set, row = approved_rule_set(engine, view, rule_set_id, version)
    report, snapshot, set_aside = _reaudit(engine, view, learner, rule_set,
                                           _audit_time(rule_set, agreement, now))
    if not snapshot:
        raise InvalidInput("your record holds no credential that verifies: nothing to recognise",
                           {"credentials": ["none verifies"]})
    moment = now or time.time()
    application = {
        "id": str(uuid.uuid4()),
        "learner_id": learner["id"],
        "rule_set_id": rule_set_id,
        "version": version,
        "content_hash": bytes(row["content_hash"]),
        "institution_id": row["issuer_id"],
        "status": SUBMITTED,
        "audit": json.dumps(report),
        "credentials": json.dumps(snapshot),
        "set_aside": json.dumps(set_aside),
        "submitted_at": moment,
        "updated_at": moment,
        "agreement_id": agreement_id,
    }
    with engine.begin() as connection:
        pending = connection.execute(select(applications.c.id).where(
            applications.c.learner_id == learner["id"],
            applications.c.rule_set_id == rule_set_id,
            applications.c.status.in_(OPEN_STATUSES))).first()
        if pending is not None:
            raise Conflict(f"application {pending.id} for {rule_set_id!r} is still under review")
        try:
            connection.execute(insert(applications).values(**application))
        except IntegrityError:
            raise Conflict(f"another application for {rule_set_id!r} was submitted meanwhile; "
                           "it is under review") from None
        give(connection, learner["id"], APPLICATION, object_id=application["id"], now=moment)
        count_statuses(connection, row["issuer_id"], {SUBMITTED: 1})
        notify(connection, recipient_kind="institution", recipient_id=row["issuer_id"],
               kind="application_waiting", link=f"/institution/applications/{application['id']}",
               params={"application": application["id"], "rule_set": rule_set_id,
                       "programme": programme_title(connection, rule_set_id, version),
                       "submitted_on": iso_utc(moment)[:10]}, now=moment)
    made = application_json(engine, application)
    words = TEXTS[APPLICATION]
    return {**made, "consent": {**made["consent"], "text": {"en": words.en, "zh": words.zh}}}


def first_review(engine: Engine, application_id: str, institution_id: str, *, verdict: str,
                 reasons: Sequence[str], excluded: Sequence[dict] = (),
                 now: float | None = None) -> dict:
    """The receiving institution's first review (初审) of a submitted application."""
    application = application_row(engine, application_id, institution_id=institution_id)
    review = _review(application, FIRST, f"institution:{institution_id}", verdict, reasons,
                     excluded, now)
    with engine.begin() as connection:
        _advance(connection, application, SUBMITTED, FIRST_REVIEWED, review.at)
        _insert_review(connection, application["id"], review)
        record(connection, actor=review.reviewer, action="application.first_review",
               subject=application_id, details={"verdict": verdict})
    return application_json(engine, application_row(engine, application_id))


def second_review(engine: Engine, application_id: str, operator: str, *, verdict: str,
                  reasons: Sequence[str], excluded: Sequence[dict] = (),
                  appeal_days: int = Settings.appeal_days, now: float | None = None) -> dict:
    """The city centre's second review (复审), which decides the application."""
    application = application_row(engine, application_id)
    if application["status"] == SUBMITTED:
        raise Conflict("the second review comes after the first review",
                       {"status": [application["status"]]})
    review = _review(application, SECOND, f"operator:{operator}", verdict, reasons, excluded,
                     now)
    with engine.begin() as connection:
        _advance(connection, application, FIRST_REVIEWED, DECIDED, review.at)
        _insert_review(connection, application["id"], review)
        record(connection, actor=review.reviewer, action="application.second_review",
               subject=application_id, details={"verdict": verdict})
        first = _reviews(connection, application["id"])[FIRST]
        _decide(connection, application, Draft(
            report=json.loads(application["audit"]),
            snapshot=json.loads(application["credentials"]),
            reviewers=[first.to_json(), review.to_json()],
            excluded=[*first.excluded, *review.excluded],
            refusal=review if verdict == "refuse" else None,
            decided_at=review.at,
            appeal_deadline=review.at + appeal_days * DAY))
    return application_json(engine, application_row(engine, application_id))


def appeal(engine: Engine, application_id: str, learner: dict, grounds: str, *,
           now: float | None = None) -> dict:
    """The learner appeals the decision in force, once, before its appeal deadline."""
    if not isinstance(grounds, str) or not grounds.strip():
        raise InvalidInput("an appeal states its grounds", {"grounds": ["must not be empty"]})
    application = application_row(engine, application_id, learner_id=learner["id"])
    moment = now or time.time()
    decision = current_decision(engine, application_id)
    if application["status"] != DECIDED or decision is None:
        raise Conflict(f"the application is {application['status']}: only a decision is appealed")
    deadline = decision["appeal_deadline"]
    if deadline is None:
        raise Conflict("this decision was given on appeal: it is final")
    if moment > deadline:
        raise Conflict(f"the appeal deadline passed on {iso_utc(deadline)}",
                       {"grounds": [f"appeals close on {iso_utc(deadline)}"]})
    try:
        with engine.begin() as connection:
            connection.execute(insert(appeals).values(
                id=str(uuid.uuid4()), decision_id=decision["id"], grounds=grounds.strip(),
                status="pending", filed_at=moment))
            _advance(connection, application, DECIDED, APPEALED, moment)
    except IntegrityError:
        raise Conflict("this decision was already appealed") from None
    return application_json(engine, application_row(engine, application_id))


def decide_appeal(engine: Engine, view: ChainView, application_id: str, operator: str, *,
                  outcome: str, reasons: Sequence[str], excluded: Sequence[dict] = (),
                  now: float | None = None) -> dict:
    """The city centre upholds the decision, or amends it: a fresh audit of the learner's record
    under the same rule-set version, excluding only what this review excludes. Final."""
    if outcome not in APPEAL_OUTCOMES:
        raise InvalidInput("the outcome is upheld or amended",
                           {"outcome": [f"must be one of {', '.join(APPEAL_OUTCOMES)}"]})
    _require_reasons(reasons)
    application = application_row(engine, application_id)
    if application["status"] != APPEALED:
        raise Conflict(f"the application is {application['status']}, not appealed")
    decision = current_decision(engine, application_id)
    assert decision is not None
    moment = now or time.time()
    review = Review(APPEAL, f"operator:{operator}", "approve", tuple(reasons), (), moment)
    amendment = _amendment(engine, view, application, decision, review, excluded,
                           appeal_deadline=None) if outcome == "amended" else None
    with engine.begin() as connection:
        _advance(connection, application, APPEALED, DECIDED, moment)
        record(connection, actor=review.reviewer, action="appeal.decide", subject=application_id,
               details={"outcome": outcome})
        connection.execute(update(appeals).where(appeals.c.decision_id == decision["id"]).values(
            status=outcome, reasons=json.dumps(list(reasons)), reviewer=review.reviewer,
            decided_at=moment))
        if amendment is not None:
            _replace(connection, application, decision, amendment)
        notify(connection, recipient_kind="learner", recipient_id=application["learner_id"],
               kind="appeal_answered", link=f"/me/applications/{application_id}", now=moment,
               params={"application": application_id, "outcome": outcome,
                       "programme": programme_title(connection, application["rule_set_id"],
                                                    application["version"])})
    return application_json(engine, application_row(engine, application_id))


def review_flag(engine: Engine, view: ChainView, application_id: str, operator: str, *,
                outcome: str, reasons: Sequence[str], excluded: Sequence[dict] = (),
                appeal_days: int = Settings.appeal_days, now: float | None = None) -> dict:
    """The city centre reviews a decision flagged because a credential it used was revoked:
    it confirms it, or amends it by auditing the record again (the revoked credential is then
    refused); earlier exclusions carry over, and the learner may appeal the amendment."""
    if outcome not in FLAG_OUTCOMES:
        raise InvalidInput("the outcome is confirmed or amended",
                           {"outcome": [f"must be one of {', '.join(FLAG_OUTCOMES)}"]})
    _require_reasons(reasons)
    application = application_row(engine, application_id)
    decision = current_decision(engine, application_id)
    if decision is None or not decision["flagged"]:
        raise Conflict("the decision is not flagged for review")
    moment = now or time.time()
    review = Review(f"{FLAG}:{decision['sequence']}", f"operator:{operator}", "approve",
                    tuple(reasons), (), moment)
    amendment = None
    if outcome == "amended":
        carried = json.loads(decision["document"])["excluded"]
        amendment = _amendment(engine, view, application, decision, review, excluded,
                               carried=carried, appeal_deadline=moment + appeal_days * DAY)
    with engine.begin() as connection:
        cleared = connection.execute(update(decisions).where(
            decisions.c.id == decision["id"], decisions.c.flagged.is_(True)).values(flagged=False))
        if cleared.rowcount == 0:
            raise Conflict("the flag was reviewed meanwhile")
        record(connection, actor=review.reviewer, action="application.flag_review",
               subject=application_id, details={"outcome": outcome})
        _insert_review(connection, application_id, review)
        if amendment is not None:
            _replace(connection, application, decision, amendment)
    return application_json(engine, application_row(engine, application_id))


# -- reading ------------------------------------------------------------------------------------


def application_row(engine: Engine, application_id: str, *, learner_id: str | None = None,
                    institution_id: str | None = None) -> dict:
    """An application's row, if the learner or institution given may see it; else `NotFound`."""
    query = select(applications).where(applications.c.id == application_id)
    if learner_id is not None:
        query = query.where(applications.c.learner_id == learner_id)
    if institution_id is not None:
        query = query.where(applications.c.institution_id == institution_id)
    with engine.connect() as connection:
        row = connection.execute(query).mappings().first()
    if row is None:
        raise NotFound(f"no application {application_id}")
    return dict(row)


def applications_of(engine: Engine, *, learner_id: str | None = None,
                    institution_id: str | None = None, status: str | None = None,
                    flagged: bool | None = None) -> list[dict]:
    """Applications, oldest first, filtered by learner, institution, status or flag."""
    query = filtered(select(applications), learner_id=learner_id, institution_id=institution_id,
                     status=status, flagged=flagged)
    with engine.connect() as connection:
        rows = connection.execute(query).mappings().all()
    return [application_json(engine, dict(row)) for row in rows]


def learner_applications(engine: Engine, learner_id: str, *, after: str | None = None,
                         limit: int = LIST_PAGE) -> tuple[list[dict], str | None]:
    """A page of the learner's applications, newest first, after the cursor `after`, each
    whole; and the next page's cursor. The index on (learner, submitted, id) serves it."""
    with engine.connect() as connection:
        page = keyset_page(connection, select(applications).where(
            applications.c.learner_id == learner_id),
            (applications.c.submitted_at, applications.c.id), after=after, limit=limit,
            descending=True)
    return [application_json(engine, dict(row)) for row in page.rows], page.after


def filtered(query: Select, *, learner_id: str | None = None, institution_id: str | None = None,
             status: str | None = None, flagged: bool | None = None) -> Select:
    """A query of applications narrowed by learner, institution, status or flag, oldest first."""
    query = query.order_by(applications.c.submitted_at, applications.c.id)
    if learner_id is not None:
        query = query.where(applications.c.learner_id == learner_id)
    if institution_id is not None:
        query = query.where(applications.c.institution_id == institution_id)
    if status is not None:
        query = query.where(applications.c.status == status)
    if flagged is not None:
        flagged_ids = select(decisions.c.application_id).where(
            decisions.c.in_force.is_(True), decisions.c.flagged.is_(True))
        query = query.where(applications.c.id.in_(flagged_ids) if flagged
                            else applications.c.id.not_in(flagged_ids))
    return query


def current_decision(engine: Engine, application_id: str) -> dict | None:
    """The decision in force for an application, if it was decided."""
    with engine.connect() as connection:
        row = connection.execute(select(decisions).where(
            decisions.c.application_id == application_id, decisions.c.in_force.is_(True))
        ).mappings().first()
    return dict(row) if row is not None else None


def application_json(engine: Engine, row: dict) -> dict:
    """An application with its audit, reviews, decisions (latest first) and appeal."""
    with engine.connect() as connection:
        stages = _reviews(connection, row["id"])
        decided = connection.execute(select(decisions).where(
            decisions.c.application_id == row["id"]).order_by(decisions.c.sequence.desc())
        ).mappings().all()
        appeal_rows = connection.execute(select(appeals).join(
            decisions, decisions.c.id == appeals.c.decision_id).where(
            decisions.c.application_id == row["id"])).mappings().all()
        consent = application_consent(connection, row["id"])
    return {
        "id": row["id"],
        "status": row["status"],
        "rule_set": {"id": row["rule_set_id"], "version": row["version"],
                     "content_hash": "0x" + bytes(row["content_hash"]).hex(),
                     "institution": row["institution_id"]},
        "submitted_at": iso_utc(row["submitted_at"]),
        "agreement_id": row["agreement_id"],
        "audit": json.loads(row["audit"]),
        "set_aside": json.loads(row["set_aside"]),
        "reviews": [review.to_json() for review in stages.values()],
        "decisions": [decision_json(dict(item)) for item in decided],
        "appeals": [_appeal_json(dict(item)) for item in appeal_rows],
        "consent": consent,
    }


def decision_json(row: dict) -> dict:
    """A decision as recorded, with whether it is in force and flagged for review."""
    return {
        "id": row["id"],
        "sequence": row["sequence"],
        **json.loads(row["document"]),
        "in_force": row["in_force"],
        "flagged": row["flagged"],
        "flag_reason": row["flag_reason"],
    }


# -- internals ----------------------------------------------------------------------------------


def _reaudit(engine: Engine, view: ChainView, learner: dict, rule_set: RuleSet,
             now: float | None) -> tuple[dict, list[dict], list[dict]]:
    """The audit of the learner's record now, the credentials it read, and those set aside."""
    held = held_credentials(engine, learner)
    verified = verified_outcomes(Context(view), learner, held)
    report = audit_json(verified.outcomes, rule_set, now=now)
    counted = {outcome.id for outcome in verified.outcomes}
    snapshot = []
    for item in held:
        if item.id in counted:
            root, digest = item.anchor()
            snapshot.append({"id": item.id, "source": item.source,
                             "root": root.hex() if root else None,
                             "digest": digest.hex() if digest else None})
    return report, snapshot, list(verified.set_aside)


def audit_json(outcomes: Sequence[Outcome], rule_set: RuleSet, *, now: float | None = None,
               planned: Sequence[Outcome] = ()) -> dict:
    """The audit report as of today (plus `planned` outcomes, for a what-if) as JSON, with its
    lists present even when empty; `Conflict` when the rules are not in force today."""
    as_of = datetime.fromtimestamp(now or time.time(), UTC).date()
    try:
        report = audit(outcomes, rule_set, as_of=as_of, planned=planned).to_json()
    except RuleSetNotInForce as error:
        raise Conflict(error.message, {"rule_set_id": ["is not in force today"]}) from None
    return {"lines": [], "refusals": [], **report}


def _audit_time(rule_set: RuleSet, agreement: dict | None, now: float | None) -> float | None:
    """When the record is audited: now, or under an agreement whose version is no longer in
    force, on the day its units were to be completed by."""
    moment = now or time.time()
    if agreement is None or rule_set.in_force(datetime.fromtimestamp(moment, UTC).date()):
        return now
    return datetime.fromisoformat(agreement["complete_by"]).replace(tzinfo=UTC).timestamp()


def _review(application: dict, stage: str, reviewer: str, verdict: str, reasons: Sequence[str],
            excluded: Sequence[dict], now: float | None) -> Review:
    """Check a review's verdict, reasons and exclusions against the application."""
    errors: FieldErrors = {}
    if verdict not in VERDICTS:
        errors["verdict"] = [f"must be one of {', '.join(VERDICTS)}"]
    if verdict == "refuse" and not reasons:
        errors["reasons"] = ["a refusal states its reasons"]
    counted = {outcome for line in json.loads(application["audit"])["lines"]
               for outcome in line["outcome_ids"]}
    for index, item in enumerate(excluded):
        if item.get("credential") not in counted:
            errors[f"excluded.{index}.credential"] = ["is not a credential the audit counts"]
        if not str(item.get("reason") or "").strip():
            errors[f"excluded.{index}.reason"] = ["an exclusion states its reason"]
    if errors:
        raise InvalidInput("the review is invalid", errors)
    return Review(stage, reviewer, verdict, tuple(reasons),
                  tuple({**item, "stage": stage} for item in excluded), now or time.time())


def _require_reasons(reasons: Sequence[str]) -> None:
    if not reasons:
        raise InvalidInput("state the reasons", {"reasons": ["must not be empty"]})


def _advance(connection: Connection, application: dict, expected: str, status: str,
             moment: float) -> None:
    """Move the application on, or refuse if it is not (any longer) where the step expects."""
    changed = connection.execute(update(applications).where(
        applications.c.id == application["id"], applications.c.status == expected
    ).values(status=status, updated_at=moment))
    if changed.rowcount == 0:
        raise Conflict(f"the application is {application['status']}, not {expected}",
                       {"status": [application["status"]]})
    count_statuses(connection, application["institution_id"], {expected: -1, status: 1})


def _insert_review(connection: Connection, application_id: str, review: Review) -> None:
    connection.execute(insert(reviews).values(
        application_id=application_id, stage=review.stage, reviewer=review.reviewer,
        verdict=review.verdict, reasons=json.dumps(list(review.reasons)),
        excluded=json.dumps(list(review.excluded)), reviewed_at=review.at))


def _reviews(connection: Connection, application_id: str) -> dict[str, Review]:
    rows = connection.execute(select(reviews).where(reviews.c.application_id == application_id)
                              .order_by(reviews.c.id)).mappings()
    return {row["stage"]: Review(row["stage"], row["reviewer"], row["verdict"],
                                 tuple(json.loads(row["reasons"])),
                                 tuple(json.loads(row["excluded"])), row["reviewed_at"])
            for row in rows}


@dataclass(frozen=True)
class Draft:
    """A decision before it is recorded: the audit it rests on and the reviews behind it."""

    report: dict
    snapshot: list[dict]
    reviewers: list[dict]
    excluded: list[dict]
    refusal: Review | None
    decided_at: float
    appeal_deadline: float | None


def _amendment(engine: Engine, view: ChainView, application: dict, decision: dict,
               review: Review, excluded: Sequence[dict], *, carried: Sequence[dict] = (),
               appeal_deadline: float | None) -> Draft:
    """A decision on a fresh audit of the learner's record under the same version."""
    rule_set, _row = approved_rule_set(engine, view, application["rule_set_id"],
                                       application["version"])
    with engine.connect() as connection:
        learner = dict(connection.execute(select(learners).where(
            learners.c.id == application["learner_id"])).mappings().one())
    report, snapshot, _set_aside = _reaudit(engine, view, learner, rule_set, review.at)
    fresh = _review({"audit": json.dumps(report)}, review.stage, review.reviewer, "approve",
                    review.reasons, excluded, review.at)
    counted = {outcome for line in report["lines"] for outcome in line["outcome_ids"]}
    previous = json.loads(decision["document"])["reviewers"]
    return Draft(report=report, snapshot=snapshot,
                 reviewers=[*previous, fresh.to_json()],
                 excluded=[*(item for item in carried if item["credential"] in counted),
                           *fresh.excluded],
                 refusal=None, decided_at=review.at, appeal_deadline=appeal_deadline)


def _replace(connection: Connection, application: dict, decision: dict, draft: Draft) -> None:
    """Put a new decision in force in place of the current one."""
    connection.execute(update(decisions).where(decisions.c.id == decision["id"])
                       .values(in_force=False))
    count_decision(connection, application["institution_id"], decision, change=-1)
    _decide(connection, application, draft, sequence=decision["sequence"] + 1)


def granted_lines(report: dict, excluded: Collection[str]) -> list[dict]:
    """The lines of an audit report (JSON) a decision grants: every line but those resting on
    an excluded credential."""
    return [line for line in report["lines"] if not set(excluded).intersection(line["outcome_ids"])]


def credits_by_category(lines: Sequence[dict]) -> dict[str, Decimal]:
    """The credits granted lines add up to in each category (exemptions have none)."""
    categories: dict[str, Decimal] = defaultdict(Decimal)
    for line in lines:
        if line.get("category"):
            categories[line["category"]] += Decimal(str(line["credits"]))
    return dict(categories)


def _decide(connection: Connection, application: dict, draft: Draft, *,
            sequence: int = 1) -> None:
    """Record a decision: what the audit grants less the exclusions, unless refused."""
    gone = {item["credential"] for item in draft.excluded}
    lines = [] if draft.refusal else granted_lines(draft.report, gone)
    agreed = (honour(connection, application["agreement_id"], draft.report, gone)
              if application.get("agreement_id") else None)
    if agreed is not None and not draft.refusal:
        lines = [line for line in lines if not agreed.used.intersection(line["outcome_ids"])]
        lines += agreed.lines
    categories = credits_by_category(lines)
    reasons = [{"code": item["code"], "credentials": item["outcome_ids"],
                "rule": item.get("rule_id"), "params": item.get("params", {}),
                "message": explain(Code(item["code"]), item.get("params"))}
               for item in draft.report["refusals"]
               if agreed is None or not agreed.used.issuperset(item["outcome_ids"])]
    reasons += agreed.reasons if agreed is not None else []
    reasons += [{"code": str(Reason.EXCLUDED), "credentials": [item["credential"]],
                 "stage": item["stage"], "message": item["reason"]} for item in draft.excluded]
    if draft.refusal is not None:
        reasons += [{"code": str(Reason.REFUSED), "stage": draft.refusal.stage, "message": text}
                    for text in draft.refusal.reasons]
    document = {
        "rule_set": {"id": application["rule_set_id"], "version": application["version"],
                     "content_hash": "0x" + bytes(application["content_hash"]).hex(),
                     "institution": application["institution_id"]},
        "verdict": "granted" if lines else "refused",
        "credits": json_value(sum(categories.values(), Decimal(0))),
        "categories": json_value(dict(sorted(categories.items()))),
        "exempted_units": sorted({unit for line in lines if line["decision"] == "exemption"
                                  for unit in line.get("target_units", ())}),
        "lines": lines,
        "reasons": reasons,
        "excluded": draft.excluded,
        "reviewers": draft.reviewers,
        "decided_at": iso_utc(draft.decided_at),
        "appeal_deadline": iso_utc(draft.appeal_deadline),
        **({"agreement": agreed.document} if agreed is not None else {}),
    }
    decision_id = str(uuid.uuid4())
    connection.execute(insert(decisions).values(
        id=decision_id, application_id=application["id"], sequence=sequence,
        document=json.dumps(document), credits=float(document["credits"]),
        decided_at=draft.decided_at, appeal_deadline=draft.appeal_deadline, in_force=True,
        flagged=False))
    count_decision(connection, application["institution_id"],
                   {"decided_at": draft.decided_at, "credits": float(document["credits"])})
    used = {outcome for line in lines for outcome in line["outcome_ids"]}
    rows = [{"decision_id": decision_id, "credential_id": item["id"],
             "root": bytes.fromhex(item["root"]) if item["root"] else None,
             "digest": bytes.fromhex(item["digest"]) if item["digest"] else None}
            for item in draft.snapshot if item["id"] in used]
    if rows:
        connection.execute(insert(decision_credentials), rows)
    notify(connection, recipient_kind="learner", recipient_id=application["learner_id"],
           kind="decision_made", link=f"/me/applications/{application['id']}",
           once_key=f"decision:{decision_id}", now=draft.decided_at,
           params={"application": application["id"], "decision": decision_id,
                   "programme": programme_title(connection, application["rule_set_id"],
                                                application["version"]),
                   "verdict": document["verdict"], "credits": document["credits"],
                   "amended": sequence > 1})


def _appeal_json(row: dict) -> dict:
    return {
        "id": row["id"],
        "decision": row["decision_id"],
        "grounds": row["grounds"],
        "status": row["status"],
        "reasons": json.loads(row["reasons"]) if row["reasons"] else [],
        "reviewer": row["reviewer"],
        "filed_at": iso_utc(row["filed_at"]),
        "decided_at": iso_utc(row["decided_at"]),
    }
