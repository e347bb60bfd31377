"""The portal's edges tried as an attacker would, over HTTP: where signing in returns to, the
cookies' flags, which answers a cache may keep, and paging parameters out of bounds."""

from __future__ import annotations

import base64
import io
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from urllib.parse import quote, urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from bank.accounts import new_operator_token
from bank.sharing import share
from bank.staff import INSTITUTION, OPERATOR, add_staff
from portal.app import create_app
from portal.runtime import Runtime
from portal.security import safe_next
from tests.support.bank import LEARNER_ID, PASSWORD, bearer
from tests.support.citizen import sign_in, sign_up
from tests.support.issuer import accredited
from tests.support.oidc_provider import OidcProvider
from tests.support.portal import at_localhost, form_token
from tests.support.samples import signed_credential

ISSUER = "demo-university"
DAY = 24 * 3600
CALLBACK = "http://localhost/sign-in/city/callback"

# What an attacker puts in `next` (as the portal reads it, after the query or form is decoded):
# other sites, schemes, backslashes, whitespace browsers strip, CR/LF, dot segments, and each of
# them percent-encoded once or twice more.
ATTACKS = (
    "//evil.example", "///evil.example", "/\\evil.example", "\\\\evil.example",
    "/\t/evil.example", "/%09/evil.example", "/%2509/evil.example", "/%2F/evil.example",
    "/%2f%2fevil.example", "%2F%2Fevil.example", "/%5Cevil.example", "/%255C%255Cevil.example",
    "/me\r\nSet-Cookie: session=stolen", "/me%0d%0aSet-Cookie:%20session=stolen", "/me\n",
    "http://evil.example/me", "https:evil.example", "HTTPS://evil.example",
    "javascript:alert(document.cookie)", "/javascript:alert(1)/%0a", "data:text/html,<script>",
    " /me", "/\u3000/evil.example", "/%E3%80%80/evil.example", "/../evil.example",
    "/me/%2e%2e/%2e%2e/evil", "/me/..%2f..%2f/evil", "/" + "a" * 3000, "",
)
LEARNER_PAGES = ("/me/shares", "/me/deposits?status=review&x=%2F")
INSTITUTION_PAGES = ("/institution/units?code=CS101", "/institution/batches?status=anchored")


@dataclass
class Portal:
    """The portal over a runtime with an accredited issuer, its staff, an operator, a learner who
    signed up, and the API tokens of each."""

    runtime: Runtime
    app: Flask
    staff_password: str
    operator_password: str
    issuer_token: str
    operator_token: str

    def learner(self) -> FlaskClient:
        """A client signed in as the learner (through the sign-in form)."""
        client = self.app.test_client()
        assert sign_in(client).status_code == 303
        return client

    def staff(self, username: str) -> FlaskClient:
        """A client signed in as a staff member."""
        client = self.app.test_client()
        password = self.staff_password if username == "demo-admin" else self.operator_password
        answer = client.post("/staff/sign-in", data={
            "csrf_token": form_token(client), "username": username, "password": password})
        assert answer.status_code == 303
        return client


@pytest.fixture
def portal(runtime: Runtime) -> Portal:
    """The portal with Demo University, its staff member, an operator and a learner."""
    issuer = accredited(runtime, ISSUER)
    app = create_app(at_localhost(runtime), {"TESTING": True})
    sign_up(app.test_client())
    return Portal(
        runtime, app,
        add_staff(runtime.engine, "demo-admin", role=INSTITUTION, issuer_id=ISSUER,
                  actor="cli:test"),
        add_staff(runtime.engine, "city-operator", role=OPERATOR, actor="cli:test"),
        issuer.token,
        new_operator_token(runtime.engine, "city-operator", actor="cli:test"),
    )


def address(number: int) -> str:
    """A client address of its own for each attempt (no rate limit gets in the way)."""
    return f"10.0.{number // 250}.{number % 250 + 1}"


def learner_sign_in(client: FlaskClient, target: str, address: str) -> tuple[int, str]:
    """Sign the learner in with the right password, asking to return to `target`."""
    answer = client.post("/sign-in", data={
        "csrf_token": form_token(client), "national_id": LEARNER_ID,
        "password": PASSWORD, "next": target}, environ_base={"REMOTE_ADDR": address})
    return answer.status_code, answer.headers.get("Location", "")


