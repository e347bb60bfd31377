"""Our credentials checked by an independent W3C VC implementation (Digital Bazaar's, in Node)."""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path

import pytest

from credentials import contexts
from credentials.anchoring import attach_anchor
from credentials.dids import did_document, did_key, did_web, verification_method_id
from credentials.keys import SigningKey
from credentials.proofs import CRYPTOSUITES, sign
from tests.support.paths import TESTS

VERIFY_VC = TESTS / "js" / "verify-vc.mjs"
VECTORS = TESTS / "vectors"
SAMPLE_CREDENTIAL = VECTORS / "sample-achievement-credential.json"
SAMPLE_ISSUER_DID = VECTORS / "sample-issuer-did.json"
W3C_EXAMPLES_CONTEXT = "https://www.w3.org/ns/credentials/examples/v2"
W3C_ISSUER = "https://vc.example/issuers/5678"
W3C_SIGNED = {
    "eddsa-rdfc-2022": VECTORS / "eddsa-rdfc-2022" / "signedDataInt.json",
    "eddsa-jcs-2022": VECTORS / "eddsa-jcs-2022" / "signedJCS.json",
}
NOT_GIVEN_CONTEXT = "https://example.org/contexts/not-given/v1"
INVALID_SIGNATURE = ["VerificationError: Verification error(s).", "Error: Invalid signature."]

pytestmark = pytest.mark.skipif(
    not (TESTS / "js" / "node_modules").is_dir(),
    reason="tests/js/node_modules is missing: run `bash tests/install.sh`",
)


def bundled_contexts() -> dict[str, str]:
    """Context URL → path of the file our credentials package bundles for it."""
    directory = Path(contexts.__file__).parent / "contexts"
    return {url: str(directory / name) for url, name in contexts.FILES.items()}


def independent_verify(
    credential: dict, did_documents: dict[str, dict], extra_contexts: dict[str, str] | None = None
) -> tuple[int, dict]:
    """Run tests/js/verify-vc.mjs on `credential`; return its exit status and JSON result."""
    payload = {
        "credential": credential,
        "didDocuments": did_documents,
        "contexts": {**bundled_contexts(), **(extra_contexts or {})},
    }
    completed = subprocess.run(
        ["node", str(VERIFY_VC), "-"],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode != 2, completed.stderr
    return completed.returncode, json.loads(completed.stdout)


def outcome(credential: dict, *, verified: bool, errors: list[str] | None = None) -> tuple:
    """The exit status and result verify-vc.mjs should give when it checks `credential`."""
    proofs = credential["proof"] if isinstance(credential["proof"], list) else [credential["proof"]]
    integrity = [proof for proof in proofs if proof["type"] == "DataIntegrityProof"]
    result = {
        "verified": verified,
        "errors": errors or [],
        "proofs": [
            {
                "type": proof["type"],
                "cryptosuite": proof["cryptosuite"],
                "verificationMethod": proof["verificationMethod"],
                "verified": verified,
            }
            for proof in integrity
        ],
        "ignoredProofs": [proof["type"] for proof in proofs if proof not in integrity],
    }
    return (0 if verified else 1), result


def with_anchor(credential: dict) -> dict:
    """`credential` with our anchor proof appended to its proof set."""
    return attach_anchor(
        credential,
        chain_id=1337,
        contract="0x5FbDB2315678afecb367f032d93F642f64180aa3",
        transaction_hash="0x" + "ab" * 32,
        root=bytes(range(32)),
        path=[bytes(32), bytes(range(32, 64))],
    )


def tampered(credential: dict, *path: str) -> dict:
    """A deep copy of `credential` with the string at `path` changed."""
    changed = copy.deepcopy(credential)
    holder = changed
    for name in path[:-1]:
        holder = holder[name]
    holder[path[-1]] += " (altered)"
    return changed


def sample_vector() -> tuple[dict, dict[str, dict]]:
    """Our sample signed achievement credential and its issuer's DID document."""
    issuer_document = json.loads(SAMPLE_ISSUER_DID.read_text())
    credential = json.loads(SAMPLE_CREDENTIAL.read_text())
    return credential, {issuer_document["id"]: issuer_document}


def w3c_vector(cryptosuite: str) -> tuple[dict, dict[str, dict], dict[str, str]]:
    """The vc-di-eddsa spec's signed example, its issuer's controller document and contexts."""
    key = json.loads((VECTORS / "keyPair.json").read_text())["publicKeyMultibase"]
    method = f"{W3C_ISSUER}#{key}"
    controller = {
        "@context": [contexts.DID_V1, contexts.MULTIKEY_V1],
        "id": W3C_ISSUER,
        "verificationMethod": [
            {"id": method, "type": "Multikey", "controller": W3C_ISSUER, "publicKeyMultibase": key}
        ],
        "assertionMethod": [method],
    }
    extra = {W3C_EXAMPLES_CONTEXT: str(VECTORS / "credentials-examples-v2.jsonld")}
    return json.loads(W3C_SIGNED[cryptosuite].read_text()), {W3C_ISSUER: controller}, extra


def badge(issuer: str) -> dict:
    """A small unsigned Open Badges 3.0 credential from `issuer`."""
    return {
        "@context": [contexts.VC_V2, contexts.OB_V3],
        "id": "urn:uuid:0b6f4a4e-8d43-4b7e-9d7e-2f4c8f1a6c01",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": issuer, "type": ["Profile"], "name": "Open University of Example"},
        "validFrom": "2025-09-01T00:00:00Z",
        "name": "Introduction to Databases",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "achievement": {
                "id": "https://creditbank.org/units/CS101",
                "type": ["Achievement"],
                "name": "Introduction to Databases",
                "description": "Relational modelling, SQL and transactions.",
                "criteria": {"narrative": "Pass the final examination."},
            },
        },
    }


