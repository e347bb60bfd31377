"""Sensitive personal columns sealed at rest: AES-256-GCM under column keys derived from the
master key, in numbered generations so the key can be rotated.

A sealed value is stored as `sealed:<generation>:<base64 of nonce and ciphertext>`; the column's
name is the associated data, so a value moved to another column no longer opens. Each engine
carries its own key ring (`attach`), found through the engine's dialect when a row is written or
read; an engine without one refuses to touch a sealed column. The current generation is the
newest in `column_keys`: an engine re-reads it when it hands out a pooled connection, at most
every `REFRESH_SECONDS`, so running processes follow a rotation without a restart.

A text of `COMPRESS_FROM` UTF-8 bytes or more (a credential document, a report) is compressed
before it is sealed (raw DEFLATE at zlib level `COMPRESS_LEVEL` with the preset `DICTIONARY` of
the credential documents' vocabulary) when that makes it smaller, and stored as
`sealed:<generation>:z1:<base64>`, sealed with the column's name and the flag as associated
data: adding or removing the flag makes the value fail to open. A reader from before
compression sees the generation, fails to open the value and says so (`SealingFailed`): it never
takes it for plain text. Small personal fields (a birth date, a name) are sealed as they are.

Compressing before encrypting makes a value's length depend on its content (CRIME, BREACH); that
leaks a secret only where an attacker puts text of their choosing beside it in one compressed
value and observes the sealed size, many times over. Not here: each value is compressed alone
(the preset dictionary is a constant, never other values), written by the bank from one
learner's or issuer's data, and its stored size is seen only by whoever reads the database
files, never in an answer, so no one has both the chosen text and a size oracle.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    ColumnClause,
    Connection,
    Dialect,
    Engine,
    Float,
    Integer,
    MetaData,
    Row,
    Table,
    Text,
    column,
    event,
    func,
    insert,
    select,
    table,
    tuple_,
    update,
)
from sqlalchemy.types import TypeDecorator

from infra.errors import MasterKeyError
from infra.keyring import PREFIX, KeyRing, generation_of
from infra.metadata import metadata
from infra.secrets import MASTER_KEY_ENV

BATCH = 500
"""Rows re-sealed per transaction by a migration or a rotation."""
OIDC_SUBJECT_TAG = "oidc subject"

column_keys = Table(
    "column_keys",
    metadata,
    Column("generation", Integer, primary_key=True, autoincrement=False),
    Column("created_at", Float, nullable=False),
    Column("retired_at", Float),
)
"""The generations of column keys: the newest seals what is written; older ones only open what
a rotation has not re-sealed yet (`retired_at` is set once nothing sealed under it is left)."""


def oidc_subject_hash(ring: KeyRing, issuer: str, subject: str) -> str:
    """How a city identity's subject is kept: a keyed hash of issuer and subject, never the
    subject itself."""
    return ring.tag(OIDC_SUBJECT_TAG, f"{issuer}\n{subject}")


_rings: weakref.WeakKeyDictionary[Dialect, KeyRing] = weakref.WeakKeyDictionary()


def attach(engine: Engine, ring: KeyRing) -> None:
    """Let `engine` seal and open sealed columns with `ring`, following the current generation."""
    _rings[engine.dialect] = ring
    errors = engine.dialect.loaded_dbapi.Error

    def follow(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        ring.follow(dbapi_connection, errors)

    event.listen(engine, "checkout", follow)


def ring_of(target: Engine | Dialect) -> KeyRing:
    """The key ring attached to an engine (or its dialect); `MasterKeyError` when there is none."""
    dialect = target.dialect if isinstance(target, Engine) else target
    ring = _rings.get(dialect)
    if ring is None:
        raise MasterKeyError(f"this database holds sealed columns and was opened without a "
                             f"master key: set {MASTER_KEY_ENV}")
    return ring


class Sealed(TypeDecorator[str]):
    """A text column stored sealed (see the module); `column` is "table.column"."""

    impl = Text
    cache_ok = True

    def __init__(self, column: str) -> None:
        super().__init__()
        self.column = column

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        """Seal a value on its way into the database."""
        return None if value is None else ring_of(dialect).seal(value, self.column)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        """Open a value on its way out of the database."""
        return None if value is None else ring_of(dialect).open(value, self.column)


def sealed_columns(tables: MetaData = metadata) -> list[tuple[Table, Column]]:
    """Every sealed column of the tables defined on `tables`, in a stable order."""
    return [(found, each) for found in tables.sorted_tables for each in found.columns
            if isinstance(each.type, Sealed)]


def stored_batches(connection: Connection, table_name: str, keys: Sequence[str], name: str, *,
                   skip_prefix: str = "", batch: int = BATCH) -> Iterator[Sequence[Row]]:
    """The rows (keys..., stored value) of a column's non-null values as stored (not opened),
    `batch` at a time in key order, leaving out values that start with `skip_prefix`."""
    raw = table(table_name, *(column(key) for key in keys), column(name))
    key_columns = [raw.c[key] for key in keys]
    last: Sequence[Any] | None = None
    while True:
        query = (select(*key_columns, raw.c[name]).where(raw.c[name].is_not(None))
                 .order_by(*key_columns).limit(batch))
        if skip_prefix:
            query = query.where(~raw.c[name].startswith(skip_prefix, autoescape=True))
        if last is not None:
            query = query.where(tuple_(*key_columns) > tuple_(*last))
        rows = connection.execute(query).all()
        if not rows:
            return
        yield rows
        last = tuple(rows[-1])[:len(keys)]


def store(connection: Connection, table_name: str, keys: Sequence[str], row: Row, name: str,
          value: str, *, was: str | None = None, **also: Any) -> int:
    """Write a column's stored value (as is, not sealed again) and `also` into the row with
    `row`'s keys (only while it still holds `was`, when given); how many rows changed."""
    raw = table(table_name, *(column(key) for key in keys), column(name),
                *(column(other) for other in also))
    where = [raw.c[key] == tuple(row)[index] for index, key in enumerate(keys)]
    if was is not None:
        where.append(raw.c[name] == was)
    return connection.execute(update(raw).where(*where).values({name: value, **also})).rowcount


