"""The public credit bank's pages, without signing in: institutions, the catalogue, programmes
with their rules in plain words and the transfer guide, on both databases, over the demo bank
(seeded once per database for this module)."""

from __future__ import annotations

import io
import json
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape

import pytest
from eth_hash.auto import keccak
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from bank.accounts import Accounts
from bank.seed import (
    COMMERCE_DIPLOMA,
    DEMO_ACCOUNTS,
    LOGISTICS_DIPLOMA,
    POPULAR_CERTIFICATE,
    RULE_SET,
)
from issuers.tables import credentials
from ledger.views import ChainView
from portal.app import create_app
from portal.explain import describe_rule, rule_group, rule_source
from portal.runtime import Runtime
from rules.rulesets import load_rule_set
from tests.rules.test_rulesets import document as every_kind
from tests.support.portal import at_localhost, form_token
from tests.support.rules import ACADEMY, COLLEGE
from tests.support.runtimes import seeded_bank

UNLIMITED = {"RATE_LIMITS": {scope: (1_000_000, 60)
                             for scope in ("public", "public_guide", "verify")}}
GUIDE = f"/guide?unit={POPULAR_CERTIFICATE}"


@dataclass
class Bank:
    """The seeded demo bank and a portal over it whose public pages are not rate-limited."""

    runtime: Runtime
    app: Flask

    def client(self) -> FlaskClient:
        """A visitor with no account."""
        return self.app.test_client()

    def held(self, name: str, unit_code: str) -> tuple[str, str]:
        """A demo learner's credential for a unit (its JSON) and the learner's DID."""
        national_id = next(nid for nid, full in DEMO_ACCOUNTS.learners if name in full)
        did, _ = Accounts.of(self.runtime.engine, self.runtime.settings).identity(national_id)
        with self.runtime.engine.connect() as connection:
            document = connection.execute(select(credentials.c.anchored).where(
                credentials.c.learner_did == did, credentials.c.unit_code == unit_code)
            ).scalar_one()
        return document, did


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def bank(request: pytest.FixtureRequest) -> Iterator[Bank]:
    """The demo bank, seeded once per database for this module."""
    with seeded_bank(request, "public", request.param) as runtime:
        yield Bank(runtime, create_app(at_localhost(runtime), {"TESTING": True, **UNLIMITED}))


def html(response: object) -> str:
    """A response's HTML."""
    return response.get_data(as_text=True)  # type: ignore[attr-defined]


def text(fragment: str) -> str:
    """The words of an HTML fragment, tags dropped and spaces collapsed."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()


def main(page: str) -> str:
    """The page's main content."""
    return page.split('<main id="main"', 1)[1].split("</main>", 1)[0]


def errors_of(page: str) -> list[str]:
    """The messages of a page's error summary."""
    summary = page.split('id="error-summary-title"')[1].split("</ul>")[0]
    return [text(item) for item in re.findall(r"<li>(.*?)</li>", summary, re.S)]


