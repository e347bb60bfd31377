"""The sample vectors in tests/vectors are current and verify."""

import json

from credentials.dids import public_key_of
from credentials.proofs import verify
from tests.support.samples import ISSUER_DID, SAMPLE_CREDENTIAL, SAMPLE_ISSUER_DID, sample_files


def test_sample_files_are_up_to_date() -> None:
    for path, text in sample_files().items():
        assert path.read_text(encoding="utf-8") == text, (
            f"{path.name} is stale: run `python tests/credential_samples.py`"
        )


def test_sample_credential_verifies_with_its_did_document() -> None:
    credential = json.loads(SAMPLE_CREDENTIAL.read_text(encoding="utf-8"))
    document = json.loads(SAMPLE_ISSUER_DID.read_text())
    method = credential["proof"]["verificationMethod"]
    assert document["id"] == ISSUER_DID
    assert method in document["assertionMethod"]
    assert verify(credential, credential["proof"], public_key_of(method)) is True
