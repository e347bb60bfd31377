"""Notices: what the bank tells a learner or an institution, kept in an inbox and, when the
learner chose it and SMTP is configured, sent by e-mail by the worker.

A notice holds plain facts (`params`: ids, titles, numbers, dates; never a national id) and is
rendered in the reader's language from its kind (`message`), in the inbox and in the e-mail,
which carries both languages since it is written outside any request. The worker step
(`work_once`) also notices what no request makes: credentials newly delivered to an account,
and share links and credentials about to expire.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, insert, literal, select, update
from sqlalchemy.exc import SQLAlchemyError

from bank.consents import EMAIL_NOTICES, end, give
from bank.identity import disclosure
from bank.tables import (
    NOTICE_RECIPIENTS,
    learners,
    notice_preferences,
    notices,
    shared_links,
    transcripts,
)
from infra.errors import FieldErrors, InvalidInput, MailFailed
from infra.mail import Mailer
from infra.paging import keyset_page
from infra.settings import Settings
from infra.times import iso_utc
from issuers.tables import batches, credentials, issuers, rule_sets, units

logger = logging.getLogger(__name__)

KINDS = (
    "credential_delivered",
    "decision_made",
    "decision_flagged",
    "appeal_answered",
    "agreement_decided",
    "share_expiring",
    "credential_expiring",
    "correction_answered",
    "account_closing",
    "application_waiting",
    "correction_waiting",
)
INSTITUTION_KINDS = ("application_waiting", "correction_waiting")
"""What an institution is told."""
LEARNER_KINDS = tuple(kind for kind in KINDS if kind not in INSTITUTION_KINDS)
"""What a learner is told, and may choose to get by e-mail (none by default)."""

LANGUAGES = ("zh", "en")
DAY = 86_400
EXPIRY_DAYS = 7
DELIVERY_WINDOW = 7 * DAY
WORK_SECONDS = 5.0
EXPIRY_SCAN_SECONDS = 3_600.0
OUTBOX_BATCH = 50
MAX_ATTEMPTS = 8
BACKOFF_SECONDS = 30.0
MAX_BACKOFF_SECONDS = 3_600.0
CLAIM_SECONDS = 600.0
INBOX_LIMIT = 100
PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"

_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)

# (title, text) of each kind in each language; {name} are params, {name_zh} preferred in Chinese.
MESSAGES: dict[str, dict[str, tuple[str, str]]] = {
    "credential_delivered": {
        "en": ("A credential was delivered",
               "{issuer} delivered “{title}” to your learning record."),
        "zh": ("新的学习成果证书已送达", "{issuer}颁发的“{title}”已存入你的学习档案。"),
    },
    "decision_made": {
        "en": ("Your application was decided",
               "Your application for {programme} was decided: {verdict}, {credits} credits."),
        "zh": ("你的认定申请已有决定",
               "你申请认定的“{programme}”已作出决定：{verdict}，{credits}学分。"),
    },
    "decision_amended": {
        "en": ("Your decision was amended",
               "The decision on your application for {programme} was amended: {verdict}, "
               "{credits} credits."),
        "zh": ("你的认定决定已变更",
               "你申请认定的“{programme}”的决定已变更：{verdict}，{credits}学分。"),
    },
    "decision_flagged": {
        "en": ("A decision is being reviewed again",
               "A credential your decision on {programme} relied on was revoked by its issuer; "
               "the city centre will review the decision."),
        "zh": ("你的认定决定将被复核",
               "你在“{programme}”的认定决定所依据的一份证书已被颁发机构撤销，市学分银行中心将复核该决定。"),
    },
    "appeal_answered": {
        "en": ("Your appeal was answered",
               "The city centre {outcome} the decision on your application for {programme}."),
        "zh": ("你的申诉已有结果", "市学分银行中心{outcome}你在“{programme}”的认定决定。"),
    },
    "agreement_decided": {
        "en": ("Your pre-approval request was decided",
               "Your pre-approval request for {programme} was {outcome}."),
        "zh": ("你的预先认定申请已有结果", "你在“{programme}”的预先认定申请已{outcome}。"),
    },
    "share_expiring": {
        "en": ("A share link expires soon", "Your share link to “{title}” stops working on "
               "{expires_on}."),
        "zh": ("分享链接即将失效", "你分享的“{title}”链接将于{expires_on}失效。"),
    },
    "credential_expiring": {
        "en": ("A credential expires soon",
               "“{title}” from {issuer} is valid until {expires_on}."),
        "zh": ("证书即将到期", "{issuer}颁发的“{title}”有效期至{expires_on}。"),
    },
    "account_closing": {
        "en": ("Your account is closing",
               "You closed your account: its personal data is erased on {erased_on}. Sign in "
               "before then to keep it."),
        "zh": ("你的账户正在注销",
               "你已申请注销账户：其个人信息将于{erased_on}清除。在此之前登录可保留账户。"),
    },
    "application_waiting": {
        "en": ("An application waits for first review",
               "An application for {programme} was submitted on {submitted_on} and waits for "
               "your first review."),
        "zh": ("有认定申请等待初审",
               "一份“{programme}”的认定申请已于{submitted_on}提交，等待你方初审。"),
    },
    "correction_answered": {
        "en": ("Your correction request was answered",
               "Your request to correct {about} was answered: {outcome}."),
        "zh": ("你的更正申请已有答复", "你申请更正{about}的请求已答复：{outcome}。"),
    },
    "correction_waiting": {
        "en": ("A correction request waits for your answer",
               "A learner asked on {requested_on} to correct {about}; answer it in your "
               "corrections queue."),
        "zh": ("有更正申请等待答复",
               "一名学习者于{requested_on}申请更正{about}，请在更正申请中答复。"),
    },
}
WORDS: dict[str, dict[str, str]] = {
    "granted": {"en": "granted", "zh": "准予认定"},
    "refused": {"en": "refused", "zh": "不予认定"},
    "upheld": {"en": "upheld", "zh": "维持了"},
    "amended": {"en": "amended", "zh": "变更了"},
    "approved": {"en": "approved", "zh": "批准"},
    "corrected": {"en": "corrected", "zh": "已更正"},
    "not-corrected": {"en": "not corrected, with reasons", "zh": "不予更正并说明理由"},
    "about:credential": {"en": "a credential", "zh": "一份证书"},
    "about:deposit": {"en": "a deposited credential", "zh": "一份存入的证书"},
    "about:decision": {"en": "a decision", "zh": "一项认定决定"},
    "about:account": {"en": "your account details", "zh": "账户信息"},
}
EMAIL_FOOTER = {
    "zh": "在学分银行查看：{url}",
    "en": "See it in the credit bank: {url}",
}


@dataclass(frozen=True)
class Message:
    """A notice as its reader reads it."""

    title: str
    text: str


@dataclass(frozen=True)
class Preferences:
    """Where a learner wants notices e-mailed and which kinds."""

    email: str | None
    kinds: tuple[str, ...]

    def emailed(self) -> frozenset[str]:
        """The kinds that go by e-mail: those chosen, when there is an address."""
        return frozenset(self.kinds) if self.email else frozenset()

    def to_json(self) -> dict:
        """The preferences as the API shows them."""
        return {"email": self.email, "kinds": list(self.kinds)}


def notify(connection: Connection, *, recipient_kind: str, recipient_id: str, kind: str,
           params: Mapping[str, object], link: str | None = None,
           once_key: str | None = None, now: float | None = None) -> int | None:
    """Record a notice in the caller's transaction, queued for e-mail when the learner chose
    its kind; with `once_key`, at most once (returns None when it was already given)."""
    if recipient_kind not in NOTICE_RECIPIENTS:
        raise ValueError(f"recipient_kind must be one of {NOTICE_RECIPIENTS}")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    if once_key is not None and connection.execute(
            select(notices.c.id).where(notices.c.once_key == once_key)).first() is not None:
        return None
    moment = now or time.time()
    emailed = recipient_kind == "learner" and kind in preferences_of(connection,
                                                                    recipient_id).emailed()
    return int(connection.execute(insert(notices).values(
        recipient_kind=recipient_kind, recipient_id=recipient_id, kind=kind,
        params=json.dumps(dict(params), ensure_ascii=False, sort_keys=True), link=link,
        once_key=once_key, created_at=moment, email_status=PENDING if emailed else None,
        email_attempts=0, email_after=moment if emailed else None,
    ).returning(notices.c.id)).scalar_one())


def message(kind: str, params: Mapping[str, Any], language: str) -> Message:
    """A notice's title and text in a language ("zh" or "en"; anything else reads English)."""
    language = language if language in LANGUAGES else "en"
    title, text = MESSAGES.get(kind, MESSAGES["decision_made"])[language]
    if kind == "decision_made" and params.get("amended"):
        title, text = MESSAGES["decision_amended"][language]
    values = _Values(language, params)
    return Message(title.format_map(values), text.format_map(values))