def hidden_next(client: FlaskClient, path: str, target: str, address: str) -> str:
    """The `next` a sign-in form at `path` carries when opened with `?next=<target>`."""
    page = client.get(f"{path}?next={quote(target, safe='')}",
                      environ_base={"REMOTE_ADDR": address}).get_data(as_text=True)
    return page.split('name="next" value="', 1)[1].split('"', 1)[0]


# -- where signing in returns to -------------------------------------------------------------------


def test_safe_next_keeps_only_paths_of_this_site() -> None:
    kept = [*LEARNER_PAGES, *INSTITUTION_PAGES, "/", "/me"]
    assert [safe_next(value) for value in (*kept, *ATTACKS, None, 7)] == [
        *kept, *[None] * (len(ATTACKS) + 2)]


def test_learner_sign_in_returns_only_to_a_page_of_this_site(portal: Portal) -> None:
    client = portal.app.test_client()
    targets = (*ATTACKS, *LEARNER_PAGES)
    answers = {target: learner_sign_in(client, target, address(number))
               for number, target in enumerate(targets)}
    forms = {target: hidden_next(client, "/sign-in", target, address(number))
             for number, target in enumerate(targets)}

    assert answers == {**dict.fromkeys(ATTACKS, (303, "/me")),
                       **{page: (303, page) for page in LEARNER_PAGES}}
    assert forms == {**dict.fromkeys(ATTACKS, ""),
                     **{page: page.replace("&", "&amp;") for page in LEARNER_PAGES}}


def test_staff_sign_in_returns_only_to_a_page_of_their_console(portal: Portal) -> None:
    client = portal.app.test_client()
    targets = (*ATTACKS, *INSTITUTION_PAGES, "/operator/issuers", "/me")
    answers = {}
    for target in targets:
        answer = client.post("/staff/sign-in", data={
            "csrf_token": form_token(client), "username": "demo-admin",
            "password": portal.staff_password, "next": target})
        answers[target] = (answer.status_code, answer.headers.get("Location", ""))
        client.post("/staff/sign-out", data={"csrf_token": form_token(client)})
    forms = {target: hidden_next(client, "/staff/sign-in", target, address(number))
             for number, target in enumerate(ATTACKS)}

    assert answers == {**dict.fromkeys((*ATTACKS, "/operator/issuers", "/me"),
                                       (303, "/institution/batches")),
                       **{page: (303, page) for page in INSTITUTION_PAGES}}
    assert forms == dict.fromkeys(ATTACKS, "")


@pytest.fixture
def provider() -> Iterator[OidcProvider]:
    """The tests' OpenID provider, served on 127.0.0.1."""
    with OidcProvider() as served:
        yield served


def test_city_sign_on_returns_only_to_a_page_of_this_site(portal: Portal,
                                                          provider: OidcProvider) -> None:
    portal.runtime.settings = replace(portal.runtime.settings,
                                      city_sign_on=provider.sign_on(CALLBACK))
    client = portal.learner()
    landed = {}
    for target in ("/%09/evil.example", "/\t/evil.example", "//evil.example", "/me/shares"):
        start = client.get(f"/sign-in/city?next={quote(target, safe='')}")
        consent = requests.get(start.headers["Location"], allow_redirects=False, timeout=10)
        back = urlsplit(consent.headers["Location"])
        done = client.get(f"{back.path}?{back.query}")
        landed[target] = (done.status_code, done.headers.get("Location"))

    assert landed == {"/%09/evil.example": (303, "/me"), "/\t/evil.example": (303, "/me"),
                      "//evil.example": (303, "/me"), "/me/shares": (303, "/me/shares")}


# -- cookies -------------------------------------------------------------------------------------


def cookie_flags(response) -> dict[str, set[str]]:
    """Each cookie a response sets, with its attributes (but the expiry's date)."""
    flags = {}
    for header in response.headers.getlist("Set-Cookie"):
        name, *attributes = (part.strip() for part in header.split(";"))
        flags[name.split("=", 1)[0]] = {item for item in attributes
                                        if not item.startswith("Expires=")}
    return flags


@pytest.mark.parametrize(("public_url", "secure"), [("http://localhost", set()),
                                                    ("https://bank.example.org", {"Secure"})])
def test_every_cookie_is_http_only_same_site_lax_and_secure_under_https(
        runtime: Runtime, public_url: str, secure: set[str]) -> None:
    runtime.settings = replace(runtime.settings, public_url=public_url)
    client = create_app(runtime, {"TESTING": True}).test_client()

    form = cookie_flags(client.get("/sign-in"))
    language = cookie_flags(client.get("/?lang=zh"))

    assert form == {"session": {"HttpOnly", "Path=/", "SameSite=Lax", *secure}}
    assert language == {"lang": {"HttpOnly", "Path=/", "SameSite=Lax", "Max-Age=31536000",
                                 *secure}}


