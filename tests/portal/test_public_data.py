"""Nothing personal leaves the bank without a sign-in, and every public endpoint is rate-limited.

Every route of the app is asked, with no account, on a bank whose learners have accounts,
names and credentials; no answer may hold a learner's national id, name, DID, identity hash or
e-mail address. (The learners' national ids differ from the example the sign-up page gives.)"""

from __future__ import annotations

import json
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, select, update

from bank.tables import learners
from infra.metadata import metadata
from issuers.tables import credentials
from portal.app import create_app
from portal.runtime import Runtime
from tests.support.bank import RULE_SET, Bank, city_bank, outcome

LEARNER_ID = "440305199512240018"
OTHER_ID = "510104198707150027"
PUBLIC_PATHS = ("/api/v1/public/", "/institutions", "/catalogue", "/programmes", "/guide")
LIMIT = 3
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
VALUES = {"issuer_id": "hdvc", "code": "WH110", "rule_set_id": RULE_SET, "list_number": "1",
          "purpose": "revocation", "filename": "style.css", "version": "1"}
QUERIES = {"/api/v1/public/catalogue": "?text=math", "/catalogue": "?text=math",
           "/api/v1/public/guide": "?unit=hdvc:MATH110&unit=bjou:LOG201",
           "/guide": "?unit=hdvc:MATH110&unit=bjou:LOG201"}


@pytest.fixture
def bank(runtime: Runtime) -> Bank:
    """The city bank with two learners who hold credentials and have names."""
    opened = city_bank(runtime)
    opened.open_account(LEARNER_ID)
    opened.open_account(OTHER_ID)
    opened.issue("hdvc", [outcome("MATH110", "B", national_id=LEARNER_ID),
                          outcome("WH110", "A", national_id=OTHER_ID)])
    dids = {national_id: _did(opened, national_id) for national_id in (LEARNER_ID, OTHER_ID)}
    with runtime.engine.begin() as connection:
        for national_id, name in ((LEARNER_ID, "张三丰"), (OTHER_ID, "Li Siyuan")):
            connection.execute(update(learners).where(
                learners.c.did == dids[national_id]).values(display_name=name))
    return opened


def _did(bank: Bank, national_id: str) -> str:
    return bank.client.get("/api/v1/learners/me", headers=bank.log_in(national_id)
                           ).json["account"]["did"]


def _personal(engine: Engine) -> set[str]:
    """Every learner fact that must stay private: national ids, names, DIDs (and their hash
    part), identity hashes, the hashes credentials carry, and any e-mail address stored."""
    found = {LEARNER_ID, OTHER_ID}
    with engine.connect() as connection:
        for row in connection.execute(select(learners.c.did, learners.c.identity_hash,
                                             learners.c.display_name)):
            found |= {row.did, row.did.rsplit(":", 1)[-1], row.identity_hash, row.display_name}
        found |= set(connection.execute(select(credentials.c.learner_hash)).scalars())
        for table in metadata.tables.values():
            for column in table.columns:
                if "email" in column.name and str(column.type).startswith(("VARCHAR", "TEXT")):
                    found |= {value for value in connection.execute(select(column)).scalars()
                              if value}
    return {value for value in found if value}


def _path(app: Flask, rule: object) -> str:
    """A rule's path with its variables filled from VALUES (1 for numbers, "x" otherwise)."""
    values = {name: VALUES.get(name, "1" if "int" in str(converter) else "x")
              for name, converter in rule._converters.items()}  # type: ignore[attr-defined]
    with app.test_request_context():
        return app.url_for(rule.endpoint, **values)  # type: ignore[attr-defined]


def test_no_answer_without_sign_in_holds_learner_data(bank: Bank) -> None:
    app = create_app(bank.runtime, {"TESTING": True, "RATE_LIMITS": {
        scope: (10**6, 60) for scope in ("public", "public_guide", "verify", "status",
                                         "accounts", "wallet", "wallet_offers", "oid4vp")}})
    visitor = app.test_client()
    personal = _personal(bank.runtime.engine)
    with bank.runtime.engine.connect() as connection:
        document = json.loads(connection.execute(select(credentials.c.anchored)).scalars().first())
    answered, reachable = [], []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        path = _path(app, rule)
        answer = visitor.get(path + QUERIES.get(rule.rule, ""))
        answered.append((path, answer.status_code, answer.get_data(as_text=True)))
        if answer.status_code < 300:
            reachable.append(rule.rule)
    posted = visitor.post("/api/v1/public/guide",
                          json={"units": ["hdvc:WH110"], "credentials": [document]})
    answered.append(("POST /api/v1/public/guide", posted.status_code, posted.get_data(True)))
    leaks = [(path, value) for path, _status, body in answered for value in personal
             if value in body]
    assert leaks == []
    assert posted.json["credentials"][0]["unit_code"] == "MATH110"
    assert set(reachable) >= {"/api/v1/public/institutions", "/api/v1/public/catalogue",
                              "/api/v1/public/programmes", "/api/v1/public/guide",
                              "/institutions", "/catalogue", "/programmes", "/guide",
                              "/api/v1/public/programmes/<path:rule_set_id>"}


def _client(app: Flask, number: int) -> FlaskClient:
    """A visitor from an address of its own (limits count per address)."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = f"10.0.{number}.1"
    return client


def test_every_public_endpoint_answers_429_over_its_limit(bank: Bank) -> None:
    app = create_app(bank.runtime, {"TESTING": True, "RATE_LIMITS": {
        "public": (LIMIT, 60), "public_guide": (LIMIT, 60), "verify": (LIMIT, 60)}})
    rules = [(rule, method) for rule in app.url_map.iter_rules()
             if rule.rule.startswith(PUBLIC_PATHS)
             for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    statuses = {}
    for number, (rule, method) in enumerate(rules):
        visitor = _client(app, number)
        path = _path(app, rule) + QUERIES.get(rule.rule, "")
        data = None
        if method == "POST" and not rule.rule.startswith("/api/"):
            page = _client(app, 200 + number).get("/guide").get_data(as_text=True)
            with visitor.session_transaction() as session:
                session["csrf_token"] = "t"
            data = {"csrf_token": "t"}
            assert TOKEN.search(page)
        answers = [visitor.open(path, method=method, data=data,
                                json={"units": ["hdvc:WH110"]} if data is None
                                and method == "POST" else None).status_code
                   for _ in range(LIMIT + 1)]
        statuses[f"{method} {rule.rule}"] = (answers[LIMIT - 1] != 429, answers[LIMIT])
    assert len(statuses) >= 14
    assert {name: status for name, status in statuses.items() if status != (True, 429)} == {}
