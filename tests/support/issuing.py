"""An accredited issuer on a test chain that signs sample credentials and anchors them."""

from __future__ import annotations

from credentials.dids import verification_method_id
from credentials.keys import SigningKey
from credentials.proofs import sign
from issuers.batch import Batch
from tests.support.chains import TestChain
from tests.support.samples import unsigned_credential


class Issuer:
    """An accredited issuer on a test chain, with its registered signing key."""

    def __init__(self, chain: TestChain, did: str, key: SigningKey, **accreditation: int) -> None:
        self.chain, self.did, self.key = chain, did, key
        self.issuer_id, (self.account,) = chain.accredit(did, **accreditation)
        self.key_block = chain.ledger.transact(
            self.account, "IssuerRegistry", "registerKey", key.public_key
        )["blockNumber"]

    def sign(
        self, number: int, kind: str = "course", suite: str = "eddsa-rdfc-2022", **members
    ) -> dict:
        """A sample credential of this issuer, signed with `self.key` unless told otherwise."""
        key = members.pop("key", self.key)
        unsigned = {**unsigned_credential(number, kind=kind), **members}
        unsigned["issuer"] = {**unsigned["issuer"], "id": self.did}
        method = verification_method_id(self.did, key.public_key)
        return sign(unsigned, key, verification_method=method, cryptosuite=suite)

    def anchor(self, signed: list[dict], *, account=None) -> list[dict]:
        """Batch, anchor (by this issuer's account unless told otherwise) and attach proofs."""
        batch = Batch.of(signed)
        receipt = self.chain.ledger.transact(
            account or self.account, "CredentialAnchor", "anchor", batch.root
        )
        return batch.anchored(
            chain_id=self.chain.ledger.chain_id,
            contract=self.chain.deployment.credential_anchor,
            transaction_hash="0x" + bytes(receipt["transactionHash"]).hex(),
        )
