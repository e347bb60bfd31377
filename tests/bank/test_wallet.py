"""Wallet offers (OID4VCI): a learner offers only their own anchored credential; the offer is
redeemed once, with its transaction code, before it expires; a key proof must be this issuer's,
fresh, over an unspent nonce and signed by the key it names; the key that received the credential
is recorded for holder binding."""

from __future__ import annotations

import json
import threading
import time

import pytest
from sqlalchemy import select

from bank.wallet import (
    MAX_TX_CODE_FAILURES,
    WalletRefusal,
    create_offer,
    deliver,
    exchange,
    holder_bound,
    new_nonce,
    verify_key_proof,
)
from infra.audit import entries
from infra.errors import NotFound
from issuers.tables import credentials
from portal.runtime import Runtime
from tests.support.bank import OTHER_ID, Bank, city_bank, outcome
from tests.support.wallet import WalletKey

ISSUER = "https://bank.example"
NOW = 1_790_000_000.0


def refusal(call, *args, **kwargs) -> tuple[str, int]:
    """The (error, status) a wallet call is refused with."""
    with pytest.raises(WalletRefusal) as raised:
        call(*args, **kwargs)
    return raised.value.error, raised.value.status


def request_with(jwt: str) -> dict:
    """A credential request for our configuration with one JWT proof."""
    return {"credential_configuration_id": "AchievementCredential", "proofs": {"jwt": [jwt]}}


@pytest.mark.parametrize("kind", ["Ed25519", "P-256"])
@pytest.mark.parametrize("by", ["jwk", "did:key", "did:jwk"])
def test_a_proof_names_its_key_by_jwk_did_key_or_did_jwk(kind: str, by: str) -> None:
    key = WalletKey(kind)
    proof = key.proof(ISSUER, "n-1", NOW, by=by)
    assert verify_key_proof(proof, audience=ISSUER, now=NOW) == (key.thumbprint, "n-1")


KEY = WalletKey()
OTHER = WalletKey()
P256 = WalletKey("P-256")
BAD_PROOFS = {
    "wrong typ": KEY.proof(ISSUER, "n", NOW, header={"typ": "JWT"}),
    "alg none": KEY.proof(ISSUER, "n", NOW, header={"alg": "none"}),
    "HS256": KEY.proof(ISSUER, "n", NOW, header={"alg": "HS256"}),
    "alg of another key type": KEY.proof(ISSUER, "n", NOW, header={"alg": "ES256"}),
    "wrong aud": KEY.proof("https://evil.example", "n", NOW),
    "aud missing": KEY.proof(ISSUER, "n", NOW, payload={"aud": None}),
    "issued long ago": KEY.proof(ISSUER, "n", NOW - 301),
    "issued in the future": KEY.proof(ISSUER, "n", NOW + 120),
    "expired": KEY.proof(ISSUER, "n", NOW, payload={"exp": NOW - 1}),
    "no nonce": KEY.proof(ISSUER, None, NOW),
    "another key's signature": OTHER.sign(
        {"typ": "openid4vci-proof+jwt", "alg": "EdDSA", "jwk": KEY.jwk},
        {"aud": ISSUER, "iat": NOW, "nonce": "n"}),
    "a private jwk": KEY.proof(ISSUER, "n", NOW, header={"jwk": {**KEY.jwk, "d": "AAAA"}}),
    "jwk and kid": KEY.proof(ISSUER, "n", NOW, header={"kid": KEY.did_key}),
    "x5c": KEY.proof(ISSUER, "n", NOW, by="did:key", header={"kid": None, "x5c": ["MII"]}),
    "a did:web kid": KEY.proof(ISSUER, "n", NOW, by="did:key",
                               header={"kid": "did:web:wallet.example#key-1"}),
    "ES256 signature cut short": P256.proof(ISSUER, "n", NOW)[:-8],
    "not a JWT": "not.a-jwt",
}


@pytest.mark.parametrize("case", sorted(BAD_PROOFS))
def test_a_bad_proof_is_an_invalid_proof(case: str) -> None:
    assert refusal(verify_key_proof, BAD_PROOFS[case], audience=ISSUER, now=NOW) == (
        "invalid_proof", 400)


