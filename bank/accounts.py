"""Learner accounts (个人学习账户): opened by the learner, in bulk by an institution for the
learners it issued to, or by the city centre after a check in person; each holds the real-name
identity only as a peppered hash beside the learner's DID. Activation codes, what proves who a
learner is (`bank.identity`), and the bearer tokens of learners and operators."""

from __future__ import annotations

import csv
import functools
import hashlib
import hmac
import io
import json
import secrets
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, Engine, Row, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from bank.aggregates import count_activation, count_learners
from bank.consents import ACCOUNT, give
from bank.consents import GUARDIAN as GUARDIAN_CONSENT
from bank.errors import GuardianNeeded
from bank.identity import ACTIVATION, CITY, IN_PERSON, add_proof, disclosure
from bank.minors import birth_date_of, guardian_of, needs_guardian, today
from bank.tables import activation_codes, guardians, learner_tokens, learners, operator_tokens
from infra.audit import record
from infra.errors import Conflict, Forbidden, InvalidInput, Unauthenticated
from infra.settings import Settings
from infra.times import iso_utc
from issuers.learners import learner_pepper, learner_ref
from issuers.tables import credentials

SELF = "self"
CENTRE = "centre"
GUARDIAN = "guardian"
LEARNER_TOKEN_PREFIX = "cbl_"
OPERATOR_TOKEN_PREFIX = "cbo_"
TOKEN_SECONDS = 12 * 3600
MIN_PASSWORD = 10
MAX_BULK = 10_000
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
SCRYPT_MAXMEM = 64 * 1024 * 1024


@dataclass(frozen=True)
class Opened:
    """An account an institution or the centre opened or found: its DID, the activation code
    handed out for it, and whether it waits for a guardian's consent (a learner under 14)."""

    did: str
    activation_code: str
    guardian_needed: bool = False

    def to_json(self) -> dict:
        """The account as the bulk-opening response lists it."""
        return {"did": self.did, "activation_code": self.activation_code,
                "guardian_needed": self.guardian_needed}


