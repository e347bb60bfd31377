"""The learner API as an attacker would try it: a national id alone shows nothing issued to it,
an institution opens accounts only for its own learners and its code unlocks only what it
issued, and an operator's check in person (audited) opens the whole record."""

from __future__ import annotations

from infra.audit import entries
from portal.runtime import Runtime
from tests.support.bank import LEARNER_ID, OTHER_ID, PASSWORD, Bank, bearer, city_bank
from tests.support.citizen import issue_record

STRANGER = "44010619850315001X"


def record_bank(runtime: Runtime) -> Bank:
    """The city bank with Wang Fang's record issued by BJOU, HDVC and the courier centre."""
    bank = city_bank(runtime)
    issue_record(bank)
    return bank


def record_of(bank: Bank, learner: dict) -> tuple[list[str], dict]:
    """The units the learner's record lists, and what they proved."""
    me = bank.client.get("/api/v1/learners/me", headers=learner).json
    return sorted(item["unit"] for item in me["credentials"]), {
        key: me["identity"][key] for key in ("real_name", "institutions")}


def test_a_national_id_alone_shows_nothing_issued_to_it(runtime: Runtime) -> None:
    bank = record_bank(runtime)
    squatter = bank.open_account(proven=False)
    progress = bank.client.put("/api/v1/learners/me/target", headers=squatter,
                               json={"rule_set_id": "bjou:LOG-ASSOC", "version": 1})
    transcript = bank.client.post("/api/v1/learners/me/transcripts", headers=squatter, json={})
    assert record_of(bank, squatter) == ([], {"real_name": False, "institutions": []})
    assert (progress.status_code, transcript.status_code) == (200, 422)
    assert bank.client.get("/api/v1/learners/me/progress", headers=squatter).json[
        "audit"]["requirements"][0]["counted"] == 0


def test_bulk_opening_names_only_learners_the_institution_issued_to(runtime: Runtime) -> None:
    bank = record_bank(runtime)
    hdvc = bearer(bank.tokens["hdvc"])
    refused = bank.client.post("/api/v1/learners/bulk", headers=hdvc,
                               json={"national_ids": [LEARNER_ID, STRANGER, OTHER_ID]})
    opened = bank.client.post("/api/v1/learners/bulk", headers=hdvc,
                              json={"national_ids": [LEARNER_ID]})
    assert (refused.status_code, refused.json["message"], refused.json["errors"]) == (
        422, "2 national ids name learners this institution issued no credential to; no "
             "account was opened",
        {"national_ids": {str(index): {"national_id": [
            "this institution issued no credential to this learner"]} for index in (1, 2)}})
    assert (opened.status_code, len(opened.json["accounts"][0]["activation_code"])) == (201, 16)
    assert [(entry["actor"], entry["details"]) for entry in entries(
        runtime.engine, action="learners.open")] == [
        ("institution:hdvc", {"opened": 1, "existing": 0})]


def test_an_institution_s_code_activates_the_account_with_what_it_issued_only(
        runtime: Runtime) -> None:
    bank = record_bank(runtime)
    code = bank.client.post("/api/v1/learners/bulk", headers=bearer(bank.tokens["courier"]),
                            json={"national_ids": [LEARNER_ID]}).json["accounts"][0]
    without = bank.client.post("/api/v1/learners", json={
        "national_id": LEARNER_ID, "password": PASSWORD})
    activated = bank.client.post("/api/v1/learners", json={
        "national_id": LEARNER_ID, "password": PASSWORD,
        "activation_code": code["activation_code"]})
    learner = bank.log_in(LEARNER_ID)
    courier_only = record_of(bank, learner)
    hdvc = bank.client.post("/api/v1/learners/bulk", headers=bearer(bank.tokens["hdvc"]),
                            json={"national_ids": [LEARNER_ID]}).json["accounts"][0]
    entered = bank.client.post("/api/v1/learners/me/activation-codes", headers=learner,
                               json={"activation_code": hdvc["activation_code"]})
    assert (without.status_code, activated.status_code) == (403, 201)
    assert courier_only == (["CERT-COURIER"], {"real_name": False, "institutions": ["courier"]})
    assert (entered.status_code, entered.json["institutions"],
            [proof["method"] for proof in entered.json["proofs"]]) == (
        200, ["courier", "hdvc"], ["activation", "activation"])
    assert record_of(bank, learner) == (["ACC110", "CERT-COURIER", "MATH110", "WH110"],
                                        {"real_name": False, "institutions": ["courier", "hdvc"]})


def test_an_operator_s_check_in_person_opens_the_whole_record_and_is_audited(
        runtime: Runtime) -> None:
    bank = record_bank(runtime)
    squatter = bank.open_account(proven=False)
    checked = bank.client.post("/api/v1/learners/identity-checks",
                               headers=bearer(bank.operator), json={"national_id": LEARNER_ID})
    squatter_after = bank.client.get("/api/v1/learners/me", headers=squatter).status_code
    squatter_password = bank.client.application.test_client().post(
        "/api/v1/learners/token", json={"national_id": LEARNER_ID, "password": PASSWORD})
    activated = bank.client.post("/api/v1/learners", json={
        "national_id": LEARNER_ID, "password": "the owner's own password",
        "activation_code": checked.json["activation_code"]})
    owner = bank.client.post("/api/v1/learners/token", json={
        "national_id": LEARNER_ID, "password": "the owner's own password"}).json["token"]
    assert (checked.status_code, squatter_after, squatter_password.status_code,
            activated.status_code) == (201, 401, 401, 201)
    assert record_of(bank, bearer(owner)) == (
        ["ACC110", "CERT-COURIER", "LOG201", "MATH110", "WH110"],
        {"real_name": True, "institutions": []})
    assert [(entry["actor"], entry["action"], entry["subject"], entry["details"])
            for entry in entries(runtime.engine, action="learners.check_in_person")] == [
        ("operator:city-centre", "learners.check_in_person", checked.json["did"],
         {"operator": "city-centre"})]


def test_after_a_real_name_proof_an_institution_s_code_cannot_set_the_password(
        runtime: Runtime) -> None:
    bank = record_bank(runtime)
    checked = bank.client.post("/api/v1/learners/identity-checks",
                               headers=bearer(bank.operator), json={"national_id": LEARNER_ID})
    hdvc = bank.client.post("/api/v1/learners/bulk", headers=bearer(bank.tokens["hdvc"]),
                            json={"national_ids": [LEARNER_ID]}).json["accounts"][0]
    answers = [bank.client.post("/api/v1/learners", json={
        "national_id": LEARNER_ID, "password": PASSWORD, "activation_code": code}).status_code
        for code in (hdvc["activation_code"], checked.json["activation_code"])]
    assert answers == [403, 201]
