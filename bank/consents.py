"""Consents (同意): what a learner (or their guardian) agreed to, for which purpose and object,
under which version of the words, and when it was withdrawn.

The words live here, in code, like the notices' messages: a version names exactly one text in
each language, so a consent row's `text_version` pins what was agreed to. A new wording gets a
new version; the old one stays in `EARLIER` so consents given under it still show their words.

Withdrawing has effects: for e-mail notices the address is erased (no more e-mail); for an
application still before its decision, the application is withdrawn (after a decision, the
decision stays, and an appeal under review is withdrawn); the account and guardian consents are
withdrawn only by closing the account. Accounts opened before consents were recorded show their
account consent as given then, without a version.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, select, update

from bank.aggregates import count_statuses
from bank.tables import (
    APPEALED,
    DECIDED,
    FIRST_REVIEWED,
    SUBMITTED,
    WITHDRAWN,
    appeals,
    applications,
    consents,
    decisions,
    learners,
    notice_preferences,
    notices,
)
from infra.audit import record
from infra.errors import Conflict, InvalidInput, NotFound
from infra.paging import keyset_page
from infra.times import iso_utc

ACCOUNT = "account"
APPLICATION = "application"
EMAIL_NOTICES = "email-notices"
GUARDIAN = "guardian"
LEARNER = "learner"
CLOSE_ACCOUNT = "/me/close"
GIVEN, WITHDRAWN_STATUS, BEFORE_RECORDS = "given", "withdrawn", "given-before-records"
LIST_PAGE = 50


@dataclass(frozen=True)
class ConsentText:
    """One version of a consent's words, in English and Chinese."""

    version: str
    en: str
    zh: str

    def in_language(self, language: str) -> str:
        """The words in a language ("zh" or "en"; anything else reads English)."""
        return self.zh if language == "zh" else self.en


TEXTS: dict[str, ConsentText] = {
    ACCOUNT: ConsentText(
        "account-2026-12",
        "I agree that the city credit bank keeps my learning account and the record in it (the "
        "credentials issued to me, my deposits, applications and decisions) and processes them "
        "to run the account: to show me my record, audit it against programmes, pass my "
        "applications to review and send me notices. Sensitive data is encrypted and seen only "
        "by those a task needs, and each such look is shown to me. I can withdraw this consent "
        "by closing the account.",
        "我同意市学分银行保存我的学习账户及其中的学习档案（颁发给我的证书、我提交的存入、认定申请和决定），"
        "并为运行账户而处理：向我展示档案、按专业审核档案、将我的申请送交审核、向我发送通知。"
        "敏感数据加密保存，只有办理相关事务所需的人员才能查看，每次查看都会告知我。"
        "我可以通过注销账户撤回本同意。",
    ),
    APPLICATION: ConsentText(
        "application-2026-12",
        "I agree that the credit bank shares, for this application only, my record as audited "
        "against the programme (the credentials it counts, with their grades and results) with "
        "the receiving institution and the city centre for review and decision. I can withdraw "
        "this consent while the application waits for its decision: the application is then "
        "withdrawn. A decision already made stays on record.",
        "我同意学分银行仅为本次申请，将按该专业审核后的学习档案（所计入的证书及其成绩和结果）"
        "提供给接收院校和市学分银行中心进行审核和认定。在申请作出决定前我可以撤回本同意，申请随之撤回；"
        "已作出的决定仍予保留。",
    ),
    EMAIL_NOTICES: ConsentText(
        "email-notices-2026-12",
        "I agree that the credit bank keeps my e-mail address and uses it only to e-mail me the "
        "kinds of notice I choose. Withdrawing this consent erases the address and stops the "
        "e-mails.",
        "我同意学分银行保存我的电子邮箱地址，仅用于向我发送我所选择的通知。"
        "撤回本同意后，邮箱地址即被删除，不再发送邮件。",
    ),
    GUARDIAN: ConsentText(
        "guardian-2026-12",
        "As the guardian of this learner, who is under 14, I agree that the city credit bank "
        "opens and keeps their learning account and processes their record to run it, as the "
        "account consent says, and that I see and manage the account until they turn 14.",
        "作为这名未满十四周岁学习者的监护人，我同意市学分银行为其开立并保存学习账户，"
        "按账户同意书所述处理其学习档案，并同意由我查看和管理该账户直至其年满十四周岁。",
    ),
}
"""The words in force for each purpose."""

