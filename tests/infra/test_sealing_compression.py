"""Sealed values compressed before sealing: both forms open, the flag is bound in, rotation
re-seals a mix of them."""

from __future__ import annotations

import json
import secrets

import pytest
from sqlalchemy import Engine, insert, select, text

import infra.cli  # noqa: F401  (every table module, so the metadata is whole)
import portal.cli  # noqa: F401
from bank.tables import verification_results
from infra.database import open_database
from infra.errors import SealingFailed
from infra.keyring import COMPRESS_FROM, KeyRing, generation_of
from infra.sealing import ring_of, rotate

KEY = bytes(range(32))
COLUMN = "credentials.anchored"
DOCUMENT = json.dumps({"id": "urn:uuid:0", "credentialSubject": {"grade": "A",
                                                                 "units": ["unit"] * 75}},
                      separators=(",", ":"))
OLD_SEALED = (
    "sealed:1:dbkDHHNRxvXgqbZyvFwVqv97B6/q1DrEVlJ0I2i0FMi5lMjPzC9K3xFY9wkhzpwYQ5+4h7H0FMd/rdiJ6zxOq"
    "hoRMBB+L1jhwZFwTkODH51PhGjqVGnHT5I3aEJrrX595YNuuWhWgz2aSWe2MeYaWKysIuQkP0p9F3EB/qm2LX+Zwt53dd"
    "oMXDTvAgBhD/18JjtJT+Y7UxTQKBAiDeoQTIBkn0kjNy6Nem4Hkfhr8ojsqpD6ZRchUsixJO0f56q9LHq5GpwSO660kDc"
    "zvH6odYM7EkU9ejZx1tBC4zhisVqpsas5ZyMX2FT+HoinI4G7ohaMEddX6v5rzV+tyrqAG+0fB13BvhI35Jsvh/ugKwhd"
    "I926Qv25VnCKJyBxeUCjVC/q9cYaET1eFNo/2RyaRFKbPSRl4R81nauGLv7n8tJ327Pkaa8PCFNoIxdiKnzsKwWA+6dOU"
    "qny2SvK6DiFuCWqsgRtGxFK+o71wWhr8WRqlEP/nz1zUSqpUV0Z08zVHI+N/yaCkDlXb9tHMnxn099+Lj0nHC/q+8bD37"
    "Xdvo/yo6op1Ge2vbE7jjht0Oetqk/U4qHTOqXimwtBhlGq0GSNj1DH3xGdpow7YG7AeCYjBEWq2nWPMC5Ttyxl9LuFAJS"
    "CUyuMXy4Uk/h7E5cl9WfhZGjwBOx9XMpJqJqidV7RnCrGkLTfBaMBdFvROrRAF19KX6dLL5mqwzvBj69+eKIoLR85kap2"
    "cX75kCqEIHyUSlT3cG5FclEmBMvUozpuQ7e4m1Uk4DjCooEC4J/HmwFqogl0jNDuDhTEeBlU5CDWWGqQW0uopg==")
"""`DOCUMENT` sealed by the code before compression (commit abf447c) under `KEY`."""


def test_a_large_text_is_compressed_and_a_small_one_is_not() -> None:
    ring = KeyRing(KEY)
    small = "2009-05-17"
    random_text = secrets.token_urlsafe(COMPRESS_FROM)
    sealed = {text: ring.seal(text, COLUMN) for text in (DOCUMENT, small, random_text)}
    assert ({text: value.split(":")[2] == "z1" for text, value in sealed.items()},
            {text: ring.open(value, COLUMN) for text, value in sealed.items()}) == (
        {DOCUMENT: True, small: False, random_text: True},
        {DOCUMENT: DOCUMENT, small: small, random_text: random_text})
    assert (generation_of(sealed[DOCUMENT]),
            len(sealed[DOCUMENT]) * 4 < len(KeyRing(KEY, compress_from=None).seal(DOCUMENT,
                                                                                   COLUMN))) == (
        1, True)


def test_a_text_that_compression_would_lengthen_is_sealed_as_it_is() -> None:
    ring = KeyRing(KEY, compress_from=1)
    sealed = ring.seal("2009-05-17", COLUMN)
    assert (sealed.count(":"), ring.open(sealed, COLUMN)) == (2, "2009-05-17")


def test_a_value_sealed_before_compression_still_opens() -> None:
    assert (generation_of(OLD_SEALED), KeyRing(KEY).open(OLD_SEALED, COLUMN)) == (1, DOCUMENT)


def test_adding_or_removing_the_compression_flag_makes_a_value_fail_to_open() -> None:
    ring = KeyRing(KEY)
    compressed = ring.seal(DOCUMENT, COLUMN)
    plain = ring.seal("2009-05-17", COLUMN)
    forged = (compressed.replace(":z1:", ":", 1), plain.replace("sealed:1:", "sealed:1:z1:", 1),
              OLD_SEALED.replace("sealed:1:", "sealed:1:z1:", 1),
              compressed.replace(":z1:", ":z2:", 1),
              compressed.replace("sealed:1:", "sealed:2:", 1))
    for value in forged:
        with pytest.raises(SealingFailed, match=r"credentials\.anchored"):
            ring.open(value, COLUMN)
    with pytest.raises(SealingFailed, match=r"credentials\.signed"):
        ring.open(compressed, "credentials.signed")


def _stored(engine: Engine) -> dict[str, str]:
    with engine.connect() as connection:
        return dict(connection.execute(text(
            "SELECT token, credential FROM verification_results")).all())


def test_a_rotation_reseals_old_and_compressed_values_alike(database_url: str) -> None:
    engine = open_database(database_url, master_key=KEY)
    ring = ring_of(engine)
    documents = {f"{form}-{size}": DOCUMENT if size == "large" else '{"grade":"A"}'
                 for form in ("old", "new") for size in ("large", "small")}
    for form in ("old", "new"):
        ring.compress_from = None if form == "old" else COMPRESS_FROM
        with engine.begin() as connection:
            connection.execute(insert(verification_results), [
                {"token": token, "credential": document, "created_at": 0, "expires_at": 1}
                for token, document in documents.items() if token.startswith(form)])
    before = {token: value.split(":")[2] == "z1" for token, value in _stored(engine).items()}
    done = rotate(engine, batch=3)
    after = _stored(engine)
    with engine.connect() as connection:
        opened = dict(connection.execute(select(verification_results.c.token,
                                                verification_results.c.credential)).all())
    assert (before, {token: (generation_of(value), value.split(":")[2] == "z1")
                     for token, value in after.items()}, opened,
            (done.generation, done.resealed, done.retired, done.waiting)) == (
        {"old-large": False, "old-small": False, "new-large": True, "new-small": False},
        {"old-large": (2, True), "old-small": (2, False), "new-large": (2, True),
         "new-small": (2, False)},
        documents, (2, 4, (1,), 0))
    again = rotate(engine)
    assert (again.generation, again.resealed, again.retired, again.waiting) == (3, 4, (2,), 0)
