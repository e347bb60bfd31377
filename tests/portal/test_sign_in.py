"""Password guessing as an attacker sends it, over HTTP: one back-off per account for the web
form, the API token and the staff form; addresses that slow an attacker without shutting out the
learners behind them; and tokens that end at sign-out."""

from __future__ import annotations

from flask.testing import FlaskClient

from bank.attempts import ADDRESS_FREE_FAILURES, FREE_FAILURES
from bank.staff import add_staff
from portal.runtime import Runtime
from tests.support.bank import LEARNER_ID, OTHER_ID, PASSWORD, Bank, bearer, city_bank
from tests.support.citizen import sign_in
from tests.support.portal import form_token

CAMPUS = "198.51.100.20"
STAFF_PASSWORD = "console password 2026"


def token(client: FlaskClient, national_id: str = LEARNER_ID, password: str = PASSWORD,
          address: str = "127.0.0.1"):
    """Ask the API for a learner token, as a script that keeps no cookies does."""
    return client.application.test_client().post(
        "/api/v1/learners/token", environ_base={"REMOTE_ADDR": address},
        json={"national_id": national_id, "password": password})


def sign_out(client: FlaskClient) -> None:
    """Sign the learner out of the web."""
    assert client.post("/sign-out", data={"csrf_token": form_token(client, "/me")}).status_code \
        == 303


def stranger(number: int) -> str:
    """A national id nobody has an account for."""
    return f"44010619850315{number:04d}"


def staff_sign_in(client: FlaskClient, username: str, password: str, address: str):
    """Post the staff sign-in form from an address."""
    return client.post("/staff/sign-in", environ_base={"REMOTE_ADDR": address}, data={
        "csrf_token": form_token(client, "/staff/sign-in"), "username": username,
        "password": password})


def accounts(runtime: Runtime) -> Bank:
    """The city bank with two learner accounts."""
    bank = city_bank(runtime)
    bank.open_account()
    bank.open_account(OTHER_ID)
    return bank


def test_the_api_waits_once_the_web_form_failed_the_same_account_and_back(
        runtime: Runtime) -> None:
    bank = accounts(runtime)
    web = bank.client.application.test_client()
    guesses = [sign_in(web, password=f"guess {n}", REMOTE_ADDR="10.0.0.1").status_code
               for n in range(FREE_FAILURES)]
    api = token(bank.client, address="10.0.0.2")
    api_guesses = [token(bank.client, OTHER_ID, f"guess {n}", "10.0.0.3").status_code
                   for n in range(FREE_FAILURES)]
    form = sign_in(web, national_id=OTHER_ID, REMOTE_ADDR="10.0.0.4")
    assert (guesses, api_guesses) == ([401] * FREE_FAILURES, [401] * FREE_FAILURES)
    assert (api.status_code, api.headers["Retry-After"], api.json["message"]) == (
        429, "30", "too many failed sign-ins: try again in 30 s")
    assert (form.status_code, form.headers["Retry-After"],
            "Too many failed sign-ins. Try again in 30 seconds." in form.get_data(as_text=True)
            ) == (429, "30", True)


def test_a_campus_address_full_of_failures_still_signs_in_its_learners_browsers(
        runtime: Runtime) -> None:
    bank = accounts(runtime)
    zhang = bank.client.application.test_client()
    assert sign_in(zhang, REMOTE_ADDR=CAMPUS).status_code == 303
    sign_out(zhang)
    attacker = bank.client.application.test_client()
    sprayed = [sign_in(attacker, national_id=stranger(n), REMOTE_ADDR=CAMPUS).status_code
               for n in range(ADDRESS_FREE_FAILURES)]
    newcomer = bank.client.application.test_client()
    answers = {
        "returning learner": sign_in(zhang, REMOTE_ADDR=CAMPUS).status_code,
        "attacker": sign_in(attacker, national_id=stranger(99), REMOTE_ADDR=CAMPUS).status_code,
        "newcomer": sign_in(newcomer, national_id=OTHER_ID, REMOTE_ADDR=CAMPUS).status_code,
        "newcomer elsewhere": sign_in(newcomer, national_id=OTHER_ID,
                                      REMOTE_ADDR="192.0.2.9").status_code,
    }
    waiting = token(bank.client, OTHER_ID, address=CAMPUS)
    assert sprayed == [401] * ADDRESS_FREE_FAILURES
    assert answers == {"returning learner": 303, "attacker": 429, "newcomer": 429,
                       "newcomer elsewhere": 303}
    assert (waiting.status_code, int(waiting.headers["Retry-After"]) <= 60) == (429, True)