def test_sample_achievement_credential_verifies() -> None:
    credential, documents = sample_vector()
    assert independent_verify(credential, documents) == outcome(credential, verified=True)


def test_anchored_sample_achievement_credential_verifies() -> None:
    credential, documents = sample_vector()
    anchored = with_anchor(credential)
    assert independent_verify(anchored, documents) == outcome(anchored, verified=True)


def test_tampered_sample_achievement_credential_fails() -> None:
    credential, documents = sample_vector()
    altered = tampered(credential, "credentialSubject", "achievement", "name")
    assert independent_verify(altered, documents) == outcome(
        altered, verified=False, errors=INVALID_SIGNATURE
    )


@pytest.mark.parametrize("cryptosuite", CRYPTOSUITES)
def test_w3c_signed_example_verifies(cryptosuite: str) -> None:
    credential, controllers, extra = w3c_vector(cryptosuite)
    assert independent_verify(credential, controllers, extra) == outcome(credential, verified=True)


@pytest.mark.parametrize("cryptosuite", CRYPTOSUITES)
def test_tampered_w3c_example_fails(cryptosuite: str) -> None:
    credential, controllers, extra = w3c_vector(cryptosuite)
    altered = tampered(credential, "credentialSubject", "alumniOf")
    assert independent_verify(altered, controllers, extra) == outcome(
        altered, verified=False, errors=INVALID_SIGNATURE
    )


@pytest.mark.parametrize("cryptosuite", CRYPTOSUITES)
def test_anchor_proof_in_the_proof_set_is_ignored(cryptosuite: str) -> None:
    credential, controllers, extra = w3c_vector(cryptosuite)
    anchored = with_anchor(credential)
    assert independent_verify(anchored, controllers, extra) == outcome(anchored, verified=True)


@pytest.mark.parametrize("cryptosuite", CRYPTOSUITES)
def test_our_did_web_credential_verifies(cryptosuite: str) -> None:
    key = SigningKey.from_seed(bytes(range(32)))
    issuer = did_web("localhost:8443", "issuers", "open-university")
    signed = sign(
        badge(issuer),
        key,
        verification_method=verification_method_id(issuer, key.public_key),
        cryptosuite=cryptosuite,
        created="2025-09-01T08:00:00Z",
    )
    anchored = with_anchor(signed)
    documents = {issuer: did_document(issuer, [key.public_key])}
    assert independent_verify(anchored, documents) == outcome(anchored, verified=True)
    altered = tampered(anchored, "credentialSubject", "achievement", "name")
    assert independent_verify(altered, documents) == outcome(
        altered, verified=False, errors=INVALID_SIGNATURE
    )


@pytest.mark.parametrize("cryptosuite", CRYPTOSUITES)
def test_our_did_key_credential_verifies(cryptosuite: str) -> None:
    key = SigningKey.from_seed(bytes(range(1, 33)))
    issuer = did_key(key.public_key)
    signed = sign(
        badge(issuer),
        key,
        verification_method=verification_method_id(issuer, key.public_key),
        cryptosuite=cryptosuite,
    )
    assert independent_verify(signed, {}) == outcome(signed, verified=True)


def test_contexts_come_only_from_the_given_files() -> None:
    credential, controllers, _ = w3c_vector("eddsa-rdfc-2022")
    credential = {**credential, "@context": [*credential["@context"], NOT_GIVEN_CONTEXT]}
    not_given = f'URL: "{NOT_GIVEN_CONTEXT}".'
    assert independent_verify(credential, controllers) == outcome(
        credential,
        verified=False,
        errors=[
            "VerificationError: Verification error(s).",
            "jsonld.InvalidUrl: Dereferencing a URL did not result in a valid JSON-LD object."
            " Possible causes are an inaccessible URL perhaps due to a same-origin policy"
            " (ensure the server uses CORS if you are using client-side JavaScript), too many"
            " redirects, a non-JSON response, or more than one HTTP Link Header was provided"
            f" for a remote context. {not_given}",
            f"Error: {NOT_GIVEN_CONTEXT} is neither a local context nor a given controller"
            " document",
        ],
    )


def test_usage_error_exits_2() -> None:
    completed = subprocess.run(
        ["node", str(VERIFY_VC), "-"],
        input=json.dumps({"credential": {}}),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (completed.returncode, completed.stdout, completed.stderr) == (
        2,
        "",
        "INPUT.contexts must map context URLs to file paths\n",
    )
