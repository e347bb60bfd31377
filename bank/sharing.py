"""Shareable links: verification results kept for a while, and learners' links (`/s/<token>`)."""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import Engine, RowMapping, Select, delete, insert, select, update

from bank.errors import InvalidShare
from bank.tables import SHARE_KINDS, shared_links, verification_results
from infra.paging import keyset_page

SHARE_PATH = "/s/"
TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")
LIST_PAGE = 50


@dataclass(frozen=True)
class SharedCredential:
    """What a share link shows: a credential or transcript (its JSON text) until it expires."""

    token: str
    credential_json: str
    kind: str
    expires_at: float


def new_token() -> str:
    """A random, unguessable URL-safe token (256 bits)."""
    return secrets.token_urlsafe(32)


def save_result(engine: Engine, credential: str, *, now: float, lifetime: float) -> str:
    """Keep a verified credential for `lifetime` seconds and return the token of its result link."""
    token = new_token()
    with engine.begin() as connection:
        connection.execute(
            delete(verification_results).where(verification_results.c.expires_at < now)
        )
        connection.execute(
            insert(verification_results).values(
                token=token, credential=credential, created_at=now, expires_at=now + lifetime
            )
        )
    return token


def saved_result(engine: Engine, token: str, *, now: float) -> str | None:
    """The credential behind a result link, or None when the link is unknown or has expired."""
    query = select(verification_results.c.credential).where(
        verification_results.c.token == token, verification_results.c.expires_at >= now
    )
    with engine.connect() as connection:
        return connection.execute(query).scalar_one_or_none()


@dataclass(frozen=True)
class OwnLink:
    """A share link as its learner lists it: what it shares, until when, and whether it is live."""

    token: str
    kind: str
    subject_id: str | None
    title: str | None
    created_at: float
    expires_at: float
    revoked: bool

    def live(self, now: float) -> bool:
        """Whether the link still opens."""
        return not self.revoked and self.expires_at >= now


def share(engine: Engine, credential_json: str, kind: str, *, now: float, lifetime: float,
          learner_id: str | None = None, subject_id: str | None = None) -> str:
    """Create a share link for a learner's credential or transcript; return its token."""
    if kind not in SHARE_KINDS:
        raise InvalidShare(f"kind must be one of {', '.join(SHARE_KINDS)}, not {kind!r}")
    if lifetime <= 0:
        raise InvalidShare("lifetime must be a positive number of seconds")
    token = new_token()
    with engine.begin() as connection:
        connection.execute(
            insert(shared_links).values(
                token=token,
                credential_json=credential_json,
                kind=kind,
                created_at=now,
                expires_at=now + lifetime,
                revoked=False,
                learner_id=learner_id,
                subject_id=subject_id,
            )
        )
    return token


def links_of(engine: Engine, learner_id: str, *, after: str | None = None,
             limit: int = LIST_PAGE) -> tuple[list[OwnLink], str | None]:
    """A page of the learner's share links, newest first, after the cursor `after`; and the
    next page's cursor. The index on (learner, created, token) serves it."""
    with engine.connect() as connection:
        page = keyset_page(connection, _own_links().where(shared_links.c.learner_id == learner_id),
                           (shared_links.c.created_at, shared_links.c.token), after=after,
                           limit=limit, descending=True)
    return [_own_link(row) for row in page.rows], page.after


def link_of(engine: Engine, learner_id: str, token: str) -> OwnLink | None:
    """One of the learner's share links, or None (also when it is someone else's)."""
    with engine.connect() as connection:
        row = connection.execute(_own_links().where(
            shared_links.c.token == token, shared_links.c.learner_id == learner_id)
        ).mappings().first()
    return None if row is None else _own_link(row)


def _own_links() -> Select:
    table = shared_links
    return select(table.c.token, table.c.kind, table.c.subject_id, table.c.credential_json,
                  table.c.created_at, table.c.expires_at, table.c.revoked)


def _own_link(row: RowMapping) -> OwnLink:
    return OwnLink(row["token"], row["kind"], row["subject_id"], _title(row["credential_json"]),
                   row["created_at"], row["expires_at"], row["revoked"])


def withdraw(engine: Engine, learner_id: str, token: str) -> bool:
    """Withdraw one of the learner's share links; False when it is not theirs."""
    table = shared_links
    with engine.begin() as connection:
        changed = connection.execute(update(table).where(
            table.c.token == token, table.c.learner_id == learner_id).values(revoked=True))
    return changed.rowcount == 1


def shared(engine: Engine, token: str, *, now: float) -> SharedCredential | None:
    """The credential behind a share link, or None when unknown, expired or withdrawn."""
    table = shared_links
    query = select(table.c.credential_json, table.c.kind, table.c.expires_at).where(
        table.c.token == token, table.c.expires_at >= now, table.c.revoked.is_(False)
    )
    with engine.connect() as connection:
        row = connection.execute(query).one_or_none()
    return None if row is None else SharedCredential(token, *row)


def share_token(url: str, origins: set[str]) -> str | None:
    """The token of a share link `{origin}/s/<token>` of this portal, else None (never fetched)."""
    parts = urlsplit(url.strip())
    origin = f"{parts.scheme}://{parts.netloc}".lower()
    if origin not in origins or not parts.path.startswith(SHARE_PATH):
        return None
    token = parts.path.removeprefix(SHARE_PATH).rstrip("/")
    return token if TOKEN.fullmatch(token) else None


def _title(credential_json: str) -> str | None:
    """The name a shared credential gives itself, for the learner's list of links."""
    try:
        document = json.loads(credential_json)
    except ValueError:
        return None
    name = document.get("name") if isinstance(document, dict) else None
    return name if isinstance(name, str) else None
