"""Deterministic sample credentials for tests and interoperability vectors.

Regenerate the vector files after a format change with `python tests/credential_samples.py`.
"""

import json
from pathlib import Path

from credentials.dids import did_document, did_key, did_web, verification_method_id
from credentials.keys import SigningKey
from credentials.model import (
    Achievement,
    Alignment,
    IssuerProfile,
    LearnerRef,
    Level,
    Result,
    achievement_credential,
    hashed_identifier,
)
from credentials.proofs import sign
from tests.support.paths import VECTORS

SAMPLE_CREDENTIAL = VECTORS / "sample-achievement-credential.json"
SAMPLE_ISSUER_DID = VECTORS / "sample-issuer-did.json"
ISSUER_KEY = SigningKey.from_seed(bytes(range(32)))
LEARNER_KEY = SigningKey.from_seed(bytes(range(32, 64)))
ISSUER_DID = did_web("creditbank.example", "issuers", "demo-university")
ISSUER = IssuerProfile(
    did=ISSUER_DID, name="Demo University", name_zh="示范大学", url="https://demo.example.edu/"
)
NATIONAL_ID = "110101199003074514"


def learner() -> LearnerRef:
    """A learner identified by a did:key and a hashed (peppered) national id."""
    return LearnerRef(
        did=did_key(LEARNER_KEY.public_key),
        identifiers=(hashed_identifier(NATIONAL_ID, "demo-pepper-0123456789"),),
    )


def achievement(code: str = "CS101", kind: str = "course") -> Achievement:
    """A course unit with every optional field filled in."""
    return Achievement(
        unit_code=code,
        title="Introduction to Programming",
        description="Programming fundamentals in Python.",
        kind=kind,
        credit_value=3.5,
        credit_scheme="CN-NCB",
        level=Level(framework="CQF", level=6, eqf_level=6),
        hours=48,
        field_of_study="Computer Science",
        learning_outcomes=("Write and test small programs", "Use version control"),
        alignments=(
            Alignment(
                target_name="ISCED-F 0613 Software and applications development",
                target_url="https://example.org/isced-f/0613",
                target_framework="ISCED-F 2013",
                target_code="0613",
            ),
        ),
    )


def unsigned_credential(number: int = 1, code: str = "CS101", kind: str = "course") -> dict:
    """A complete unsigned AchievementCredential."""
    return achievement_credential(
        credential_id=f"urn:uuid:5f0c5a52-4a3c-4d2e-9a8b-{number:012d}",
        issuer=ISSUER,
        learner=learner(),
        achievement=achievement(code, kind),
        result=Result(grade="A", scale="letter", status="Completed"),
        credits_earned=3.5,
        valid_from="2025-07-01T00:00:00Z",
        valid_until="2035-07-01T00:00:00Z",
        activity_start="2025-02-20",
        activity_end="2025-06-30",
        session="2025 spring",
    )


def signed_credential(cryptosuite: str = "eddsa-rdfc-2022", number: int = 1) -> dict:
    """The sample credential signed by the demo issuer key."""
    return sign(
        unsigned_credential(number),
        ISSUER_KEY,
        verification_method=verification_method_id(ISSUER_DID, ISSUER_KEY.public_key),
        cryptosuite=cryptosuite,
        created="2025-07-01T08:00:00Z",
    )


def issuer_did_document() -> dict:
    """The demo issuer's DID document."""
    return did_document(ISSUER_DID, [ISSUER_KEY.public_key])


def sample_files() -> dict[Path, str]:
    """Vector file path → exact text it must hold."""
    return {
        SAMPLE_CREDENTIAL: json.dumps(signed_credential(), indent=2, ensure_ascii=False) + "\n",
        SAMPLE_ISSUER_DID: json.dumps(issuer_did_document(), indent=2) + "\n",
    }


if __name__ == "__main__":
    for path, text in sample_files().items():
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
