"""verify: the ordered verification pipeline for credit bank credentials, and its CLI."""

import os

os.environ.setdefault("ETH_HASH_BACKEND", "pysha3")

from ledger.records import RevocationReason, revocation_reason_label
from verify.abc import LedgerView
from verify.codes import Code
from verify.context import Context
from verify.errors import VerifyError
from verify.fragments import Fragment, Report, Status, verdict
from verify.pipeline import CHECKS, verify_credential, verify_many

__all__ = [
    "CHECKS",
    "Code",
    "Context",
    "Fragment",
    "LedgerView",
    "Report",
    "RevocationReason",
    "Status",
    "VerifyError",
    "revocation_reason_label",
    "verdict",
    "verify_credential",
    "verify_many",
]
