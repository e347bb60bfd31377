"""The operator's data catalogue page, in both languages: the four classes with their protection
and retention, every table's columns by class, only for the operator (both databases), and on a
phone in Chromium (the page reads no data, so SQLite alone)."""

from __future__ import annotations

import re
from html import unescape

import pytest
from flask import Flask
from flask.testing import FlaskClient

from bank.data_catalogue import by_class, protection_kind
from bank.staff import OPERATOR, add_staff
from infra.classification import COLUMNS, POLICIES, STATED, DataClass
from portal.app import create_app
from portal.runtime import Runtime
from tests.support.browser import ServedPortal, require_browser
from tests.support.citizen import sign_up
from tests.support.portal import at_localhost, form_token

PASSWORD = "centre duty password 1"
CARD = re.compile(r'<section class="card" id="class-(\w+)"[^>]*>\s*<h3[^>]*>([^<]+)</h3>\s*'
                  r'<p class="muted">([^<]+)</p>\s*<h4>([^<]+)</h4>\s*<ul>(.*?)</ul>\s*'
                  r'<h4>([^<]+)</h4>\s*<ul>(.*?)</ul>', re.S)
ROW = re.compile(r'<tr id="table-(\w+)">\s*<th scope="row" data-label="([^"]+)"><code>\w+</code>'
                 r'<br><span class="muted">([^<]+)</span></th>(.*?)</tr>', re.S)
CELL = re.compile(r'<td data-label="([^"]+)" data-class="(\w+)">(.*?)</td>', re.S)


def _staff(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    signed = client.post("/staff/sign-in", data={
        "csrf_token": form_token(client, "/staff/sign-in"), "username": username,
        "password": PASSWORD})
    assert signed.status_code == 303, signed.get_data(as_text=True)
    return client


def _items(html: str) -> list[str]:
    return [unescape(item) for item in re.findall(r"<li>(.*?)</li>", html, re.S)]


def _page(client: FlaskClient, language: str) -> dict:
    """What the page shows: the class cards, and each table's purpose and columns by class."""
    answer = client.get(f"/operator/data?lang={language}")
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    cards = [(value, unescape(name), unescape(examples), unescape(protection_title),
              _items(protection), unescape(retention_title), _items(retention))
             for value, name, examples, protection_title, protection, retention_title, retention
             in CARD.findall(page)]
    tables = {}
    for table, label, purpose, cells in ROW.findall(page):
        columns = {data_class: (unescape(label_of_cell), re.findall(r"<code>(\w+)</code>", cell),
                                re.findall(r'<span class="muted">\(([^)]+)\)</span>', cell))
                   for label_of_cell, data_class, cell in CELL.findall(cells)}
        tables[table] = (unescape(label), unescape(purpose), columns)
    stated = [(name, unescape(text)) for name, text in
              re.findall(r"<dt><code>([\w.]+)</code></dt>\s*<dd>([^<]+)</dd>", page)]
    return {"page": page, "cards": cards, "tables": tables, "stated": stated}


def _expected_tables(language: str, table_label: str, names: dict[str, str]) -> dict:
    return {table: (table_label, catalogued.purpose.of(language),
                    {data_class.value: (POLICIES[data_class].name.of(language), columns,
                                        [names[protection] for protection in _protections(
                                            table, data_class, columns)])
                     for data_class, columns in by_class(table).items()})
            for table, catalogued in COLUMNS.items()}


def _protections(table: str, data_class: DataClass, columns: list[str]) -> list[str]:
    """The kind of protection each sensitive column of a cell is annotated with."""
    if data_class is not DataClass.SENSITIVE:
        return []
    return [str(protection_kind(table, column)) for column in columns]


def test_the_operator_sees_the_catalogue_in_both_languages(runtime: Runtime) -> None:
    app = create_app(at_localhost(runtime), {"TESTING": True})
    add_staff(runtime.engine, "centre-duty", role=OPERATOR, actor="cli:test", password=PASSWORD)
    operator = _staff(app, "centre-duty")

    english = _page(operator, "en")
    assert english["cards"] == [
        (data_class.value, policy.name.en, policy.examples.en, "Protection",
         [measure.en for measure in policy.protection], "Retention",
         [period.en for period in policy.retention])
        for data_class, policy in POLICIES.items()]
    assert english["tables"] == _expected_tables(
        "en", "Table", {"sealed": "sealed", "keyed hash": "keyed hash", "stated": "see below"})
    assert english["tables"]["bank_learners"][2]["sensitive"] == (
        "Sensitive personal", ["identity_hash", "birth_date"], ["keyed hash", "sealed"])
    assert english["stated"] == [(name, STATED[name].en) for name in sorted(STATED)]
    assert re.search(r'<a href="/operator/data" aria-current="page">\s*Data catalogue',
                     english["page"])
    assert '<div class="table-scroll">\n<table class="data-table records">' in english["page"]

    # Classes, purposes and protections come from the catalogue in Chinese; the page's own
    # words (headings, "sealed") from the translations.
    chinese = _page(operator, "zh")
    assert chinese["cards"] == [
        (data_class.value, policy.name.zh, policy.examples.zh, "保护措施",
         [measure.zh for measure in policy.protection], "保存期限",
         [period.zh for period in policy.retention])
        for data_class, policy in POLICIES.items()]
    assert chinese["tables"] == _expected_tables(
        "zh", "数据表", {"sealed": "已加密", "keyed hash": "带密钥哈希", "stated": "见下文"})
    assert chinese["stated"] == [(name, STATED[name].zh) for name in sorted(STATED)]
    assert "<h1>数据目录</h1>" in chinese["page"]


def test_anonymous_visitors_and_learners_are_kept_out(runtime: Runtime) -> None:
    app = create_app(at_localhost(runtime), {"TESTING": True})
    learner = app.test_client()
    sign_up(learner)
    anonymous = app.test_client().get("/operator/data")
    assert (anonymous.status_code, anonymous.location) == (
        302, "/staff/sign-in?next=/operator/data")
    assert learner.get("/operator/data").status_code == 403


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_the_catalogue_reads_on_a_phone_in_both_languages(runtime: Runtime, device: str) -> None:
    require_browser()
    add_staff(runtime.engine, "centre-duty", role=OPERATOR, actor="cli:test", password=PASSWORD)
    with ServedPortal(create_app(at_localhost(runtime))) as portal:
        seen = portal.run("operator_data", operator="centre-duty", password=PASSWORD,
                          name=f"operator-data-{device}", device=device)
    names = {language: [policy.name.of(language) for policy in POLICIES.values()]
             for language in ("en", "zh")}
    assert {language: (seen[language]["cards"], seen[language]["rows"])
            for language in ("en", "zh")} == {
        language: (names[language], len(COLUMNS)) for language in ("en", "zh")}
    assert (seen["en"]["h1"], seen["zh"]["h1"]) == ("Data catalogue", "数据目录")
    assert seen["en"]["sensitive"] == "identity_hash (keyed hash), birth_date (sealed)"
    phone = device == "phone"
    assert (seen["en"]["row_display"] == "block", seen["en"]["label"]) == (
        phone, '"Sensitive personal"' if phone else "none")
    assert (seen["violations"], seen["narrow"], seen["problems"]) == ([], [], [])
