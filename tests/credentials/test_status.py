"""Bitstring Status List v1.0: the encoded list, entries read strictly, list credentials and the
keyed permutation of indexes."""

import base64
import gzip

import pytest

from credentials.canon import rdfc
from credentials.contexts import VC_V2
from credentials.errors import InvalidCredential
from credentials.keys import SigningKey
from credentials.model import Result, achievement_credential
from credentials.proofs import sign, verify
from credentials.status import (
    LIST_SIZE,
    IndexPermutation,
    StatusEntry,
    bit,
    bitstring_of,
    decode_list,
    encode_list,
    list_credential,
    parse_entries,
    read_list_credential,
    with_status,
)
from tests.support.samples import ISSUER, ISSUER_DID, achievement, learner, unsigned_credential

# The spec's example BitstringStatusListCredential: 131,072 entries, all zero (§2.2, Example 2).
SPEC_EMPTY_LIST = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"
URL = "https://bank.example/status/demo-university/0/revocation"


def entry_json(**members: object) -> dict:
    """The revocation entry we write for index 94567, with members replaced or added."""
    return {**StatusEntry("revocation", URL, 94567).to_json(), **members}


def test_the_spec_example_list_is_what_we_encode_for_an_empty_list() -> None:
    assert (encode_list(bitstring_of(())), decode_list(SPEC_EMPTY_LIST)) == (
        SPEC_EMPTY_LIST, bytes(LIST_SIZE // 8))


def test_index_zero_is_the_left_most_bit_and_a_list_round_trips() -> None:
    bitstring = bitstring_of((0, 9, LIST_SIZE - 1))
    decoded = decode_list(encode_list(bitstring))
    assert (bitstring[:2], [bit(decoded, i) for i in (0, 1, 8, 9, LIST_SIZE - 1)]) == (
        b"\x80\x40", [1, 0, 0, 1, 1])


def test_an_all_ones_list_with_flipped_indexes() -> None:
    bitstring = bitstring_of((3,), value=1)
    assert [bit(bitstring, i) for i in (2, 3, 4)] == [1, 0, 1]


@pytest.mark.parametrize("encoded", [
    "z" + SPEC_EMPTY_LIST[1:],                       # not base64url multibase
    SPEC_EMPTY_LIST + "==",                           # padded
    "u" + base64.urlsafe_b64encode(b"not gzip").decode().rstrip("="),
    "u" + base64.urlsafe_b64encode(gzip.compress(bytes(1024))).decode().rstrip("="),  # short
    "u" + base64.urlsafe_b64encode(gzip.compress(bytes(17 * 1024 * 1024))).decode().rstrip("="),
    7,
])
def test_an_encoded_list_in_any_other_form_is_refused(encoded: object) -> None:
    with pytest.raises(InvalidCredential):
        decode_list(encoded)


def test_entries_are_read_exactly_as_we_write_them() -> None:
    written = [entry_json(), StatusEntry("suspension", URL[:-10] + "suspension", 5).to_json()]
    assert parse_entries(written) == (StatusEntry("revocation", URL, 94567),
                                      StatusEntry("suspension", URL[:-10] + "suspension", 5))
    assert parse_entries(entry_json()) == (StatusEntry("revocation", URL, 94567),)


@pytest.mark.parametrize("entry", [
    entry_json(statusSize=1),
    entry_json(statusMessage=[{"status": "0x0", "message": "valid"}]),
    entry_json(statusReference="https://example.org/why"),
    entry_json(statusListIndex="094567", id=URL + "#094567"),
    entry_json(statusListIndex="+94567", id=URL + "#+94567"),
    entry_json(statusListIndex=94567),
    entry_json(statusListIndex=str(LIST_SIZE), id=f"{URL}#{LIST_SIZE}"),
    entry_json(statusListIndex="９４５６７", id=URL + "#９４５６７"),
    entry_json(statusPurpose="refresh"),
    entry_json(type="StatusList2021Entry"),
    entry_json(statusListCredential="ftp://bank.example/list", id="ftp://bank.example/list#94567"),
    entry_json(id=URL + "#1"),
    {key: value for key, value in entry_json().items() if key != "id"},
    "https://bank.example/status",
])
def test_any_other_entry_is_refused(entry: object) -> None:
    with pytest.raises(InvalidCredential):
        parse_entries(entry)


def test_two_entries_of_one_purpose_or_none_at_all_are_refused() -> None:
    for value in ([entry_json(), entry_json()], []):
        with pytest.raises(InvalidCredential):
            parse_entries(value)


def test_a_credential_carries_its_entries_as_credential_status() -> None:
    entries = (StatusEntry("revocation", URL, 7), StatusEntry("suspension", URL, 7))
    built = unsigned_credential()
    assert with_status(built, entries)["credentialStatus"] == [e.to_json() for e in entries]
    with pytest.raises(InvalidCredential):
        with_status(with_status(built, entries), entries)


def test_achievement_credential_takes_status_entries() -> None:
    entries = (StatusEntry("revocation", URL, 7), StatusEntry("suspension", URL, 7))
    built = achievement_credential(
        credential_id="urn:uuid:5f0c5a52-4a3c-4d2e-9a8b-000000000001", issuer=ISSUER,
        learner=learner(), achievement=achievement(), result=Result(grade="A"),
        credits_earned=3.5, valid_from="2025-07-01T00:00:00Z", status=entries)
    assert (built["credentialStatus"], "credentialStatus" in unsigned_credential()) == (
        [entry.to_json() for entry in entries], False)
    assert rdfc(built)  # the VC 2.0 context defines every member of the entries


def test_a_signed_list_credential_reads_back_and_verifies() -> None:
    key = SigningKey.from_seed(bytes(range(32)))
    unsigned = list_credential(list_url=URL, issuer=ISSUER_DID, purpose="revocation",
                               bitstring=bitstring_of((42,)), valid_from="2026-12-05T00:00:00Z")
    signed = sign(unsigned, key, verification_method=f"{ISSUER_DID}#key-1")
    issuer, bitstring = read_list_credential(signed, list_url=URL, purpose="revocation")
    assert (unsigned["@context"], issuer, bit(bitstring, 42), bit(bitstring, 43),
            verify(signed, signed["proof"], key.public_key)) == ([VC_V2], ISSUER_DID, 1, 0, True)


@pytest.mark.parametrize("change", [
    lambda doc: doc.update(id=URL + "x"),
    lambda doc: doc["credentialSubject"].update(statusPurpose="suspension"),
    lambda doc: doc["credentialSubject"].update(ttl=1000),
    lambda doc: doc.update(type=["VerifiableCredential"]),
    lambda doc: doc.update(issuer={"id": ISSUER_DID}),
    lambda doc: doc.update(credentialStatus=entry_json()),
])
def test_a_list_credential_in_another_form_is_refused(change) -> None:
    document = list_credential(list_url=URL, issuer=ISSUER_DID, purpose="revocation",
                               bitstring=bitstring_of(()), valid_from="2026-12-05T00:00:00Z")
    change(document)
    with pytest.raises(InvalidCredential):
        read_list_credential(document, list_url=URL, purpose="revocation")


def test_the_permutation_is_a_bijection_of_the_list() -> None:
    permute = IndexPermutation(b"k" * 32)
    indexes = [permute(position) for position in range(LIST_SIZE)]
    assert sorted(indexes) == list(range(LIST_SIZE))


@pytest.mark.parametrize("size", [2, 3, 1000, 4097])
def test_the_permutation_is_a_bijection_of_any_size(size: int) -> None:
    permute = IndexPermutation(b"s" * 32, size)
    assert sorted(permute(position) for position in range(size)) == list(range(size))


def test_the_permutation_depends_on_its_key_and_scatters_the_first_positions() -> None:
    first, second = IndexPermutation(b"a" * 32), IndexPermutation(b"b" * 32)
    run = [first(position) for position in range(64)]
    assert run != [second(position) for position in range(64)]
    assert run != sorted(run)
    assert max(run) - min(run) > LIST_SIZE // 2


def test_a_position_outside_the_list_is_refused() -> None:
    with pytest.raises(ValueError):
        IndexPermutation(b"k" * 32)(LIST_SIZE)
