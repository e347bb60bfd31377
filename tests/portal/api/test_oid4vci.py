"""The OID4VCI endpoints over HTTP: public metadata, token errors as OAuth 2.0 and OID4VCI 1.0
name them, credential errors with the Bearer challenge, offers from the learner API and the
credential's page."""

from __future__ import annotations

import re
import time
from urllib.parse import unquote

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict

from credentials.keys import SigningKey
from portal.runtime import Runtime
from tests.portal.test_oid4vp import answer, ask, verdict
from tests.support.bank import Bank, city_bank, outcome
from tests.support.citizen import credential_refs, sign_in
from tests.support.portal import form_token
from tests.support.presenting import present
from tests.support.wallet import WalletKey

GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
ISSUER = "http://127.0.0.1:5000"


@pytest.fixture
def offering(runtime: Runtime) -> tuple[Bank, dict, str]:
    """The city bank, a proven learner's Authorization header and their anchored credential."""
    bank = city_bank(runtime, approve=False)
    header = bank.open_account()
    [credential_id] = bank.issue("hdvc", [outcome("WH110", "B")])
    return bank, header, credential_id


def code_of(offer: dict) -> str:
    """The pre-authorized code in an offer's credential_offer_uri."""
    return unquote(offer["offer_uri"].rsplit("/", 1)[1])


def token_for(client: FlaskClient, offer: dict) -> str:
    """Exchange an offer for its access token."""
    answer = client.post("/oid4vci/token", data={
        "grant_type": GRANT, "pre-authorized_code": code_of(offer), "tx_code": offer["tx_code"]})
    assert answer.status_code == 200, answer.json
    return answer.json["access_token"]


def test_the_metadata_is_public_and_names_our_one_configuration(runtime: Runtime) -> None:
    client = city_bank(runtime, approve=False).client
    issuer = client.get("/.well-known/openid-credential-issuer")
    server = client.get("/.well-known/oauth-authorization-server")
    configuration = issuer.json["credential_configurations_supported"]["AchievementCredential"]
    assert (issuer.status_code, issuer.headers["Cache-Control"],
            server.headers["Cache-Control"]) == (200, "public, max-age=300", "public, max-age=300")
    assert {key: issuer.json[key] for key in ("credential_issuer", "credential_endpoint",
                                              "nonce_endpoint")} == {
        "credential_issuer": ISSUER, "credential_endpoint": f"{ISSUER}/oid4vci/credential",
        "nonce_endpoint": f"{ISSUER}/oid4vci/nonce"}
    assert {key: configuration[key] for key in (
        "format", "credential_definition", "cryptographic_binding_methods_supported",
        "proof_types_supported")} == {
        "format": "ldp_vc",
        "credential_definition": {"@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
            "https://creditbank.org/contexts/v1"],
            "type": ["VerifiableCredential", "AchievementCredential"]},
        "cryptographic_binding_methods_supported": ["jwk", "did:key", "did:jwk"],
        "proof_types_supported": {"jwt": {
            "proof_signing_alg_values_supported": ["EdDSA", "Ed25519", "ES256"]}}}
    assert [entry["locale"] for entry in configuration["credential_metadata"]["display"]] == [
        "zh", "en"]
    assert {key: server.json[key] for key in (
        "issuer", "token_endpoint", "pre-authorized_grant_anonymous_access_supported")} == {
        "issuer": ISSUER, "token_endpoint": f"{ISSUER}/oid4vci/token",
        "pre-authorized_grant_anonymous_access_supported": True}


