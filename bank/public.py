"""What the credit bank shows anyone, without signing in: its member institutions as the chain
records them, and its programmes with the approved rule-set version in force.

A published rule-set version never changes (RuleRegistry keeps its hash, and an approval is
never withdrawn), so each approved version is read, parsed, indexed and checked against the
chain once per process: `PublishedRuleSets` keeps it under (rule set id, version, content hash)
for the life of the process, at most `CACHE_SIZE` versions (the least recently used leave
first). A request then reads only the rule sets' small columns (not their documents) and finds
every version it needs already parsed, indexed and chain-checked. Once 10,000 rules more are
cached, the heap is settled (`_settle_heap`) so that the collector stops rescanning them.
"""

from __future__ import annotations

import gc
import json
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Connection, Engine, select

from credentials.model import KINDS
from infra.errors import NotFound
from issuers.tables import issuer_keys, issuers, rule_sets
from ledger.views import ChainView
from rules.evaluation import RuleBook
from rules.fields import json_value
from rules.rulesets import RuleSet, load_rule_set

CACHE_SIZE = 4_096
SETTLE_AFTER_RULES = 10_000
MAX_LEVEL_BIT = 32
ACCREDITED = "accredited"
SUSPENDED = "suspended"
EXPIRED = "expired"
NOT_YET = "not-yet-valid"


@dataclass(frozen=True)
class Published:
    """An approved rule-set version, parsed, indexed and checked against its anchored hash."""

    rule_set: RuleSet
    book: RuleBook
    row: dict

    @property
    def content_hash(self) -> str:
        """The anchored content hash, 0x-hex."""
        return "0x" + bytes(self.row["content_hash"]).hex()


