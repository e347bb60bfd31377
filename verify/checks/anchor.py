"""Anchor check: the credential is a leaf of a batch its issuer anchored on the trusted chain."""

from __future__ import annotations

from credentials.anchoring import anchor_proof_of
from credentials.errors import CredentialError
from credentials.merkle import credential_digest, root_from_proof
from infra.times import iso_utc
from verify.codes import Code
from verify.context import Context
from verify.errors import Invalid, PreconditionFailed
from verify.fragments import Fragment, Status
from verify.subject import Anchoring, Subject, known

NAME = "anchor"
REQUIRES = ("format",)


def run(subject: Subject, context: Context) -> Fragment:
    """Confirm the credential's anchor and report its block."""
    anchoring = confirmed_anchor(subject, context)
    block_time = iso_utc(anchoring.record.timestamp)
    return Fragment(
        NAME,
        Status.VALID,
        None,
        f"The credential belongs to a batch its issuer anchored on the ledger in block "
        f"{anchoring.record.block} at {block_time}.",
        {
            "chain_id": anchoring.proof.chain_id,
            "contract": anchoring.proof.contract,
            "transaction_hash": anchoring.proof.transaction_hash,
            "root": "0x" + anchoring.proof.root.hex(),
            "block": anchoring.record.block,
            "block_time": block_time,
        },
    )


def required_anchor(subject: Subject, context: Context) -> Anchoring:
    """The confirmed anchor, for checks needing the anchoring block (skipped without it)."""
    try:
        return confirmed_anchor(subject, context)
    except Invalid as error:
        raise PreconditionFailed(
            NAME, "Skipped because the credential's anchor on the ledger could not be confirmed."
        ) from error


def confirmed_anchor(subject: Subject, context: Context) -> Anchoring:
    """The anchor of the credential's batch, confirmed end to end; remembered on the subject."""
    if subject.anchoring is None:
        try:
            subject.anchoring = _confirm(subject, context)
        except Invalid as error:
            subject.anchoring = error
    if isinstance(subject.anchoring, Invalid):
        raise subject.anchoring
    return subject.anchoring


def _confirm(subject: Subject, context: Context) -> Anchoring:
    """Check the anchor proof against the trusted chain, the Merkle root and the anchor record."""
    document = known(subject.document, "parse")
    issuer_did = known(subject.facts, "format").issuer
    try:
        proof = anchor_proof_of(document)
    except CredentialError as error:
        raise Invalid(
            Code.MALFORMED_ANCHOR_PROOF,
            "The credential's proof of anchoring cannot be read.",
            field="proof",
        ) from error
    if proof is None:
        raise Invalid(
            Code.ANCHOR_PROOF_MISSING,
            "The credential carries no proof of anchoring.",
            field="proof",
        )
    if proof.chain_id != context.expected_chain_id():
        raise Invalid(
            Code.UNKNOWN_CHAIN,
            "The credential was anchored on a different ledger than the one trusted here.",
            chain_id=proof.chain_id,
            expected=context.expected_chain_id(),
        )
    if proof.contract.lower() != context.expected_anchor_contract().lower():
        raise Invalid(
            Code.UNKNOWN_CONTRACT,
            "The credential names an anchor contract other than the trusted one.",
            contract=proof.contract,
            expected=context.expected_anchor_contract(),
        )
    root = "0x" + proof.root.hex()
    digest = credential_digest(document)
    if root_from_proof(digest, proof.path) != proof.root:
        raise Invalid(
            Code.MERKLE_PROOF_INVALID,
            "The credential is not part of the batch its proof of anchoring names.",
            root=root,
        )
    record = context.anchor(proof.root)
    if record is None:
        raise Invalid(
            Code.NOT_ANCHORED, "The credential's batch was never anchored on the ledger.", root=root
        )
    issuer = context.issuer(issuer_did)
    if issuer is None or issuer.issuer_id != record.issuer_id:
        raise Invalid(
            Code.ANCHORED_BY_OTHER_ISSUER,
            "The credential's batch was anchored by an issuer other than the one named in it.",
            root=root,
            anchored_by="0x" + record.issuer_id.hex(),
        )
    if proof.root not in context.anchored_in(proof.transaction_hash):
        raise Invalid(
            Code.TRANSACTION_MISMATCH,
            "The transaction named in the proof of anchoring did not anchor this batch.",
            root=root,
            transaction_hash=proof.transaction_hash,
        )
    return Anchoring(proof, digest, record)