@dataclass(frozen=True)
class Rotation:
    """What a key rotation did: the generation now sealing, the values re-sealed under it, the
    generations retired, and how many values still wait (a process that wrote under an older
    generation before it followed the rotation: run the rotation again)."""

    generation: int
    resealed: int
    retired: tuple[int, ...]
    waiting: int
    resumed: bool


def rotate(engine: Engine, *, batch: int = BATCH,
           progress: Callable[[str, int, int], None] | None = None) -> Rotation:
    """Seal every sealed value under a new column-key generation, `batch` rows a transaction,
    then retire the generations no value uses. An unfinished rotation (an older generation not
    yet retired) is resumed instead of starting another."""
    ring = ring_of(engine)
    with engine.begin() as connection:
        known = dict(connection.execute(
            select(column_keys.c.generation, column_keys.c.retired_at)).all())
        newest = max(known, default=0)
        resumed = any(retired is None for generation, retired in known.items()
                      if generation < newest)
        if not known:
            connection.execute(insert(column_keys).values(generation=1, created_at=time.time()))
            newest = 1
        if not resumed:
            newest += 1
            connection.execute(insert(column_keys).values(generation=newest,
                                                          created_at=time.time()))
    ring.generation = newest
    resealed = sum(_reseal(engine, ring, found, sealed, newest, batch, progress)
                   for found, sealed in sealed_columns())
    return _retire(engine, newest, resealed, resumed)


def _reseal(engine: Engine, ring: KeyRing, found: Table, sealed: Column, generation: int,
            batch: int, progress: Callable[[str, int, int], None] | None) -> int:
    """Seal one column's values of other generations under `generation`, a transaction a
    batch; how many were re-sealed."""
    keys = [key.name for key in found.primary_key.columns]
    name = f"{found.name}.{sealed.name}"
    current = f"{PREFIX}{generation}:"
    raw: ColumnClause[Any] = column(sealed.name)
    resealed = done = 0
    with engine.connect() as connection:
        total = connection.execute(select(func.count()).select_from(table(found.name, raw)).where(
            raw.is_not(None), ~raw.startswith(current, autoescape=True))).scalar_one()
        for rows in stored_batches(connection, found.name, keys, sealed.name,
                                   skip_prefix=current, batch=batch):
            for row in rows:
                stored = row[-1]
                plain = stored if generation_of(stored) is None else ring.open(stored, name)
                resealed += store(connection, found.name, keys, row, sealed.name,
                                  ring.seal(plain, name, generation=generation), was=stored)
            connection.commit()
            done += len(rows)
            if progress is not None:
                progress(name, done, total)
    return resealed


def _retire(engine: Engine, newest: int, resealed: int, resumed: bool) -> Rotation:
    """Retire the generations older than `newest` that no stored value uses any more."""
    used: set[int] = set()
    waiting = 0
    current = f"{PREFIX}{newest}:"
    with engine.begin() as connection:
        for found, sealed in sealed_columns():
            keys = [key.name for key in found.primary_key.columns]
            for rows in stored_batches(connection, found.name, keys, sealed.name,
                                       skip_prefix=current):
                waiting += len(rows)
                used.update(generation_of(row[-1]) or 0 for row in rows)
        unused = (column_keys.c.generation < newest, column_keys.c.retired_at.is_(None),
                  column_keys.c.generation.not_in(used))
        retired = tuple(connection.execute(select(column_keys.c.generation).where(*unused)
                                           .order_by(column_keys.c.generation)).scalars())
        connection.execute(update(column_keys).where(*unused).values(retired_at=time.time()))
    return Rotation(generation=newest, resealed=resealed, retired=retired, waiting=waiting,
                    resumed=resumed)
