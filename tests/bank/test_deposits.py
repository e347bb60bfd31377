"""Deposits refuse numbers JSON cannot carry exactly, through the API and the deposit page, with a
422 naming the field; nothing is stored."""

from __future__ import annotations

import io

import pytest

from portal.runtime import Runtime
from tests.support.bank import LEARNER_ID, Bank, city_bank
from tests.support.citizen import sign_up
from tests.support.portal import form_token

NUMBERS = {
    "5000 digits": "9" * 5000,
    "2^53": str(2**53),
    "-2^53": str(-(2**53)),
    "1e400": "1e400",
    "NaN": "NaN",
}
CREDENTIAL = ('{"id": "urn:uuid:5b0c8a52-8a1f-4c55-9b1e-6d1f0e2a7c31", "type": '
              '["VerifiableCredential"], "credentialSubject": {"creditsEarned": %s}}')


@pytest.fixture
def bank(runtime: Runtime) -> Bank:
    """The small city bank with Wang Fang signed up through the form."""
    city = city_bank(runtime)
    sign_up(city.client)
    return city


@pytest.mark.parametrize("name", NUMBERS)
def test_the_deposit_api_refuses_numbers_json_cannot_carry_exactly(bank: Bank, name: str) -> None:
    learner = bank.log_in(LEARNER_ID)
    body = '{"credential": %s}' % (CREDENTIAL % NUMBERS[name])
    answer = bank.client.post("/api/v1/learners/me/deposits", data=body,
                              content_type="application/json", headers=learner)
    assert (answer.status_code, answer.json) == (422, {
        "code": 422,
        "status": "Unprocessable Entity",
        "message": "the credential holds a number JSON cannot carry exactly",
        "errors": {"credential": {"credentialSubject.creditsEarned": [
            "must be an integer within ±(2^53−1) or a finite number"]}},
    })
    listed = bank.client.get("/api/v1/learners/me/deposits", headers=learner)
    assert (listed.status_code, listed.json) == (200, {"deposits": [], "next": None})


def test_the_largest_safe_integer_is_deposited_and_verified(bank: Bank) -> None:
    learner = bank.log_in(LEARNER_ID)
    body = '{"credential": %s}' % (CREDENTIAL % str(2**53 - 1))
    answer = bank.client.post("/api/v1/learners/me/deposits", data=body,
                              content_type="application/json", headers=learner)
    assert (answer.status_code, answer.json["status"], answer.json["verdict"],
            answer.json["reason"]) == (201, "review", "INVALID", "UNSUPPORTED_TYPE")


@pytest.mark.parametrize(("name", "message"), [
    ("5000 digits", "Choose a credential file (JSON) of at most"),
    ("2^53", "This file is not a credential the bank can read."),
    ("-2^53", "This file is not a credential the bank can read."),
    ("1e400", "This file is not a credential the bank can read."),
    ("NaN", "This file is not a credential the bank can read."),
])
def test_the_deposit_page_refuses_numbers_json_cannot_carry_exactly(
    bank: Bank, name: str, message: str
) -> None:
    client = bank.client
    upload = (io.BytesIO((CREDENTIAL % NUMBERS[name]).encode()), "credential.json")
    answer = client.post("/me/deposits", data={"csrf_token": form_token(client, "/me"),
                                               "file": upload})
    assert (answer.status_code, message in answer.get_data(as_text=True)) == (422, True)
    listed = client.get("/api/v1/learners/me/deposits", headers=bank.log_in(LEARNER_ID))
    assert listed.json == {"deposits": [], "next": None}