class Accounts:
    """Opens learner accounts and logs learners in, with the bank's pepper and DID host."""

    def __init__(self, engine: Engine, *, master_key: bytes, did_host: str) -> None:
        self.engine = engine
        self.pepper = learner_pepper(master_key)
        self.did_host = did_host

    @classmethod
    def of(cls, engine: Engine, settings: Settings) -> Accounts:
        """Accounts over a database, with the settings' master key and DID host."""
        return cls(engine, master_key=settings.master_key(), did_host=settings.did_host)

    def identity(self, national_id: str) -> tuple[str, str]:
        """The learner's (DID, identity hash) for a national id; never stores the id itself."""
        ref = learner_ref(national_id, self.pepper, self.did_host)
        return ref.did, ref.identifiers[0]["identityHash"]

    def open(self, national_id: str, password: str, *, display_name: str | None = None,
             activation_code: str | None = None) -> dict:
        """Open the learner's own account (which proves nothing about who they are), or activate
        one an institution or the centre opened, with the code it handed out; either gives the
        account consent (`bank.consents`)."""
        _check_password(password)
        did, identity_hash = self.identity(national_id)
        birth = birth_date_of(national_id)
        existing = self.by_did(did)
        if existing is None:
            if needs_guardian(birth, today()):
                raise GuardianNeeded
            row = _learner_row(did, identity_hash, SELF, display_name, _iso(birth))
            row["password_hash"] = hash_password(password)
            try:
                with self.engine.begin() as connection:
                    connection.execute(insert(learners).values(**row))
                    give(connection, row["id"], ACCOUNT)
                    count_learners(connection, [row], opened=1, activated=1)
            except IntegrityError:
                raise Conflict("an account for this learner already exists") from None
            return learner_json(row)
        if existing["password_hash"] is not None:
            raise Conflict("an account for this learner already exists; log in instead")
        values = {"password_hash": hash_password(password),
                  "birth_date": existing["birth_date"] or _iso(birth)}
        if display_name:
            values["display_name"] = display_name
        with self.engine.begin() as connection:
            if needs_guardian(birth, today()) and guardian_of(connection, existing["id"]) is None:
                raise GuardianNeeded
            code = _code_of(connection, existing["id"], activation_code)
            if code is None or (code.institution_id is not None
                                and disclosure(connection, existing["id"]).real_name):
                raise Forbidden(
                    "an institution or the centre opened this account: activate it with the "
                    "code it gave you", {"activation_code": ["is missing or wrong"]})
            _use_code(connection, existing["id"], code)
            connection.execute(update(learners).where(learners.c.id == existing["id"])
                               .values(**values))
            give(connection, existing["id"], ACCOUNT)
            count_learners(connection, [existing], activated=1)
        return learner_json({**existing, **values})

    def redeem(self, learner: dict, activation_code: str) -> None:
        """Unlock what an institution issued to the signed-in learner, with the code it gave."""
        with self.engine.begin() as connection:
            code = _code_of(connection, learner["id"], activation_code)
            if code is None:
                raise InvalidInput("this is not an activation code for your account",
                                   {"activation_code": ["is not a code for this account"]})
            _use_code(connection, learner["id"], code)

    def open_in_bulk(self, institution_id: str, national_ids: Sequence[str], *,
                     actor: str, opened_at: float | None = None) -> list[Opened]:
        """Open accounts for learners the institution issued credentials to, with an activation
        code for each (an existing account gets one too: it unlocks what this institution issued).
        A national id the institution issued nothing to is refused: it may only name its own.
        `opened_at` (unix seconds, default now) dates the accounts opened, when a bank's history
        is loaded (the city demo opens each learner's account when they enrolled)."""
        if not national_ids:
            raise InvalidInput("send at least one national id",
                               {"national_ids": ["must not be empty"]})
        if len(national_ids) > MAX_BULK:
            raise InvalidInput(f"at most {MAX_BULK} accounts per request",
                               {"national_ids": [f"at most {MAX_BULK} entries"]})
        identities: list[tuple[str, str, str | None]] = []
        errors: dict[str, object] = {}
        seen: dict[str, int] = {}
        for index, national_id in enumerate(national_ids):
            try:
                did, identity_hash = self.identity(national_id)
            except InvalidInput as error:
                errors[str(index)] = error.errors
                continue
            if did in seen:
                errors[str(index)] = {"national_id": [f"repeats entry {seen[did]}"]}
            seen.setdefault(did, index)
            identities.append((did, identity_hash, _iso(birth_date_of(national_id))))
        if errors:
            raise InvalidInput(f"{len(errors)} national ids are invalid; no account was opened",
                               {"national_ids": errors})
        strangers = seen.keys() - _issued_to(self.engine, institution_id, list(seen))
        if strangers:
            raise InvalidInput(
                f"{len(strangers)} national ids name learners this institution issued no "
                "credential to; no account was opened",
                {"national_ids": {str(seen[did]): {"national_id": [
                    "this institution issued no credential to this learner"]}
                    for did in sorted(strangers, key=seen.__getitem__)}})
        rows = []
        try:
            with self.engine.begin() as connection:
                known = dict(connection.execute(select(learners.c.did, learners.c.id).where(
                    learners.c.did.in_(list(seen)))).all())
                ids = []
                for did, identity_hash, birth in identities:
                    learner_id = known.get(did)
                    if learner_id is None:
                        row = _learner_row(did, identity_hash, institution_id, None,
                                           birth, created_at=opened_at)
                        learner_id = row["id"]
                        rows.append(row)
                    ids.append(learner_id)
                if rows:
                    connection.execute(insert(learners), rows)
                codes = _new_codes(connection, ids, institution_id, renewed=list(known.values()))
                opened = [Opened(did, code, _waits(connection, learner_id, birth))
                          for (did, _, birth), learner_id, code in zip(identities, ids, codes,
                                                                       strict=True)]
                count_learners(connection, rows, opened=1)
                record(connection, actor=actor, action="learners.open", subject=institution_id,
                       details={"opened": len(identities) - len(known), "existing": len(known)})
        except IntegrityError:
            raise Conflict("another request opened one of these accounts meanwhile; "
                           "send the file again") from None
        return opened

    def check_in_person(self, national_id: str, *, operator: str, actor: str) -> Opened:
        """An operator checked the learner's identity papers at the centre: the account (opened
        now if there is none) is proven in real name, its password and tokens end (whoever set
        them proved nothing), and a fresh activation code lets the learner set a new password."""
        did, identity_hash = self.identity(national_id)
        with self.engine.begin() as connection:
            learner_id = connection.execute(select(learners.c.id).where(
                learners.c.did == did)).scalar_one_or_none()
            birth = _iso(birth_date_of(national_id))
            if learner_id is None:
                row = _learner_row(did, identity_hash, CENTRE, None, birth)
                connection.execute(insert(learners).values(**row))
                count_learners(connection, [row], opened=1)
                learner_id = row["id"]
            add_proof(connection, learner_id, IN_PERSON, vouched_by=operator)
            _withdraw_password(connection, learner_id)
            code = _new_code(connection, learner_id, None)
            waits = _waits(connection, learner_id, birth)
            record(connection, actor=actor, action="learners.check_in_person", subject=did,
                   details={"operator": operator})
        return Opened(did, code, waits)

    def open_for_ward(self, national_id: str, *, guardian_did: str, display_name: str | None,
                      actor: str) -> Opened:
        """A guardian the city vouched for consents to the account of a child under 14: it opens
        (or, opened by an institution or the centre, is unlocked for activation) with the
        guardian's consent recorded and a fresh activation code for the guardian to hand on."""
        did, identity_hash = self.identity(national_id)
        birth = birth_date_of(national_id)
        if not needs_guardian(birth, today()):
            raise InvalidInput("only a learner under 14 needs a guardian to open the account",
                               {"national_id": ["is not of a learner under 14"]})
        with self.engine.begin() as connection:
            existing = connection.execute(select(learners).where(
                learners.c.did == did)).mappings().first()
            if existing is None:
                row = _learner_row(did, identity_hash, GUARDIAN, display_name, _iso(birth))
                connection.execute(insert(learners).values(**row))
                count_learners(connection, [row], opened=1)
                learner_id = row["id"]
            elif existing["password_hash"] is not None:
                raise Conflict("this learner's account is already in use",
                               {"national_id": ["has an activated account"]})
            else:
                learner_id = existing["id"]
                connection.execute(update(learners).where(learners.c.id == learner_id).values(
                    birth_date=existing["birth_date"] or _iso(birth),
                    display_name=existing["display_name"] or display_name))
            held = guardian_of(connection, learner_id)
            if held is not None and held["guardian_did"] != guardian_did:
                raise Conflict("another guardian already manages this learner's account",
                               {"national_id": ["has another guardian"]})
            consent_id = give(connection, learner_id, GUARDIAN_CONSENT, given_by=guardian_did)
            if held is None:
                connection.execute(insert(guardians).values(
                    learner_id=learner_id, guardian_did=guardian_did, consent_id=consent_id,
                    since=time.time()))
            code = _new_code(connection, learner_id, None)
            record(connection, actor=actor, action="learners.guardian", subject=did)
        return Opened(did, code)

    def prove_by_city(self, learner_id: str, provider: str, *, holds_password: bool) -> bool:
        """The city's single sign-on vouched for the learner's national id: their account is proven
        in real name. Unless the person also signed in with the account's password, a password set
        before any real-name proof ends with its tokens (whoever set it proved nothing); True then.
        """
        with self.engine.begin() as connection:
            if disclosure(connection, learner_id).real_name:
                return False
            add_proof(connection, learner_id, CITY, vouched_by=provider)
            password = connection.execute(select(learners.c.password_hash).where(
                learners.c.id == learner_id)).scalar_one()
            if holds_password or password is None:
                return False
            _withdraw_password(connection, learner_id)
        return True

    def authenticate(self, national_id: str, password: str) -> dict:
        """The account whose national id and password these are; `Unauthenticated` otherwise.

        An unknown or unactivated account costs the same password check, so the answer's timing
        does not tell whether the account exists.
        """
        did, _ = self.identity(national_id)
        learner = self.by_did(did)
        stored = learner["password_hash"] if learner is not None else None
        if (
            not check_password(password, stored or _decoy_hash())
            or learner is None
            or stored is None
        ):
            raise Unauthenticated("the national id or the password is wrong")
        return learner

    def new_token(self, learner: dict) -> dict:
        """A bearer token for a learner who signed in."""
        token = LEARNER_TOKEN_PREFIX + secrets.token_urlsafe(32)
        expires_at = time.time() + TOKEN_SECONDS
        with self.engine.begin() as connection:
            connection.execute(insert(learner_tokens).values(
                token_sha256=_sha256(token), learner_id=learner["id"], expires_at=expires_at))
        return {"token": token, "expires_at": iso_utc(expires_at), "learner": learner["did"]}

    def by_id(self, learner_id: str) -> dict | None:
        """The learner's account row by its id, or None."""
        with self.engine.connect() as connection:
            found = connection.execute(select(learners).where(
                learners.c.id == learner_id)).mappings().first()
        return dict(found) if found is not None else None

    def by_did(self, did: str) -> dict | None:
        """The learner's account row, or None."""
        with self.engine.connect() as connection:
            row = connection.execute(select(learners).where(learners.c.did == did)).mappings()
            found = row.first()
        return dict(found) if found is not None else None