@pytest.fixture
def offered(runtime: Runtime) -> tuple[Bank, dict, str]:
    """The city bank with one learner whose HDVC credential is anchored."""
    bank = city_bank(runtime, approve=False)
    header = bank.open_account()
    [credential_id] = bank.issue("hdvc", [outcome("WH110", "B")])
    did = bank.client.get("/api/v1/learners/me", headers=header).json["account"]["did"]
    return bank, runtime.accounts.by_did(did), credential_id


def test_an_offer_delivers_the_anchored_credential_once_and_records_the_key(
        runtime: Runtime, offered: tuple[Bank, dict, str]) -> None:
    _bank, learner, credential_id = offered
    engine = runtime.engine
    now = time.time()
    offer = create_offer(engine, learner, credential_id, now=now)
    wrong = str((int(offer.tx_code) + 1) % 10**6).zfill(6)
    refused_code = refusal(exchange, engine, offer.pre_authorized_code, wrong, now=now)
    missing_code = refusal(exchange, engine, offer.pre_authorized_code, None, now=now)
    token = exchange(engine, offer.pre_authorized_code, offer.tx_code, now=now)
    reused = refusal(exchange, engine, offer.pre_authorized_code, offer.tx_code, now=now)
    unknown_nonce = refusal(deliver, engine, token.token,
                            request_with(KEY.proof(ISSUER, "never-issued", now)),
                            issuer_url=ISSUER, now=now)
    nonce, _lifetime = new_nonce(engine, now=now)
    delivered = deliver(engine, token.token, request_with(KEY.proof(ISSUER, nonce, now)),
                        issuer_url=ISSUER, now=now)
    token_again = refusal(deliver, engine, token.token,
                          request_with(KEY.proof(ISSUER, nonce, now)), issuer_url=ISSUER, now=now)
    with engine.connect() as connection:
        stored = connection.execute(select(credentials.c.anchored).where(
            credentials.c.id == credential_id)).scalar_one()
        bound = (holder_bound(connection, credential_id, KEY.thumbprint),
                 holder_bound(connection, credential_id, OTHER.thumbprint))
    assert (refused_code, missing_code, reused) == (
        ("invalid_grant", 400), ("invalid_request", 400), ("invalid_grant", 400))
    assert (unknown_nonce, token_again) == (("invalid_nonce", 400), ("invalid_token", 401))
    assert (delivered.credential_json, delivered.thumbprint, bound) == (
        stored, KEY.thumbprint, (now, None))
    assert json.loads(delivered.credential_json)["id"] == credential_id
    assert [(entry["action"], entry["actor"], entry["subject"]) for entry in entries(
        engine, action="wallet.")] == [
        ("wallet.deliver", f"wallet:{KEY.thumbprint}", credential_id),
        ("wallet.offer", f"learner:{learner['id']}", credential_id)]


def test_a_nonce_is_spent_by_one_proof(runtime: Runtime,
                                       offered: tuple[Bank, dict, str]) -> None:
    _bank, learner, credential_id = offered
    engine, now = runtime.engine, time.time()
    tokens = []
    for _ in range(2):
        offer = create_offer(engine, learner, credential_id, now=now)
        tokens.append(exchange(engine, offer.pre_authorized_code, offer.tx_code, now=now).token)
    nonce, _lifetime = new_nonce(engine, now=now)
    deliver(engine, tokens[0], request_with(KEY.proof(ISSUER, nonce, now)), issuer_url=ISSUER,
            now=now)
    assert refusal(deliver, engine, tokens[1], request_with(OTHER.proof(ISSUER, nonce, now)),
                   issuer_url=ISSUER, now=now) == ("invalid_nonce", 400)
    stale, _lifetime = new_nonce(engine, now=now - 400)
    assert refusal(deliver, engine, tokens[1], request_with(OTHER.proof(ISSUER, stale, now)),
                   issuer_url=ISSUER, now=now) == ("invalid_nonce", 400)


