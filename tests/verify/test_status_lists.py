"""The status check with Bitstring Status List entries: chain and list agree, disagree (the chain
wins), or the list cannot be consulted (the chain alone decides); strict entries in format."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from credentials.dids import verification_method_id
from credentials.keys import SigningKey
from credentials.proofs import sign
from credentials.status import StatusEntry, bitstring_of, list_credential
from ledger.records import Revocation
from tests.support.samples import ISSUER_DID, ISSUER_KEY
from tests.support.verify import MemoryLedger, anchored, signed
from verify import Code, Context, Status, verify_credential

NOW = datetime(2026, 6, 1, tzinfo=UTC)
BASE = "https://bank.example/status/demo-university/0/"
INDEX = 4242
ENTRIES = [StatusEntry(purpose, BASE + purpose, INDEX).to_json()
           for purpose in ("revocation", "suspension")]
OTHER_KEY = SigningKey.from_seed(bytes(range(100, 132)))


class Lists:
    """A status-list source serving list credentials from a dict."""

    def __init__(self, **revoked: bool) -> None:
        self.documents = {BASE + purpose: published(purpose, revoked.get(purpose, False))
                          for purpose in ("revocation", "suspension")}

    def status_list(self, url: str) -> dict | None:
        """The list at `url`, or None."""
        return self.documents.get(url)


def published(purpose: str, listed: bool, key: SigningKey = ISSUER_KEY) -> dict:
    """The issuer's signed list for `purpose`, with the credential's bit set if `listed`."""
    unsigned = list_credential(list_url=BASE + purpose, issuer=ISSUER_DID, purpose=purpose,
                               bitstring=bitstring_of([INDEX] if listed else []),
                               valid_from="2026-01-01T00:00:00Z")
    return sign(unsigned, key, verification_method=verification_method_id(ISSUER_DID,
                                                                           key.public_key))


@pytest.fixture
def credential(ledger: MemoryLedger) -> dict:
    (anchored_credential,) = anchored(ledger, [signed(1, credentialStatus=ENTRIES)])
    return anchored_credential


def status(ledger: MemoryLedger, credential: dict, source: Lists | None):
    """The status fragment of the credential's report."""
    report = verify_credential(credential, Context(ledger, clock=lambda: NOW,
                                                   status_lists=source))
    return report.fragment("status")


def revoke(ledger: MemoryLedger, credential: dict) -> None:
    """Revoke the credential's whole batch on the ledger."""
    root = bytes.fromhex(next(proof for proof in credential["proof"]
                              if proof["type"] != "DataIntegrityProof")["merkleRoot"]
                         .removeprefix("0x"))
    ledger.root_revocations[root] = Revocation(reason=3, block=9)


def consulted(fragment) -> list[tuple]:
    """(purpose, consulted, set, agrees) of each entry."""
    return [(item["purpose"], item["consulted"], item.get("set"), item.get("agrees"))
            for item in fragment.details["status_list"]]


def test_chain_and_list_agree_the_credential_is_valid(ledger, credential) -> None:
    fragment = status(ledger, credential, Lists())
    assert (fragment.status, fragment.message, consulted(fragment)) == (
        Status.VALID, "The credential has not been revoked.",
        [("revocation", True, False, True), ("suspension", True, False, True)])


def test_chain_and_list_agree_the_credential_is_revoked(ledger, credential) -> None:
    revoke(ledger, credential)
    fragment = status(ledger, credential, Lists(revocation=True))
    assert (fragment.status, fragment.code, consulted(fragment)[0]) == (
        Status.INVALID, Code.REVOKED_BATCH, ("revocation", True, True, True))


def test_the_list_says_revoked_the_chain_says_not_the_chain_wins(ledger, credential) -> None:
    fragment = status(ledger, credential, Lists(revocation=True))
    assert (fragment.status, consulted(fragment)[0]) == (
        Status.VALID, ("revocation", True, True, False))
    assert "disagrees (revocation)" in fragment.message


def test_the_chain_says_revoked_the_list_says_not_the_chain_wins(ledger, credential) -> None:
    revoke(ledger, credential)
    fragment = status(ledger, credential, Lists())
    assert (fragment.status, fragment.code, consulted(fragment)[0]) == (
        Status.INVALID, Code.REVOKED_BATCH, ("revocation", True, False, False))
    assert "the chain is the source of truth" in fragment.message


def test_a_suspended_issuer_is_compared_with_the_suspension_list(ledger, credential) -> None:
    ledger.issuers[ISSUER_DID] = replace(ledger.issuers[ISSUER_DID], suspended=True)
    fragment = status(ledger, credential, Lists(suspension=True))
    assert consulted(fragment)[1] == ("suspension", True, True, True)


def test_without_a_source_the_chain_alone_decides(ledger, credential) -> None:
    fragment = status(ledger, credential, None)
    assert (fragment.status, [(item["consulted"], item["reason"])
                              for item in fragment.details["status_list"]]) == (
        Status.VALID, [(False, "no status list source")] * 2)


@pytest.mark.parametrize(("change", "reason"), [
    (lambda lists: lists.documents.clear(), "the status list is unavailable"),
    (lambda lists: lists.documents.update({BASE + "revocation": published(
        "revocation", True, OTHER_KEY)}),
     "the status list is not signed with a key the ledger holds for its issuer"),
    (lambda lists: lists.documents[BASE + "revocation"].update(validFrom="2026-01-02T00:00:00Z"),
     "the status list's signature does not verify"),
    (lambda lists: lists.documents[BASE + "revocation"].update(issuer="did:web:other.example"),
     "the status list is not the credential issuer's"),
])
def test_a_list_that_cannot_be_trusted_is_not_consulted(ledger, credential, change,
                                                        reason) -> None:
    lists = Lists()
    change(lists)
    fragment = status(ledger, credential, lists)
    assert (fragment.status, fragment.details["status_list"][0]["consulted"],
            fragment.details["status_list"][0]["reason"]) == (Status.VALID, False, reason)


def test_a_credential_without_entries_verifies_through_the_chain_as_before(ledger) -> None:
    (plain,) = anchored(ledger, [signed(2)])
    fragment = status(ledger, plain, Lists(revocation=True))
    assert (fragment.status, fragment.details) == (Status.VALID, {})


@pytest.mark.parametrize("entries", [
    [{**ENTRIES[0], "statusSize": 1}],
    [{**ENTRIES[0], "statusListIndex": "04242", "id": BASE + "revocation#04242"}],
    [ENTRIES[0], ENTRIES[0]],
])
def test_an_entry_we_do_not_write_fails_the_format_check(ledger, entries) -> None:
    (odd,) = anchored(ledger, [signed(3, credentialStatus=entries)])
    report = verify_credential(odd, Context(ledger, clock=lambda: NOW))
    fragment = report.fragment("format")
    assert (fragment.status, fragment.code, fragment.details["field"]) == (
        Status.INVALID, Code.INVALID_MEMBER, "credentialStatus")

