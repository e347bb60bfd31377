"""The contracts: artifacts are fresh, and every permission and state change behaves."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from eth_account import Account
from web3 import Web3
from web3.logs import DISCARD

from contracts import NAMES, artifact
from contracts.build import compile_artifact, render
from credentials.merkle import MerkleTree
from ledger.errors import TransactionReverted
from ledger.records import AnchorRecord
from ledger.views import ChainView
from tests.support.chains import TestChain, scope_mask

DID = "did:web:creditbank.example:issuers:demo-university"
OTHER_DID = "did:web:creditbank.example:issuers:other-college"


def digests(count: int) -> list[bytes]:
    """Distinct 32-byte credential digests."""
    return [Web3.keccak(text=f"credential-{i}") for i in range(count)]


def reverts(reason: str) -> Any:
    """Expect a revert with exactly this reason."""
    return pytest.raises(TransactionReverted, match=f"^transaction reverted: {reason}$")


def event_names(chain: TestChain, contract: str, receipt) -> list[str]:
    """The names of our events a receipt carries."""
    names = []
    for abi in chain.ledger._contract(contract).abi:
        if abi["type"] == "event":
            event = chain.ledger._contract(contract).events[abi["name"]]()
            names += [abi["name"]] * len(event.process_receipt(receipt, errors=DISCARD))
    return names


@pytest.mark.parametrize("name", NAMES)
def test_committed_artifacts_match_a_fresh_compile(name: str) -> None:
    committed = artifact(name)
    fresh = compile_artifact(name)
    assert (committed.abi, committed.bytecode, committed.source_sha256) == (
        fresh["abi"],
        fresh["bytecode"],
        fresh["sourceSha256"],
    ), f"contracts/artifacts/{name}.json is stale: run `python -m contracts.build`"
    assert render(fresh).endswith("\n")


def test_operator_accredits_and_the_registry_reports_it(chain: TestChain) -> None:
    issuer_id, (account,) = chain.accredit(DID, kinds=scope_mask("course", "mooc"), levels=1 << 6)
    assert chain.ledger.read("IssuerRegistry", "issuer", issuer_id) == (
        DID,
        scope_mask("course", "mooc"),
        1 << 6,
        0,
        0,
        False,
        True,
    )
    assert chain.ledger.read("IssuerRegistry", "issuerOfAccount", account.address) == issuer_id
    assert chain.ledger.read("CredentialAnchor", "canAnchor", account.address) == issuer_id
    assert chain.ledger.read("IssuerRegistry", "issuerCount") == 1


def test_only_the_operator_governs(chain: TestChain) -> None:
    issuer_id, (account,) = chain.accredit(DID)
    stranger = chain.account()
    operator_only = [
        ("accredit", (OTHER_DID, [stranger.address], 1, 1, 0, 0)),
        ("addAccount", (issuer_id, stranger.address)),
        ("removeAccount", (account.address,)),
        ("suspend", (issuer_id, 1)),
        ("reinstate", (issuer_id,)),
        ("retireIssuerKey", (issuer_id, b"\x01" * 32, 0)),
        ("transferOperator", (stranger.address,)),
    ]
    for function, args in operator_only:
        for caller in (stranger, account):
            with reverts("caller is not the operator"):
                chain.ledger.transact(caller, "IssuerRegistry", function, *args)
    assert chain.ledger.read("IssuerRegistry", "issuerCount") == 1
    assert chain.ledger.read("IssuerRegistry", "operator") == chain.operator.address


def test_operator_role_moves_in_two_steps(chain: TestChain) -> None:
    successor = chain.account()
    chain.ledger.transact(chain.operator, "IssuerRegistry", "transferOperator", successor.address)
    assert chain.ledger.read("IssuerRegistry", "operator") == chain.operator.address
    with reverts("caller is not the pending operator"):
        chain.ledger.transact(chain.account(), "IssuerRegistry", "acceptOperator")
    receipt = chain.ledger.transact(successor, "IssuerRegistry", "acceptOperator")
    assert event_names(chain, "IssuerRegistry", receipt) == ["OperatorTransferred"]
    assert chain.ledger.read("IssuerRegistry", "operator") == successor.address
    with reverts("caller is not the operator"):
        chain.ledger.transact(chain.operator, "IssuerRegistry", "suspend", bytes(32), 1)


def test_accreditation_rejects_bad_input(chain: TestChain) -> None:
    _, (account,) = chain.accredit(DID)
    cases = [
        (("", [], 1, 1, 0, 0), "empty DID"),
        ((OTHER_DID, [], 0, 1, 0, 0), "empty scope"),
        ((OTHER_DID, [], 1, 1, 100, 50), "window ends before it starts"),
        ((OTHER_DID, [account.address], 1, 1, 0, 0), "account belongs to an issuer"),
    ]
    for args, reason in cases:
        with reverts(reason):
            chain.ledger.transact(chain.operator, "IssuerRegistry", "accredit", *args)
    assert chain.ledger.read("IssuerRegistry", "issuerCount") == 1


def test_accredited_issuer_anchors_once(chain: TestChain) -> None:
    issuer_id, (account,) = chain.accredit(DID)
    root = MerkleTree(digests(5)).root
    receipt = chain.ledger.transact(account, "CredentialAnchor", "anchor", root)
    assert event_names(chain, "CredentialAnchor", receipt) == ["Anchored"]
    anchored = chain.ledger.read("CredentialAnchor", "anchorOf", root)
    assert anchored == (issuer_id, receipt["blockNumber"])
    block = chain.ledger.w3.eth.get_block(receipt["blockNumber"])
    assert ChainView(chain.ledger).anchor(root) == AnchorRecord(
        root=root,
        issuer_id=issuer_id,
        sender=account.address,
        block=receipt["blockNumber"],
        timestamp=block["timestamp"],
    )
    with reverts("root already anchored"):
        chain.ledger.transact(account, "CredentialAnchor", "anchor", root)
    assert chain.ledger.read("CredentialAnchor", "anchorOf", b"\x01" * 32) == (bytes(32), 0)
    assert ChainView(chain.ledger).anchor(b"\x01" * 32) is None


def test_an_anchor_costs_at_most_50000_gas(chain: TestChain) -> None:
    _, (first, second) = chain.accredit(DID, accounts=2)
    _, (other,) = chain.accredit(OTHER_DID)
    roots = [bytes([index + 1]) * 32 for index in range(3)]
    gas = [
        chain.ledger.transact(account, "CredentialAnchor", "anchor", root)["gasUsed"]
        for account, root in zip((first, second, other), roots, strict=True)
    ]
    assert gas == [gas[0]] * 3
    assert 40_000 < gas[0] <= 50_000


def test_anchoring_rights_are_the_registrys_alone_to_set(chain: TestChain) -> None:
    issuer_id, (account,) = chain.accredit(DID)
    stranger = chain.account()
    rights = chain.ledger.read("CredentialAnchor", "anchorRights", account.address)
    assert rights >> 192 == chain.ledger.read("IssuerRegistry", "issuerNumber", issuer_id) == 1
    assert chain.ledger.read("IssuerRegistry", "issuerIdByNumber", 1) == issuer_id
    for caller in (stranger, account, chain.operator):
        with reverts("caller is not the registry"):
            chain.ledger.transact(caller, "CredentialAnchor", "setRights", stranger.address, rights)
    with reverts("anchor contract already bound"):
        chain.ledger.transact(
            chain.operator, "IssuerRegistry", "bindAnchor", chain.deployment.credential_anchor
        )
    assert chain.ledger.read("IssuerRegistry", "anchorContract") == (
        chain.deployment.credential_anchor
    )
    with reverts("caller is not an accredited issuer"):
        chain.ledger.transact(stranger, "CredentialAnchor", "anchor", b"\x04" * 32)


def test_a_registry_accredits_only_once_bound_to_its_own_anchor(chain: TestChain) -> None:
    registry = chain.ledger.deploy("IssuerRegistry", chain.operator)
    accredit = ("accredit", DID, [chain.account().address], 1, 1, 0, 0)
    bind = ("bindAnchor", chain.deployment.credential_anchor)
    with reverts("no anchor contract bound"):
        chain.ledger.transact(chain.operator, "IssuerRegistry", *accredit, at=registry)
    chain.ledger.transact(chain.operator, "IssuerRegistry", *bind, at=registry)
    with reverts("caller is not the registry"):
        chain.ledger.transact(chain.operator, "IssuerRegistry", *accredit, at=registry)
    with reverts("anchor contract already bound"):
        chain.ledger.transact(chain.operator, "IssuerRegistry", *bind, at=registry)
    assert chain.ledger.read("IssuerRegistry", "anchorContract") == (
        chain.deployment.credential_anchor
    )


def test_reaccreditation_updates_every_accounts_rights(chain: TestChain) -> None:
    _, (first, second) = chain.accredit(DID, accounts=2)
    now = chain.ledger.block_timestamp(chain.ledger.block_number())
    chain.ledger.transact(
        chain.operator, "IssuerRegistry", "accredit", DID, [], 1, 1, now + 3600, 0
    )
    for account in (first, second):
        with reverts("caller is not an accredited issuer"):
            chain.ledger.transact(account, "CredentialAnchor", "anchor", b"\x06" * 32)
    chain.ledger.transact(chain.operator, "IssuerRegistry", "accredit", DID, [], 1, 1, 0, 0)
    chain.ledger.transact(second, "CredentialAnchor", "anchor", b"\x06" * 32)


def test_unaccredited_and_suspended_accounts_cannot_anchor(chain: TestChain) -> None:
    issuer_id, (account,) = chain.accredit(DID)
    root = MerkleTree(digests(3)).root
    with reverts("caller is not an accredited issuer"):
        chain.ledger.transact(chain.account(), "CredentialAnchor", "anchor", root)
    receipt = chain.ledger.transact(chain.operator, "IssuerRegistry", "suspend", issuer_id, 7)
    assert event_names(chain, "IssuerRegistry", receipt) == ["Suspended"]
    with reverts("caller is not an accredited issuer"):
        chain.ledger.transact(account, "CredentialAnchor", "anchor", root)
    assert chain.ledger.read("CredentialAnchor", "anchorOf", root)[1] == 0
    with reverts("issuer already suspended"):
        chain.ledger.transact(chain.operator, "IssuerRegistry", "suspend", issuer_id, 7)
    chain.ledger.transact(chain.operator, "IssuerRegistry", "reinstate", issuer_id)
    chain.ledger.transact(account, "CredentialAnchor", "anchor", root)
    assert chain.ledger.read("CredentialAnchor", "anchorOf", root)[0] == issuer_id


def test_accreditation_window_bounds_anchoring(chain: TestChain) -> None:
    now = chain.ledger.block_timestamp(chain.ledger.block_number())
    _, (early,) = chain.accredit(DID, valid_from=now + 3600)
    _, (late,) = chain.accredit(OTHER_DID, valid_from=1, valid_until=now - 60)
    for account in (early, late):
        assert chain.ledger.read("CredentialAnchor", "canAnchor", account.address) == bytes(32)
        with reverts("caller is not an accredited issuer"):
            chain.ledger.transact(account, "CredentialAnchor", "anchor", b"\x05" * 32)


def test_removed_account_loses_its_issuer(chain: TestChain) -> None:
    issuer_id, (first, second) = chain.accredit(DID, accounts=2)
    receipt = chain.ledger.transact(
        chain.operator, "IssuerRegistry", "removeAccount", first.address
    )
    assert event_names(chain, "IssuerRegistry", receipt) == ["AccountRemoved"]
    with reverts("caller is not an accredited issuer"):
        chain.ledger.transact(first, "CredentialAnchor", "anchor", b"\x07" * 32)
    chain.ledger.transact(second, "CredentialAnchor", "anchor", b"\x07" * 32)
    extra = chain.account()
    chain.ledger.transact(chain.operator, "IssuerRegistry", "addAccount", issuer_id, extra.address)
    assert chain.ledger.read("CredentialAnchor", "canAnchor", extra.address) == issuer_id


def test_an_issuer_holds_at_most_sixteen_accounts(chain: TestChain) -> None:
    issuer_id, (account,) = chain.accredit(DID)
    for _ in range(15):
        chain.ledger.transact(
            chain.operator, "IssuerRegistry", "addAccount", issuer_id, Account.create().address
        )
    with reverts("issuer has too many accounts"):
        chain.ledger.transact(
            chain.operator, "IssuerRegistry", "addAccount", issuer_id, Account.create().address
        )
    chain.ledger.transact(chain.operator, "IssuerRegistry", "removeAccount", account.address)
    chain.ledger.transact(
        chain.operator, "IssuerRegistry", "addAccount", issuer_id, Account.create().address
    )


def test_root_revocation_belongs_to_the_anchoring_issuer(chain: TestChain) -> None:
    _, (account,) = chain.accredit(DID)
    _, (other,) = chain.accredit(OTHER_DID)
    root = MerkleTree(digests(4)).root
    chain.ledger.transact(account, "CredentialAnchor", "anchor", root)
    with reverts("not the root's issuer"):
        chain.ledger.transact(other, "CredentialAnchor", "revokeRoot", root, 3)
    with reverts("root not anchored"):
        chain.ledger.transact(account, "CredentialAnchor", "revokeRoot", b"\x09" * 32, 3)
    with reverts("reason code required"):
        chain.ledger.transact(account, "CredentialAnchor", "revokeRoot", root, 0)
    assert chain.ledger.read("CredentialAnchor", "rootRevocation", root) == (0, 0)
    receipt = chain.ledger.transact(account, "CredentialAnchor", "revokeRoot", root, 3)
    assert event_names(chain, "CredentialAnchor", receipt) == ["RootRevoked"]
    assert chain.ledger.read("CredentialAnchor", "rootRevocation", root) == (
        3,
        receipt["blockNumber"],
    )
    with reverts("batch already revoked"):
        chain.ledger.transact(account, "CredentialAnchor", "revokeRoot", root, 3)


@pytest.mark.parametrize("size", [1, 2, 3, 7, 8, 33])
def test_leaf_revocation_checks_the_merkle_proof_on_chain(chain: TestChain, size: int) -> None:
    _, (account,) = chain.accredit(DID)
    leaves = digests(size)
    tree = MerkleTree(leaves)
    chain.ledger.transact(account, "CredentialAnchor", "anchor", tree.root)
    for index in range(size):
        assert (
            chain.ledger.read("CredentialAnchor", "rootFromProof", leaves[index], tree.proof(index))
            == tree.root
        )
    target = size // 2
    receipt = chain.ledger.transact(
        account, "CredentialAnchor", "revokeLeaf", tree.root, leaves[target], tree.proof(target), 2
    )
    assert event_names(chain, "CredentialAnchor", receipt) == ["LeafRevoked"]
    assert chain.ledger.read("CredentialAnchor", "leafRevocation", tree.root, leaves[target]) == (
        2,
        receipt["blockNumber"],
    )
    if size > 1:
        other = (target + 1) % size
        assert chain.ledger.read(
            "CredentialAnchor", "leafRevocation", tree.root, leaves[other]
        ) == (0, 0)
        with reverts("digest is not a leaf of the root"):
            chain.ledger.transact(
                account,
                "CredentialAnchor",
                "revokeLeaf",
                tree.root,
                leaves[other],
                tree.proof(target),
                2,
            )


def test_an_inner_node_cannot_be_revoked_as_a_leaf(chain: TestChain) -> None:
    _, (account,) = chain.accredit(DID)
    leaves = digests(4)
    tree = MerkleTree(leaves)
    chain.ledger.transact(account, "CredentialAnchor", "anchor", tree.root)
    left_pair = tree.proof(2)[-1]
    right_pair = tree.proof(0)[-1]
    for inner, path in ((left_pair, [right_pair]), (right_pair, [left_pair])):
        with reverts("digest is not a leaf of the root"):
            chain.ledger.transact(
                account, "CredentialAnchor", "revokeLeaf", tree.root, inner, path, 5
            )


def test_leaf_record_revocation_by_the_issuer(chain: TestChain) -> None:
    _, (account,) = chain.accredit(DID)
    _, (other,) = chain.accredit(OTHER_DID)
    leaves = digests(6)
    root = MerkleTree(leaves).root
    chain.ledger.transact(account, "CredentialAnchor", "anchor", root)
    with reverts("not the root's issuer"):
        chain.ledger.transact(other, "CredentialAnchor", "revokeLeafRecord", root, leaves[1], 4)
    chain.ledger.transact(account, "CredentialAnchor", "revokeLeafRecord", root, leaves[1], 4)
    with reverts("credential already revoked"):
        chain.ledger.transact(account, "CredentialAnchor", "revokeLeafRecord", root, leaves[1], 4)
    assert chain.ledger.read("CredentialAnchor", "leafRevocation", root, leaves[1])[0] == 4


def test_suspended_issuer_can_still_revoke(chain: TestChain) -> None:
    issuer_id, (account,) = chain.accredit(DID)
    root = MerkleTree(digests(2)).root
    chain.ledger.transact(account, "CredentialAnchor", "anchor", root)
    chain.ledger.transact(chain.operator, "IssuerRegistry", "suspend", issuer_id, 1)
    chain.ledger.transact(account, "CredentialAnchor", "revokeRoot", root, 5)
    assert chain.ledger.read("CredentialAnchor", "rootRevocation", root)[0] == 5


def test_signing_keys_have_validity_windows(chain: TestChain) -> None:
    issuer_id, (account,) = chain.accredit(DID)
    key = secrets.token_bytes(32)
    receipt = chain.ledger.transact(account, "IssuerRegistry", "registerKey", key)
    registered = receipt["blockNumber"]
    assert event_names(chain, "IssuerRegistry", receipt) == ["KeyRegistered"]
    assert chain.ledger.read("IssuerRegistry", "signingKey", issuer_id, key) == (registered, 0)
    with reverts("key already registered"):
        chain.ledger.transact(account, "IssuerRegistry", "registerKey", key)
    with reverts("caller is not an issuer account"):
        chain.ledger.transact(chain.account(), "IssuerRegistry", "registerKey", b"\x02" * 32)
    with reverts("cut-off before registration"):
        chain.ledger.transact(account, "IssuerRegistry", "retireKey", key, registered - 1)
    head = chain.ledger.block_number()
    with reverts("cut-off in the future"):
        chain.ledger.transact(account, "IssuerRegistry", "retireKey", key, head + 100)
    receipt = chain.ledger.transact(account, "IssuerRegistry", "retireKey", key, 0)
    retired = receipt["blockNumber"]
    assert event_names(chain, "IssuerRegistry", receipt) == ["KeyRetired"]
    assert chain.ledger.read("IssuerRegistry", "signingKey", issuer_id, key) == (
        registered,
        retired,
    )
    with reverts("key already retired earlier"):
        chain.ledger.transact(account, "IssuerRegistry", "retireKey", key, 0)


def test_operator_sets_an_earlier_cut_off_after_a_compromise(chain: TestChain) -> None:
    issuer_id, (account,) = chain.accredit(DID)
    key = b"\x11" * 32
    registered = chain.ledger.transact(account, "IssuerRegistry", "registerKey", key)["blockNumber"]
    chain.ledger.transact(account, "CredentialAnchor", "anchor", b"\x12" * 32)
    chain.ledger.transact(
        chain.operator, "IssuerRegistry", "retireIssuerKey", issuer_id, key, registered
    )
    assert chain.ledger.read("IssuerRegistry", "signingKey", issuer_id, key) == (
        registered,
        registered,
    )
    with reverts("key not registered"):
        chain.ledger.transact(
            chain.operator, "IssuerRegistry", "retireIssuerKey", issuer_id, b"\x13" * 32, 0
        )


def test_suspended_issuer_cannot_register_keys(chain: TestChain) -> None:
    issuer_id, (account,) = chain.accredit(DID)
    chain.ledger.transact(chain.operator, "IssuerRegistry", "suspend", issuer_id, 1)
    with reverts("issuer is suspended"):
        chain.ledger.transact(account, "IssuerRegistry", "registerKey", b"\x03" * 32)


def test_rule_sets_are_published_in_sequence_and_approved(chain: TestChain) -> None:
    owner_id, (account,) = chain.accredit(DID)
    _, (other,) = chain.accredit(OTHER_DID)
    rule_set = Web3.keccak(text="demo-university:bachelor-it")
    first, second = Web3.keccak(text="v1"), Web3.keccak(text="v2")
    with reverts("version must follow the latest"):
        chain.ledger.transact(account, "RuleRegistry", "publish", rule_set, 2, first)
    receipt = chain.ledger.transact(account, "RuleRegistry", "publish", rule_set, 1, first)
    assert event_names(chain, "RuleRegistry", receipt) == ["RuleSetPublished"]
    with reverts("rule set belongs to another institution"):
        chain.ledger.transact(other, "RuleRegistry", "publish", rule_set, 2, second)
    with reverts("caller is not an institution account"):
        chain.ledger.transact(chain.account(), "RuleRegistry", "publish", rule_set, 2, second)
    with reverts("caller is not the operator"):
        chain.ledger.transact(account, "RuleRegistry", "approve", rule_set, 1)
    with reverts("version not published"):
        chain.ledger.transact(chain.operator, "RuleRegistry", "approve", rule_set, 2)
    approved = chain.ledger.transact(chain.operator, "RuleRegistry", "approve", rule_set, 1)
    assert event_names(chain, "RuleRegistry", approved) == ["RuleSetApproved"]
    assert chain.ledger.read("RuleRegistry", "ruleSet", rule_set, 1) == (
        owner_id,
        first,
        receipt["blockNumber"],
        approved["blockNumber"],
    )
    chain.ledger.transact(account, "RuleRegistry", "publish", rule_set, 2, second)
    assert chain.ledger.read("RuleRegistry", "latestVersion", rule_set) == 2
