"""City single sign-on through OpenID Connect, against a provider of the tests' own
(tests/oidc_provider.py): the full authorization code flow with PKCE, linking, and refusals of
tampered, misaddressed, expired or replayed ID tokens."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask.testing import FlaskClient

from portal.app import create_app
from portal.errors import SignOnFailed
from portal.oidc import verify_id_token
from portal.runtime import Runtime
from tests.support.bank import LEARNER_ID, OTHER_ID, PASSWORD, bearer, city_bank
from tests.support.citizen import credential_refs, issue_record, sign_in, sign_up
from tests.support.oidc_provider import CLIENT_ID, OidcProvider, b64
from tests.support.portal import at_localhost, form_token

CALLBACK = "http://localhost/sign-in/city/callback"

@pytest.fixture
def provider() -> Iterator[OidcProvider]:
    """The tests' OpenID provider, served on 127.0.0.1."""
    with OidcProvider() as served:
        yield served


def portal(runtime: Runtime, provider: OidcProvider, claim: str | None = None) -> FlaskClient:
    """A test client of the portal configured for the provider (after the city bank is set up)."""
    city_bank(runtime)
    runtime.settings = replace(runtime.settings, city_sign_on=provider.sign_on(CALLBACK, claim))
    app = create_app(at_localhost(runtime), {"TESTING": True})
    return app.test_client()