def rows(page: str, attribute: str) -> dict[str, list[str]]:
    """Each table row marked `data-<attribute>="key"`: its cells' words."""
    found = {}
    for key, row in re.findall(rf'<tr data-{attribute}="([^"]+)">(.*?)</tr>', page, re.S):
        found[key] = [text(cell) for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
    return found


def ranking(page: str) -> dict[str, tuple[str, str, str, list[tuple[str, str, str]]]]:
    """The guide's programmes in rank order: class, credits that match and that may count, and
    each line's class, credits and reason."""
    found = {}
    for rule_set_id, verdict, match, maybe, body in re.findall(
            r'<li class="card" data-programme="([^"]+)" data-class="(\w+)" data-match="([^"]+)"'
            r' data-maybe="([^"]+)">(.*?)</li>', page, re.S):
        lines = [(line, text(credits), text(reason)) for line, credits, reason in re.findall(
            r'<tr data-line="(\w+)">.*?data-credits>(.*?)</td>.*?data-reason>(.*?)</td>', body,
            re.S)]
        found[rule_set_id] = (verdict, match, maybe, lines)
    return found


# -- institutions --------------------------------------------------------------------------------


def test_the_member_institutions_are_listed_as_the_chain_records_them(bank: Bank) -> None:
    page = html(response := bank.client().get("/institutions"))
    assert response.status_code == 200
    assert rows(page, "institution") == {
        "bjou": ["Beijing Open University", "Course, Module", "4–7", "—", "Accredited"],
        "bjskills": ["Beijing Vocational Skills Testing Centre", "Certificate", "2–6", "—",
                     "Accredited"],
        "hdvc": ["Haidian Vocational College", "Course, Training", "3–5", "—", "Accredited"],
        "jingxue": ["Jingxue MOOC", "Online course (MOOC)", "3–6", "—", "Accredited"],
    }


def test_an_institution_shows_its_scope_keys_did_document_and_programmes(bank: Bank) -> None:
    page = html(response := bank.client().get("/institutions/hdvc"))
    view = ChainView(bank.runtime.ledger)
    record = view.issuer_by_did(re.search(r'<code class="hash">(did:[^<]+)</code>', page)[1])
    assert (response.status_code, record is not None) == (200, True)
    facts = dict(re.findall(r"<dt>([^<]+)</dt><dd>(.*?)</dd>", page, re.S))
    assert {name: text(value) for name, value in facts.items()} == {
        "Status": "Accredited", "May award": "Course, Training", "Levels": "3–5", "From": "—",
        "Until": "No end date", "Identifier (DID)": record.did,
        "DID document": "/issuers/hdvc/did.json", "Web site": "https://www.bjhdzx.cn",
        "Catalogue": "Units of this institution"}
    keys = re.findall(r'<code class="hash">(0x[0-9a-f]{64})</code></th>\s*<td[^>]*>(\d+)</td>\s*'
                      r"<td[^>]*>([^<]+)</td>", page)
    assert [(key[0][:2], int(key[1]) > 0, key[2]) for key in keys] == [("0x", True, "In use")]
    assert view.key(record.issuer_id, bytes.fromhex(keys[0][0][2:])) is not None
    assert re.findall(r'href="/programmes/([^"]+)"', main(page)) == [
        LOGISTICS_DIPLOMA, COMMERCE_DIPLOMA]
    assert bank.client().get("/issuers/hdvc/did.json").status_code == 200


def test_an_unknown_institution_is_a_404_page(bank: Bank) -> None:
    response = bank.client().get("/institutions/nowhere")
    assert (response.status_code, response.mimetype) == (404, "text/html")


# -- the catalogue -------------------------------------------------------------------------------


def test_the_catalogue_lists_every_unit_a_page_at_a_time(bank: Bank) -> None:
    client = bank.client()
    first = html(client.get("/catalogue"))
    following = re.search(r'href="([^"]+)" rel="next"', first)
    second = html(client.get(unescape(following[1])))
    units = [*rows(first, "unit"), *rows(second, "unit")]
    assert (len(rows(first, "unit")), len(units), len(set(units)), 'rel="next"' in second) == (
        20, 31, 31, False)
    assert units == sorted(units, key=lambda ref: tuple(ref.split(":")))
    assert rows(first, "unit")["bjou:ACC201"] == [
        "基础会计 Basic Accounting ACC201", "Beijing Open University", "Course", "CQF 6",
        "business", "3"]
    assert "First page" in second


@pytest.mark.parametrize(("query", "found"), [
    ("q=cert-&kind=certificate&max_credits=6", ["bjskills:CERT-COURIER-4", "bjskills:CERT-CS-4",
                                                "bjskills:CERT-EC-4", "bjskills:CERT-FORK-5",
                                                "bjskills:CERT-WH-3"]),
    ("q=物流&level=5", ["jingxue:JX-LOG01"]),
    ("field=commerce&min_credits=3", ["bjskills:CERT-CS-4", "bjskills:CERT-EC-4",
                                      "hdvc:HV-EC105"]),
    ("kind=mooc&institution=jingxue&min_credits=2.5", ["jingxue:JX-PY05"]),
    ("q=nothing-like-this", []),
])
def test_the_catalogue_searches_by_text_kind_level_field_and_credits(
        bank: Bank, query: str, found: list[str]) -> None:
    response = bank.client().get(f"/catalogue?{query}")
    page = html(response)
    assert (response.status_code, list(rows(page, "unit"))) == (200, found)
    assert ("data-no-units" in page) == (not found)


@pytest.mark.parametrize(("query", "errors"), [
    ("level=high", ["The level is a whole number from 0 to 99."]),
    ("kind=spaceship", ["Choose a kind of learning from the list."]),
    ("min_credits=abc&max_credits=nan", ["Credits are a number from 0 to 1000.",
                                         "Credits are a number from 0 to 1000, and the most is "
                                         "not below the least."]),
    ("min_credits=5&max_credits=2", ["Credits are a number from 0 to 1000, and the most is not "
                                     "below the least."]),
    ("q=" + "x" * 201, ["Search for 1 to 200 characters of a code or title."]),
    ("after=no-cursor", ["This page of results does not exist; start the search again."]),
])
def test_a_bad_catalogue_search_is_a_400_page_saying_what_to_fix(
        bank: Bank, query: str, errors: list[str]) -> None:
    response = bank.client().get(f"/catalogue?{query}")
    assert (response.status_code, errors_of(html(response))) == (400, errors)


@pytest.mark.parametrize("path", [
    "/catalogue?q=a%00b", "/catalogue?field=%00", "/catalogue?institution=bj%00ou",
    "/catalogue?after=bjou:%00", "/guide?unit=bjou:LOG%00301", "/guide?q=%00",
    "/institutions/bj%00ou", "/programmes/bjou:%00", "/catalogue/bjou/LOG%00301",
])
def test_a_nul_character_anywhere_is_refused_never_a_500(bank: Bank, path: str) -> None:
    assert bank.client().get(path).status_code in (400, 404)


def test_a_unit_shows_its_versions_and_asks_the_guide(bank: Bank) -> None:
    page = html(response := bank.client().get("/catalogue/bjskills/CERT-LOGI-4"))
    assert response.status_code == 200
    assert re.findall(r'data-version="(\d+)"', page) == ["1"]
    assert text(re.search(r"<h1>(.*?)</h1>", page, re.S)[1]) == (
        "物流服务师（四级）Logistics Service Technician, Level 4 CERT-LOGI-4")
    assert f'href="{GUIDE}"' in page
    assert bank.client().get("/catalogue/bjskills/NO-SUCH").status_code == 404


# -- programmes ----------------------------------------------------------------------------------


def test_the_programmes_in_force_are_listed_with_their_rule_versions(bank: Bank) -> None:
    page = html(response := bank.client().get("/programmes"))
    assert response.status_code == 200
    assert rows(page, "programme") == {
        RULE_SET: ["物流管理（本科）Logistics Management, Bachelor", "Beijing Open University",
                   "140", "Version 1, from 2024-09-01"],
        LOGISTICS_DIPLOMA: ["现代物流管理（大专）Modern Logistics Management, Diploma",
                            "Haidian Vocational College", "120", "Version 2, from 2025-09-01"],
        COMMERCE_DIPLOMA: ["电子商务（大专）E-commerce, Diploma", "Haidian Vocational College",
                           "120", "Version 1, from 2024-09-01"],
    }


def test_a_programme_shows_every_rule_in_plain_words_and_the_version_the_chain_holds(
        bank: Bank) -> None:
    page = html(response := bank.client().get(f"/programmes/{RULE_SET}"))
    assert response.status_code == 200
    rules = {key: cells for key, cells in rows(page, "rule").items()}
    bjskills, hdvc = "Beijing Vocational Skills Testing Centre", "Haidian Vocational College"
    assert rules == {
        "logistics-technician": [f"From {bjskills}; units CERT-LOGI-4",
                                 "Earns 8 credits in the category “major”.",
                                 "logistics-technician"],
        "warehouse-keeper": [f"From {bjskills}; units CERT-WH-3",
                             "Earns 6 credits in the category “major”.", "warehouse-keeper"],
        "hdvc-logistics": [f"From {hdvc}; units HV-DL102, HV-WH101",
                           "Transfers with its own credits into the category “major”.",
                           "hdvc-logistics"],
        "hdvc-general": [f"Course; from {hdvc}",
                         "Transfers with its own credits into the category “general”.",
                         "hdvc-general"],
        "mooc-general": ["Online course (MOOC)",
                         "Transfers with its own credits into the category “general”. Each "
                         "counts for at most 10 credits.", "mooc-general"],
        "mooc-pass": ["Online course (MOOC)",
                      "Counts only with a score of at least 60 (percent).", "mooc-pass"],
        "courses-5-years": ["Course; only learning from other institutions",
                            "Counts only if completed in the last 5 years.", "courses-5-years"],
        "certificates-3": ["Certificate", "At most 3 of them count.", "certificates-3"],
        "external-half": ["Only learning from other institutions",
                          "At most 50% of the programme's 140 credits (70 credits).",
                          "external-half"],
        "courier-exemption": [f"From {bjskills}; units CERT-COURIER-4",
                              "Exempts from the programme's units LOG101, LOG102, LOG103: no "
                              "credits, but fewer credits to earn.", "courier-exemption"],
    }
    assert re.findall(r'data-rule-group="(\w+)"', page) == [
        "counts", "conditions", "caps", "exemptions"]
    on_chain = ChainView(bank.runtime.ledger).rule_set(keccak(RULE_SET.encode()), 1)
    assert on_chain is not None
    assert (re.search(r"<code class=\"hash\" data-hash>([^<]+)</code>", page)[1],
            int(re.search(r"<dd data-block>(\d+)</dd>", page)[1])) == (
        "0x" + on_chain.content_hash.hex(), on_chain.published_block)
    assert [text(item) for item in re.findall(r"<li>(.*?)</li>", page.split(
        "data-requirements>")[1].split("</ul>")[0], re.S)] == [
        "140 credits in all.", "At least 30 credits in the category “general”.",
        "At least 60 credits in the category “major”."]


def test_a_programme_keeps_the_history_of_its_rule_versions(bank: Bank) -> None:
    page = html(bank.client().get(f"/programmes/{LOGISTICS_DIPLOMA}"))
    history = rows(page, "history-version")
    assert {version: (cells[0], cells[2], cells[5][:9]) for version, cells in history.items()} == {
        "2": ("2 in force", "from 2025-09-01", "in block "),
        "1": ("1", "from 2024-09-01 until 2025-08-31", "in block ")}
    assert rows(page, "rule")["certificates-passed"][1] == (
        "Counts only with a grade of at least Pass (pass-fail).")
    assert rows(page, "rule")["forklift-exemption"][1] == (
        "Exempts from the programme's units HV-FL104: no credits, but fewer credits to earn.")


@pytest.mark.parametrize("bank", ["sqlite"], indirect=True)
def test_every_kind_of_rule_is_said_in_plain_words(bank: Bank) -> None:
    rule_set = load_rule_set(every_kind())
    names = {COLLEGE: "Dalian College"}
    with bank.app.test_request_context("/programmes"):
        said = {rule.id: (rule_group(rule), rule_source(rule, names),
                          describe_rule(rule, rule_set.programme, names))
                for rule in rule_set.rules}
    assert said == {
        "eq": ("counts", "From Dalian College; units DS100; EQF level 6 or above",
               "Counts as the programme's unit CS201. It must carry at least that unit's "
               "credits."),
        "set": ("counts", "OS-1 (Dalian College), OS-2",
                "Together, OS-1 (Dalian College), OS-2 count as the programme's unit CS301."),
        "cert": ("counts", "Units KR-EIP", "Earns 20 credits in the category “major”."),
        "exempt": ("exemptions", "Units LX", "Exempts from the programme's units SYS110, "
                                             "SYS120: no credits, but fewer credits to earn."),
        "transfer": ("counts", "Course", "Transfers with its own credits into the category "
                                         "“major”. Each counts for at most 4 credits."),
        "block": ("counts", "Degree; EQF level 5 or above",
                  "The qualification earns a block of credits: general 6, elective 12.5."),
        "threshold": ("conditions", "Online course (MOOC)",
                      "Counts only with a score of at least 60 (percent). Counts only with "
                      "attendance of at least 80%."),
        "currency": ("conditions", "Any learning",
                     "Counts only if completed in the last 5 years. Counts only if completed "
                     "on or after March 1, 2019."),
        "year": ("caps", "Only learning from other institutions",
                 "At most 42 credits per year (from 03-01)."),
        "provider": ("caps", "Any learning", "At most 105 credits from any one provider."),
        "count": ("caps", "Certificate", "At most 3 of them count. In the category “general”."),
        "share": ("caps", "Any learning",
                  "At most 50% of the programme's 140 credits (70 credits)."),
        "overlap": ("same", f"PY101 ({ACADEMY}), PY-1",
                    f"PY101 ({ACADEMY}), PY-1 are the same learning: only one of them counts."),
        "titles": ("same", "Any learning", "Learning with the same title (once spacing, "
                                           "numbering and abbreviations are set aside) counts "
                                           "once."),
        "table": ("conditions", f"From {ACADEMY}", "Its grades are converted to the "
                                                   "programme's scale by the provider's grading "
                                                   "table (ects)."),
    }


def test_an_unknown_programme_is_a_404_page(bank: Bank) -> None:
    assert [bank.client().get(path).status_code for path in (
        "/programmes/bjou:NOTHING", "/programmes/x")] == [404, 404]


# -- the transfer guide --------------------------------------------------------------------------


def test_the_guide_ranks_every_programme_match_maybe_miss_for_a_picked_certificate(
        bank: Bank) -> None:
    page = html(response := bank.client().get(GUIDE))
    assert response.status_code == 200
    title = "物流服务师（四级）Logistics Service Technician, Level 4"
    assert ranking(page) == {
        RULE_SET: ("match", "8", "0", [
            ("match", "8", "The certificate earns credits from the published table. (major)")]),
        LOGISTICS_DIPLOMA: ("maybe", "0", "6", [
            ("maybe", "6", "The certificate earns credits from the published table. It counts "
                           "only with a grade on the pass-fail scale that meets the rule; a "
                           "reviewer checks it. (major)")]),
        COMMERCE_DIPLOMA: ("miss", "0", "0", [
            ("miss", "0", "No rule of this programme recognises this learning.")]),
    }
    assert text(re.search(r"<th scope=\"row\" data-label=\"Learning\">(.*?)</th>", page,
                          re.S)[1]) == f"{title} ({POPULAR_CERTIFICATE})"
    assert re.findall(r'data-remove="([^"]+)"', page) == [POPULAR_CERTIFICATE]


def test_the_guide_searches_the_catalogue_and_keeps_the_picks_in_its_address(bank: Bank) -> None:
    client = bank.client()
    found = html(client.get("/guide?q=物流服务师"))
    pick = unescape(re.search(r'href="([^"]+)" data-pick="([^"]+)"', found)[1])
    assert re.findall(r'data-pick="([^"]+)"', found) == [POPULAR_CERTIFICATE]
    picked = html(client.get(pick))
    assert list(ranking(picked)) == [RULE_SET, LOGISTICS_DIPLOMA, COMMERCE_DIPLOMA]
    more = html(client.get(f"{GUIDE}&q=JX-&kind=mooc"))
    second = unescape(re.search(r'href="([^"]+)" data-pick="jingxue:JX-LOG01"', more)[1])
    both = html(client.get(second))
    assert re.findall(r'<li data-pick="([^"]+)"', both) == [POPULAR_CERTIFICATE,
                                                             "jingxue:JX-LOG01"]
    assert ranking(both)[RULE_SET][:3] == ("match", "8", "2")
    removed = unescape(re.search(r'href="([^"]+)" data-remove="jingxue:JX-LOG01"', both)[1])
    assert re.findall(r'<li data-pick="([^"]+)"', html(client.get(removed))) == [
        POPULAR_CERTIFICATE]


@pytest.mark.parametrize(("query", "errors"), [
    ("unit=no-colon", ["A picked unit is not written as INSTITUTION:CODE, or is picked twice; "
                       "start again from the catalogue search."]),
    (f"unit={POPULAR_CERTIFICATE}&unit={POPULAR_CERTIFICATE}",
     ["A picked unit is not written as INSTITUTION:CODE, or is picked twice; start again from "
      "the catalogue search."]),
    ("unit=bjskills:NO-SUCH", ["A picked unit is not in the catalogue (any more); start again "
                               "from the catalogue search."]),
    ("&".join(f"unit=x:{index}" for index in range(51)), ["Pick at most 50 units."]),
    ("q=cert&kind=spaceship", ["Choose a kind of learning from the list."]),
])
def test_a_bad_guide_query_is_a_400_page_saying_what_to_fix(
        bank: Bank, query: str, errors: list[str]) -> None:
    response = bank.client().get(f"/guide?{query}")
    assert (response.status_code, errors_of(html(response))) == (400, errors)


def test_dropped_credential_files_are_verified_and_count_without_anything_personal(
        bank: Bank) -> None:
    document, did = bank.held("Li Ming", "CERT-LOGI-4")
    client = bank.client()
    token = form_token(client, GUIDE)
    response = client.post("/guide", content_type="multipart/form-data", data={
        "csrf_token": token, "unit": "jingxue:JX-LOG01", "credentials": [
            (io.BytesIO(document.encode()), "certificate.json"),
            (io.BytesIO(b'{"not": "a credential"}'), "other.json")]})
    page = html(response)
    assert response.status_code == 200
    assert re.findall(r'<li data-pick="([^"]+)"', page) == ["jingxue:JX-LOG01"]
    assert {key: value[:3] for key, value in ranking(page).items()} == {
        RULE_SET: ("match", "8", "2"), LOGISTICS_DIPLOMA: ("match", "6", "2"),
        COMMERCE_DIPLOMA: ("maybe", "0", "2")}
    assert [text(item) for item in re.findall(r"<li data-not-counted>(.*?)</li>", page, re.S)] \
        == ["File 2 does not count: This kind of credential is not one the credit bank can "
            "verify."]
    credential = json.loads(document)
    assert (did in page, credential["id"] in page, "Li Ming" in page, "李明" in page) == (
        False, False, False, False)


def test_dropping_files_needs_the_form_token_a_file_and_a_credential_sized_one(
        bank: Bank) -> None:
    client = bank.client()
    token = form_token(client, "/guide")
    without_token = client.post("/guide", content_type="multipart/form-data", data={
        "credentials": [(io.BytesIO(b"{}"), "a.json")]})
    without_file = client.post("/guide", data={"csrf_token": token})
    too_large = client.post("/guide", content_type="multipart/form-data", data={
        "csrf_token": token, "credentials": [(io.BytesIO(b" " * (256 * 1024 + 1)), "a.json")]})
    assert [(item.status_code) for item in (without_token, without_file, too_large)] == [
        400, 400, 400]
    assert (errors_of(html(without_file)), errors_of(html(too_large))) == (
        ["Choose one or more credential files."],
        ["A file is larger than 256 KB, too large to be a credential."])


# -- every page: rate limits, navigation, languages ----------------------------------------------

PAGES = ("/institutions", "/institutions/bjou", "/catalogue", "/catalogue/bjou/LOG301",
         "/programmes", f"/programmes/{RULE_SET}", GUIDE)


def test_every_public_page_is_rate_limited_per_client(bank: Bank) -> None:
    period = 1_000_000_000  # one fixed window for the whole test
    app = create_app(bank.runtime, {"TESTING": True, "RATE_LIMITS": {
        "public": (2, period), "public_guide": (2, period)}})
    network = secrets.randbelow(250)  # the limiter's counters outlive this app: new clients
    statuses = {path: [app.test_client().get(path, environ_base={
        "REMOTE_ADDR": f"10.{network}.{index}.1"}).status_code for _ in range(3)]
        for index, path in enumerate(PAGES)}
    assert statuses == {path: [200, 200, 429] for path in PAGES}


def test_the_top_navigation_and_the_home_page_lead_to_the_public_pages(bank: Bank) -> None:
    home = html(bank.client().get("/"))
    navigation = home.split('class="site-nav"')[1].split("</nav>")[0]
    assert re.findall(r'<a href="([^"]+)"', navigation)[:6] == [
        "/", "/guide", "/catalogue", "/programmes", "/institutions", "/verify"]
    assert re.findall(r'href="(/[a-z]+)"', home.split('class="card home-guide"')[1].split(
        "</section>")[0]) == ["/guide", "/catalogue", "/programmes", "/institutions"]
    current = html(bank.client().get(f"/programmes/{RULE_SET}")).split('class="site-nav"')[1]
    assert re.findall(r'<a href="([^"]+)" aria-current="page"', current) == ["/programmes"]


def test_the_public_pages_show_institution_names_in_chinese(bank: Bank) -> None:
    page = html(bank.client().get("/institutions?lang=zh"))
    assert '<html lang="zh-Hans">' in page
    assert [cells[0] for cells in rows(page, "institution").values()] == [
        "北京开放大学", "北京市职业技能鉴定中心", "北京市海淀职业学校", "京学慕课"]
    switch = html(bank.client().get(f"{GUIDE}&unit=jingxue:JX-LOG01"))
    assert "unit=bjskills%3ACERT-LOGI-4&amp;unit=jingxue%3AJX-LOG01&amp;lang=zh" in switch


def test_the_public_pages_speak_chinese(bank: Bank) -> None:
    """Waits for the translations of the public pages (tests/portal/pages, A2.po) to merge."""
    pages = {path: html(bank.client().get(f"{path}{'&' if '?' in path else '?'}lang=zh"))
             for path in PAGES}
    assert {path: re.search(r"<h1>(.*?)</h1>", page, re.S)[1].split("<")[0].strip()
            for path, page in pages.items() if path in ("/institutions", "/catalogue",
                                                          "/programmes", GUIDE)} == {
        "/institutions": "成员机构", "/catalogue": "课程目录", "/programmes": "专业及其转换规则",
        GUIDE: "学分转换指南"}
    assert {key: value[3][0][0] for key, value in ranking(pages[GUIDE]).items()} == {
        RULE_SET: "match", LOGISTICS_DIPLOMA: "maybe", COMMERCE_DIPLOMA: "miss"}
    assert re.findall(r'data-class="(\w+)">([^<]+)</span>', pages[GUIDE])[:3] == [
        ("match", "符合"), ("maybe", "可能"), ("miss", "不符合")]