class PublishedRuleSets:
    """The process's approved rule-set versions, by (rule set id, version, content hash)."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[str, int, bytes], Published] = OrderedDict()
        self._lock = threading.Lock()
        self._unsettled = 0

    def get(self, engine: Engine, view: ChainView, row: dict) -> Published | None:
        """The approved version a rule_sets row (without its document) names, read, parsed and
        chain-checked on first use; None if the chain does not approve it with that hash."""
        key = (row["rule_set_id"], row["version"], bytes(row["content_hash"]))
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                return found
        found = _checked(engine, view, row)
        if found is not None:
            with self._lock:
                self._entries[key] = found
                while len(self._entries) > self._size:
                    self._entries.popitem(last=False)
                self._unsettled += len(found.rule_set.rules)
                settle = self._unsettled >= SETTLE_AFTER_RULES
                if settle:
                    self._unsettled = 0
            if settle:
                _settle_heap()
        return found


def _settle_heap() -> None:
    """Take what the process holds now (the parsed rule sets above all: 100 programmes of 1,000
    rules are millions of objects) out of the cycle collector's full scans, which would
    otherwise walk them all every few hundred requests (pauses of a second); garbage is
    collected first, and what is frozen is still freed by reference counting when the cache
    lets it go."""
    gc.collect()
    gc.freeze()


_CACHES: weakref.WeakKeyDictionary[Engine, PublishedRuleSets] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def published_rule_sets(engine: Engine) -> PublishedRuleSets:
    """The cache of the approved versions this database holds (one per engine and process)."""
    with _CACHES_LOCK:
        cache = _CACHES.get(engine)
        if cache is None:
            cache = _CACHES[engine] = PublishedRuleSets()
        return cache


# -- institutions -------------------------------------------------------------------------------


def institutions(engine: Engine, view: ChainView) -> list[dict]:
    """Every institution the chain accredits (or once did), by name, as `institution` shows it."""
    with engine.connect() as connection:
        rows = [dict(row) for row in connection.execute(
            select(issuers).order_by(issuers.c.name, issuers.c.id)).mappings()]
        keys = _keys(connection, None)
    found = [_institution(view, row, keys.get(row["id"], [])) for row in rows]
    return [item for item in found if item is not None]


def institution(engine: Engine, view: ChainView, issuer_id: str) -> dict:
    """An institution as the chain records it: name, DID and its document's link, scope (kinds
    and levels), accreditation window and status, signing keys and their windows (blocks)."""
    with engine.connect() as connection:
        row = connection.execute(select(issuers).where(issuers.c.id == issuer_id)
                                 ).mappings().first()
        keys = _keys(connection, issuer_id)
    found = _institution(view, dict(row), keys.get(issuer_id, [])) if row else None
    if found is None:
        raise NotFound(f"no institution {issuer_id!r}")
    return found


def _keys(connection: Connection, issuer_id: str | None) -> dict[str, list[bytes]]:
    query = select(issuer_keys.c.issuer_id, issuer_keys.c.public_key).order_by(issuer_keys.c.id)
    if issuer_id is not None:
        query = query.where(issuer_keys.c.issuer_id == issuer_id)
    keys: dict[str, list[bytes]] = {}
    for row in connection.execute(query):
        keys.setdefault(row.issuer_id, []).append(bytes(row.public_key))
    return keys


def _institution(view: ChainView, row: dict, public_keys: list[bytes]) -> dict | None:
    record = view.issuer_by_did(row["did"])
    if record is None:
        return None
    signing_keys = []
    for public_key in public_keys:
        key = view.key(record.issuer_id, public_key)
        if key is not None:
            signing_keys.append({"public_key": "0x" + public_key.hex(),
                                 "registered_block": key.registered_block,
                                 "retired_block": key.retired_block or None})
    return {
        "id": row["id"],
        "name": row["name"],
        "name_zh": row["name_zh"],
        "url": row["url"],
        "did": record.did,
        "did_document": f"/issuers/{row['id']}/did.json",
        "kinds": [kind for bit, kind in enumerate(KINDS) if record.kind_mask >> bit & 1],
        "levels": [level for level in range(MAX_LEVEL_BIT) if record.level_mask >> level & 1],
        "valid_from": _day(record.valid_from),
        "valid_until": _day(record.valid_until),
        "status": _status(record.suspended, record.valid_from, record.valid_until),
        "keys": signing_keys,
    }


def _status(suspended: bool, valid_from: int, valid_until: int) -> str:
    now = datetime.now(UTC).timestamp()
    if suspended:
        return SUSPENDED
    if valid_from and now < valid_from:
        return NOT_YET
    if valid_until and now > valid_until:
        return EXPIRED
    return ACCREDITED


def _day(seconds: int) -> str | None:
    return datetime.fromtimestamp(seconds, UTC).date().isoformat() if seconds else None


# -- programmes ---------------------------------------------------------------------------------


def in_force(engine: Engine, view: ChainView, *, as_of: date) -> list[Published]:
    """The approved version in force on `as_of` of every rule set that has one (the newest such
    version), by rule set id."""
    return _in_force(engine, view, _version_rows(engine, None), as_of)


def _in_force(engine: Engine, view: ChainView, rows: list[dict], as_of: date) -> list[Published]:
    chosen: dict[str, Published] = {}
    for row in rows:
        if row["approved_block"] is None or row["rule_set_id"] in chosen:
            continue
        published = published_rule_sets(engine).get(engine, view, row)
        if published is not None and published.rule_set.in_force(as_of):
            chosen[row["rule_set_id"]] = published
    return list(chosen.values())


def programmes(engine: Engine, view: ChainView, *, as_of: date) -> list[dict]:
    """Every programme with an approved rule-set version in force on `as_of`: title, code,
    institution, that version, its hash, the blocks that anchored and approved it, and the
    history of the rule set's versions."""
    rows = _version_rows(engine, None)
    names = _institution_names(engine)
    history: dict[str, list[dict]] = {}
    for row in rows:
        history.setdefault(row["rule_set_id"], []).append(row)
    found = []
    for published in _in_force(engine, view, rows, as_of):
        found.append(_programme(engine, view, published, history[published.rule_set.rule_set_id],
                                names))
    return sorted(found, key=lambda item: (item["title"], item["rule_set_id"]))


