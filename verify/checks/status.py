"""Status check: neither the credential's batch nor the credential itself has been revoked.

The chain decides. When the credential carries Bitstring Status List entries and the context
has a status-list source, the published lists are read too (each verified with its issuer's
chain-registered key) and compared with the chain: the fragment says whether they agree, and
when they do not, the chain wins.
"""

from __future__ import annotations

from typing import Any

from credentials import dids, proofs
from credentials.errors import CredentialError
from credentials.status import StatusEntry, bit, read_list_credential
from ledger.records import Revocation, revocation_reason_label
from verify.checks.anchor import confirmed_anchor
from verify.codes import Code
from verify.context import Context
from verify.errors import Invalid
from verify.fragments import Fragment, Status
from verify.subject import Facts, Subject, known

NAME = "status"
REQUIRES = ("anchor",)
DISAGREES = (" The published status list disagrees ({purposes}); the chain is the source of "
             "truth, so its answer stands.")


def run(subject: Subject, context: Context) -> Fragment:
    """Look up the revocation of the batch root, then of the credential's digest in it; then
    compare the status lists the credential points to, if any."""
    anchoring = confirmed_anchor(subject, context)
    facts = known(subject.facts, "format")
    revocation = context.root_revocation(anchoring.proof.root)
    code, message = Code.REVOKED_BATCH, (
        "The issuer revoked the whole batch this credential belongs to ({reason})."
    )
    if revocation is None:
        revocation = context.leaf_revocation(anchoring.proof.root, anchoring.digest)
        code, message = Code.REVOKED_CREDENTIAL, "The issuer revoked this credential ({reason})."
    note, lists = _compare_lists(facts, context, revoked=revocation is not None)
    extra = {"status_list": lists} if lists else {}
    if revocation is not None:
        raise Invalid(
            code,
            message.format(reason=revocation_reason_label(revocation.reason)) + note,
            **_details(revocation),
            **extra,
        )
    return Fragment(NAME, Status.VALID, None, "The credential has not been revoked." + note, extra)


def _details(revocation: Revocation) -> dict[str, object]:
    """The reason code, its name and the block of a revocation."""
    return {
        "reason": revocation.reason,
        "reason_name": revocation_reason_label(revocation.reason),
        "block": revocation.block,
    }


def _compare_lists(
    facts: Facts, context: Context, *, revoked: bool
) -> tuple[str, list[dict[str, Any]]]:
    """A note for the message when a list disagrees with the chain, and what each entry's list
    said (empty for a credential without entries)."""
    if not facts.status:
        return "", []
    record = context.issuer(facts.issuer)
    chain = {"revocation": revoked, "suspension": record is not None and record.suspended}
    results = [_entry_result(entry, facts.issuer, context, chain[entry.purpose])
               for entry in facts.status]
    disagreeing = [item["purpose"] for item in results if item.get("agrees") is False]
    note = DISAGREES.format(purposes=", ".join(disagreeing)) if disagreeing else ""
    return note, results


def _entry_result(
    entry: StatusEntry, issuer: str, context: Context, on_chain: bool
) -> dict[str, Any]:
    """What the list of one entry says of the credential, beside what the chain says."""
    result: dict[str, Any] = {"purpose": entry.purpose, "url": entry.list_url,
                              "index": entry.index}
    if context.status_lists is None:
        return {**result, "consulted": False, "reason": "no status list source"}
    key = ("status_list", entry.list_url, entry.purpose, issuer)
    memo = context.verified_lists
    bitstring = context.remember(
        key,
        lambda: _verified_list(entry, issuer, context) if memo is None
        else memo.get(key, lambda: _verified_list(entry, issuer, context)),
    )
    if isinstance(bitstring, str):
        return {**result, "consulted": False, "reason": bitstring}
    listed = bit(bitstring, entry.index) == 1
    return {**result, "consulted": True, "set": listed, "chain": on_chain,
            "agrees": listed == on_chain}


def _verified_list(entry: StatusEntry, issuer: str, context: Context) -> bytes | str:
    """The bitstring of the entry's list once its form, issuer and signature check out, else
    the reason it cannot be used."""
    document = context.status_list(entry.list_url)
    if document is None:
        return "the status list is unavailable"
    try:
        list_issuer, bitstring = read_list_credential(
            document, list_url=entry.list_url, purpose=entry.purpose
        )
    except CredentialError as error:
        return f"the status list cannot be read: {error.message}"
    if list_issuer != issuer:
        return "the status list is not the credential issuer's"
    proof = document.get("proof")
    method = proof.get("verificationMethod") if isinstance(proof, dict) else None
    try:
        if not isinstance(method, str) or dids.controller_of(method) != issuer:
            return "the status list is not signed with a key of the credential's issuer"
        public_key = dids.public_key_of(method)
    except CredentialError:
        return "the status list names its key in a form that cannot be read"
    record = context.issuer(issuer)
    key = None if record is None else context.key(record.issuer_id, public_key)
    if key is None or key.retired_block:
        return "the status list is not signed with a key the ledger holds for its issuer"
    if not _signed(document, proof, public_key, context):
        return "the status list's signature does not verify"
    return bitstring


def _signed(document: dict[str, Any], proof: Any, public_key: bytes, context: Context) -> bool:
    """Whether the list credential's proof verifies (once per process with a memo)."""
    memo = context.signatures
    seen = None if memo is None else memo.digest(document, public_key)
    if memo is not None and seen is not None and seen in memo:
        return True
    try:
        signed = proofs.verify(document, proof, public_key)
    except CredentialError:
        return False
    if signed and memo is not None and seen is not None:
        memo.add(seen)
    return signed
