"""Settings come from the environment once, with their defaults; a bad value is named."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from infra.errors import SettingsError
from infra.settings import CitySignOn, Settings


def test_every_setting_has_its_default_when_the_environment_is_empty(tmp_path: Path) -> None:
    settings = Settings.from_env({"CREDITBANK_DATA": str(tmp_path)})
    assert settings == Settings(
        data_dir=tmp_path.resolve(),
        database_url=f"sqlite:///{tmp_path.resolve() / 'creditbank.sqlite'}",
    )
    assert (settings.did_host, settings.city_sign_on.configured) == ("127.0.0.1:5000", False)


def test_the_environment_sets_each_knob(tmp_path: Path) -> None:
    settings = Settings.from_env({
        "CREDITBANK_DATA": str(tmp_path), "CREDITBANK_PUBLIC_URL": "https://bank.example/",
        "CREDITBANK_LEDGER_URLS": "http://a:8545, http://b:8545", "CREDITBANK_BATCH_SIZE": "50",
        "CREDITBANK_BATCH_SECONDS": "0.5", "CREDITBANK_APPEAL_DAYS": "14",
        "CREDITBANK_VERIFY_CACHE_SECONDS": "2", "OIDC_ISSUER": "https://sso.example/",
        "OIDC_CLIENT_ID": "bank", "CREDITBANK_DEBUG": "1", "CREDITBANK_CONFORMANCE_ISSUER": "1",
    })
    assert (settings.public_url, settings.did_host, settings.ledger_urls) == (
        "https://bank.example", "bank.example", ("http://a:8545", "http://b:8545"))
    assert (settings.batch_size, settings.batch_seconds, settings.appeal_days,
            settings.verify_cache_seconds, settings.debug) == (50, 0.5, 14, 2.0, True)
    assert settings.city_sign_on == CitySignOn(issuer="https://sso.example", client_id="bank")
    assert settings.conformance_issuer is True


def test_the_did_host_outlives_a_new_public_address(tmp_path: Path) -> None:
    settings = Settings.from_env({"CREDITBANK_DATA": str(tmp_path)})
    moved = replace(settings, public_url="https://new.example")
    assert moved.did_host == "127.0.0.1:5000"


@pytest.mark.parametrize(("name", "value", "message"), [
    ("CREDITBANK_BATCH_SIZE", "many", "CREDITBANK_BATCH_SIZE must be a whole number, not 'many'"),
    ("CREDITBANK_BATCH_SIZE", "0", "CREDITBANK_BATCH_SIZE must be a positive, finite number"),
    ("CREDITBANK_CALL_SECONDS", "inf", "CREDITBANK_CALL_SECONDS must be a positive, finite"),
    ("CREDITBANK_APPEAL_DAYS", "1.5", "CREDITBANK_APPEAL_DAYS must be a whole number"),
])
def test_a_value_that_cannot_be_used_is_refused_by_name(
        tmp_path: Path, name: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env({"CREDITBANK_DATA": str(tmp_path), name: value})
