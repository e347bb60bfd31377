"""Staff accounts of the consoles: an institution's staff, and the city centre's operators.

A staff member signs in with a user name and a password (scrypt, as learners' passwords are);
`creditbank staff add` creates the account and prints a one-time password to hand over.
"""

from __future__ import annotations

import re
import secrets
import time
from pathlib import Path

import click
from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from bank.accounts import check_password, hash_password
from bank.tables import STAFF_ROLES, staff_accounts
from infra.audit import cli_actor, record
from infra.cli import data_option, database, settings_of
from infra.errors import Conflict, InvalidInput
from issuers.registry import issuer_record

INSTITUTION = "institution"
OPERATOR = "operator"
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


def add_staff(engine: Engine, username: str, *, role: str, actor: str,
              issuer_id: str | None = None, password: str | None = None) -> str:
    """Create a staff account (recorded in the audit log); returns its password (a fresh one
    unless given)."""
    if role not in STAFF_ROLES:
        raise InvalidInput(f"a staff role is one of {', '.join(STAFF_ROLES)}",
                           {"role": [f"unknown role {role!r}"]})
    if (role == INSTITUTION) != (issuer_id is not None):
        raise InvalidInput("institution staff belong to one issuer; operators to none",
                           {"issuer": ["required for institution staff only"]})
    if not _USERNAME.match(username):
        raise InvalidInput("a user name is 3–64 lower-case letters, digits, '.', '_' or '-'",
                           {"username": [repr(username)]})
    password = password or secrets.token_urlsafe(12)
    try:
        with engine.begin() as connection:
            connection.execute(insert(staff_accounts).values(
                username=username, role=role, issuer_id=issuer_id,
                password_hash=hash_password(password), created_at=time.time()))
            record(connection, actor=actor, action="staff.add", subject=username,
                   details={"role": role, "issuer": issuer_id})
    except IntegrityError:
        raise Conflict(f"the user name {username!r} is taken") from None
    return password


def authenticate(engine: Engine, username: str, password: str) -> dict | None:
    """The staff account whose user name and password these are, or None (in constant work)."""
    with engine.connect() as connection:
        row = connection.execute(select(staff_accounts).where(
            staff_accounts.c.username == username.strip().lower())).mappings().first()
    if row is None:
        check_password(password, _DUMMY_HASH)
        return None
    return dict(row) if check_password(password, row["password_hash"]) else None


@click.group("staff")
def staff_group() -> None:
    """Staff accounts of the institution and operator consoles."""


@staff_group.command("add")
@click.argument("username")
@click.option("--issuer", "issuer_id", help="The issuer id of the staff member's institution.")
@click.option("--operator", "is_operator", is_flag=True, help="An operator of the city centre.")
@data_option
def add_staff_command(username: str, issuer_id: str | None, is_operator: bool,
                      data_dir: Path | None) -> None:
    """Create a console account (--issuer ID or --operator); prints a one-time password."""
    if (issuer_id is None) == (not is_operator):
        raise click.UsageError("give --issuer ID or --operator (one of them)")
    with database(settings_of(data_dir)) as engine:
        if issuer_id is not None:
            issuer_record(engine, issuer_id)
        password = add_staff(engine, username, actor=cli_actor(),
                             role=OPERATOR if is_operator else INSTITUTION, issuer_id=issuer_id)
    click.echo(f"user:     {username}\npassword: {password}   (shown once: hand it over safely)")
