"""A learner's transcripts page by keyset on both databases, newest first: the page's own next
link from the first page lists every transcript exactly once, its previous link walks back, and
a cursor the list did not give out is a page error."""

from __future__ import annotations

import re
from html import unescape

from sqlalchemy import insert

from bank.tables import transcripts
from bank.transcripts import LIST_PAGE, transcripts_of
from portal.runtime import Runtime
from tests.support.bank import LEARNER_ID, city_bank, outcome
from tests.support.citizen import sign_up

REQUESTED_AT = 1_767_225_600.0
SHOWN = re.compile(r'<section class="card transcript" [^>]*data-batch="[^"]*"')
LINK = r'<a href="([^"]+)" rel="{}"'


def test_a_learners_transcripts_page_newest_first_both_ways(runtime: Runtime) -> None:
    bank = city_bank(runtime)
    client = bank.client
    sign_up(client)
    learner = client.get("/api/v1/learners/me",
                         headers=bank.log_in(LEARNER_ID)).json["account"]
    issued = bank.issue("hdvc", [outcome("WH110", "B", session=f"2025 run {run}")
                                 for run in range(LIST_PAGE + 3)])
    with runtime.engine.begin() as connection:
        connection.execute(insert(transcripts), [
            {"id": credential_id, "learner_id": learner["id"],
             "requested_at": REQUESTED_AT + index // 2}
            for index, credential_id in enumerate(issued)])
    newest_first = sorted(range(len(issued)), key=lambda index: (index // 2, issued[index]),
                          reverse=True)

    pages, path, text = [], "/me/transcripts?lang=zh", ""
    while path:
        answer = client.get(path)
        assert answer.status_code == 200
        text = answer.get_data(as_text=True)
        pages.append(len(SHOWN.findall(text)))
        found = re.search(LINK.format("next"), text)
        path = unescape(found.group(1)) if found else ""
    back = client.get(unescape(re.findall(LINK.format("prev"), text)[0]))
    listed, later, earlier = transcripts_of(runtime.engine, learner, limit=4)
    second, _later, first = transcripts_of(runtime.engine, learner, after=later, limit=4)
    assert pages == [LIST_PAGE, 3]
    assert "lang=zh" in text and "data-first" in text
    assert (back.status_code, len(SHOWN.findall(back.get_data(as_text=True)))) == (200, LIST_PAGE)
    assert [item["id"] for item in listed + second] == [issued[i] for i in newest_first[:8]]
    assert (earlier, first is not None) == (None, True)
    assert [item["status"] for item in listed] == ["anchored"] * 4
    assert client.get("/me/transcripts?after=bm90LWEtY3Vyc29y").status_code == 400
