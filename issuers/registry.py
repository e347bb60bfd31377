"""The operator's side: accredit issuers (key, chain account, scope), suspend, reinstate, rotate."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from datetime import time as day_time
from urllib.parse import urlsplit

from eth_account import Account
from eth_account.signers.local import LocalAccount
from sqlalchemy import Connection, Engine, insert, select, update

from credentials.dids import did_document, did_web
from credentials.keys import SigningKey, open_secret, seal_secret
from credentials.model import KINDS, kind_bit
from infra.audit import record
from infra.coordination import account_sender
from infra.errors import Conflict, Forbidden, InvalidInput, NotFound
from infra.settings import Settings
from issuers.tables import (
    api_tokens,
    batches,
    issuer_accounts,
    issuer_keys,
    issuers,
)
from ledger.chain import Chain
from ledger.client import Ledger
from ledger.permissions import allow_accounts
from ledger.views import issuer_id_of

FUNDING_WEI = 10**20
TOKEN_PREFIX = "cbk_"
MAX_LEVEL = 64
MAX_URL_LENGTH = 2000
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")


@dataclass(frozen=True)
class Scope:
    """What an issuer is accredited for: credential kinds, framework levels and a time window."""

    kinds: tuple[str, ...]
    levels: tuple[int, ...]
    valid_from: int = 0
    valid_until: int = 0

    @property
    def kind_mask(self) -> int:
        """The on-chain mask of credential kinds."""
        return sum(1 << kind_bit(kind) for kind in self.kinds)

    @property
    def level_mask(self) -> int:
        """The on-chain mask of framework levels."""
        return sum(1 << level for level in self.levels)


@dataclass(frozen=True)
class Accreditation:
    """A newly accredited issuer: what the operator hands over to the institution."""

    issuer_id: str
    did: str
    token: str
    account: str
    public_key: str
    scope: Scope

    def to_json(self) -> dict:
        """The accreditation as printed by `creditbank issuers add --json`."""
        return {
            "issuer": self.issuer_id,
            "did": self.did,
            "token": self.token,
            "account": self.account,
            "public_key": self.public_key,
            "kinds": list(self.scope.kinds),
            "levels": list(self.scope.levels),
            "valid_from": self.scope.valid_from,
            "valid_until": self.scope.valid_until,
        }


def parse_kinds(text: str) -> tuple[str, ...]:
    """Credential kinds from `course,certificate`."""
    kinds = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    unknown = [kind for kind in kinds if kind not in KINDS]
    if unknown or not kinds:
        raise InvalidInput(
            f"scope must name kinds from {', '.join(KINDS)}",
            {"scope": [f"unknown kind {kind!r}" for kind in unknown] or ["no kind given"]},
        )
    return kinds


def parse_levels(text: str) -> tuple[int, ...]:
    """Framework levels from `1-8` or `3,5-6`."""
    levels: set[int] = set()
    for part in (part.strip() for part in text.split(",")):
        low, _, high = part.partition("-")
        if not low.isdigit() or (high and not high.isdigit()):
            raise InvalidInput("levels look like 1-8 or 3,5-6", {"levels": [f"bad range {part!r}"]})
        first, last = int(low), int(high or low)
        if not 1 <= first <= last <= MAX_LEVEL:
            raise InvalidInput(
                f"levels run from 1 to {MAX_LEVEL}", {"levels": [f"bad range {part!r}"]}
            )
        levels.update(range(first, last + 1))
    return tuple(sorted(levels))


def unix_day(value: date | None) -> int:
    """A date as unix seconds at 00:00 UTC; 0 (open) for None."""
    if value is None:
        return 0
    return int(datetime.combine(value, day_time(), tzinfo=UTC).timestamp())


def slug_of(name: str) -> str:
    """A URL-safe issuer id from a name, e.g. 'Demo University' → 'demo-university'."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:64].strip("-")


def check_web_site(url: str) -> None:
    """Refuse (`InvalidInput`) an institution's web site unless it is an absolute http(s) URL with
    a host and no user name, space, backslash or control character: no javascript:, data:,
    relative or schemeless address."""
    if not _http_url(url):
        raise InvalidInput("an institution's web site is an http:// or https:// address",
                           {"url": ["must be an absolute http(s) URL, like https://example.edu"]})


def issuer_did(did_host: str, slug: str) -> str:
    """An issuer's did:web under the bank."""
    return did_web(did_host, "issuers", slug)


