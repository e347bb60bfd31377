"""W3C Bitstring Status List v1.0: the bitstring, status entries, list credentials and the keyed
permutation that gives each credential of a list a random-looking, never-repeated index."""

import base64
import binascii
import gzip
import hmac
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

from credentials.contexts import VC_V2
from credentials.errors import InvalidCredential
from credentials.jsontypes import JsonObject

LIST_SIZE = 131_072
PURPOSES = ("revocation", "suspension")
ENTRY_TYPE = "BitstringStatusListEntry"
LIST_TYPE = "BitstringStatusList"
LIST_CREDENTIAL_TYPE = "BitstringStatusListCredential"
MAX_LIST_BYTES = 16 * 1024 * 1024
FEISTEL_ROUNDS = 8
_ENTRY_MEMBERS = frozenset({"id", "type", "statusPurpose", "statusListIndex",
                            "statusListCredential"})
_LIST_MEMBERS = frozenset({"@context", "id", "type", "issuer", "validFrom", "credentialSubject",
                           "proof"})
_SUBJECT_MEMBERS = frozenset({"id", "type", "statusPurpose", "encodedList"})
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,15}", re.ASCII)
_URL = re.compile(r"https?://[^\s#]+", re.ASCII)


@dataclass(frozen=True)
class StatusEntry:
    """One BitstringStatusListEntry: which list (its URL), which bit, and for what purpose."""

    purpose: str
    list_url: str
    index: int

    def to_json(self) -> JsonObject:
        """The entry as it appears in a credential's `credentialStatus`."""
        return {
            "id": f"{self.list_url}#{self.index}",
            "type": ENTRY_TYPE,
            "statusPurpose": self.purpose,
            "statusListIndex": str(self.index),
            "statusListCredential": self.list_url,
        }


def encode_list(bitstring: bytes) -> str:
    """The spec's `encodedList`: GZIP, then multibase base64url ('u') without padding."""
    if len(bitstring) * 8 < LIST_SIZE:
        raise InvalidCredential(f"a status list holds at least {LIST_SIZE} entries")
    packed = gzip.compress(bytes(bitstring), compresslevel=6, mtime=0)
    return "u" + base64.urlsafe_b64encode(packed).decode("ascii").rstrip("=")


def decode_list(encoded: object) -> bytes:
    """The bitstring of an `encodedList`, refusing other encodings, bombs and short lists."""
    if not isinstance(encoded, str) or not encoded.startswith("u") or "=" in encoded:
        raise InvalidCredential("encodedList must be multibase base64url ('u…') without padding")
    try:
        packed = base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4))
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        bitstring = inflater.decompress(packed, MAX_LIST_BYTES + 1)
    except (binascii.Error, ValueError, zlib.error):
        raise InvalidCredential("encodedList is not GZIP data in base64url") from None
    if len(bitstring) > MAX_LIST_BYTES or not inflater.eof:
        raise InvalidCredential(f"encodedList holds more than {MAX_LIST_BYTES} bytes, or is cut")
    if len(bitstring) * 8 < LIST_SIZE:
        raise InvalidCredential(f"a status list holds at least {LIST_SIZE} entries")
    return bitstring