EARLIER: dict[str, ConsentText] = {}
"""Earlier versions' words, by version: consents given under them still show what was agreed."""

PURPOSES = tuple(TEXTS)
CLOSED_BY_CLOSING = (ACCOUNT, GUARDIAN)
"""Purposes withdrawn only by closing the account (the account cannot run without them)."""


def text_of(version: str) -> ConsentText | None:
    """The words of a version, current or earlier (None for an unknown version)."""
    for text in TEXTS.values():
        if text.version == version:
            return text
    return EARLIER.get(version)


def give(connection: Connection, learner_id: str, purpose: str, *, object_id: str | None = None,
         given_by: str = LEARNER, now: float | None = None) -> str:
    """Record a consent under the words in force, in the caller's transaction (audited); the id
    of the consent already given and not withdrawn for the same purpose and object, if any."""
    if purpose not in TEXTS:
        raise InvalidInput(f"unknown consent purpose {purpose!r}",
                           {"purpose": [f"must be one of {', '.join(PURPOSES)}"]})
    held = connection.execute(select(consents.c.id).where(
        *_same(learner_id, purpose, object_id), consents.c.withdrawn_at.is_(None))).scalar()
    if held is not None:
        return str(held)
    consent_id = str(uuid.uuid4())
    version = TEXTS[purpose].version
    connection.execute(consents.insert().values(
        id=consent_id, learner_id=learner_id, purpose=purpose, object_id=object_id,
        text_version=version, given_by=given_by, given_at=now or time.time()))
    record(connection, actor=_actor(learner_id, given_by), action="consent.give",
           subject=consent_id, details={"purpose": purpose, "version": version})
    return consent_id


def holds(connection: Connection, learner_id: str, purpose: str,
          object_id: str | None = None) -> bool:
    """Whether the learner holds an unwithdrawn consent for the purpose (and object)."""
    return connection.execute(select(consents.c.id).where(
        *_same(learner_id, purpose, object_id), consents.c.withdrawn_at.is_(None))
    ).first() is not None


def end(connection: Connection, learner_id: str, purpose: str, object_id: str | None = None, *,
        now: float | None = None) -> int:
    """Mark the learner's unwithdrawn consents for a purpose (and object) withdrawn, in the
    caller's transaction, when the caller does what withdrawing means (audited); how many."""
    held = connection.execute(select(consents.c.id).where(
        *_same(learner_id, purpose, object_id), consents.c.withdrawn_at.is_(None))).scalars().all()
    for consent_id in held:
        _mark(connection, learner_id, consent_id, purpose, now or time.time())
    return len(held)


def withdraw(engine: Engine, learner_id: str, consent_id: str, *,
             now: float | None = None) -> dict:
    """Withdraw one of the learner's consents, with its effect (see the module); withdrawing
    again answers the consent as withdrawn. `Conflict` for a consent only closing ends."""
    moment = now or time.time()
    with engine.begin() as connection:
        row = connection.execute(select(consents).where(
            consents.c.id == consent_id, consents.c.learner_id == learner_id)).mappings().first()
        if row is None:
            raise NotFound(f"no consent {consent_id}")
        if row["withdrawn_at"] is not None:
            return consent_json(dict(row))
        if row["purpose"] in CLOSED_BY_CLOSING:
            raise Conflict("this consent is withdrawn by closing the account",
                           {"consent": [f"close the account instead: {CLOSE_ACCOUNT}"]})
        effect = None
        if row["purpose"] == EMAIL_NOTICES:
            effect = _erase_email(connection, learner_id)
        elif row["purpose"] == APPLICATION and row["object_id"] is not None:
            effect = _withdraw_application(connection, learner_id, row["object_id"], moment)
        _mark(connection, learner_id, consent_id, row["purpose"], moment)
        changed = connection.execute(select(consents).where(consents.c.id == consent_id)
                                     ).mappings().one()
    return {**consent_json(dict(changed)), "effect": effect}