def test_the_learner_api_makes_an_offer_for_their_own_credential_only(
        offering: tuple[Bank, dict, str]) -> None:
    bank, header, credential_id = offering
    made = bank.client.post(f"/api/v1/learners/me/credentials/{credential_id}/offers",
                            headers=header)
    someone_else = bank.client.post("/api/v1/learners/me/credentials/urn:uuid:nope/offers",
                                    headers=header)
    anonymous = bank.client.post(f"/api/v1/learners/me/credentials/{credential_id}/offers")
    offer = bank.client.get(made.json["offer_uri"].removeprefix(ISSUER))
    assert (made.status_code, someone_else.status_code, anonymous.status_code) == (201, 404, 401)
    assert re.fullmatch(r"[0-9]{6}", made.json["tx_code"])
    assert made.json["link"] == ("openid-credential-offer://?credential_offer_uri="
                                 + made.json["offer_uri"].replace(":", "%3A").replace("/", "%2F"))
    assert (offer.headers["Cache-Control"], offer.json) == ("no-store", {
        "credential_issuer": ISSUER,
        "credential_configuration_ids": ["AchievementCredential"],
        "grants": {GRANT: {"pre-authorized_code": code_of(made.json), "tx_code": {
            "input_mode": "numeric", "length": 6,
            "description": "The 6-digit code shown on your credit bank page"}}}})
    assert bank.client.get("/oid4vci/offers/unknown").status_code == 404
    assert "/api/v1/learners/me/credentials/{credential_id}/offers" in bank.client.get(
        "/api/v1/openapi.json").json["paths"]


def test_token_errors_are_those_of_oauth_2_and_oid4vci(
        offering: tuple[Bank, dict, str]) -> None:
    bank, header, credential_id = offering
    offer = bank.client.post(f"/api/v1/learners/me/credentials/{credential_id}/offers",
                             headers=header).json
    code = code_of(offer)
    requests = {
        "json body": {"json": {"grant_type": GRANT, "pre-authorized_code": code}},
        "no grant type": {"data": {"pre-authorized_code": code}},
        "authorization code": {"data": {"grant_type": "authorization_code", "code": "x"}},
        "no code": {"data": {"grant_type": GRANT}},
        "twice": {"data": MultiDict([("grant_type", GRANT), ("pre-authorized_code", code),
                                     ("pre-authorized_code", code)])},
        "no tx_code": {"data": {"grant_type": GRANT, "pre-authorized_code": code}},
        "unknown code": {"data": {"grant_type": GRANT, "pre-authorized_code": "nope",
                                  "tx_code": "000000"}},
    }
    answers = {case: bank.client.post("/oid4vci/token", **kwargs)
               for case, kwargs in requests.items()}
    assert {case: (answer.status_code, answer.json["error"])
            for case, answer in answers.items()} == {
        "json body": (400, "invalid_request"),
        "no grant type": (400, "invalid_request"),
        "authorization code": (400, "unsupported_grant_type"),
        "no code": (400, "invalid_request"),
        "twice": (400, "invalid_request"),
        "no tx_code": (400, "invalid_request"),
        "unknown code": (400, "invalid_grant"),
    }
    granted = bank.client.post("/oid4vci/token", data={
        "grant_type": GRANT, "pre-authorized_code": code, "tx_code": offer["tx_code"],
        "user_pin": offer["tx_code"], "resource": ISSUER})
    again = bank.client.post("/oid4vci/token", data={
        "grant_type": GRANT, "pre-authorized_code": code, "tx_code": offer["tx_code"]})
    assert (granted.status_code, granted.headers["Cache-Control"], granted.json["token_type"],
            granted.json["expires_in"]) == (200, "no-store", "Bearer", 300)
    assert (again.status_code, again.json["error"]) == (400, "invalid_grant")