def learner_of_token(engine: Engine, token: str) -> dict | None:
    """The learner whose unexpired token this is, or None."""
    query = (select(learners).join(learner_tokens, learner_tokens.c.learner_id == learners.c.id)
             .where(learner_tokens.c.token_sha256 == _sha256(token),
                    learner_tokens.c.expires_at > time.time()))
    with engine.connect() as connection:
        row = connection.execute(query).mappings().first()
    return dict(row) if row is not None else None


def revoke_token(engine: Engine, token: str) -> None:
    """End one learner token (its holder signs out of the API)."""
    with engine.begin() as connection:
        connection.execute(delete(learner_tokens).where(
            learner_tokens.c.token_sha256 == _sha256(token)))


def revoke_tokens(engine: Engine, learner_id: str) -> None:
    """End every API token of a learner (they signed out of the web)."""
    with engine.begin() as connection:
        connection.execute(delete(learner_tokens).where(
            learner_tokens.c.learner_id == learner_id))


def new_operator_token(engine: Engine, name: str, *, actor: str) -> str:
    """Create a token for an operator of the city centre (only its hash is stored)."""
    token = OPERATOR_TOKEN_PREFIX + secrets.token_urlsafe(32)
    with engine.begin() as connection:
        connection.execute(insert(operator_tokens).values(
            token_sha256=_sha256(token), name=name, created_at=time.time()))
        record(connection, actor=actor, action="operator.token", subject=f"operator:{name}")
    return token