@dataclass(frozen=True)
class ConsentPage:
    """A page of a learner's consents (as `consent_json` shows them) and the cursors of the
    next and previous pages (None at either end)."""

    consents: list[dict]
    next: str | None
    previous: str | None


def consents_of(target: Engine | Connection, learner_id: str, *, after: str | None = None,
                before: str | None = None, limit: int = LIST_PAGE) -> ConsentPage:
    """A page of the learner's consents, newest first, withdrawn ones too, after the cursor
    `after` or before `before` (the index on (learner, given, id) serves it); an account opened
    before consents were recorded shows its account consent last, as given then, without a
    version."""
    if isinstance(target, Connection):
        return _consent_page(target, learner_id, after, before, limit)
    with target.connect() as connection:
        return _consent_page(connection, learner_id, after, before, limit)


def consent_row(engine: Engine, learner_id: str, consent_id: str) -> dict:
    """One of the learner's consents; `NotFound` for anyone else's."""
    with engine.connect() as connection:
        row = connection.execute(select(consents).where(
            consents.c.id == consent_id, consents.c.learner_id == learner_id)).mappings().first()
    if row is None:
        raise NotFound(f"no consent {consent_id}")
    return consent_json(dict(row))


def application_consent(connection: Connection, application_id: str) -> dict | None:
    """The consent an application shares the record under (None for one made before)."""
    row = connection.execute(select(consents).where(
        consents.c.purpose == APPLICATION, consents.c.object_id == application_id)
        .order_by(consents.c.given_at.desc())).mappings().first()
    if row is None:
        return None
    return {"id": row["id"], "version": row["text_version"], "given_at": iso_utc(row["given_at"]),
            "withdrawn_at": iso_utc(row["withdrawn_at"])}


def consent_json(row: dict) -> dict:
    """A consent as its learner sees it: purpose, object, the words and version agreed to, by
    whom, when, and whether it was withdrawn."""
    text = text_of(row["text_version"])
    return {
        "id": row["id"],
        "purpose": row["purpose"],
        "object_id": row["object_id"],
        "version": row["text_version"],
        "text": {"en": text.en, "zh": text.zh} if text is not None else None,
        "given_by": row["given_by"],
        "given_at": iso_utc(row["given_at"]),
        "withdrawn_at": iso_utc(row["withdrawn_at"]),
        "status": WITHDRAWN_STATUS if row["withdrawn_at"] is not None else GIVEN,
    }


def texts_json() -> dict:
    """The words in force for each purpose, with their versions."""
    return {purpose: {"version": text.version, "en": text.en, "zh": text.zh}
            for purpose, text in TEXTS.items()}


# -- internals ----------------------------------------------------------------------------------


def _consent_page(connection: Connection, learner_id: str, after: str | None,
                  before: str | None, limit: int) -> ConsentPage:
    page = keyset_page(connection, select(consents).where(consents.c.learner_id == learner_id),
                       (consents.c.given_at, consents.c.id), after=after, before=before,
                       limit=limit, descending=True)
    listed = [consent_json(dict(row)) for row in page.rows]
    if before is None and page.after is None:
        listed += _before_records(connection, learner_id)
    return ConsentPage(listed, page.after, page.before)