def programme(engine: Engine, view: ChainView, rule_set_id: str, *, as_of: date) -> dict:
    """One programme as `programmes` lists it, plus its requirements and its rules (as data),
    with the parsed rule set of the version in force as `rule_set`; `NotFound` if it has no
    approved version in force."""
    rows = _version_rows(engine, rule_set_id)
    for row in rows:
        if row["approved_block"] is None:
            continue
        published = published_rule_sets(engine).get(engine, view, row)
        if published is not None and published.rule_set.in_force(as_of):
            found = _programme(engine, view, published, rows, _institution_names(engine))
            rule_set = published.rule_set
            document = rule_set.to_json()
            return {**found,
                    "requirements": document["programme"],
                    "rules": document["rules"],
                    "owner_did": rule_set.owner_did,
                    "rule_set": rule_set}
    raise NotFound(f"no programme {rule_set_id!r} in force",
                   {"rule_set_id": ["no approved version in force"]})


def _programme(engine: Engine, view: ChainView, published: Published, versions: list[dict],
               names: dict[str, tuple[str, str | None]]) -> dict:
    rule_set = published.rule_set
    issuer_id = published.row["issuer_id"]
    name, name_zh = names.get(issuer_id, (issuer_id, None))
    return {
        "rule_set_id": rule_set.rule_set_id,
        "code": rule_set.programme.code,
        "title": rule_set.programme.title,
        "credit_scheme": rule_set.programme.credit_scheme,
        "total_credits": json_value(rule_set.programme.total_credits),
        "institution": {"id": issuer_id, "name": name, "name_zh": name_zh},
        "version": _version(engine, view, published.row, published),
        "history": [_version(engine, view, row, None) for row in versions],
    }


def _version(engine: Engine, view: ChainView, row: dict, published: Published | None) -> dict:
    if published is None and row["approved_block"] is not None:
        published = published_rule_sets(engine).get(engine, view, row)
    rule_set = published.rule_set if published is not None else None
    return {
        "version": row["version"],
        "content_hash": "0x" + bytes(row["content_hash"]).hex(),
        "transaction_hash": row["transaction_hash"],
        "block": row["block"],
        "approved_block": row["approved_block"] if published is not None else None,
        "valid_from": rule_set.valid_from.isoformat() if rule_set else None,
        "valid_until": rule_set.valid_until.isoformat()
        if rule_set and rule_set.valid_until else None,
        "published_at": datetime.fromtimestamp(row["published_at"], UTC).isoformat(),
    }


def _version_rows(engine: Engine, rule_set_id: str | None) -> list[dict]:
    """The rule sets' versions (without documents), newest version first."""
    query = (select(rule_sets.c.rule_set_id, rule_sets.c.version, rule_sets.c.issuer_id,
                    rule_sets.c.content_hash, rule_sets.c.transaction_hash, rule_sets.c.block,
                    rule_sets.c.approved_block, rule_sets.c.published_at)
             .order_by(rule_sets.c.rule_set_id, rule_sets.c.version.desc()))
    if rule_set_id is not None:
        query = query.where(rule_sets.c.rule_set_id == rule_set_id)
    with engine.connect() as connection:
        return [dict(row) for row in connection.execute(query).mappings()]


def _institution_names(engine: Engine) -> dict[str, tuple[str, str | None]]:
    with engine.connect() as connection:
        return {row.id: (row.name, row.name_zh) for row in connection.execute(
            select(issuers.c.id, issuers.c.name, issuers.c.name_zh))}


def _checked(engine: Engine, view: ChainView, row: dict) -> Published | None:
    """Read, parse and index a version, and check it as `approved_rule_set` does: approved on
    chain, with the hash of its canonical document."""
    with engine.connect() as connection:
        document = connection.execute(select(rule_sets.c.document).where(
            rule_sets.c.rule_set_id == row["rule_set_id"],
            rule_sets.c.version == row["version"])).scalar_one()
    rule_set = load_rule_set(json.loads(document))
    content_hash = rule_set.content_hash()
    on_chain = view.rule_set(rule_set.rule_set_key(), row["version"])
    if (on_chain is None or not on_chain.approved_block or on_chain.content_hash != content_hash
            or bytes(row["content_hash"]) != content_hash):
        return None
    return Published(rule_set=rule_set, book=RuleBook.of(rule_set), row=dict(row))