def test_an_attacker_keeping_an_account_waiting_does_not_keep_out_its_owner_s_browser(
        runtime: Runtime) -> None:
    bank = accounts(runtime)
    owner = bank.client.application.test_client()
    first = sign_in(owner, REMOTE_ADDR="192.0.2.10")
    device = next(cookie for cookie in first.headers.getlist("Set-Cookie")
                  if cookie.startswith("cb_device="))
    assert (first.status_code, "; HttpOnly" in device, "; SameSite=Lax" in device) == (
        303, True, True)
    sign_out(owner)
    attacker = bank.client.application.test_client()
    guesses = [sign_in(attacker, password=f"guess {n}", REMOTE_ADDR="203.0.113.66").status_code
               for n in range(FREE_FAILURES + 1)]
    assert guesses == [401] * FREE_FAILURES + [429]
    assert (sign_in(owner, REMOTE_ADDR="192.0.2.10").status_code,
            token(bank.client, address="192.0.2.10").status_code) == (303, 429)


def test_staff_sign_in_is_limited_per_address_and_names_tried_do_not_lock_their_staff(
        runtime: Runtime) -> None:
    bank = city_bank(runtime)
    for username in ("bjou-admin", "hdvc-admin"):
        add_staff(runtime.engine, username, role="institution", issuer_id=username[:4],
                  password=STAFF_PASSWORD, actor="cli:test")
    attacker = bank.client.application.test_client()
    tried = [staff_sign_in(attacker, f"user-{n}", "password?", "203.0.113.66").status_code
             for n in range(ADDRESS_FREE_FAILURES)]
    held = staff_sign_in(attacker, "hdvc-admin", "password?", "203.0.113.66")
    office = bank.client.application.test_client()
    assert tried == [401] * ADDRESS_FREE_FAILURES
    assert (held.status_code, held.headers["Retry-After"]) == (429, "1")
    assert staff_sign_in(office, "hdvc-admin", STAFF_PASSWORD, "192.0.2.50").status_code == 303


def test_signing_out_of_the_web_ends_the_learner_s_api_tokens(runtime: Runtime) -> None:
    bank = accounts(runtime)
    tokens = [bearer(token(bank.client).json["token"]) for _ in range(2)]
    web = bank.client.application.test_client()
    assert sign_in(web).status_code == 303
    before = [bank.client.get("/api/v1/learners/me", headers=held).status_code
              for held in tokens]
    sign_out(web)
    after = [bank.client.get("/api/v1/learners/me", headers=held).status_code for held in tokens]
    assert (before, after) == ([200, 200], [401, 401])


def test_logging_out_of_the_api_ends_that_token_only(runtime: Runtime) -> None:
    bank = accounts(runtime)
    first, second = (bearer(token(bank.client).json["token"]) for _ in range(2))
    logged_out = bank.client.delete("/api/v1/learners/token", headers=first)
    again = bank.client.delete("/api/v1/learners/token", headers=first)
    assert (logged_out.status_code, logged_out.get_data(), again.status_code) == (204, b"", 401)
    assert [bank.client.get("/api/v1/learners/me", headers=held).status_code
            for held in (first, second)] == [401, 200]
