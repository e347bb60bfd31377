"""The issuer commands end to end on a data directory: accredit, catalogue, issue, revoke,
suspend, rotate keys, publish and approve rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eth_hash.auto import keccak
from sqlalchemy import func, select

from infra.settings import Settings
from issuers.registry import issuer_record
from issuers.tables import credentials
from ledger.genesis import initialise
from ledger.views import ChainView
from portal.app import create_app
from portal.cli import main
from portal.runtime import Runtime
from tests.support.issuer import EXAMPLES
from tests.support.rules import rule_set_json
from verify import Code, Context, Status, verify_credential


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh chain, with the commands set to seal blocks quickly."""
    monkeypatch.delenv("CREDITBANK_MASTER_KEY", raising=False)
    monkeypatch.setenv("CREDITBANK_BLOCK_PERIOD", "0.05")
    directory = tmp_path / "data"
    initialise(directory)
    return directory


def run(data_dir: Path, *args: str) -> int:
    return main([*args, "--data", str(data_dir)])


def issue(data_dir: Path, outcomes: Path, out: Path) -> int:
    """Issue a file of outcomes as Demo University, writing the credentials to `out`."""
    return run(data_dir, "issue", "--issuer", "demo-university", str(outcomes), "--out", str(out))


def opened(data_dir: Path) -> Runtime:
    return Runtime(Settings.from_env(data_dir=data_dir, database_url=_database(data_dir)))


def _database(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'creditbank.sqlite'}"


def verdict(runtime: Runtime, path: Path) -> tuple[Status, list]:
    report = verify_credential(path.read_bytes(), Context(ChainView(runtime.ledger)))
    return report.verdict, [
        (f.name, str(f.code)) for f in report.fragments if f.status is not Status.VALID
    ]


def accredit(data_dir: Path, capsys: pytest.CaptureFixture) -> dict:
    assert (
        run(
            data_dir,
            "issuers",
            "add",
            "Demo University",
            "--scope",
            "course,certificate",
            "--levels",
            "1-8",
            "--json",
        )
        == 0
    )
    accreditation = json.loads(capsys.readouterr().out)
    assert (
        run(data_dir, "units", "add", "--issuer", "demo-university", str(EXAMPLES / "units.json"))
        == 0
    )
    assert capsys.readouterr().out == "CS101 v1\nMATH201 v1\nCERT-DATA v1\n"
    return accreditation


def test_issue_a_csv_then_revoke_one_credential(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    accreditation = accredit(data_dir, capsys)
    assert sorted(accreditation) == [
        "account",
        "did",
        "issuer",
        "kinds",
        "levels",
        "public_key",
        "token",
        "valid_from",
        "valid_until",
    ]
    out = tmp_path / "out"
    assert issue(data_dir, EXAMPLES / "outcomes.csv", out) == 0
    assert capsys.readouterr().out.startswith("issued 4 credentials for demo-university in 1 ")
    files = sorted(out.iterdir())
    assert len(files) == 4
    entries = [json.loads(path.read_text("utf-8"))["credentialStatus"] for path in files]
    purposes = [[entry["statusPurpose"] for entry in status] for status in entries]
    assert purposes == [["revocation", "suspension"]] * 4
    with opened(data_dir) as runtime:
        assert [verdict(runtime, path) for path in files] == [(Status.VALID, [])] * 4
    revoked = "urn:uuid:" + files[0].stem
    assert run(data_dir, "revoke", revoked, "--reason", "issued-in-error") == 0
    assert capsys.readouterr().out.startswith(f"revoked {revoked} (issued in error) in block ")
    with opened(data_dir) as runtime:
        assert verdict(runtime, files[0]) == (
            Status.INVALID,
            [("status", str(Code.REVOKED_CREDENTIAL))],
        )
        assert verdict(runtime, files[1]) == (Status.VALID, [])


def test_a_bad_file_issues_nothing_and_names_each_line(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    accredit(data_dir, capsys)
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "national_id,unit,session,grade,completed_on,credits\n"
        "110101199003074514,CS101,2025 spring,A,2025-06-30,3.5\n"
        "110101199003074514,CS999,2025 spring,A,2025-06-30,3\n"
        "320102198811123456,CS101,2025 spring,A,2025-06-30,9\n"
        "44010619950505321X,CS101, , ,2025-06-30,3\n",
        encoding="utf-8",
    )
    assert run(data_dir, "issue", "--issuer", "demo-university", str(bad)) == 65
    assert capsys.readouterr().err == (
        "error: 3 of 4 lines are invalid; nothing was issued\n"
        "  file, line 3, unit: unknown unit 'CS999'\n"
        "  file, line 4, credits: must be between 0 and 3.5, the unit's credit value\n"
        "  file, line 5, grade: must not be blank\n"
        "  file, line 5, session: must not be blank\n"
    )
    with opened(data_dir) as runtime, runtime.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(credentials)).scalar() == 0


