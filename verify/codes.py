"""Stable reason codes of the verification checks (unique across checks) and revocation reasons."""

from __future__ import annotations

import enum


@enum.unique
class Code(enum.StrEnum):
    """Why a check did not pass; the value is the stable code clients translate."""

    # parse
    INPUT_TOO_LARGE = "INPUT_TOO_LARGE"
    NOT_JSON = "NOT_JSON"
    DUPLICATE_MEMBER = "DUPLICATE_MEMBER"
    TOO_DEEP = "TOO_DEEP"
    NOT_AN_OBJECT = "NOT_AN_OBJECT"
    UNKNOWN_CONTEXT = "UNKNOWN_CONTEXT"
    UNSUPPORTED_TYPE = "UNSUPPORTED_TYPE"
    # format
    MISSING_MEMBER = "MISSING_MEMBER"
    INVALID_MEMBER = "INVALID_MEMBER"
    PROOF_MISSING = "PROOF_MISSING"
    UNSUPPORTED_CRYPTOSUITE = "UNSUPPORTED_CRYPTOSUITE"
    AMBIGUOUS_PROOF = "AMBIGUOUS_PROOF"
    # proof
    MALFORMED_PROOF = "MALFORMED_PROOF"
    WRONG_KEY_CONTROLLER = "WRONG_KEY_CONTROLLER"
    SIGNATURE_INVALID = "SIGNATURE_INVALID"
    # key_binding
    KEY_NOT_REGISTERED = "KEY_NOT_REGISTERED"
    KEY_REGISTERED_AFTER_ANCHOR = "KEY_REGISTERED_AFTER_ANCHOR"
    KEY_RETIRED = "KEY_RETIRED"
    # accreditation
    ISSUER_NOT_ACCREDITED = "ISSUER_NOT_ACCREDITED"
    ISSUER_SUSPENDED = "ISSUER_SUSPENDED"
    ACCREDITATION_NOT_YET_VALID = "ACCREDITATION_NOT_YET_VALID"
    ACCREDITATION_EXPIRED = "ACCREDITATION_EXPIRED"
    OUT_OF_SCOPE = "OUT_OF_SCOPE"
    # anchor
    ANCHOR_PROOF_MISSING = "ANCHOR_PROOF_MISSING"
    MALFORMED_ANCHOR_PROOF = "MALFORMED_ANCHOR_PROOF"
    UNKNOWN_CHAIN = "UNKNOWN_CHAIN"
    UNKNOWN_CONTRACT = "UNKNOWN_CONTRACT"
    MERKLE_PROOF_INVALID = "MERKLE_PROOF_INVALID"
    NOT_ANCHORED = "NOT_ANCHORED"
    ANCHORED_BY_OTHER_ISSUER = "ANCHORED_BY_OTHER_ISSUER"
    TRANSACTION_MISMATCH = "TRANSACTION_MISMATCH"
    # status
    REVOKED_BATCH = "REVOKED_BATCH"
    REVOKED_CREDENTIAL = "REVOKED_CREDENTIAL"
    # validity
    NOT_YET_VALID = "NOT_YET_VALID"
    EXPIRED = "EXPIRED"
    # any check
    PRECONDITION_FAILED = "PRECONDITION_FAILED"
    LEDGER_UNAVAILABLE = "LEDGER_UNAVAILABLE"
    LEDGER_ERROR = "LEDGER_ERROR"
    UNEXPECTED_ERROR = "UNEXPECTED_ERROR"


@enum.unique
class RevocationReason(enum.IntEnum):
    """Why an issuer revoked a batch or a credential: the uint16 reason code stored on chain."""

    UNSPECIFIED = 1
    KEY_COMPROMISE = 2
    ISSUED_IN_ERROR = 3
    SUPERSEDED = 4
    FRAUD = 5
    WITHDRAWN_BY_ISSUER = 6

    @property
    def label(self) -> str:
        """The reason in plain words, e.g. "issued in error"."""
        return self.name.lower().replace("_", " ")


def revocation_reason_label(reason: int) -> str:
    """Plain words for an on-chain reason code, also for codes this version does not know."""
    try:
        return RevocationReason(reason).label
    except ValueError:
        return f"unknown reason ({reason})"
