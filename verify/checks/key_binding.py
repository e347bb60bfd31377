"""Key binding check: the signing key was registered to the issuer when the batch was anchored."""

from __future__ import annotations

from verify.checks.anchor import required_anchor
from verify.codes import Code
from verify.context import Context
from verify.errors import Invalid
from verify.fragments import Fragment, Status
from verify.subject import Subject, known

NAME = "key_binding"
REQUIRES = ("proof",)


def run(subject: Subject, context: Context) -> Fragment:
    """Check the key's on-chain registration against the anchoring block."""
    public_key = known(subject.public_key, "proof")
    issuer = context.issuer(known(subject.facts, "format").issuer)
    key = None if issuer is None else context.key(issuer.issuer_id, public_key)
    if issuer is None or key is None:
        raise Invalid(
            Code.KEY_NOT_REGISTERED,
            "The key that signed the credential is not registered to its issuer on the ledger.",
            public_key="0x" + public_key.hex(),
        )
    block = required_anchor(subject, context).record.block
    details = {
        "registered_block": key.registered_block,
        "retired_block": key.retired_block or None,
        "anchor_block": block,
    }
    if block < key.registered_block:
        raise Invalid(
            Code.KEY_REGISTERED_AFTER_ANCHOR,
            "The key that signed the credential was registered only after it was anchored.",
            **details,
        )
    if key.retired_block and block >= key.retired_block:
        raise Invalid(
            Code.KEY_RETIRED,
            "The key that signed the credential had been retired before it was anchored.",
            **details,
        )
    return Fragment(
        NAME,
        Status.VALID,
        None,
        "The key that signed the credential was registered to its issuer when it was anchored.",
        details,
    )