# -- what a cache may keep ---------------------------------------------------------------------


def test_private_pages_downloads_and_api_answers_are_not_stored(portal: Portal) -> None:
    engine = portal.runtime.engine
    learner = portal.learner()
    learner_id = portal.runtime.accounts.by_did(
        portal.runtime.accounts.identity(LEARNER_ID)[0])["id"]
    document = json.dumps(signed_credential())
    own = share(engine, document, "credential", now=time.time(), lifetime=DAY,
                learner_id=learner_id, subject_id="urn:test:credential")
    token = learner.post("/api/v1/learners/token",
                         json={"national_id": LEARNER_ID, "password": PASSWORD})
    clients = {"learner": learner, "institution": portal.staff("demo-admin"),
               "operator": portal.staff("city-operator"), "anonymous": portal.app.test_client()}
    private = {
        "learner": ("/me", "/me/shares", f"/me/shares/{own}", f"/me/shares/{own}/credential.pdf",
                    "/me/deposits", "/me/applications", "/me/progress", "/me/transcripts",
                    "/", f"/s/{own}"),
        "institution": ("/institution/batches", "/institution/units", "/institution/rules"),
        "operator": ("/operator/issuers", "/operator/statistics", "/operator/deposits"),
        "anonymous": ("/sign-in", "/sign-up", "/staff/sign-in"),
    }
    api = {
        "/api/v1/learners/me": bearer(token.json["token"]),
        "/api/v1/learners/me/deposits": bearer(token.json["token"]),
        "/api/v1/units": bearer(portal.issuer_token),
        "/api/v1/audit": bearer(portal.operator_token),
    }

    seen = {path: (answer.status_code, answer.headers.get("Cache-Control"))
            for role, paths in private.items() for path in paths
            if (answer := clients[role].get(path))}
    seen.update({path: (answer.status_code, answer.headers.get("Cache-Control"))
                 for path, headers in api.items()
                 if (answer := portal.app.test_client().get(path, headers=headers))})

    assert (token.status_code, token.headers["Cache-Control"]) == (201, "no-store")
    assert seen == dict.fromkeys([*(path for paths in private.values() for path in paths), *api],
                                 (200, "no-store"))


def test_public_pages_keep_their_caching_and_share_links_none(portal: Portal) -> None:
    link = share(portal.runtime.engine, json.dumps(signed_credential()), "credential",
                 now=time.time(), lifetime=DAY)
    client = portal.app.test_client()
    public = ("/", "/verify", "/api/v1/openapi.json", f"/issuers/{ISSUER}/did.json",
              "/static/style.css", "/healthz")
    shared = (f"/s/{link}", f"/s/{link}/credential.json")

    seen = {path: (answer.status_code, "no-store" in answer.headers.get("Cache-Control", ""))
            for path in (*public, *shared) if (answer := client.get(path))}

    assert seen == {**dict.fromkeys(public, (200, False)), **dict.fromkeys(shared, (200, True))}


# -- paging parameters ---------------------------------------------------------------------------

OUT_OF_BOUNDS = ("0", "-1", "abc", "1.5", "1e3", "²", str(2**63), str(2**64 + 1), "9" * 5000)


def test_a_cursor_the_list_did_not_give_out_is_a_clear_page_error(portal: Portal) -> None:
    client = portal.staff("demo-admin")
    bad = (*OUT_OF_BOUNDS, "%FF%FE", cursor(1.5), cursor("x", "y"), cursor(True, "id"),
           cursor(1.5, "id", 3), cursor(None, "id"), "A" * 2000)

    seen = {page: (answer.status_code,
                   "There is no such page of this list" in answer.get_data(as_text=True))
            for page in (*bad, cursor(1.5, "id"), "")
            if (answer := client.get(f"/institution/batches?after={page}"))}

    assert seen == {**dict.fromkeys(bad, (400, True)),
                    **dict.fromkeys((cursor(1.5, "id"), ""), (200, False))}


def cursor(*parts: object) -> str:
    """A record cursor as the API gives them out, of any content."""
    text = json.dumps(list(parts)).encode()
    return base64.urlsafe_b64encode(text).decode().rstrip("=")