def test_offers_expire_and_wrong_codes_end_them(runtime: Runtime,
                                                offered: tuple[Bank, dict, str]) -> None:
    _bank, learner, credential_id = offered
    engine, now = runtime.engine, time.time()
    expired = create_offer(engine, learner, credential_id, now=now - 601)
    guessed = create_offer(engine, learner, credential_id, now=now)
    wrong = str((int(guessed.tx_code) + 1) % 10**6).zfill(6)
    guesses = [refusal(exchange, engine, guessed.pre_authorized_code, wrong, now=now)
               for _ in range(MAX_TX_CODE_FAILURES)]
    assert refusal(exchange, engine, expired.pre_authorized_code, expired.tx_code,
                   now=now) == ("invalid_grant", 400)
    assert guesses == [("invalid_grant", 400)] * MAX_TX_CODE_FAILURES
    assert refusal(exchange, engine, guessed.pre_authorized_code, guessed.tx_code,
                   now=now) == ("invalid_grant", 400)


def test_a_learner_offers_only_their_own_anchored_credentials(
        runtime: Runtime, offered: tuple[Bank, dict, str]) -> None:
    bank, _learner, credential_id = offered
    other = bank.client.get("/api/v1/learners/me", headers=bank.open_account(OTHER_ID)).json
    stranger = runtime.accounts.by_did(other["account"]["did"])
    for learner, wanted in ((stranger, credential_id), (stranger, "urn:uuid:unknown")):
        with pytest.raises(NotFound):
            create_offer(runtime.engine, learner, wanted, now=time.time())


def test_a_credential_request_must_be_for_our_configuration_with_one_jwt_proof(
        runtime: Runtime, offered: tuple[Bank, dict, str]) -> None:
    _bank, learner, credential_id = offered
    engine, now = runtime.engine, time.time()
    offer = create_offer(engine, learner, credential_id, now=now)
    token = exchange(engine, offer.pre_authorized_code, offer.tx_code, now=now).token
    jwt = KEY.proof(ISSUER, "n", now)
    requests = {
        "not an object": [jwt],
        "no configuration": {"proofs": {"jwt": [jwt]}},
        "another configuration": {**request_with(jwt), "credential_configuration_id": "mDL"},
        "an identifier": {**request_with(jwt), "credential_identifier": "x"},
        "the draft proof": {"credential_configuration_id": "AchievementCredential",
                            "proof": {"proof_type": "jwt", "jwt": jwt}},
        "no proofs": {"credential_configuration_id": "AchievementCredential"},
        "another proof type": {**request_with(jwt), "proofs": {"di_vp": [{}]}},
        "two proofs": {**request_with(jwt), "proofs": {"jwt": [jwt, jwt]}},
        "encryption": {**request_with(jwt), "credential_response_encryption": {}},
    }
    assert {case: refusal(deliver, engine, token, body, issuer_url=ISSUER, now=now)[0]
            for case, body in requests.items()} == {
        "not an object": "invalid_credential_request",
        "no configuration": "invalid_credential_request",
        "another configuration": "unknown_credential_configuration",
        "an identifier": "invalid_credential_request",
        "the draft proof": "invalid_credential_request",
        "no proofs": "invalid_proof",
        "another proof type": "invalid_proof",
        "two proofs": "invalid_proof",
        "encryption": "invalid_encryption_parameters",
    }


def test_guesses_sent_in_parallel_get_no_more_tries(runtime: Runtime,
                                                    offered: tuple[Bank, dict, str]) -> None:
    _bank, learner, credential_id = offered
    engine, now = runtime.engine, time.time()
    offer = create_offer(engine, learner, credential_id, now=now)
    wrong = str((int(offer.tx_code) + 1) % 10**6).zfill(6)
    answers: list[str] = []
    start = threading.Barrier(8)

    def guess() -> None:
        start.wait(timeout=30)
        try:
            exchange(engine, offer.pre_authorized_code, wrong, now=now)
        except WalletRefusal as refused:
            answers.append(refused.message)

    threads = [threading.Thread(target=guess) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    tried = [answer for answer in answers if answer.startswith("the transaction code is wrong")]
    assert (len(answers), len(tried)) == (8, MAX_TX_CODE_FAILURES)
    assert refusal(exchange, engine, offer.pre_authorized_code, offer.tx_code,
                   now=now) == ("invalid_grant", 400)
