"""The public JSON API: institutions, catalogue, programmes and the guide, with no sign-in."""

from __future__ import annotations

import json

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from issuers.tables import credentials
from portal.app import create_app
from portal.runtime import Runtime
from tests.support.bank import RULE_SET, Bank, city_bank, outcome

UNLIMITED = {"public": (10_000, 60), "public_guide": (10_000, 60)}


@pytest.fixture
def bank(runtime: Runtime) -> Bank:
    """The city bank with BJOU's approved rules."""
    return city_bank(runtime)


@pytest.fixture
def client(bank: Bank) -> FlaskClient:
    """A visitor with no account."""
    return create_app(bank.runtime, {"TESTING": True, "RATE_LIMITS": UNLIMITED}).test_client()


def test_institutions_catalogue_and_programmes_are_public(client: FlaskClient) -> None:
    listed = client.get("/api/v1/public/institutions")
    one = client.get("/api/v1/public/institutions/hdvc")
    first = client.get("/api/v1/public/catalogue?limit=2")
    second = client.get(f"/api/v1/public/catalogue?limit=2&after={first.json['next']}")
    found = client.get("/api/v1/public/catalogue?text=english&kind=course&level=4")
    unit = client.get("/api/v1/public/catalogue/hdvc/WH110")
    programmes = client.get("/api/v1/public/programmes")
    detail = client.get(f"/api/v1/public/programmes/{RULE_SET}")
    assert [item["id"] for item in listed.json["institutions"]] == ["bjou", "hdvc", "courier"]
    assert (one.json["did_document"], one.json["status"]) == ("/issuers/hdvc/did.json",
                                                              "accredited")
    assert [item["ref"] for item in first.json["units"] + second.json["units"]] == [
        "bjou:LOG201", "courier:CERT-COURIER", "hdvc:ACC110", "hdvc:ENG110"]
    assert [(item["ref"], item["issuer_name"]) for item in found.json["units"]] == [
        ("hdvc:ENG110", "Haidian Vocational College")]
    assert found.json["next"] is None
    assert [(item["version"], item["valid_from"]) for item in unit.json["versions"]] == [
        (1, "2024-09-01")]
    assert [(item["rule_set_id"], item["version"]["version"])
            for item in programmes.json["programmes"]] == [(RULE_SET, 1)]
    assert ([rule["id"] for rule in detail.json["rules"]][:2], "rule_set" in detail.json) == (
        ["courier-exemption", "hdvc-warehouse"], False)
    assert detail.json["version"]["content_hash"].startswith("0x")


def test_the_guide_answers_by_get_and_post(bank: Bank, client: FlaskClient) -> None:
    (credential_id,) = bank.issue("hdvc", [outcome("MATH110", "B")])
    with bank.runtime.engine.connect() as connection:
        document = json.loads(connection.execute(select(credentials.c.anchored).where(
            credentials.c.id == credential_id)).scalar_one())
    got = client.get("/api/v1/public/guide?unit=hdvc:WH110&unit=bjou:LOG201")
    posted = client.post("/api/v1/public/guide",
                         json={"units": ["hdvc:WH110"], "credentials": [document]})
    (programme,) = got.json["programmes"]
    assert [(line["verdict"], line["units"], line["credits"]) for line in programme["lines"]] == [
        ("match", ["LOG201"], 4), ("match", ["WH110"], 3)]
    assert (programme["rule_set_id"], programme["version"], programme["match"]) == (
        RULE_SET, 1, 7)
    (posted_programme,) = posted.json["programmes"]
    assert (posted_programme["match"], [item["unit_code"] for item in posted.json["credentials"]]
            ) == (7, ["MATH110"])
    assert document["credentialSubject"]["id"] not in posted.text


@pytest.mark.parametrize(("method", "path", "body", "names"), [
    ("get", "/api/v1/public/institutions?sort=name", None, ["sort"]),
    ("get", "/api/v1/public/institutions/hdvc?x=1", None, ["x"]),
    ("get", "/api/v1/public/catalogue?title=x&kinds=course", None, ["kinds", "title"]),
    ("get", "/api/v1/public/catalogue/hdvc/WH110?version=1", None, ["version"]),
    ("get", "/api/v1/public/programmes?all=1", None, ["all"]),
    ("get", f"/api/v1/public/programmes/{RULE_SET}?version=1", None, ["version"]),
    ("get", "/api/v1/public/guide?units=hdvc:WH110", None, ["units"]),
    ("post", "/api/v1/public/guide", {"units": [], "learner": "me"}, ["learner"]),
    ("post", "/api/v1/public/guide", ["hdvc:WH110"], ["json"]),
    ("get", "/api/v1/public/guide?" + "&".join(f"unit=hdvc:U{n}" for n in range(51)), None,
     ["units"]),
    ("post", "/api/v1/public/guide", {"credentials": [{}] * 21}, ["credentials"]),
    ("get", "/api/v1/public/catalogue?text=a%00b", None, ["text"]),
    ("get", "/api/v1/public/catalogue/hdvc/WH%00", None, ["code"]),
])
def test_unknown_parameters_members_and_too_many_picks_are_refused_by_name(
        client: FlaskClient, method: str, path: str, body: object, names: list[str]) -> None:
    answer = getattr(client, method)(path, json=body)
    assert (answer.status_code, sorted(answer.json["errors"])) == (400, names)


@pytest.mark.parametrize(("path", "status", "names"), [
    ("/api/v1/public/catalogue?kind=lecture", 422, ["kind"]),
    ("/api/v1/public/catalogue?after=nothing", 422, ["after"]),
    ("/api/v1/public/catalogue?min_credits=5&max_credits=1", 422, ["max_credits"]),
    ("/api/v1/public/guide?unit=hdvc:NOPE", 422, ["units.0"]),
    ("/api/v1/public/guide?unit=nocolon", 422, ["units.0"]),
    ("/api/v1/public/institutions/nobody", 404, None),
    ("/api/v1/public/catalogue/hdvc/NOPE", 404, None),
    ("/api/v1/public/programmes/bjou:NOPE", 404, ["rule_set_id"]),
])
def test_bad_values_are_refused_naming_the_field(client: FlaskClient, path: str, status: int,
                                                 names: list[str] | None) -> None:
    answer = client.get(path)
    assert (answer.status_code, sorted(answer.json["errors"]) if names else None) == (
        status, names)


def test_read_only_answers_carry_an_etag_and_a_public_cache(client: FlaskClient) -> None:
    first = client.get("/api/v1/public/catalogue")
    again = client.get("/api/v1/public/catalogue", headers={"If-None-Match": first.headers["ETag"]})
    guide = client.get("/api/v1/public/guide?unit=hdvc:WH110")
    assert (first.headers["Cache-Control"], again.status_code) == ("public, max-age=60", 304)
    assert "ETag" not in guide.headers


def test_the_openapi_document_lists_the_public_api(client: FlaskClient) -> None:
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert {path for path in paths if path.startswith("/api/v1/public/")} == {
        "/api/v1/public/institutions", "/api/v1/public/institutions/{issuer_id}",
        "/api/v1/public/catalogue", "/api/v1/public/catalogue/{issuer_id}/{code}",
        "/api/v1/public/programmes", "/api/v1/public/programmes/{rule_set_id}",
        "/api/v1/public/guide"}
    assert {parameter["name"] for parameter in paths["/api/v1/public/catalogue"]["get"][
        "parameters"]} >= {"text", "kind", "level", "field", "min_credits", "max_credits",
                           "issuer", "after", "limit"}