def _before_records(connection: Connection, learner_id: str) -> list[dict]:
    """The account consent of an account opened before consents were recorded (none once an
    account or guardian consent is on record)."""
    recorded = connection.execute(select(consents.c.id).where(
        consents.c.learner_id == learner_id, consents.c.purpose.in_(CLOSED_BY_CLOSING)).limit(1)
    ).first()
    opened = None if recorded is not None else connection.execute(
        select(learners.c.created_at).where(learners.c.id == learner_id)).scalar()
    if opened is None:
        return []
    return [{"id": None, "purpose": ACCOUNT, "object_id": None, "version": None, "text": None,
             "given_by": LEARNER, "given_at": iso_utc(opened), "withdrawn_at": None,
             "status": BEFORE_RECORDS}]


def _same(learner_id: str, purpose: str, object_id: str | None) -> tuple:
    return (consents.c.learner_id == learner_id, consents.c.purpose == purpose,
            consents.c.object_id.is_(None) if object_id is None
            else consents.c.object_id == object_id)


def _actor(learner_id: str, given_by: str) -> str:
    """Who acted, as the audit log names them: the learner by account id, a guardian by role only
    (their DID stays in the consent row), anyone else as given."""
    if given_by == LEARNER:
        return f"learner:{learner_id}"
    if given_by.startswith("did:"):
        return f"guardian:of:{learner_id}"
    return given_by


def _mark(connection: Connection, learner_id: str, consent_id: str, purpose: str,
          moment: float) -> None:
    connection.execute(update(consents).where(consents.c.id == consent_id,
                                              consents.c.withdrawn_at.is_(None))
                       .values(withdrawn_at=moment))
    record(connection, actor=f"learner:{learner_id}", action="consent.withdraw",
           subject=consent_id, details={"purpose": purpose})


def _erase_email(connection: Connection, learner_id: str) -> str:
    """Erase the learner's e-mail address and kinds, and drop e-mails not yet sent."""
    connection.execute(update(notice_preferences).where(
        notice_preferences.c.learner_id == learner_id).values(
        email=None, kinds="[]", updated_at=time.time()))
    connection.execute(update(notices).where(
        notices.c.recipient_kind == "learner", notices.c.recipient_id == learner_id,
        notices.c.email_status == "pending").values(email_status=None, email_after=None))
    return "email-erased"


def _withdraw_application(connection: Connection, learner_id: str, application_id: str,
                          moment: float) -> str:
    """Withdraw the application if no decision was made yet, or its appeal under review; a
    decision made stays."""
    row = connection.execute(select(applications.c.status, applications.c.institution_id).where(
        applications.c.id == application_id, applications.c.learner_id == learner_id)).first()
    if row is None:
        return "none"
    if row.status in (SUBMITTED, FIRST_REVIEWED):
        changed = connection.execute(update(applications).where(
            applications.c.id == application_id, applications.c.status == row.status)
            .values(status=WITHDRAWN, updated_at=moment))
        if changed.rowcount == 0:
            raise Conflict("the application was reviewed meanwhile; try again")
        count_statuses(connection, row.institution_id, {row.status: -1, WITHDRAWN: 1})
        record(connection, actor=f"learner:{learner_id}", action="application.withdraw",
               subject=application_id)
        return "application-withdrawn"
    if row.status == APPEALED:
        in_force = select(decisions.c.id).where(decisions.c.application_id == application_id,
                                                decisions.c.in_force.is_(True))
        connection.execute(update(appeals).where(appeals.c.decision_id.in_(in_force),
                                                 appeals.c.status == "pending")
                           .values(status=WITHDRAWN, decided_at=moment))
        changed = connection.execute(update(applications).where(
            applications.c.id == application_id, applications.c.status == APPEALED)
            .values(status=DECIDED, updated_at=moment))
        if changed.rowcount == 0:
            raise Conflict("the appeal was decided meanwhile; try again")
        count_statuses(connection, row.institution_id, {APPEALED: -1, DECIDED: 1})
        record(connection, actor=f"learner:{learner_id}", action="appeal.withdraw",
               subject=application_id)
        return "appeal-withdrawn"
    return "decision-kept"
