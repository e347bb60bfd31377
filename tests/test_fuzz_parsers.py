"""Hypothesis fuzzes the parsers of untrusted input: the JSON-RPC envelope, the verifier's parse
check, anchor proofs and verification method ids. Any input gives an answer or the parser's own
error, never another exception."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credentials.anchoring import ANCHOR_PROOF_TYPE, AnchorProof, anchor_proof_of
from credentials.base58 import ALPHABET
from credentials.contexts import FILES
from credentials.dids import public_key_of
from credentials.errors import CredentialError
from ledger.rpc import ADMIN_METHODS, METHODS
from ledger.views import ChainView
from tests.support.chains import TestChain, embedded_chain
from verify.checks import parse
from verify.context import Context
from verify.errors import Invalid
from verify.fragments import Status
from verify.subject import Subject

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.from_regex(r"0x[0-9a-fA-F]{0,70}", fullmatch=True)
    | st.sampled_from(["latest", "pending", "earliest", "0x0", "0x1", "0x" + "00" * 20])
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=16,
)


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestChain]:
    """An embedded node with our contracts, shared by the module."""
    test_chain = embedded_chain(tmp_path_factory.mktemp("fuzz") / "chain")
    yield test_chain
    assert test_chain.node is not None
    test_chain.node.close()


# -- JSON-RPC --------------------------------------------------------------------------------

requests = st.fixed_dictionaries(
    {
        "jsonrpc": st.sampled_from(["2.0", "2.0", "1.0"]) | json_values,
        "method": st.sampled_from(sorted({*METHODS, *ADMIN_METHODS})) | st.text(max_size=20),
        "params": st.lists(json_values, max_size=4) | json_values,
    },
    optional={"id": st.integers(0, 2**31) | st.text(max_size=8) | json_values},
)
bodies = (
    st.binary(max_size=512)
    | st.builds(lambda value: json.dumps(value).encode(), requests)
    | st.builds(lambda value: json.dumps(value).encode(), st.lists(requests, max_size=4))
    | st.builds(lambda value: json.dumps(value).encode(), json_values)
)


def responses_of(answer: bytes) -> list[dict]:
    """The response objects of a JSON-RPC answer."""
    if not answer:
        return []
    decoded = json.loads(answer)
    return decoded if isinstance(decoded, list) else [decoded]


@FUZZ
@given(body=bodies)
def test_json_rpc_answers_any_body_with_a_response_or_a_clean_error(
    chain: TestChain, body: bytes
) -> None:
    assert chain.node is not None
    for response in responses_of(chain.node.handle(body)):
        assert response["jsonrpc"] == "2.0"
        assert ("result" in response) != ("error" in response)
        if "error" in response:
            assert response["error"]["message"] != "internal error", body


# -- the verifier's parse check ----------------------------------------------------------------

contexts = st.sampled_from(sorted(FILES)) | st.text(max_size=30) | json_values
documents = st.fixed_dictionaries(
    {},
    optional={
        "@context": st.lists(contexts, max_size=3) | contexts,
        "type": st.lists(
            st.sampled_from(["VerifiableCredential", "AchievementCredential", "ClrCredential"])
            | st.text(max_size=10),
            max_size=3,
        )
        | json_values,
        "credentialSubject": json_values,
        "proof": json_values,
    },
)
raw_inputs = (
    st.binary(max_size=512)
    | st.text(max_size=200)
    | st.builds(lambda value: json.dumps(value), documents)
    | documents
    | st.dictionaries(st.text(max_size=5), st.floats() | json_values, max_size=4)
)


@FUZZ
@given(raw=raw_inputs)
def test_parse_check_takes_any_input_or_names_its_reason(chain: TestChain, raw: object) -> None:
    context = Context(ChainView(chain.ledger))
    subject = Subject(raw)  # type: ignore[arg-type]
    try:
        fragment = parse.run(subject, context)
    except Invalid as refusal:
        assert refusal.code is not None
    else:
        assert (fragment.status, isinstance(subject.document, dict)) == (Status.VALID, True)


# -- anchor proofs ----------------------------------------------------------------------------

anchor_members = st.fixed_dictionaries(
    {"type": st.sampled_from([ANCHOR_PROOF_TYPE, "DataIntegrityProof"]) | json_values},
    optional={
        "chainId": st.integers(-5, 2**70) | json_values,
        "anchorContract": st.from_regex(r"0x[0-9a-fA-F]{40}", fullmatch=True) | json_values,
        "transactionHash": st.from_regex(r"0x[0-9a-f]{64}", fullmatch=True) | json_values,
        "merkleRoot": st.from_regex(r"0x[0-9a-f]{64}", fullmatch=True) | json_values,
        "merklePath": st.lists(st.from_regex(r"0x[0-9a-f]{64}", fullmatch=True), max_size=3)
        | json_values,
        "extra": json_values,
    },
)
credentials = (
    st.fixed_dictionaries({"proof": st.lists(anchor_members | json_values, max_size=3)})
    | st.fixed_dictionaries({"proof": anchor_members | json_values})
    | json_values
)


@FUZZ
@given(credential=credentials)
def test_anchor_proof_of_any_credential_is_a_proof_none_or_malformed(credential: object) -> None:
    try:
        proof = anchor_proof_of(credential)  # type: ignore[arg-type]
    except CredentialError as refusal:
        assert refusal.message
    else:
        assert proof is None or isinstance(proof, AnchorProof)


# -- verification method ids ------------------------------------------------------------------

multibase = st.text(alphabet=ALPHABET, max_size=60).map(lambda text: "z" + text)
method_ids = st.text(max_size=80) | st.builds(
    lambda method, did, fragment: f"did:{method}:{did}#{fragment}",
    st.sampled_from(["key", "web", "example"]) | st.text(max_size=5),
    multibase | st.text(max_size=20),
    multibase | st.sampled_from(["z6Mk", "z"]) | st.text(max_size=20),
)


@FUZZ
@given(method_id=method_ids)
def test_public_key_of_any_method_id_is_a_key_or_a_clean_error(method_id: str) -> None:
    try:
        key = public_key_of(method_id)
    except CredentialError as refusal:
        assert refusal.message
    else:
        assert len(key) == 32
