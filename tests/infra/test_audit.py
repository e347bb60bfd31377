"""The audit trail: every privileged action leaves exactly one row naming who, what and to what;
an action that fails leaves none; operators read it over the API and the CLI."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from infra.audit import audit_log, entries
from infra.errors import Conflict
from issuers.registry import reinstate, rotate_key, suspend
from ledger.genesis import initialise
from portal.cli import main
from portal.runtime import Runtime
from tests.support.bank import (
    OPERATOR_ACTOR,
    OTHER_ID,
    RULE_SET,
    Bank,
    bearer,
    city_bank,
    outcome,
    xuetang_credential,
)
from tests.support.times import is_iso_utc


def trail(runtime: Runtime) -> list[tuple[str, str, str, str | None]]:
    """(actor, action, subject, client) of every recorded action, oldest first."""
    with runtime.engine.connect() as connection:
        rows = connection.execute(select(audit_log).order_by(audit_log.c.id))
        return [(row.actor, row.action, row.subject, row.client) for row in rows]


def learner_did(bank: Bank, learner: dict) -> str:
    """The DID of the logged-in learner."""
    return bank.client.get("/api/v1/learners/me", headers=learner).json["account"]["did"]


def test_reviews_revocations_and_set_up_are_recorded_once_and_failures_not(
        runtime: Runtime) -> None:
    bank = city_bank(runtime)
    client = bank.client
    bjou, operator = bearer(bank.tokens["bjou"]), bearer(bank.operator)
    set_up = [(OPERATOR_ACTOR, "issuer.accredit", slug, None)
              for slug in ("bjou", "hdvc", "courier")]
    set_up += [(OPERATOR_ACTOR, "operator.token", "operator:city-centre", None),
               ("institution:bjou", "rules.publish", "bjou:LOG-ASSOC v1", None),
               (OPERATOR_ACTOR, "rules.approve", "bjou:LOG-ASSOC v1", None)]
    assert trail(runtime) == set_up

    learner = bank.open_account()
    set_up.append(("operator:city-centre", "learners.check_in_person",
                   learner_did(bank, learner), "127.0.0.1"))
    (log201,) = bank.issue("bjou", [outcome("LOG201", "A")])
    (wh110,) = bank.issue("hdvc", [outcome("WH110", "B")])
    bank.issue("bjou", [outcome("LOG201", "B", national_id=OTHER_ID)])
    application = client.post("/api/v1/applications", headers=learner,
                              json={"rule_set_id": RULE_SET, "version": 1}).json["id"]
    path = f"/api/v1/applications/{application}"
    learner_id = client.get("/api/v1/learners/me", headers=learner).json["account"]["id"]
    consents = client.get("/api/v1/learners/me/consents", headers=learner).json["consents"]
    set_up += [(f"learner:{learner_id}", "consent.give", consent["id"], "127.0.0.1")
               for consent in reversed(consents)]
    tampered = xuetang_credential(runtime, learner_did(bank, learner))
    tampered["credentialSubject"]["result"][0]["value"] = "100"
    set_up.append((OPERATOR_ACTOR, "issuer.accredit", "xuetang", None))
    deposit = client.post("/api/v1/learners/me/deposits", headers=learner,
                          json={"credential": tampered, "evidence": "a scan"}).json["id"]
    refused = [
        client.post(f"{path}/first-review", headers=bjou, json={"verdict": "refuse"}),
        client.post(f"{path}/second-review", headers=operator, json={"verdict": "approve"}),
        client.post(f"{path}/first-review", headers=operator, json={"verdict": "approve"}),
    ]
    assert [response.status_code for response in refused] == [422, 409, 403]
    assert trail(runtime) == set_up

    reviews = [
        client.post(f"{path}/first-review", headers=bjou, json={"verdict": "approve"}),
        client.post(f"{path}/first-review", headers=bjou, json={"verdict": "approve"}),
        client.post(f"{path}/second-review", headers=operator, json={"verdict": "approve"}),
        client.post(f"{path}/appeal", headers=learner, json={"grounds": "WH110 counts"}),
        client.post(f"{path}/appeal-decision", headers=operator,
                    json={"outcome": "upheld", "reasons": ["as decided"]}),
        client.post(f"/api/v1/credentials/{log201}/revocation", headers=bjou,
                    json={"reason": "issued-in-error"}),
        client.post(f"/api/v1/credentials/{log201}/revocation", headers=bjou,
                    json={"reason": "issued-in-error"}),
        client.post(f"/api/v1/deposits/{deposit}/review", headers=operator,
                    json={"verdict": "reject", "reasons": ["altered"]}),
        client.post(f"/api/v1/deposits/{deposit}/review", headers=operator,
                    json={"verdict": "accept"}),
        client.post("/api/v1/learners/bulk", headers=bjou, json={"national_ids": [OTHER_ID]}),
    ]
    assert [response.status_code for response in reviews] == [
        200, 409, 200, 201, 200, 202, 409, 200, 409, 201]
    assert (is_iso_utc(reviews[7].json["deposited_at"]), is_iso_utc(reviews[7].json["reviewed_at"]),
            is_iso_utc(reviews[2].json["submitted_at"])) == (True, True, True)
    client_address = "127.0.0.1"
    assert trail(runtime) == [
        *set_up,
        ("institution:bjou", "application.first_review", application, client_address),
        ("operator:city-centre", "application.second_review", application, client_address),
        ("operator:city-centre", "appeal.decide", application, client_address),
        ("institution:bjou", "credential.revoke", log201, client_address),
        ("operator:city-centre", "deposit.review", deposit, client_address),
        ("institution:bjou", "learners.open", "bjou", client_address),
    ]
    assert wh110 not in {subject for _, _, subject, _ in trail(runtime)}

    listed = client.get("/api/v1/audit?action=application.&limit=5", headers=operator)
    assert [(entry["action"], entry["details"]) for entry in listed.json["entries"]] == [
        ("application.second_review", {"verdict": "approve"}),
        ("application.first_review", {"verdict": "approve"}),
    ]
    assert all(is_iso_utc(entry["at"]) for entry in listed.json["entries"])
    assert client.get("/api/v1/audit", headers=bjou).status_code == 403
    assert client.get("/api/v1/audit").status_code == 401
    bad = client.get("/api/v1/audit?since=yesterday", headers=operator)
    assert (bad.status_code, list(bad.json["errors"]["query"])) == (422, ["since"])


def test_operator_actions_on_issuers_are_recorded(runtime: Runtime) -> None:
    city_bank(runtime)
    suspend(runtime.engine, runtime.chain, "hdvc", 2, actor="cli:root")
    with pytest.raises(Conflict):
        suspend(runtime.engine, runtime.chain, "hdvc", actor="cli:root")
    reinstate(runtime.engine, runtime.chain, "hdvc", actor="cli:root")
    public_key = rotate_key(runtime.engine, runtime.ledger, "hdvc",
                            master_key=runtime.settings.master_key(), actor="cli:root")
    assert [(entry["actor"], entry["action"], entry["subject"], entry["details"])
            for entry in entries(runtime.engine, action="issuer.")][:3] == [
        ("cli:root", "issuer.rotate_key", "hdvc", {"public_key": public_key}),
        ("cli:root", "issuer.reinstate", "hdvc", {}),
        ("cli:root", "issuer.suspend", "hdvc", {"reason": 2}),
    ]


def test_the_cli_records_its_os_user_and_prints_the_trail(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    monkeypatch.delenv("CREDITBANK_MASTER_KEY", raising=False)
    monkeypatch.setenv("CREDITBANK_BLOCK_PERIOD", "0.05")
    data_dir = tmp_path / "data"
    initialise(data_dir)
    assert main(["issuers", "add", "Demo University", "--data", str(data_dir)]) == 0
    assert main(["issuers", "suspend", "demo-university", "--data", str(data_dir)]) == 0
    assert main(["issuers", "suspend", "demo-university", "--data", str(data_dir)]) == 65
    capsys.readouterr()
    assert main(["audit", "--action", "issuer.", "--since", "2000-01-01",
                 "--data", str(data_dir)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    actor = f"cli:{getpass.getuser()}"
    assert [(line["actor"], line["action"], line["subject"], line["client"])
            for line in lines] == [
        (actor, "issuer.suspend", "demo-university", None),
        (actor, "issuer.accredit", "demo-university", None),
    ]
    assert main(["audit", "--action", "rules.", "--data", str(data_dir)]) == 0
    assert capsys.readouterr().out == ""