def operator_of_token(engine: Engine, token: str) -> str | None:
    """The name of the operator whose token this is, or None."""
    with engine.connect() as connection:
        return connection.execute(select(operator_tokens.c.name).where(
            operator_tokens.c.token_sha256 == _sha256(token))).scalar_one_or_none()


def national_ids_from_file(data: bytes, filename: str) -> list[str]:
    """National ids from a CSV file with a `national_id` column, or a JSON list."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("the file is not UTF-8 text", {"file": ["is not UTF-8 text"]}) from None
    if filename.lower().endswith(".json"):
        try:
            value = json.loads(text)
        except ValueError:
            raise InvalidInput("the file is not JSON", {"file": ["is not JSON"]}) from None
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise InvalidInput("send a JSON list of national ids",
                               {"file": ["must be a list of strings"]})
        return value
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if "national_id" not in (reader.fieldnames or []):
        raise InvalidInput("the CSV file needs a national_id column",
                           {"file": {"line 1": ["missing column 'national_id'"]}})
    return [row["national_id"] or "" for row in reader]


def learner_json(row: dict) -> dict:
    """An account as its learner sees it (no identity, no secrets)."""
    return {
        "id": row["id"],
        "did": row["did"],
        "display_name": row["display_name"],
        "opened_by": row["opened_by"],
        "activated": row["password_hash"] is not None,
        "created_at": iso_utc(row["created_at"]),
    }


def hash_password(password: str) -> str:
    """`scrypt$n$r$p$salt$hash` of a password (hex), with a fresh salt: memory-hard (32 MiB)."""
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    """Whether a password matches its stored scrypt hash (with the parameters it was made with)."""
    _scheme, n, r, p, salt, digest = stored.split("$")
    candidate = _scrypt(password, bytes.fromhex(salt), int(n), int(r), int(p))
    return hmac.compare_digest(candidate.hex(), digest)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p,
                          maxmem=SCRYPT_MAXMEM, dklen=32)


@functools.cache
def _decoy_hash() -> str:
    """A hash no password matches, checked for unknown accounts (made once, on first use)."""
    return hash_password(secrets.token_urlsafe(32))


def _check_password(password: str) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise InvalidInput("the password is too short",
                           {"password": [f"must be at least {MIN_PASSWORD} characters"]})


def _learner_row(did: str, identity_hash: str, opened_by: str, display_name: str | None,
                 birth_date: str | None, *, created_at: float | None = None) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "did": did,
        "identity_hash": identity_hash,
        "display_name": display_name,
        "password_hash": None,
        "opened_by": opened_by,
        "created_at": time.time() if created_at is None else created_at,
        "birth_date": birth_date,
    }


def _iso(birth: date | None) -> str | None:
    return birth.isoformat() if birth is not None else None


def _waits(connection: Connection, learner_id: str, birth: str | None) -> bool:
    """Whether the account of a learner born on `birth` (ISO) waits for a guardian's consent."""
    born = date.fromisoformat(birth) if birth else None
    return needs_guardian(born, today()) and guardian_of(connection, learner_id) is None