def accredit(
    engine: Engine,
    chain: Chain,
    *,
    settings: Settings,
    name: str,
    scope: Scope,
    slug: str | None = None,
    name_zh: str | None = None,
    url: str | None = None,
    signing_seed: bytes | None = None,
    actor: str,
) -> Accreditation:
    """Accredit an issuer on chain and record it: signing key, chain account, API token."""
    slug = slug or slug_of(name)
    if url is not None:
        check_web_site(url)
    if not _SLUG.match(slug):
        raise InvalidInput(
            "an issuer id is 1–64 lower-case letters, digits and '-'", {"slug": [repr(slug)]}
        )
    did = issuer_did(settings.did_host, slug)
    with engine.connect() as connection:
        taken = connection.execute(
            select(issuers.c.id).where((issuers.c.id == slug) | (issuers.c.did == did))
        ).first()
    if taken is not None:
        raise Conflict(f"issuer {slug!r} already exists")
    key = SigningKey.from_seed(signing_seed) if signing_seed else SigningKey.generate()
    account: LocalAccount = Account.create()
    operator = chain.operator()
    ledger = chain.ledger
    _allow(chain, settings.ledger_urls, account.address)
    if ledger.gas_price() > 0:
        ledger.transfer(operator, account.address, FUNDING_WEI)
    ledger.transact(
        operator,
        "IssuerRegistry",
        "accredit",
        did,
        [account.address],
        scope.kind_mask,
        scope.level_mask,
        scope.valid_from,
        scope.valid_until,
    )
    receipt = ledger.transact(account, "IssuerRegistry", "registerKey", key.public_key)
    master_key = settings.master_key()
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = time.time()
    with engine.begin() as connection:
        connection.execute(
            insert(issuers).values(
                id=slug,
                did=did,
                chain_id=issuer_id_of(did),
                name=name,
                name_zh=name_zh,
                url=url,
                kinds=",".join(scope.kinds),
                levels=json.dumps(list(scope.levels)),
                valid_from=scope.valid_from,
                valid_until=scope.valid_until,
                suspended=False,
                created_at=now,
            )
        )
        connection.execute(
            insert(issuer_accounts).values(
                issuer_id=slug,
                address=account.address,
                sealed_key=seal_secret(bytes(account.key), master_key),
            )
        )
        _insert_key(connection, slug, key, master_key, int(receipt["blockNumber"]))
        connection.execute(
            insert(api_tokens).values(
                token_sha256=token_digest(token), issuer_id=slug, created_at=now
            )
        )
        record(connection, actor=actor, action="issuer.accredit", subject=slug,
               details={"did": did, "account": account.address, "public_key": key.multibase,
                        "kinds": list(scope.kinds), "levels": list(scope.levels),
                        "valid_from": scope.valid_from, "valid_until": scope.valid_until})
    return Accreditation(
        issuer_id=slug,
        did=did,
        token=token,
        account=account.address,
        public_key=key.multibase,
        scope=scope,
    )


def suspend(
    engine: Engine, chain: Chain, issuer_id: str, reason: int = 1, *, actor: str
) -> None:
    """Suspend an issuer on chain: it cannot anchor, and its credentials stop verifying."""
    issuer = issuer_record(engine, issuer_id)
    if issuer["suspended"]:
        raise Conflict(f"issuer {issuer_id!r} is already suspended")
    operator = chain.operator()
    chain.ledger.transact(operator, "IssuerRegistry", "suspend", issuer["chain_id"], reason)
    with engine.begin() as connection:
        _set_suspended(connection, issuer_id, True)
        record(connection, actor=actor, action="issuer.suspend", subject=issuer_id,
               details={"reason": reason})


def reinstate(engine: Engine, chain: Chain, issuer_id: str, *, actor: str) -> None:
    """Lift a suspension; batches that failed to anchor meanwhile are queued again."""
    issuer = issuer_record(engine, issuer_id)
    if not issuer["suspended"]:
        raise Conflict(f"issuer {issuer_id!r} is not suspended")
    operator = chain.operator()
    chain.ledger.transact(operator, "IssuerRegistry", "reinstate", issuer["chain_id"])
    with engine.begin() as connection:
        _set_suspended(connection, issuer_id, False)
        record(connection, actor=actor, action="issuer.reinstate", subject=issuer_id)
        connection.execute(
            update(batches)
            .where(batches.c.issuer_id == issuer_id, batches.c.status == "failed")
            .values(status="closed", error=None)
        )


def rotate_key(
    engine: Engine, ledger: Ledger, issuer_id: str, *, master_key: bytes, actor: str
) -> str:
    """Register a new signing key and sign with it from now on; the old one retires once its
    credentials are anchored (the anchoring worker does that). Returns the new key's multibase."""
    issuer = issuer_record(engine, issuer_id)
    if issuer["suspended"]:
        raise Forbidden(f"issuer {issuer_id!r} is suspended")
    key = SigningKey.generate()
    account = issuer_account(engine, master_key, issuer_id)
    with account_sender(engine, account.address):
        ledger.forget_nonce(account.address)
        receipt = ledger.transact(account, "IssuerRegistry", "registerKey", key.public_key)
    with engine.begin() as connection:
        connection.execute(
            update(issuer_keys)
            .where(issuer_keys.c.issuer_id == issuer_id, issuer_keys.c.state == "active")
            .values(state="retiring")
        )
        _insert_key(connection, issuer_id, key, master_key, int(receipt["blockNumber"]))
        record(connection, actor=actor, action="issuer.rotate_key", subject=issuer_id,
               details={"public_key": key.multibase})
    return key.multibase