class _Values(dict):
    """A notice's params as a message reads them: the Chinese variant of a value in Chinese,
    words translated, and an empty text for a fact the notice lacks."""

    def __init__(self, language: str, params: Mapping[str, Any]) -> None:
        super().__init__()
        self.language = language
        self.params = params

    def __missing__(self, name: str) -> str:
        value = self.params.get(f"{name}_zh") if self.language == "zh" else None
        value = self.params.get(name) if value in (None, "") else value
        if isinstance(value, str) and value in WORDS:
            return WORDS[value][self.language]
        return "" if value is None else str(value)


# -- preferences --------------------------------------------------------------------------------


def preferences_of(target: Engine | Connection, learner_id: str) -> Preferences:
    """A learner's e-mail preferences (no address and no kinds until they chose)."""
    query = select(notice_preferences.c.email, notice_preferences.c.kinds).where(
        notice_preferences.c.learner_id == learner_id)
    if isinstance(target, Connection):
        row = target.execute(query).first()
    else:
        with target.connect() as connection:
            row = connection.execute(query).first()
    if row is None:
        return Preferences(email=None, kinds=())
    return Preferences(email=row.email, kinds=tuple(json.loads(row.kinds)))


def save_preferences(engine: Engine, learner_id: str, *, email: object, kinds: object,
                     now: float | None = None) -> Preferences:
    """Validate and keep a learner's e-mail preferences; `InvalidInput` names each bad field.
    Setting an address gives the e-mail notices consent, clearing it withdraws that consent."""
    problems: FieldErrors = {}
    address = email.strip() if isinstance(email, str) else email
    if address in (None, ""):
        address = None
    elif not isinstance(address, str) or len(address) > 254 or not _EMAIL.match(address):
        problems["email"] = ["must be an e-mail address such as name@example.cn"]
    if not isinstance(kinds, list | tuple) or not all(isinstance(kind, str) for kind in kinds):
        problems["kinds"] = ["must be a list of notice kinds"]
    elif unknown := sorted(set(kinds) - set(LEARNER_KINDS)):
        problems["kinds"] = [f"unknown kind(s): {', '.join(unknown)}"]
    elif kinds and address is None and "email" not in problems:
        problems["email"] = ["an e-mail address is needed to get notices by e-mail"]
    if problems:
        raise InvalidInput("the notice preferences are invalid", problems)
    assert isinstance(kinds, list | tuple)
    chosen = tuple(kind for kind in LEARNER_KINDS if kind in kinds)
    values = {"email": address, "kinds": json.dumps(list(chosen)), "updated_at": now or time.time()}
    with engine.begin() as connection:
        changed = connection.execute(update(notice_preferences).where(
            notice_preferences.c.learner_id == learner_id).values(**values))
        if changed.rowcount == 0:
            connection.execute(insert(notice_preferences).values(learner_id=learner_id, **values))
        if address is None:
            end(connection, learner_id, EMAIL_NOTICES, now=now)
        else:
            give(connection, learner_id, EMAIL_NOTICES, now=now)
    return Preferences(email=address if isinstance(address, str) else None, kinds=chosen)


