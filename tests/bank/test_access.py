"""Access by purpose in the bank, on both databases: who is assigned to an application at each
stage (and for which task), what the queues carry, and the access log's pages."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bank.access import (
    Reader,
    application_queue,
    deposit_queue,
    log_read,
    read_application,
    read_deposit,
    reads_of,
)
from bank.applications import appeal, first_review, second_review
from bank.tables import access_log
from infra.errors import Forbidden
from portal.runtime import Runtime
from tests.support.bank import LEARNER_ID, RULE_SET, city_bank, outcome

BJOU = Reader("institution:li", "bjou")
HDVC = Reader("institution:zhao", "hdvc")
CENTRE = Reader("operator:wu", "centre")


def purposes(runtime: Runtime, application: str) -> tuple[str | None, ...]:
    """The task each of BJOU, HDVC and the centre reads the application for (None: refused)."""
    answers: list[str | None] = []
    for reader in (BJOU, HDVC, CENTRE):
        try:
            read_application(runtime.engine, reader, application)
        except Forbidden:
            answers.append(None)
            continue
        with runtime.engine.connect() as connection:
            answers.append(connection.execute(select(access_log.c.purpose).order_by(
                access_log.c.id.desc())).scalars().first())
    return tuple(answers)


def test_staff_read_an_application_only_for_the_task_of_its_stage(runtime: Runtime) -> None:
    bank = city_bank(runtime)
    token = bank.open_account()
    learner = runtime.accounts.by_did(runtime.accounts.identity(LEARNER_ID)[0])
    assert learner is not None
    bank.issue("bjou", [outcome("LOG201", "A")])
    bank.client.put("/api/v1/learners/me/target", headers=token,
                    json={"rule_set_id": RULE_SET, "version": 1})
    application = bank.client.post("/api/v1/applications", headers=token, json={}).json["id"]
    deposit = bank.client.post("/api/v1/learners/me/deposits", headers=token, json={
        "credential": {"id": "urn:x:1"}, "evidence": "scan"}).json["id"]

    stages = [purposes(runtime, application)]
    first_review(runtime.engine, application, "bjou", verdict="approve", reasons=[])
    stages.append(purposes(runtime, application))
    second_review(runtime.engine, application, "wu", verdict="approve", reasons=["ok"])
    stages.append(purposes(runtime, application))
    appeal(runtime.engine, application, learner, "LOG201 should count twice")
    stages.append(purposes(runtime, application))
    assert stages == [("first-review", None, None), ("first-review", None, "second-review"),
                      ("first-review", None, None), ("appeal", None, "appeal")]

    assert sorted(application_queue(runtime.engine, institution_id="bjou")[0][0]) == [
        "agreement_id", "id", "programme", "rule_set", "status", "submitted_at", "updated_at"]
    assert [sorted(item) for item in deposit_queue(runtime.engine)[0]] == [
        ["deposited_at", "id", "reason", "reviewed_at", "status", "verdict"]]
    with pytest.raises(Forbidden):
        read_deposit(runtime.engine, BJOU, deposit)
    assert read_deposit(runtime.engine, CENTRE, deposit)["evidence"] == "scan"

    reads, older = reads_of(runtime.engine, learner["id"], limit=3)
    assert ([(read["organisation_name"]["zh"], read["what"], read["purpose"]) for read in reads],
            older) == ([("城市学习中心", "deposit", "deposit-check"),
                        ("城市学习中心", "application", "appeal"),
                        ("Beijing Open University", "application", "appeal")], reads[-1]["id"])
    with runtime.engine.begin() as connection:
        log_read(connection, Reader("guardian:did:example:parent", "guardian"),
                 learner_id=learner["id"], what="record", object_id=learner["id"],
                 purpose="guardian")
    everything, last = reads_of(runtime.engine, learner["id"], limit=100)
    walked, cursor = [], None
    while True:
        page, cursor = reads_of(runtime.engine, learner["id"], before=cursor, limit=4)
        walked += page
        if cursor is None:
            break
    assert (walked, last, everything[0]["organisation_name"]) == (
        everything, None, {"en": "your guardian", "zh": "你的监护人"})
    assert len(everything) == 9