def _issued_to(engine: Engine, institution_id: str, dids: list[str]) -> set[str]:
    """The DIDs among `dids` the institution issued a credential to."""
    with engine.connect() as connection:
        return set(connection.execute(select(credentials.c.learner_did).distinct().where(
            credentials.c.issuer_id == institution_id,
            credentials.c.learner_did.in_(dids))).scalars())


def _new_code(connection: Connection, learner_id: str, institution_id: str | None) -> str:
    """A fresh activation code of an institution (None: the centre) for a learner; it replaces
    the one that institution handed out before."""
    return _new_codes(connection, [learner_id], institution_id, renewed=[learner_id])[0]


def _new_codes(connection: Connection, learner_ids: Sequence[str], institution_id: str | None,
               *, renewed: Sequence[str]) -> list[str]:
    """Fresh activation codes of an institution (None: the centre) for learners, in one insert;
    for the `renewed` accounts they replace the ones that institution handed out before."""
    if renewed:
        connection.execute(delete(activation_codes).where(
            activation_codes.c.learner_id.in_(list(renewed)),
            activation_codes.c.institution_id.is_(None) if institution_id is None
            else activation_codes.c.institution_id == institution_id))
    codes = [secrets.token_urlsafe(12) for _ in learner_ids]
    now = time.time()
    connection.execute(insert(activation_codes), [
        {"code_sha256": _sha256(code), "learner_id": learner_id,
         "institution_id": institution_id, "created_at": now}
        for learner_id, code in zip(learner_ids, codes, strict=True)])
    return codes


def _code_of(connection: Connection, learner_id: str, code: str | None) -> Row | None:
    """The learner's pending activation code with this text, or None."""
    if not code:
        return None
    return connection.execute(select(activation_codes).where(
        activation_codes.c.code_sha256 == _sha256(code.strip()),
        activation_codes.c.learner_id == learner_id)).first()


def _use_code(connection: Connection, learner_id: str, code: Row) -> None:
    """Spend a code: an institution's proves the learner is the one it issued to."""
    connection.execute(delete(activation_codes).where(
        activation_codes.c.code_sha256 == code.code_sha256))
    if code.institution_id is not None:
        add_proof(connection, learner_id, ACTIVATION, vouched_by=code.institution_id,
                  institution_id=code.institution_id)


def _withdraw_password(connection: Connection, learner_id: str) -> None:
    """End the account's password and API tokens (the portal ends its web sessions)."""
    withdrawn = connection.execute(update(learners).where(
        learners.c.id == learner_id, learners.c.password_hash.is_not(None)
    ).values(password_hash=None)).rowcount
    if withdrawn:
        count_activation(connection, learner_id, -1)
    connection.execute(delete(learner_tokens).where(learner_tokens.c.learner_id == learner_id))


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