# -- the inbox ----------------------------------------------------------------------------------


def inbox(engine: Engine, recipient_kind: str, recipient_id: str, *,
          limit: int = INBOX_LIMIT) -> list[dict]:
    """The recipient's latest notices, newest first (only theirs)."""
    return inbox_page(engine, recipient_kind, recipient_id, limit=limit)[0]


def inbox_page(engine: Engine, recipient_kind: str, recipient_id: str, *,
               after: str | None = None, limit: int = INBOX_LIMIT) -> tuple[list[dict], str | None]:
    """A page of the recipient's notices, newest first, after the cursor `after`, and the next
    (older) page's cursor; the index on (recipient, created) serves it."""
    query = (select(notices.c.id, notices.c.kind, notices.c.params, notices.c.link,
                    notices.c.created_at, notices.c.read_at, notices.c.email_status)
             .where(notices.c.recipient_kind == recipient_kind,
                    notices.c.recipient_id == recipient_id))
    with engine.connect() as connection:
        page = keyset_page(connection, query, (notices.c.created_at, notices.c.id), after=after,
                           limit=limit, descending=True)
    return [{**row, "params": json.loads(row["params"])} for row in page.rows], page.after


def unread_count(engine: Engine, recipient_kind: str, recipient_id: str) -> int:
    """How many of the recipient's notices are unread."""
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(notices).where(
            notices.c.recipient_kind == recipient_kind, notices.c.recipient_id == recipient_id,
            notices.c.read_at.is_(None))).scalar_one())