def city_sign_in(client: FlaskClient) -> tuple[int, str]:
    """Go through the city sign-in: to the provider, its consent, back to the callback."""
    start = client.get("/sign-in/city")
    assert start.status_code == 303
    consent = requests.get(start.headers["Location"], allow_redirects=False, timeout=10)
    back = urlsplit(consent.headers["Location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == CALLBACK
    done = client.get(f"{back.path}?{back.query}")
    return done.status_code, done.headers.get("Location", "")


def test_a_signed_in_learner_links_the_city_identity_then_signs_in_with_it(
        runtime: Runtime, provider: OidcProvider) -> None:
    client = portal(runtime, provider)
    unlinked = city_sign_in(client)
    sign_up(client)
    linked = city_sign_in(client)
    client.post("/sign-out", data={"csrf_token": form_token(client, "/me")})
    signed_out = client.get("/me").status_code
    again = city_sign_in(client)
    assert (unlinked[0], linked, signed_out, again) == (403, (303, "/me"), 302, (303, "/me"))
    assert client.get("/me").status_code == 200


def test_a_national_id_claim_signs_in_the_account_of_that_national_id(
        runtime: Runtime, provider: OidcProvider) -> None:
    client = portal(runtime, provider, claim="national_id")
    sign_up(client)
    client.post("/sign-out", data={"csrf_token": form_token(client, "/me")})
    provider.person = {"sub": "city-0002", "national_id": LEARNER_ID}
    assert city_sign_in(client) == (303, "/me")
    assert "Signed in as" in client.get("/me").get_data(as_text=True)


@pytest.mark.parametrize("spoil", ["tampered", "audience", "nonce", "expired"])
def test_a_spoilt_id_token_is_refused(runtime: Runtime, provider: OidcProvider,
                                      spoil: str) -> None:
    client = portal(runtime, provider, claim="national_id")
    sign_up(client)
    client.post("/sign-out", data={"csrf_token": form_token(client, "/me")})
    provider.person = {"sub": "city-0003", "national_id": LEARNER_ID}
    provider.spoil = spoil
    assert city_sign_in(client) == (502, "")
    assert client.get("/me").status_code == 302


def test_a_callback_replayed_or_with_another_state_is_refused(
        runtime: Runtime, provider: OidcProvider) -> None:
    client = portal(runtime, provider, claim="national_id")
    provider.person = {"sub": "city-0004", "national_id": LEARNER_ID}
    start = client.get("/sign-in/city")
    consent = requests.get(start.headers["Location"], allow_redirects=False, timeout=10)
    query = parse_qs(urlsplit(consent.headers["Location"]).query)
    forged = client.get(f"/sign-in/city/callback?code={query['code'][0]}&state=forged")
    replayed = client.get(f"/sign-in/city/callback?code={query['code'][0]}"
                          f"&state={query['state'][0]}")
    assert (forged.status_code, replayed.status_code) == (502, 404)


def test_sign_on_is_absent_when_not_configured(runtime: Runtime) -> None:
    client = city_bank(runtime).client
    page = client.get("/sign-in").get_data(as_text=True)
    assert (client.get("/sign-in/city").status_code, "/sign-in/city" in page) == (404, False)


def test_id_token_checks_name_what_is_wrong(provider: OidcProvider) -> None:
    claims = {"iss": provider.issuer, "aud": CLIENT_ID, "iat": 1000, "exp": 2000, "nonce": "n",
              "sub": "s"}
    numbers = provider.key.public_key().public_numbers()
    key = {"kty": "RSA", "kid": "test-key-1",
           "n": b64(numbers.n.to_bytes(256, "big")), "e": b64(numbers.e.to_bytes(3, "big"))}

    def refusal(token: str, **expected: object) -> str:
        checks = {"issuer": provider.issuer, "audience": CLIENT_ID, "nonce": "n", "now": 1500.0,
                  **expected}
        try:
            verify_id_token(token, [key], **checks)  # type: ignore[arg-type]
        except SignOnFailed as error:
            return error.message
        return "accepted"

    token = provider.id_token(claims)
    assert {
        "good": refusal(token),
        "issuer": refusal(token, issuer="http://elsewhere"),
        "audience": refusal(token, audience="other"),
        "nonce": refusal(token, nonce="m"),
        "expired": refusal(token, now=3000.0),
        "future": refusal(token, now=500.0),
        "garbage": refusal("not.a.jwt"),
        "alg": refusal(token.replace(token.split(".")[0], b64(b'{"alg":"none"}'))),
    } == {
        "good": "accepted",
        "issuer": "the ID token was issued by another provider",
        "audience": "the ID token is meant for another application",
        "nonce": "the ID token answers another sign-in (wrong nonce)",
        "expired": "the ID token has expired",
        "future": "the ID token was issued in the future",
        "garbage": "the ID token is not a readable JWT",
        "alg": "the ID token must be signed with RS256",
    }


def record_portal(runtime: Runtime, provider: OidcProvider) -> FlaskClient:
    """The portal with Wang Fang's record issued, and city sign-on that vouches for national
    ids."""
    issue_record(city_bank(runtime))
    runtime.settings = replace(runtime.settings,
                               city_sign_on=provider.sign_on(CALLBACK, "national_id"))
    return create_app(at_localhost(runtime), {"TESTING": True}).test_client()


def shown(client: FlaskClient) -> tuple[int, list[str]]:
    """How many credentials the dashboard lists, and what the learner proved."""
    page = client.get("/me").get_data(as_text=True)
    return len(credential_refs(client)), re.findall(r'data-identity="([^"]+)"', page)


def test_city_sign_on_vouching_for_the_national_id_opens_the_whole_record(
        runtime: Runtime, provider: OidcProvider) -> None:
    client = record_portal(runtime, provider)
    sign_up(client, proven=False)
    before = shown(client)
    provider.person = {"sub": "city-0010", "national_id": LEARNER_ID}
    assert city_sign_in(client) == (303, "/me")
    client.post("/sign-out", data={"csrf_token": form_token(client, "/me")})
    assert sign_in(client).status_code == 303
    assert (before, shown(client)) == ((0, ["unproven"]), (5, ["real-name"]))


def test_the_owner_proving_by_city_ends_the_password_of_whoever_squatted_their_id(
        runtime: Runtime, provider: OidcProvider) -> None:
    squatter = record_portal(runtime, provider)
    sign_up(squatter, proven=False)
    token = squatter.post("/api/v1/learners/token", json={
        "national_id": LEARNER_ID, "password": PASSWORD}).json["token"]
    owner = squatter.application.test_client()
    provider.person = {"sub": "city-0011", "national_id": LEARNER_ID}
    assert city_sign_in(owner) == (303, "/me")
    page = owner.get("/me").get_data(as_text=True)
    assert (shown(owner), "This account has no password now" in page) == (
        (5, ["real-name"]), True)
    assert (squatter.get("/me").status_code, sign_in(squatter).status_code,
            squatter.get("/api/v1/learners/me", headers=bearer(token)).status_code) == (
        302, 401, 401)


def test_a_city_identity_of_another_national_id_proves_and_links_nothing(
        runtime: Runtime, provider: OidcProvider) -> None:
    client = record_portal(runtime, provider)
    sign_up(client, OTHER_ID, proven=False)
    provider.person = {"sub": "city-0012", "national_id": LEARNER_ID}
    mismatch = client.get("/sign-in/city")
    consent = requests.get(mismatch.headers["Location"], allow_redirects=False, timeout=10)
    back = urlsplit(consent.headers["Location"])
    refused = client.get(f"{back.path}?{back.query}")
    assert (refused.status_code, "This city account names someone else" in
            refused.get_data(as_text=True)) == (403, True)
    assert shown(client) == (0, ["unproven"])