def test_credential_errors_carry_the_spec_codes_and_the_bearer_challenge(
        offering: tuple[Bank, dict, str]) -> None:
    bank, header, credential_id = offering
    offer = bank.client.post(f"/api/v1/learners/me/credentials/{credential_id}/offers",
                             headers=header).json
    token = token_for(bank.client, offer)
    key = WalletKey()

    def request(body: object, authorization: str | None = f"Bearer {token}"):
        headers = {"Authorization": authorization} if authorization else {}
        return bank.client.post("/oid4vci/credential", json=body, headers=headers)

    nonce = bank.client.post("/oid4vci/nonce")
    proof = key.proof(ISSUER, nonce.json["c_nonce"], time.time())
    body = {"credential_configuration_id": "AchievementCredential", "proofs": {"jwt": [proof]}}
    no_token, bad_token = request(body, None), request(body, "Bearer nope")
    refused = {
        "wrong configuration": request({**body, "credential_configuration_id": "Other"}),
        "wrong audience": request({**body, "proofs": {"jwt": [key.proof(
            "https://evil.example", nonce.json["c_nonce"], time.time())]}}),
        "unknown nonce": request({**body, "proofs": {"jwt": [key.proof(
            ISSUER, "made-up", time.time())]}}),
        "not JSON": request("not an object"),
    }
    delivered = request(body)
    assert (nonce.status_code, nonce.headers["Cache-Control"],
            nonce.json["c_nonce_expires_in"]) == (200, "no-store", 300)
    assert [(answer.status_code, answer.json["error"], answer.headers["WWW-Authenticate"][:6])
            for answer in (no_token, bad_token)] == [(401, "invalid_token", "Bearer")] * 2
    assert {case: (answer.status_code, answer.json["error"])
            for case, answer in refused.items()} == {
        "wrong configuration": (400, "unknown_credential_configuration"),
        "wrong audience": (400, "invalid_proof"),
        "unknown nonce": (400, "invalid_nonce"),
        "not JSON": (400, "invalid_credential_request"),
    }
    assert (delivered.status_code, delivered.json["credentials"][0]["credential"]["id"]) == (
        200, credential_id)
    assert (request(body).status_code, request(body).json["error"]) == (401, "invalid_token")


def test_the_wallet_endpoints_are_rate_limited_and_need_no_csrf_token(
        offering: tuple[Bank, dict, str]) -> None:
    bank, _header, _credential_id = offering
    bank.client.application.config["RATE_LIMITS"]["wallet"] = (2, 60)
    answers = [bank.client.post("/oid4vci/nonce").status_code for _ in range(3)]
    limited = bank.client.post("/oid4vci/nonce")
    assert answers == [200, 200, 429]
    assert (limited.status_code, limited.json["error"]) == (429, "invalid_request")


def test_the_credential_page_sends_it_to_a_wallet(offering: tuple[Bank, dict, str]) -> None:
    bank, _header, _credential_id = offering
    client = bank.client
    sign_in(client)
    [ref] = credential_refs(client)
    page = f"/me/credentials/{ref}"
    without_token = client.post(f"{page}/wallet")
    offered = client.post(f"{page}/wallet", data={"csrf_token": form_token(client, page)})
    html = offered.get_data(as_text=True)
    assert (without_token.status_code, offered.status_code) == (400, 200)
    assert re.search(r"data-tx-code>[0-9]{6}<", html)
    assert 'value="openid-credential-offer://?credential_offer_uri=' in html
    assert "<svg" in html


def test_a_wallet_that_received_a_credential_is_bound_when_it_presents_it(
        offering: tuple[Bank, dict, str]) -> None:
    bank, header, credential_id = offering
    offer = bank.client.post(f"/api/v1/learners/me/credentials/{credential_id}/offers",
                             headers=header).json
    token = token_for(bank.client, offer)
    wallet = WalletKey()
    nonce = bank.client.post("/oid4vci/nonce").json["c_nonce"]
    received = bank.client.post(
        "/oid4vci/credential",
        json={"credential_configuration_id": "AchievementCredential",
              "proofs": {"jwt": [wallet.proof(ISSUER, nonce, time.time(), by="did:key")]}},
        headers={"Authorization": f"Bearer {token}"},
    ).json["credentials"][0]["credential"]
    seed = wallet.private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    results = {}
    for name, key in (("the wallet", SigningKey.from_seed(seed)),
                      ("another key", SigningKey.from_seed(bytes(range(32))))):
        page, request = ask(bank.client)
        answer(bank.client, request, present([received], key, challenge=request["nonce"],
                                             domain=request["client_id"]))
        shown, html = verdict(bank.client, page)
        binding = re.search(r'data-presentation-check="holder_binding" data-status="(\w+)"', html)
        results[name] = (shown, binding.group(1) if binding else None)
    assert received["credentialSubject"]["id"].startswith("did:web:")
    assert results == {"the wallet": ("VALID", "VALID"), "another key": ("INVALID", "INVALID")}