def mark_read(engine: Engine, recipient_kind: str, recipient_id: str, *,
              now: float | None = None) -> int:
    """Mark every unread notice of the recipient read; how many were."""
    with engine.begin() as connection:
        return connection.execute(update(notices).where(
            notices.c.recipient_kind == recipient_kind, notices.c.recipient_id == recipient_id,
            notices.c.read_at.is_(None)).values(read_at=now or time.time())).rowcount


def notice_json(row: Mapping[str, Any], language: str) -> dict:
    """A notice as the API shows it, rendered in a language."""
    rendered = message(row["kind"], row["params"], language)
    return {"id": row["id"], "kind": row["kind"], "title": rendered.title,
            "text": rendered.text, "params": row["params"], "link": row["link"],
            "created_at": iso_utc(row["created_at"]), "read": row["read_at"] is not None,
            "email": row["email_status"]}


# -- facts notices are made of ------------------------------------------------------------------


def programme_title(connection: Connection, rule_set_id: str, version: int) -> str:
    """The programme a rule-set version converts into (its id if it cannot be read)."""
    document = connection.execute(select(rule_sets.c.document).where(
        rule_sets.c.rule_set_id == rule_set_id, rule_sets.c.version == version)).scalar()
    try:
        return str(json.loads(str(document))["programme"]["title"])
    except (ValueError, KeyError, TypeError):
        return rule_set_id


def _date(seconds: float) -> str:
    return (iso_utc(seconds) or "")[:10]


# -- what the worker notices --------------------------------------------------------------------


def notice_deliveries(engine: Engine, *, now: float | None = None) -> int:
    """Tell learners of credentials anchored into their record lately (once each, only what
    their record shows); how many notices were made."""
    moment = now or time.time()
    key = literal("delivered:") + credentials.c.id
    query = (
        select(credentials.c.id, credentials.c.issuer_id, learners.c.id.label("learner_id"),
               units.c.title, issuers.c.name, issuers.c.name_zh)
        .join(batches, batches.c.id == credentials.c.batch_id)
        .join(learners, learners.c.did == credentials.c.learner_did)
        .join(issuers, issuers.c.id == credentials.c.issuer_id)
        .join(units, and_(units.c.issuer_id == credentials.c.issuer_id,
                          units.c.code == credentials.c.unit_code,
                          units.c.version == credentials.c.unit_version))
        .outerjoin(transcripts, transcripts.c.id == credentials.c.id)
        .outerjoin(notices, notices.c.once_key == key)
        .where(batches.c.anchored_at >= moment - DELIVERY_WINDOW,
               credentials.c.anchored.is_not(None), transcripts.c.id.is_(None),
               notices.c.id.is_(None))
        .order_by(batches.c.anchored_at, credentials.c.id)
    )
    made = 0
    with engine.begin() as connection:
        shown: dict[str, frozenset[str] | None] = {}
        for row in connection.execute(query).all():
            if row.learner_id not in shown:
                shown[row.learner_id] = disclosure(connection, row.learner_id).issuers()
            if not _shows(shown[row.learner_id], row.issuer_id):
                continue
            made += notify(connection, recipient_kind="learner", recipient_id=row.learner_id,
                           kind="credential_delivered", link="/me", now=moment,
                           once_key=f"delivered:{row.id}",
                           params={"credential": row.id, "title": row.title,
                                   "issuer": row.name, "issuer_zh": row.name_zh}) is not None
    return made