def test_suspend_reinstate_and_rotate_the_signing_key(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    accreditation = accredit(data_dir, capsys)
    headers = {"Authorization": f"Bearer {accreditation['token']}"}
    body = json.loads((EXAMPLES / "outcomes.json").read_text("utf-8"))
    assert run(data_dir, "issuers", "suspend", "demo-university") == 0
    with opened(data_dir) as runtime:
        answer = (
            create_app(runtime)
            .test_client()
            .post("/api/v1/credentials", json=body, headers=headers)
        )
    assert (answer.status_code, answer.json["message"]) == (
        403,
        "issuer 'demo-university' is suspended and may not issue",
    )
    assert run(data_dir, "issuers", "reinstate", "demo-university") == 0
    old = tmp_path / "old"
    assert issue(data_dir, EXAMPLES / "outcomes.csv", old) == 0
    assert run(data_dir, "issuers", "rotate-key", "demo-university") == 0
    new_key = capsys.readouterr().out.strip().rsplit(" ", 1)[1]
    new = tmp_path / "new"
    assert issue(data_dir, EXAMPLES / "outcomes.json", new) == 0
    with opened(data_dir) as runtime:
        client = create_app(runtime).test_client()
        document = client.get("/issuers/demo-university/did.json").json
        assert [m["publicKeyMultibase"] for m in document["verificationMethod"]] == [
            accreditation["public_key"],
            new_key,
        ]
        for path in [*old.iterdir(), *new.iterdir()]:
            assert verdict(runtime, path) == (Status.VALID, [])
        key = json.loads(next(new.iterdir()).read_text("utf-8"))["proof"][0]
        assert key["verificationMethod"].endswith(new_key)


def test_publish_rules_then_approve(data_dir: Path, capsys: pytest.CaptureFixture) -> None:
    accreditation = accredit(data_dir, capsys)
    headers = {"Authorization": f"Bearer {accreditation['token']}"}
    document = rule_set_json(
        [{"id": "recent", "kind": "currency", "max_age_years": 5}],
        owner_did=accreditation["did"],
        rule_set_id="demo-university:BSC-CS",
    )
    with opened(data_dir) as runtime:
        client = create_app(runtime).test_client()
        published = client.post("/api/v1/rules", json=document, headers=headers)
        assert (published.status_code, published.json["approved"]) == (201, False)
        foreign = client.post(
            "/api/v1/rules",
            json={**document, "owner_did": "did:web:other.example"},
            headers=headers,
        )
        assert (foreign.status_code, foreign.json["errors"]) == (
            422,
            {"owner_did": [f"must be the publishing issuer's DID {accreditation['did']}"]},
        )
    assert run(data_dir, "rules", "approve", "demo-university:BSC-CS", "1") == 0
    approved = json.loads(capsys.readouterr().out)
    answer = published.json
    impact = answer.pop("impact")
    assert (impact["version"], impact["totals"]["learners"]) == (1, 0)
    assert approved == {**answer, "approved": True}
    with opened(data_dir) as runtime:
        on_chain = ChainView(runtime.ledger).rule_set(keccak(b"demo-university:BSC-CS"), 1)
    assert on_chain is not None
    assert ("0x" + on_chain.content_hash.hex(), on_chain.approved_block > 0) == (
        published.json["content_hash"],
        True,
    )


def test_an_issuers_web_site_is_an_http_or_https_address(
    data_dir: Path, capsys: pytest.CaptureFixture
) -> None:
    refused_urls = (
        "javascript:alert(document.cookie)", "JavaScript://demo.example.edu/%0aalert(1)",
        "data:text/html,<script>alert(1)</script>", "//demo.example.edu", "/about",
        "demo.example.edu", "https:demo.example.edu", "https://", "ftp://demo.example.edu",
        "https://demo.example.edu@evil.example", "https://demo example.edu",
        "https://demo.example.edu\\@evil.example", "http://demo.example.edu:99999",
        "https://demo.example.edu/\n",
    )
    refusal = (
        "error: an institution's web site is an http:// or https:// address\n"
        "  url: must be an absolute http(s) URL, like https://example.edu\n"
    )

    codes = {url: run(data_dir, "issuers", "add", "Demo University", "--url", url)
             for url in refused_urls}
    errors = capsys.readouterr().err
    added = run(data_dir, "issuers", "add", "Demo University", "--url",
                "https://demo.example.edu/about?lang=zh", "--json")

    assert (codes, errors) == (dict.fromkeys(refused_urls, 65), refusal * len(refused_urls))
    with opened(data_dir) as runtime:
        stored = issuer_record(runtime.engine, "demo-university")["url"]
    assert (added, stored) == (0, "https://demo.example.edu/about?lang=zh")
