"""Settings: every knob of a process in one place, with its default, read once from the environment.

Variables are `CREDITBANK_*`, except the city sign-on's `OIDC_*`. The master key is not a setting:
`infra.secrets` reads it where it is used, so it never sits in a settings object or its repr.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from infra.errors import SettingsError
from infra.secrets import master_key

_Number = TypeVar("_Number", int, float)

DEFAULT_DATA_DIR = "creditbank-data"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:5000"


@dataclass(frozen=True)
class CitySignOn:
    """The city's single sign-on (OpenID Connect); `issuer` empty when it is not configured."""

    issuer: str = ""
    client_id: str = ""
    client_secret: str = field(default="", repr=False)
    redirect_uri: str = ""
    national_id_claim: str = ""

    @property
    def configured(self) -> bool:
        """Whether an OpenID provider is configured."""
        return bool(self.issuer)


@dataclass(frozen=True)
class Settings:
    """Where the data lives, how to reach the ledger, and the bank's policies.

    `did_host` is the host (and port) of the bank's did:web identifiers: the public URL's unless
    set, and kept when only the public URL is replaced, since a DID outlives an address.
    `conformance_issuer` turns on the VC-API conformance issuer (for the W3C test suites): it
    signs any well-formed credential with a did:key of no accredited issuer, never anchored.
    """

    data_dir: Path
    database_url: str
    ledger_urls: tuple[str, ...] = ()
    deployment_path: Path | None = None
    public_url: str = DEFAULT_PUBLIC_URL
    did_host: str = ""
    block_period: float = 1.0
    call_gas_cap: int = 3_000_000
    call_seconds: float = 1.0
    batch_size: int = 1_000
    batch_seconds: float = 2.0
    verify_cache_seconds: float = 5.0
    appeal_days: int = 30
    city_sign_on: CitySignOn = CitySignOn()
    debug: bool = False
    conformance_issuer: bool = False
    smtp_url: str = field(default="", repr=False)
    mail_from: str = ""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from the environment, with keyword overrides."""
        env = os.environ if environ is None else environ
        data_dir = Path(env.get("CREDITBANK_DATA", DEFAULT_DATA_DIR)).resolve()
        urls = tuple(
            url.strip() for url in env.get("CREDITBANK_LEDGER_URLS", "").split(",") if url.strip()
        )
        deployment = env.get("CREDITBANK_DEPLOYMENT")
        settings = cls(
            data_dir=data_dir,
            database_url=env.get(
                "CREDITBANK_DATABASE_URL", f"sqlite:///{data_dir / 'creditbank.sqlite'}"
            ),
            ledger_urls=urls,
            deployment_path=Path(deployment) if deployment else None,
            public_url=env.get("CREDITBANK_PUBLIC_URL", DEFAULT_PUBLIC_URL).rstrip("/"),
            did_host=env.get("CREDITBANK_DID_HOST", ""),
            block_period=_number(env, "CREDITBANK_BLOCK_PERIOD", cls.block_period),
            call_gas_cap=_number(env, "CREDITBANK_CALL_GAS_CAP", cls.call_gas_cap),
            call_seconds=_number(env, "CREDITBANK_CALL_SECONDS", cls.call_seconds),
            batch_size=_number(env, "CREDITBANK_BATCH_SIZE", cls.batch_size),
            batch_seconds=_number(env, "CREDITBANK_BATCH_SECONDS", cls.batch_seconds),
            verify_cache_seconds=_number(
                env, "CREDITBANK_VERIFY_CACHE_SECONDS", cls.verify_cache_seconds
            ),
            appeal_days=_number(env, "CREDITBANK_APPEAL_DAYS", cls.appeal_days),
            city_sign_on=CitySignOn(
                issuer=env.get("OIDC_ISSUER", "").rstrip("/"),
                client_id=env.get("OIDC_CLIENT_ID", ""),
                client_secret=env.get("OIDC_CLIENT_SECRET", ""),
                redirect_uri=env.get("OIDC_REDIRECT_URI", ""),
                national_id_claim=env.get("OIDC_NATIONAL_ID_CLAIM", ""),
            ),
            debug=_flag(env, "CREDITBANK_DEBUG"),
            conformance_issuer=_flag(env, "CREDITBANK_CONFORMANCE_ISSUER"),
            smtp_url=_smtp_url(env),
            mail_from=env.get("CREDITBANK_MAIL_FROM", "").strip(),
        )
        return replace(settings, **overrides) if overrides else settings

    def __post_init__(self) -> None:
        if not self.did_host:
            object.__setattr__(self, "did_host", urlsplit(self.public_url).netloc)

    @property
    def embedded(self) -> bool:
        """Whether the ledger is the embedded node in this process (no ledger URLs given)."""
        return not self.ledger_urls

    def master_key(self) -> bytes:
        """The master key that seals keys at rest."""
        return master_key(self.data_dir)


def _smtp_url(env: Mapping[str, str]) -> str:
    """The SMTP server's URL (smtp://host:port, smtps:// for TLS, optional user:password@), or
    empty when e-mail is off; any other value is refused, naming the variable."""
    text = env.get("CREDITBANK_SMTP_URL", "").strip()
    if not text:
        return ""
    parts = urlsplit(text)
    try:
        usable = parts.scheme in ("smtp", "smtps") and bool(parts.hostname) and (
            parts.port is None or parts.port > 0)
    except ValueError:
        usable = False
    if not usable:
        raise SettingsError("CREDITBANK_SMTP_URL must be smtp://host:port or smtps://host:port")
    return text


def _flag(env: Mapping[str, str], name: str) -> bool:
    """Whether a variable turns its knob on: any value but empty, `0` or `false`."""
    return env.get(name, "") not in ("", "0", "false")


def _number(env: Mapping[str, str], name: str, default: _Number) -> _Number:
    """The positive number a variable holds, of its default's type (int or float), else the
    default; a value that is not such a number is refused, naming the variable."""
    text = env.get(name)
    if text is None or not text.strip():
        return default
    kind = type(default)
    try:
        value = kind(text)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise SettingsError(f"{name} must be {what}, not {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise SettingsError(f"{name} must be a positive, finite number, not {text!r}")
    return value