def notice_expiring(engine: Engine, *, now: float | None = None) -> int:
    """Tell learners of their share links and credentials that stop working within
    `EXPIRY_DAYS` (once each); how many notices were made."""
    moment = now or time.time()
    until = moment + EXPIRY_DAYS * DAY
    links = (select(shared_links.c.token, shared_links.c.learner_id, shared_links.c.kind,
                    shared_links.c.credential_json, shared_links.c.expires_at)
             .where(shared_links.c.learner_id.is_not(None), shared_links.c.revoked.is_(False),
                    shared_links.c.expires_at > moment, shared_links.c.expires_at <= until))
    held = (select(credentials.c.id, credentials.c.issuer_id, credentials.c.valid_until,
                   learners.c.id.label("learner_id"), units.c.title, issuers.c.name,
                   issuers.c.name_zh)
            .join(learners, learners.c.did == credentials.c.learner_did)
            .join(issuers, issuers.c.id == credentials.c.issuer_id)
            .join(units, and_(units.c.issuer_id == credentials.c.issuer_id,
                              units.c.code == credentials.c.unit_code,
                              units.c.version == credentials.c.unit_version))
            .where(credentials.c.anchored.is_not(None), credentials.c.valid_until > moment,
                   credentials.c.valid_until <= until))
    made = 0
    with engine.begin() as connection:
        for link in connection.execute(links).all():
            digest = hashlib.sha256(link.token.encode()).hexdigest()[:40]
            made += notify(connection, recipient_kind="learner", recipient_id=link.learner_id,
                           kind="share_expiring", link="/me/shares", now=moment,
                           once_key=f"share-expiring:{digest}",
                           params={"title": _shared_title(link.credential_json, link.kind),
                                   "expires_on": _date(link.expires_at)}) is not None
        shown: dict[str, frozenset[str] | None] = {}
        for row in connection.execute(held).all():
            if row.learner_id not in shown:
                shown[row.learner_id] = disclosure(connection, row.learner_id).issuers()
            if not _shows(shown[row.learner_id], row.issuer_id):
                continue
            made += notify(connection, recipient_kind="learner", recipient_id=row.learner_id,
                           kind="credential_expiring", link="/me", now=moment,
                           once_key=f"credential-expiring:{row.id}",
                           params={"credential": row.id, "title": row.title,
                                   "issuer": row.name, "issuer_zh": row.name_zh,
                                   "expires_on": _date(row.valid_until)}) is not None
    return made


def _shows(issuer_ids: Collection[str] | None, issuer_id: str) -> bool:
    return issuer_ids is None or issuer_id in issuer_ids


def _shared_title(credential_json: str, kind: str) -> str:
    try:
        name = json.loads(credential_json).get("name")
    except (ValueError, AttributeError):
        name = None
    return name if isinstance(name, str) else kind


# -- the e-mail outbox --------------------------------------------------------------------------