def bitstring_of(indexes: Iterable[int], *, size: int = LIST_SIZE, value: int = 0) -> bytes:
    """A bitstring of `size` entries, all `value` but the given indexes, which are flipped;
    index 0 is the left-most bit of the first byte."""
    bits = bytearray(b"\xff" if value else b"\x00") * (size // 8)
    for index in indexes:
        if not 0 <= index < size:
            raise InvalidCredential(f"status index {index} is outside a list of {size}")
        bits[index // 8] ^= 0x80 >> (index % 8)
    return bytes(bits)


def bit(bitstring: bytes, index: int) -> int:
    """The entry at `index` (0 or 1)."""
    if not 0 <= index < len(bitstring) * 8:
        raise InvalidCredential(f"status index {index} is outside the list")
    return (bitstring[index // 8] >> (7 - index % 8)) & 1


def entries_json(entries: Iterable[StatusEntry]) -> list[JsonObject]:
    """A credential's `credentialStatus` member for these entries (one per purpose)."""
    items = list(entries)
    purposes = [entry.purpose for entry in items]
    if len(set(purposes)) != len(purposes) or not set(purposes) <= set(PURPOSES):
        raise InvalidCredential(f"status entries must have distinct purposes of {PURPOSES}")
    return [entry.to_json() for entry in items]


def with_status(credential: JsonObject, entries: Iterable[StatusEntry]) -> JsonObject:
    """A copy of an unsigned credential carrying these entries as `credentialStatus`."""
    if "credentialStatus" in credential or "proof" in credential:
        raise InvalidCredential("only an unsigned credential without a status gets entries")
    status = entries_json(entries)
    return {**credential, "credentialStatus": status} if status else dict(credential)


def parse_entries(value: object) -> tuple[StatusEntry, ...]:
    """The entries of a `credentialStatus` member, exactly as we write them; anything else
    (statusSize, statusMessage, statusReference, a padded or out-of-range index) is refused."""
    items = value if isinstance(value, list) else [value]
    if not items:
        raise InvalidCredential("credentialStatus must not be empty")
    entries = tuple(_entry(item) for item in items)
    purposes = [entry.purpose for entry in entries]
    if len(set(purposes)) != len(purposes):
        raise InvalidCredential("credentialStatus names one purpose twice")
    return entries


def _entry(item: object) -> StatusEntry:
    """One entry, strictly."""
    if not isinstance(item, dict):
        raise InvalidCredential("a credentialStatus entry must be an object")
    if item.keys() != _ENTRY_MEMBERS:
        unknown = sorted(item.keys() - _ENTRY_MEMBERS)
        missing = sorted(_ENTRY_MEMBERS - item.keys())
        raise InvalidCredential(f"a credentialStatus entry has unknown {unknown} or lacks "
                                f"{missing}")
    if item["type"] != ENTRY_TYPE:
        raise InvalidCredential(f"credentialStatus.type must be {ENTRY_TYPE}")
    purpose, url, index = item["statusPurpose"], item["statusListCredential"], \
        item["statusListIndex"]
    if purpose not in PURPOSES:
        raise InvalidCredential(f"credentialStatus.statusPurpose must be one of {PURPOSES}")
    if not isinstance(url, str) or not _URL.fullmatch(url):
        raise InvalidCredential("credentialStatus.statusListCredential must be an http(s) URL")
    if not isinstance(index, str) or not _DECIMAL.fullmatch(index) or int(index) >= LIST_SIZE:
        raise InvalidCredential(f"credentialStatus.statusListIndex must be a decimal string "
                                f"below {LIST_SIZE}")
    entry = StatusEntry(purpose=purpose, list_url=url, index=int(index))
    if item["id"] != f"{url}#{index}":
        raise InvalidCredential("credentialStatus.id must be the list URL, '#', and the index")
    return entry


def list_credential(*, list_url: str, issuer: str, purpose: str, bitstring: bytes,
                    valid_from: str) -> JsonObject:
    """The unsigned BitstringStatusListCredential publishing `bitstring` for one purpose."""
    if purpose not in PURPOSES:
        raise InvalidCredential(f"purpose must be one of {PURPOSES}")
    if not _URL.fullmatch(list_url):
        raise InvalidCredential("list_url must be an http(s) URL without a fragment")
    return {
        "@context": [VC_V2],
        "id": list_url,
        "type": ["VerifiableCredential", LIST_CREDENTIAL_TYPE],
        "issuer": issuer,
        "validFrom": valid_from,
        "credentialSubject": {
            "id": f"{list_url}#list",
            "type": LIST_TYPE,
            "statusPurpose": purpose,
            "encodedList": encode_list(bitstring),
        },
    }


def read_list_credential(document: object, *, list_url: str, purpose: str) -> tuple[str, bytes]:
    """(issuer, bitstring) of a list credential published at `list_url` for `purpose`, read
    strictly; its proof is the caller's to verify."""
    if not isinstance(document, dict) or not document.keys() <= _LIST_MEMBERS:
        raise InvalidCredential("the status list credential has unknown members")
    if document.get("@context") != [VC_V2] or document.get("id") != list_url:
        raise InvalidCredential("the status list credential is not the one its entry names")
    if document.get("type") != ["VerifiableCredential", LIST_CREDENTIAL_TYPE]:
        raise InvalidCredential(f"the status list credential's type must be {LIST_CREDENTIAL_TYPE}")
    subject = document.get("credentialSubject")
    if not isinstance(subject, dict) or subject.keys() != _SUBJECT_MEMBERS \
            or subject["type"] != LIST_TYPE or subject["id"] != f"{list_url}#list":
        raise InvalidCredential("the status list credential's subject is not a status list")
    if subject["statusPurpose"] != purpose:
        raise InvalidCredential(f"the status list is for {subject['statusPurpose']!r}, "
                                f"not {purpose!r}")
    issuer = document.get("issuer")
    if not isinstance(issuer, str):
        raise InvalidCredential("the status list credential's issuer must be a DID")
    return issuer, decode_list(subject["encodedList"])


class IndexPermutation:
    """A keyed pseudorandom permutation of 0..size-1: a balanced Feistel network over the
    smallest even number of bits that covers `size`, with cycle-walking back into range.

    Each round function is HMAC-SHA256(key, round, half) truncated to a half; the halves are
    small, so each round's function is tabulated once when the permutation is built.
    """

    def __init__(self, key: bytes, size: int = LIST_SIZE, rounds: int = FEISTEL_ROUNDS) -> None:
        if size < 2 or len(key) < 16:
            raise ValueError("a permutation needs size >= 2 and a key of 16 bytes or more")
        bits = max(2, (size - 1).bit_length())
        self.half = (bits + 1) // 2
        self.mask = (1 << self.half) - 1
        self.size = size
        self.tables = [
            [int.from_bytes(hmac.digest(key, bytes([step]) + value.to_bytes(4, "big"),
                                        "sha256")[:4], "big") & self.mask
             for value in range(1 << self.half)]
            for step in range(rounds)
        ]

    def __call__(self, position: int) -> int:
        """The index of the credential at `position` (0-based) in the list."""
        if not 0 <= position < self.size:
            raise ValueError(f"position {position} is outside 0..{self.size - 1}")
        value = self._encrypt(position)
        while value >= self.size:
            value = self._encrypt(value)
        return value

    def _encrypt(self, value: int) -> int:
        left, right = value >> self.half, value & self.mask
        for table in self.tables:
            left, right = right, left ^ table[right]
        return (left << self.half) | right
