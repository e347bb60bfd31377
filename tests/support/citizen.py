"""Helpers for the citizen's pages: signing up through the form, and a record to look at.

Wang Fang's record: BJOU's LOG201 (4 credits), HDVC's WH110 (3), MATH110 (4) and ACC110 (3,
failed) and the courier-operator certificate (8): 22 credits in valid credentials.
"""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from tests.support.bank import LEARNER_ID, PASSWORD, Bank, outcome
from tests.support.portal import form_token

REF = re.compile(r'data-credential="([0-9a-f]+)"')
CENTRE_OPERATOR = "city-centre"


def sign_up(client: FlaskClient, national_id: str = LEARNER_ID, *, proven: bool = True) -> None:
    """Open a learner account through the sign-up form (which signs the learner in): proven, the
    learner first had their identity checked in person at the centre and signs up with the
    activation code it gave them; not proven, with the national id alone."""
    code = ""
    if proven:
        runtime = client.application.extensions["creditbank"]
        code = runtime.accounts.check_in_person(national_id, operator=CENTRE_OPERATOR,
                                                actor=f"operator:{CENTRE_OPERATOR}").activation_code
    response = client.post("/sign-up", data={
        "csrf_token": form_token(client, "/sign-up"), "national_id": national_id,
        "password": PASSWORD, "password_again": PASSWORD, "activation_code": code})
    assert (response.status_code, response.headers.get("Location")) == (303, "/me")


def sign_in(client: FlaskClient, national_id: str = LEARNER_ID, password: str = PASSWORD,
            **environ: str):
    """Post the sign-in form (from the client address given as REMOTE_ADDR, if any)."""
    token = form_token(client, "/sign-in")
    return client.post("/sign-in", data={"csrf_token": token, "national_id": national_id,
                                         "password": password},
                       environ_base=environ)


def issue_record(bank: Bank, national_id: str = LEARNER_ID) -> dict[str, str]:
    """Issue Wang Fang's record through the issuer service; credential ids by unit."""
    units = {}
    for issuer, outcomes in (
            ("bjou", [outcome("LOG201", "A", national_id=national_id)]),
            ("hdvc", [outcome("WH110", "B+", national_id=national_id),
                      outcome("MATH110", "B", national_id=national_id),
                      outcome("ACC110", "F", national_id=national_id)]),
            ("courier", [outcome("CERT-COURIER", "Pass", scale="pass-fail",
                                 national_id=national_id)])):
        ids = bank.issue(issuer, outcomes)
        units.update(zip((item["unit"] for item in outcomes), ids, strict=True))
    return units


def credential_refs(client: FlaskClient) -> list[str]:
    """The references of the credentials the dashboard lists, in order."""
    return REF.findall(client.get("/me").get_data(as_text=True))