def send_outbox(engine: Engine, mailer: Mailer, *, public_url: str,
                now: float | None = None, limit: int = OUTBOX_BATCH) -> dict[str, int]:
    """Send the notices waiting for e-mail, each claimed first so it is never sent twice; a
    failure is tried again later (backing off) until `MAX_ATTEMPTS`. Counts by outcome."""
    moment = now or time.time()
    counts = {SENT: 0, PENDING: 0, FAILED: 0, "dropped": 0}
    with engine.begin() as connection:
        counts[FAILED] += connection.execute(update(notices).where(
            notices.c.email_status == SENDING,
            notices.c.email_after < moment - CLAIM_SECONDS).values(email_status=FAILED)).rowcount
        due = connection.execute(select(notices.c.id).where(
            notices.c.email_status == PENDING, notices.c.email_after <= moment)
            .order_by(notices.c.email_after, notices.c.id).limit(limit)).scalars().all()
    for notice_id in due:
        with engine.begin() as connection:
            claimed = connection.execute(update(notices).where(
                notices.c.id == notice_id, notices.c.email_status == PENDING).values(
                email_status=SENDING, email_after=moment)).rowcount
            row = connection.execute(select(notices).where(notices.c.id == notice_id)).one()
            address = preferences_of(connection, row.recipient_id).email
        if not claimed:
            continue
        outcome = _send(mailer, row, address, public_url)
        values: dict[str, object]
        if outcome is None:
            values, counts["dropped"] = {"email_status": None}, counts["dropped"] + 1
        elif outcome == SENT:
            values, counts[SENT] = {"email_status": SENT, "emailed_at": time.time()}, \
                counts[SENT] + 1
        else:
            attempts = row.email_attempts + 1
            final = outcome == FAILED or attempts >= MAX_ATTEMPTS
            values = {"email_status": FAILED if final else PENDING, "email_attempts": attempts,
                      "email_after": moment + min(BACKOFF_SECONDS * 2 ** (attempts - 1),
                                                  MAX_BACKOFF_SECONDS)}
            counts[FAILED if final else PENDING] += 1
        with engine.begin() as connection:
            connection.execute(update(notices).where(notices.c.id == notice_id).values(**values))
    return counts


def _send(mailer: Mailer, row: Any, address: str | None, public_url: str) -> str | None:
    """Send one notice: SENT, PENDING (try again), FAILED (for good) or None (no address)."""
    if not address or row.recipient_kind != "learner":
        return None
    subject, body = email_text(row.kind, json.loads(row.params),
                               f"{public_url.rstrip('/')}{row.link or '/me/notices'}")
    try:
        mailer.send(mailer.message(address, subject, body))
    except MailFailed as error:
        logger.warning("notice %s not e-mailed: %s", row.id, error.message)
        return FAILED if error.permanent else PENDING
    return SENT


def email_text(kind: str, params: Mapping[str, Any], url: str) -> tuple[str, str]:
    """A notice's e-mail: subject and plain-text body, in Chinese then English, with its link."""
    zh, en = message(kind, params, "zh"), message(kind, params, "en")
    subject = f"{zh.title} / {en.title}"
    body = "\n".join([zh.text, EMAIL_FOOTER["zh"].format(url=url), "", en.text,
                      EMAIL_FOOTER["en"].format(url=url), ""])
    return subject, body


# -- the worker ---------------------------------------------------------------------------------


def work_once(engine: Engine, settings: Settings, *, expiring: bool = True,
              now: float | None = None) -> dict[str, int]:
    """One pass: notice deliveries (and, if asked, what expires soon), then send the outbox
    when SMTP is configured."""
    done = {"delivered": notice_deliveries(engine, now=now),
            "expiring": notice_expiring(engine, now=now) if expiring else 0}
    mailer = Mailer.of(settings)
    if mailer is not None:
        done.update(send_outbox(engine, mailer, public_url=settings.public_url, now=now))
    return done


def work(engine: Engine, settings: Settings, stop: threading.Event,
         every: float = WORK_SECONDS) -> None:
    """Run `work_once` until `stop` is set, scanning for what expires soon once an hour."""
    scanned = 0.0
    while not stop.is_set():
        expiring = time.monotonic() - scanned >= EXPIRY_SCAN_SECONDS or not scanned
        try:
            done = work_once(engine, settings, expiring=expiring)
        except SQLAlchemyError as error:
            logger.warning("notices paused: %s", type(error).__name__)
        else:
            scanned = time.monotonic() if expiring else scanned
            if any(done.values()):
                logger.info("notices: %s", done)
        stop.wait(every)
