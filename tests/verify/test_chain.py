"""Sign → batch → anchor → verify on real chains (embedded node and anvil), for every verdict."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credentials.dids import did_web
from credentials.keys import SigningKey
from infra.times import iso_utc
from issuers.batch import Batch
from ledger.client import Ledger
from ledger.views import ChainView
from tests.support.chains import TestChain, scope_mask
from tests.support.issuing import Issuer
from tests.support.nodes import free_port
from tests.support.samples import ISSUER_DID, ISSUER_KEY
from verify import CHECKS, Code, Context, Status, verify_credential, verify_many

NOW = datetime(2026, 6, 1, tzinfo=UTC)
CHECK_NAMES = tuple(check.NAME for check in CHECKS)
OTHER_DID = did_web("creditbank.example", "issuers", "other-college")
OTHER_KEY = SigningKey.from_seed(bytes(range(100, 132)))


def outcome(report) -> list[tuple[str, Status, str | None]]:
    """The whole result as (check, status, code) rows."""
    return [(f.name, f.status, None if f.code is None else str(f.code)) for f in report.fragments]


def expected(**failures: tuple[Status, Code]) -> list[tuple[str, Status, str | None]]:
    """VALID rows except the named checks."""
    rows = []
    for name in CHECK_NAMES:
        status, code = failures.get(name, (Status.VALID, None))
        rows.append((name, status, None if code is None else str(code)))
    return rows


def SKIPPED_WITHOUT_ANCHOR(code: Code) -> list[tuple[str, Status, str | None]]:
    """The rows when the anchor check fails with `code`: what needs the anchor is skipped."""
    skipped = (Status.SKIPPED, Code.PRECONDITION_FAILED)
    return expected(
        key_binding=skipped, accreditation=skipped, anchor=(Status.INVALID, code), status=skipped
    )


def check(chain: TestChain, credential: dict, now: datetime = NOW):
    """Verify one credential against the chain, at `now`."""
    return verify_credential(credential, Context(ChainView(chain.ledger), clock=lambda: now))


@pytest.fixture
def issuer(chain: TestChain) -> Issuer:
    """The demo university, accredited for every kind and levels 1–8."""
    return Issuer(chain, ISSUER_DID, ISSUER_KEY)


@pytest.mark.parametrize("suite", ["eddsa-rdfc-2022", "eddsa-jcs-2022"])
def test_round_trip_is_valid_and_reports_the_anchor(
    chain: TestChain, issuer: Issuer, suite: str
) -> None:
    credentials = issuer.anchor([issuer.sign(n, suite=suite) for n in range(1, 6)])
    for credential in credentials:
        report = check(chain, credential)
        assert outcome(report) == expected()
        assert report.verdict is Status.VALID
    root = bytes.fromhex(credentials[0]["proof"][1]["merkleRoot"].removeprefix("0x"))
    record = ChainView(chain.ledger).anchor(root)
    details = report.fragment("anchor").details
    assert (details["block"], details["block_time"]) == (record.block, iso_utc(record.timestamp))


def test_a_key_never_registered_is_refused(chain: TestChain, issuer: Issuer) -> None:
    (credential,) = issuer.anchor([issuer.sign(1, key=OTHER_KEY)])
    assert outcome(check(chain, credential)) == expected(
        key_binding=(Status.INVALID, Code.KEY_NOT_REGISTERED)
    )


def test_a_key_retired_before_anchoring_is_refused(chain: TestChain, issuer: Issuer) -> None:
    signed = issuer.sign(1)
    chain.ledger.transact(issuer.account, "IssuerRegistry", "retireKey", issuer.key.public_key, 0)
    (credential,) = issuer.anchor([signed])
    assert outcome(check(chain, credential)) == expected(
        key_binding=(Status.INVALID, Code.KEY_RETIRED)
    )


def test_a_key_retired_after_anchoring_still_validates(chain: TestChain, issuer: Issuer) -> None:
    (credential,) = issuer.anchor([issuer.sign(1)])
    chain.ledger.transact(issuer.account, "IssuerRegistry", "retireKey", issuer.key.public_key, 0)
    assert outcome(check(chain, credential)) == expected()


def test_a_compromise_cut_off_invalidates_what_was_anchored_after_it(
    chain: TestChain, issuer: Issuer
) -> None:
    (before,) = issuer.anchor([issuer.sign(1)])
    cut_off = chain.ledger.block_number() + 1
    chain.ledger.transfer(chain.operator, issuer.account.address, 1)
    (after,) = issuer.anchor([issuer.sign(2)])
    chain.ledger.transact(
        chain.operator,
        "IssuerRegistry",
        "retireIssuerKey",
        issuer.issuer_id,
        issuer.key.public_key,
        cut_off,
    )
    assert outcome(check(chain, before)) == expected()
    assert outcome(check(chain, after)) == expected(key_binding=(Status.INVALID, Code.KEY_RETIRED))


def test_a_suspended_issuer_does_not_verify_until_reinstated(
    chain: TestChain, issuer: Issuer
) -> None:
    (credential,) = issuer.anchor([issuer.sign(1)])
    chain.ledger.transact(chain.operator, "IssuerRegistry", "suspend", issuer.issuer_id, 1)
    assert outcome(check(chain, credential)) == expected(
        accreditation=(Status.INVALID, Code.ISSUER_SUSPENDED)
    )
    chain.ledger.transact(chain.operator, "IssuerRegistry", "reinstate", issuer.issuer_id)
    assert outcome(check(chain, credential)) == expected()


def test_a_kind_outside_the_scope_is_refused(chain: TestChain) -> None:
    college = Issuer(chain, OTHER_DID, OTHER_KEY, kinds=scope_mask("course", "module"))
    (course, certificate) = college.anchor([college.sign(1), college.sign(2, kind="certificate")])
    assert outcome(check(chain, course)) == expected()
    assert outcome(check(chain, certificate)) == expected(
        accreditation=(Status.INVALID, Code.OUT_OF_SCOPE)
    )


def test_a_level_outside_the_scope_is_refused(chain: TestChain) -> None:
    college = Issuer(chain, OTHER_DID, OTHER_KEY, levels=(1 << 4) | (1 << 5))
    (credential,) = college.anchor([college.sign(1)])
    assert outcome(check(chain, credential)) == expected(
        accreditation=(Status.INVALID, Code.OUT_OF_SCOPE)
    )


def test_revoked_batch_and_revoked_credential(chain: TestChain, issuer: Issuer) -> None:
    first = issuer.anchor([issuer.sign(n) for n in range(1, 4)])
    second = issuer.anchor([issuer.sign(n) for n in range(4, 8)])
    root = bytes.fromhex(first[0]["proof"][1]["merkleRoot"][2:])
    chain.ledger.transact(issuer.account, "CredentialAnchor", "revokeRoot", root, 3)
    batch = Batch.of([c | {"proof": c["proof"][0]} for c in second])
    chain.ledger.transact(
        issuer.account,
        "CredentialAnchor",
        "revokeLeaf",
        batch.root,
        batch.digests[2],
        batch.tree.proof(2),
        2,
    )
    for credential in first:
        report = check(chain, credential)
        assert outcome(report) == expected(status=(Status.INVALID, Code.REVOKED_BATCH))
        assert report.fragment("status").details["reason"] == 3
    assert [outcome(check(chain, c)) for c in second] == [
        expected(),
        expected(),
        expected(status=(Status.INVALID, Code.REVOKED_CREDENTIAL)),
        expected(),
    ]


def test_validity_window(chain: TestChain, issuer: Issuer) -> None:
    (credential,) = issuer.anchor([issuer.sign(1)])
    assert outcome(check(chain, credential, datetime(2035, 7, 1, tzinfo=UTC))) == expected(
        validity=(Status.INVALID, Code.EXPIRED)
    )
    assert outcome(check(chain, credential, datetime(2025, 6, 30, tzinfo=UTC))) == expected(
        validity=(Status.INVALID, Code.NOT_YET_VALID)
    )


@pytest.mark.parametrize(
    ("member", "value", "code"),
    [
        ("chainId", 999, Code.UNKNOWN_CHAIN),
        ("anchorContract", "0x" + "12" * 20, Code.UNKNOWN_CONTRACT),
    ],
)
def test_unknown_chain_or_contract(
    chain: TestChain, issuer: Issuer, member: str, value: object, code: Code
) -> None:
    (credential,) = issuer.anchor([issuer.sign(1)])
    credential["proof"][1][member] = value
    assert outcome(check(chain, credential)) == SKIPPED_WITHOUT_ANCHOR(code)


def test_a_root_anchored_by_another_issuer_is_refused(chain: TestChain, issuer: Issuer) -> None:
    rival = Issuer(chain, OTHER_DID, OTHER_KEY)
    signed = [issuer.sign(1), issuer.sign(2)]
    (credential, _) = issuer.anchor(signed, account=rival.account)
    assert outcome(check(chain, credential)) == SKIPPED_WITHOUT_ANCHOR(
        Code.ANCHORED_BY_OTHER_ISSUER
    )


def test_an_inner_node_presented_as_a_leaf_is_refused(chain: TestChain, issuer: Issuer) -> None:
    credentials = issuer.anchor([issuer.sign(n) for n in range(1, 5)])
    credential = credentials[0]
    credential["proof"][1]["merklePath"] = credential["proof"][1]["merklePath"][1:]
    assert outcome(check(chain, credential)) == SKIPPED_WITHOUT_ANCHOR(Code.MERKLE_PROOF_INVALID)


def test_a_transaction_that_did_not_anchor_the_root_is_refused(
    chain: TestChain, issuer: Issuer
) -> None:
    (credential,) = issuer.anchor([issuer.sign(1)])
    (other,) = issuer.anchor([issuer.sign(2)])
    credential["proof"][1]["transactionHash"] = other["proof"][1]["transactionHash"]
    assert outcome(check(chain, credential)) == SKIPPED_WITHOUT_ANCHOR(Code.TRANSACTION_MISMATCH)


def test_ledger_down_is_indeterminate_never_valid(chain: TestChain, issuer: Issuer) -> None:
    (credential,) = issuer.anchor([issuer.sign(1)])
    dead = Ledger.connect([f"http://127.0.0.1:{free_port()}"], chain.deployment, timeout=1)
    report = verify_credential(credential, Context(ChainView(dead), clock=lambda: NOW))
    assert report.verdict is Status.INDETERMINATE
    down = (Status.INDETERMINATE, Code.LEDGER_UNAVAILABLE)
    assert outcome(report) == expected(
        key_binding=down,
        accreditation=down,
        anchor=down,
        status=(Status.SKIPPED, Code.PRECONDITION_FAILED),
    )


def test_bulk_verification_of_two_batches(chain: TestChain, issuer: Issuer) -> None:
    first = issuer.anchor([issuer.sign(n) for n in range(1, 11)])
    second = issuer.anchor([issuer.sign(n) for n in range(11, 21)])
    reports = verify_many(first + second, Context(ChainView(chain.ledger), clock=lambda: NOW))
    assert [report.verdict for report in reports] == [Status.VALID] * 20


def _paths(value: object, prefix: tuple = ()) -> list[tuple]:
    """Every path to a scalar or container inside a JSON value."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def _tamper(document: dict, path: tuple, how: str) -> dict:
    """A copy of the document with the value at `path` changed, dropped or joined by a member."""
    changed = copy.deepcopy(document)
    parent = changed
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    value = parent[last]
    if how == "drop" and isinstance(parent, dict):
        del parent[last]
    elif how == "extra" and isinstance(value, dict):
        value["tampered"] = "yes"
    elif isinstance(value, bool):
        parent[last] = not value
    elif isinstance(value, int | float):
        parent[last] = value + 1
    elif isinstance(value, str):
        parent[last] = value[:-1] + ("0" if value[-1:] != "0" else "1") if value else "x"
    elif isinstance(value, list):
        parent[last] = [*value, value[0]] if value else ["x"]
    else:
        parent[last] = {"tampered": True}
    return changed


@pytest.fixture
def anchored_pair(chain: TestChain, issuer: Issuer) -> tuple[TestChain, dict]:
    """One credential anchored in a batch of two, on this chain."""
    credential, _ = issuer.anchor([issuer.sign(1), issuer.sign(2)])
    assert check(chain, credential).verdict is Status.VALID
    return chain, credential


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_tampering_with_any_field_makes_it_invalid(anchored_pair, data) -> None:
    chain, credential = anchored_pair
    path = data.draw(st.sampled_from(_paths(credential)), label="path")
    how = data.draw(st.sampled_from(["change", "drop", "extra"]), label="how")
    tampered = _tamper(credential, path, how)
    if tampered == credential:
        return
    report = check(chain, tampered)
    assert report.verdict is Status.INVALID, (path, how, outcome(report))