def new_token(engine: Engine, issuer_id: str, *, actor: str) -> str:
    """Create another API token for an issuer (only its hash is stored)."""
    issuer_record(engine, issuer_id)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with engine.begin() as connection:
        connection.execute(
            insert(api_tokens).values(
                token_sha256=token_digest(token), issuer_id=issuer_id, created_at=time.time()
            )
        )
        record(connection, actor=actor, action="issuer.token", subject=issuer_id)
    return token


def token_digest(token: str) -> str:
    """The stored form of an API token: its SHA-256, hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issuer_of_token(engine: Engine, token: str) -> dict | None:
    """The issuer a bearer token belongs to, or None."""
    query = (
        select(issuers)
        .join(api_tokens, api_tokens.c.issuer_id == issuers.c.id)
        .where(api_tokens.c.token_sha256 == token_digest(token))
    )
    with engine.connect() as connection:
        row = connection.execute(query).mappings().first()
    return dict(row) if row is not None else None


def issuer_record(engine: Engine, issuer_id: str) -> dict:
    """An issuer's row; `NotFound` if there is none."""
    with engine.connect() as connection:
        query = select(issuers).where(issuers.c.id == issuer_id)
        row = connection.execute(query).mappings().first()
    if row is None:
        raise NotFound(f"no issuer {issuer_id!r}")
    return dict(row)


def issuer_account(engine: Engine, master_key: bytes, issuer_id: str) -> LocalAccount:
    """An issuer's chain account, unsealed (inside this process only)."""
    with engine.connect() as connection:
        sealed = connection.execute(
            select(issuer_accounts.c.sealed_key).where(issuer_accounts.c.issuer_id == issuer_id)
        ).scalar_one_or_none()
    if sealed is None:
        raise NotFound(f"issuer {issuer_id!r} has no chain account")
    return Account.from_key(open_secret(sealed, master_key))


def signing_key(engine: Engine, master_key: bytes, issuer_id: str) -> tuple[int, SigningKey]:
    """The issuer's active signing key (id, key), unsealed inside this process only."""
    with engine.connect() as connection:
        row = connection.execute(
            select(issuer_keys.c.id, issuer_keys.c.sealed_seed).where(
                issuer_keys.c.issuer_id == issuer_id, issuer_keys.c.state == "active"
            )
        ).first()
    if row is None:
        raise NotFound(f"issuer {issuer_id!r} has no active signing key")
    return row.id, SigningKey.from_seed(open_secret(row.sealed_seed, master_key))


def issuer_did_document(engine: Engine, issuer_id: str) -> dict:
    """The issuer's DID document: every key it ever registered (old credentials still resolve)."""
    issuer = issuer_record(engine, issuer_id)
    with engine.connect() as connection:
        keys = connection.execute(
            select(issuer_keys.c.public_key)
            .where(issuer_keys.c.issuer_id == issuer_id)
            .order_by(issuer_keys.c.id)
        ).scalars()
        return did_document(issuer["did"], [bytes(key) for key in keys])


def _insert_key(
    connection: Connection, issuer_id: str, key: SigningKey, master_key: bytes, block: int
) -> None:
    connection.execute(
        insert(issuer_keys).values(
            issuer_id=issuer_id,
            public_key=key.public_key,
            sealed_seed=seal_secret(key.seed, master_key),
            state="active",
            registered_block=block,
        )
    )


def _set_suspended(connection: Connection, issuer_id: str, suspended: bool) -> None:
    connection.execute(update(issuers).where(issuers.c.id == issuer_id).values(suspended=suspended))


def _http_url(url: str) -> bool:
    if len(url) > MAX_URL_LENGTH or not url.isprintable() or " " in url or "\\" in url:
        return False
    try:
        parts = urlsplit(url)
        return (parts.scheme in ("http", "https") and bool(parts.hostname)
                and "@" not in parts.netloc and parts.port != 0)
    except ValueError:
        return False


def _allow(chain: Chain, ledger_urls: tuple[str, ...], address: str) -> None:
    """Allowlist an account in-process, or on every node over JSON-RPC (allowlists are per node)."""
    if chain.node is not None:
        chain.node.allow([address])
        return
    token = chain.home.admin_token()
    for url in ledger_urls:
        allow_accounts(url, token, [address])
