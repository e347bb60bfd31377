"""The verification checks, one module each: `NAME`, `REQUIRES` and `run(subject, context)`."""

from verify.checks import (
    accreditation,
    anchor,
    format,
    key_binding,
    parse,
    proof,
    status,
    validity,
)

__all__ = [
    "accreditation",
    "anchor",
    "format",
    "key_binding",
    "parse",
    "proof",
    "status",
    "validity",
]