def test_api_paging_parameters_out_of_bounds_are_422_naming_the_field(portal: Portal) -> None:
    client = portal.app.test_client()
    token = client.post("/api/v1/learners/token",
                        json={"national_id": LEARNER_ID, "password": PASSWORD}).json["token"]
    asks = {
        **{f"/api/v1/learners/me?limit={quote(value)}": (bearer(token), "query", "limit")
           for value in OUT_OF_BOUNDS},
        **{f"/api/v1/audit?limit={quote(value)}": (bearer(portal.operator_token), "query",
                                                  "limit")
           for value in OUT_OF_BOUNDS},
        **{f"/api/v1/audit?since={quote(value)}": (bearer(portal.operator_token), "query",
                                                  "since")
           for value in ("yesterday", "99999-01-01T00:00:00Z", "2025-13-01T00:00:00Z",
                         str(2**63))},
        "/api/v1/learners/me?after=" + "A" * 401: (bearer(token), "query", "after"),
        **{f"/api/v1/learners/me?after={value}": (bearer(token), None, "after")
           for value in ("not-a-cursor", cursor("issued", "late", "x"), cursor("other", 1, "x"),
                         cursor("issued", 1), "%FF%FE")},
    }

    seen = {}
    for path, (headers, location, field) in asks.items():
        answer = client.get(path, headers=headers)
        errors = answer.json.get("errors", {})
        seen[path] = (answer.status_code, field in (errors.get(location, {}) if location
                                                    else errors))

    assert seen == dict.fromkeys(asks, (422, True))


def test_rule_set_versions_beyond_any_published_are_refused_with_4xx(portal: Portal) -> None:
    learner, operator = portal.learner(), portal.staff("city-operator")
    token = learner.post("/api/v1/learners/token",
                         json={"national_id": LEARNER_ID, "password": PASSWORD}).json["token"]
    versions = (2**31, 2**63, 2**70, 10**100)
    unknown = {"rule_set_id": ["unknown rule set or version"]}

    api = {(path, version): (answer.status_code, answer.json["errors"])
           for version in versions for path in ("/api/v1/learners/me/target",
                                                "/api/v1/applications")
           if (answer := learner.open(path, method="PUT" if path.endswith("target") else "POST",
                                      headers=bearer(token),
                                      json={"rule_set_id": f"{ISSUER}:BSC-CS",
                                            "version": version}))}
    pages = {(path, version): learner.post(path, data={
        "csrf_token": form_token(learner), "programme": f"{ISSUER}:BSC-CS@{version}"}).status_code
             for version in versions for path in ("/me/progress", "/me/applications")}
    approvals = {}
    for version in (*map(str, versions), "²", "9" * 5000):
        answer = operator.post("/operator/rules/approval", data={
            "csrf_token": form_token(operator), "rule_set_id": f"{ISSUER}:BSC-CS",
            "version": version})
        notice = operator.get(answer.headers["Location"]).get_data(as_text=True)
        approvals[version] = (answer.status_code, "This could not be done:" in notice)

    assert api == {(path, version): (404, unknown) for version in versions
                   for path in ("/api/v1/learners/me/target", "/api/v1/applications")}
    assert pages == {(path, version): 404 for version in versions
                     for path in ("/me/progress", "/me/applications")}
    assert approvals == dict.fromkeys((*map(str, versions), "²", "9" * 5000), (303, True))


def test_a_deposit_holding_a_huge_integer_is_refused_with_4xx(portal: Portal) -> None:
    learner = portal.learner()
    token = learner.post("/api/v1/learners/token",
                         json={"national_id": LEARNER_ID, "password": PASSWORD}).json["token"]
    credential = json.dumps(signed_credential())
    documents = {digits: credential[:-1] + f', "creditsEarned": {"9" * digits}}}'
                 for digits in (20, 4000, 5000)}

    api = {digits: learner.post("/api/v1/learners/me/deposits", headers={
        **bearer(token), "Content-Type": "application/json"},
        data=f'{{"credential": {document}}}') for digits, document in documents.items()}
    pages = {digits: learner.post("/me/deposits", data={
        "csrf_token": form_token(learner),
        "file": (io.BytesIO(document.encode()), "credential.json")}).status_code
        for digits, document in documents.items()}

    assert {digits: (answer.status_code, set(answer.json["errors"]["credential"]))
            for digits, answer in api.items()} == dict.fromkeys(documents,
                                                                 (422, {"creditsEarned"}))
    assert pages == dict.fromkeys(documents, 422)
