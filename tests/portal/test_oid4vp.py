"""OID4VP over HTTP (test client): the employer asks, a wallet answers once, the page shows."""

from __future__ import annotations

import json
import re
from html import unescape
from urllib.parse import parse_qsl, urlsplit

import pytest
from sqlalchemy import update

from bank.tables import presentation_requests
from credentials.keys import SigningKey
from portal.app import create_app
from portal.runtime import Runtime
from tests.support.portal import at_localhost, form_token, runtime_issuer
from tests.support.presenting import present

RESPONSE_URI = "http://localhost/oid4vp/response"
LINK = re.compile(r'data-request-link href="([^"]+)"|href="(openid4vp://[^"]+)"')


@pytest.fixture
def client(runtime: Runtime):
    """A test client of the portal at http://localhost."""
    return create_app(at_localhost(runtime), {"TESTING": True}).test_client()


@pytest.fixture
def credential(runtime: Runtime) -> dict:
    """One anchored credential of the accredited sample issuer, about the sample learner."""
    issuer = runtime_issuer(runtime)
    return issuer.anchor([issuer.sign(1)])[0]


def ask(client, **filters: str) -> tuple[str, dict]:
    """Ask for a credential on the verification page; the page's path and the wallet's request."""
    response = client.post("/verify/wallet",
                           data={"csrf_token": form_token(client), **filters})
    assert response.status_code == 303, response.get_data(as_text=True)
    page = urlsplit(response.headers["Location"]).path
    html = client.get(page).get_data(as_text=True)
    assert "<svg" in html and "data-request-qr" in html
    link = unescape(re.search(r'href="(openid4vp://[^"]+)"', html).group(1))
    request = dict(parse_qsl(urlsplit(link).query))
    return page, request


def answer(client, request: dict, presentation: dict | None, **form: str):
    """The wallet's direct_post of a presentation for the request."""
    data = {"state": request["state"], **form}
    if presentation is not None:
        data["vp_token"] = json.dumps({"achievement": [presentation]})
    return client.post("/oid4vp/response", data=data)


def verdict(client, page: str) -> tuple[str, str]:
    """The page's overall verdict and its HTML once the wallet answered."""
    html = client.get(page).get_data(as_text=True)
    return html.split('data-presentation-verdict="', 1)[1].split('"', 1)[0], html


def test_the_verification_page_offers_the_panel(client) -> None:
    html = client.get("/verify").get_data(as_text=True)
    assert 'action="/verify/wallet"' in html and 'name="unit_code"' in html


def test_request_by_value_with_a_redirect_uri_client_id(client) -> None:
    _, request = ask(client, issuer="did:web:creditbank.example:issuers:demo-university",
                     unit_code="CS101")
    assert {name: request[name] for name in ("response_type", "response_mode", "client_id",
                                             "response_uri")} == {
        "response_type": "vp_token", "response_mode": "direct_post",
        "client_id": "redirect_uri:" + RESPONSE_URI, "response_uri": RESPONSE_URI}
    assert len(request["nonce"]) >= 32 and len(request["state"]) >= 32
    [query] = json.loads(request["dcql_query"])["credentials"]
    assert query == {
        "id": "achievement", "format": "ldp_vc",
        "meta": {"type_values": [["VerifiableCredential", "AchievementCredential"]]},
        "claims": [
            {"path": ["issuer", "id"],
             "values": ["did:web:creditbank.example:issuers:demo-university"]},
            {"path": ["credentialSubject", "achievement", "humanCode"], "values": ["CS101"]},
        ]}
    assert "ldp_vc" in json.loads(request["client_metadata"])["vp_formats_supported"]


def test_a_valid_presentation_is_reported_valid_once(client, credential: dict) -> None:
    page, request = ask(client, unit_code="CS101")
    presentation = present([credential], challenge=request["nonce"],
                           domain=request["client_id"])
    response = answer(client, request, presentation)
    assert (response.status_code, response.get_json()) == (200, {})
    shown, html = verdict(client, page)
    assert shown == "VALID", html
    assert 'data-presentation-check="holder_binding" data-status="VALID"' in html
    assert 'data-presentation-check="query" data-status="VALID"' in html
    assert 'data-check="status" data-status="VALID"' in html
    assert "data-request-qr" not in html
    again = answer(client, request, presentation)
    assert (again.status_code, again.get_json()["error"]) == (400, "invalid_request")


def test_a_replayed_presentation_fails_the_challenge(client, credential: dict) -> None:
    page, request = ask(client)
    presentation = present([credential], challenge="an older nonce",
                           domain=request["client_id"])
    assert answer(client, request, presentation).status_code == 200
    shown, html = verdict(client, page)
    assert shown == "INVALID"
    assert 'data-presentation-check="challenge" data-status="INVALID"' in html
    assert "CHALLENGE_MISMATCH" in html


def test_a_credential_of_another_unit_does_not_satisfy_the_query(client,
                                                                 credential: dict) -> None:
    page, request = ask(client, unit_code="MA201")
    presentation = present([credential], challenge=request["nonce"],
                           domain=request["client_id"])
    answer(client, request, presentation)
    shown, html = verdict(client, page)
    assert shown == "INVALID" and 'data-failed-check="query"' in html


def test_unknown_state_and_bad_tokens_get_the_spec_error(client, credential: dict) -> None:
    _, request = ask(client)
    presentation = present([credential], challenge=request["nonce"],
                           domain=request["client_id"])
    wrong = answer(client, {"state": "not-a-state"}, presentation)
    assert (wrong.status_code, wrong.get_json()["error"]) == (400, "invalid_request")
    for form in ({"vp_token": "{not json"}, {"vp_token": json.dumps({"other": [{}]})},
                 {"vp_token": json.dumps({"achievement": [presentation, presentation]})}, {}):
        response = client.post("/oid4vp/response", data={"state": request["state"], **form})
        assert (response.status_code, response.get_json()["error"]) == (400, "invalid_request")
    assert answer(client, request, presentation).status_code == 200


def test_an_expired_request_is_refused(client, runtime: Runtime, credential: dict) -> None:
    page, request = ask(client)
    with runtime.engine.begin() as connection:
        connection.execute(update(presentation_requests).values(expires_at=0))
    presentation = present([credential], challenge=request["nonce"],
                           domain=request["client_id"])
    response = answer(client, request, presentation)
    assert (response.status_code, response.get_json()["error"]) == (400, "invalid_request")
    assert "data-expired" in client.get(page).get_data(as_text=True)


def test_a_declining_wallet_and_an_unknown_page(client) -> None:
    page, request = ask(client)
    assert answer(client, request, None, error="access_denied").status_code == 200
    assert "data-declined" in client.get(page).get_data(as_text=True)
    assert client.get("/verify/wallet/unknown").status_code == 404


def test_asking_needs_the_form_token_and_a_did_issuer(client) -> None:
    assert client.post("/verify/wallet", data={}).status_code == 400
    response = client.post("/verify/wallet", data={"csrf_token": form_token(client),
                                                   "issuer": "Demo University"})
    assert response.status_code == 400
    assert 'id="issuer-error"' in response.get_data(as_text=True)


def test_another_wallets_presentation_fails_holder_binding(client, credential: dict) -> None:
    page, request = ask(client)
    stranger = SigningKey.from_seed(bytes(range(100, 132)))
    presentation = present([credential], stranger, challenge=request["nonce"],
                           domain=request["client_id"])
    answer(client, request, presentation)
    shown, html = verdict(client, page)
    assert shown == "INVALID"
    assert 'data-presentation-check="holder_binding" data-status="INVALID"' in html
    assert "HOLDER_NOT_BOUND" in html
