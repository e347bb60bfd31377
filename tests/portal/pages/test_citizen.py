"""The citizen's pages over the Flask test client: accounts, sessions, lockout, CSRF, the record,
progress, applications and appeals, deposits, transcripts, sharing and downloads."""

from __future__ import annotations

import io
import json
import re
import time

import pytest
from pypdf import PdfReader
from sqlalchemy import update

from bank.accounts import check_password, hash_password
from portal.pages.citizen import credential_ref
from portal.runtime import Runtime
from portal.tables import web_sessions
from tests.support.bank import (
    LEARNER_ID,
    OTHER_ID,
    PASSWORD,
    RULE_SET,
    Bank,
    bearer,
    city_bank,
    xuetang_credential,
)
from tests.support.citizen import credential_refs, issue_record, sign_in, sign_up
from tests.support.portal import form_token

PROGRAMME = f"{RULE_SET}@1"


@pytest.fixture
def bank(runtime: Runtime) -> Bank:
    """The small city bank with Wang Fang signed up (through the form) and her record issued."""
    city = city_bank(runtime)
    sign_up(city.client)
    issue_record(city)
    return city


def html(response) -> str:
    """A response's HTML."""
    return response.get_data(as_text=True)


def attributes(page: str, name: str) -> list[str]:
    """Every value of a data attribute on a page, in order."""
    return re.findall(rf'{name}="([^"]*)"', page)


def pdf_text(reader: PdfReader) -> str:
    """The first page's text without spaces (pypdf reads the embedded CJK font's text as UTF-16,
    a NUL before each Latin letter)."""
    return reader.pages[0].extract_text().replace("\x00", "").replace(" ", "")


def test_passwords_are_hashed_with_scrypt_at_32_mib() -> None:
    stored = hash_password("correct horse battery")
    assert stored.split("$")[:4] == ["scrypt", str(2**15), "8", "1"]
    assert (check_password("correct horse battery", stored), check_password("wrong", stored)) == (
        True, False)


def test_the_dashboard_sums_the_record_by_institution_kind_level_and_year(bank: Bank) -> None:
    page = html(bank.client.get("/me"))
    assert re.search(r"data-total-credits>([^<]+)<", page).group(1) == "22"
    assert sorted(attributes(page, "data-status")) == ["VALID"] * 5
    tallies = re.findall(r'data-tally="(\w+)" data-count="(\d+)" data-credits="([\d.]+)">\s*'
                         r'<th scope="row">([^<]+?)\s*<meter', page)
    assert tallies == [
        ("institution", "3", "10", "Haidian Vocational College"),
        ("institution", "1", "8", "National Courier Training Centre"),
        ("institution", "1", "4", "Beijing Open University"),
        ("kind", "4", "14", "Course"), ("kind", "1", "8", "Certificate"),
        ("level", "4", "18", "CQF 4"), ("level", "1", "4", "CQF 5"),
    ]
    assert "<h3>2025</h3>" in page


def test_chinese_pages_render_the_record_and_the_menu(bank: Bank) -> None:
    page = html(bank.client.get("/me?lang=zh"))
    heading = page.split("<h1>", 1)[1].split("</h1>", 1)[0]
    assert (heading, 'lang="zh-Hans"' in page, "学习档案" in page) == (
        "我的终身学习档案", True, True)


def test_self_sign_up_with_someone_else_s_national_id_shows_none_of_their_credentials(
        runtime: Runtime) -> None:
    city = city_bank(runtime)
    units = issue_record(city)
    squatter = city.client.application.test_client()
    sign_up(squatter, proven=False)
    page = html(squatter.get("/me"))
    token = squatter.post("/api/v1/learners/token",
                          json={"national_id": LEARNER_ID, "password": PASSWORD}).json["token"]
    api = squatter.get("/api/v1/learners/me", headers=bearer(token)).json
    form = form_token(squatter, "/me")
    answers = {
        "transcript": squatter.post("/me/transcripts", data={"csrf_token": form}).status_code,
        "credential": squatter.get(
            f"/me/credentials/{credential_ref(units['LOG201'])}").status_code,
    }
    assert (credential_refs(squatter), attributes(page, "data-identity")) == ([], ["unproven"])
    assert ("Go to the city credit bank centre with your identity card" in page,
            "Your record is empty" in page) == (True, True)
    assert (api["credentials"], api["identity"]) == (
        [], {"real_name": False, "institutions": [], "proofs": []})
    assert answers == {"transcript": 422, "credential": 404}


def test_an_institution_s_activation_code_shows_only_what_that_institution_issued(
        bank: Bank) -> None:
    learner = bank.client.application.test_client()
    sign_up(learner, OTHER_ID, proven=False)
    issue_record(bank, OTHER_ID)
    hdvc = bank.client.post("/api/v1/learners/bulk", headers=bearer(bank.tokens["hdvc"]),
                            json={"national_ids": [OTHER_ID]}).json["accounts"][0]
    form = form_token(learner, "/me")
    wrong = learner.post("/me/activation-code", data={"csrf_token": form,
                                                      "activation_code": "not-the-code"})
    entered = learner.post("/me/activation-code", data={
        "csrf_token": form, "activation_code": hdvc["activation_code"]})
    page = html(learner.get("/me"))
    again = learner.post("/me/activation-code", data={
        "csrf_token": form, "activation_code": hdvc["activation_code"]})
    issuers = re.findall(r'<td data-label="Institution">([^<]+)</td>', page)
    assert (wrong.status_code,
            "This is not an activation code for your account." in html(wrong)) == (422, True)
    assert (entered.status_code, again.status_code) == (303, 422)
    assert (issuers, attributes(page, "data-identity")) == (
        ["Haidian Vocational College"] * 3, ["unproven"])
    assert "what the institutions whose activation codes you entered issued" in page


def test_signing_out_ends_the_learner_s_api_tokens_too(bank: Bank) -> None:
    token = bank.client.application.test_client().post(
        "/api/v1/learners/token", json={"national_id": LEARNER_ID, "password": PASSWORD})
    held = bearer(token.json["token"])
    before = bank.client.get("/api/v1/learners/me", headers=held).status_code
    bank.client.post("/sign-out", data={"csrf_token": form_token(bank.client, "/me")})
    assert (before, bank.client.get("/api/v1/learners/me", headers=held).status_code) == (
        200, 401)


def test_a_wrong_password_and_an_unknown_account_get_the_same_answer(bank: Bank) -> None:
    client = bank.client
    client.post("/sign-out", data={"csrf_token": form_token(client, "/me")})
    wrong_password = sign_in(client, password="not the password")
    unknown = sign_in(client, national_id=OTHER_ID)
    error = re.compile(r'<p class="field-error" id="national_id-error">([^<]+)</p>')
    assert (wrong_password.status_code, error.findall(html(wrong_password))) == (
        unknown.status_code, error.findall(html(unknown)))
    assert sign_in(client).headers["Location"] == "/me"


def test_signing_out_or_expiry_ends_the_session_on_the_server(bank: Bank, runtime) -> None:
    client = bank.client
    assert client.get("/me").status_code == 200
    client.post("/sign-out", data={"csrf_token": form_token(client, "/me")})
    assert client.get("/me").headers["Location"] == "/sign-in?next=/me"
    sign_in(client)
    with runtime.engine.begin() as connection:
        connection.execute(update(web_sessions).values(expires_at=time.time() - 1))
    assert client.get("/me/progress").headers["Location"] == "/sign-in?next=/me/progress"


def test_every_form_refuses_a_post_without_its_csrf_token(bank: Bank) -> None:
    client = bank.client
    ref = credential_refs(client)[0]
    paths = ["/sign-up", "/sign-in", "/sign-out", f"/me/credentials/{ref}/share",
             f"/me/credentials/{ref}/pdf", "/me/shares/abc/withdraw", "/me/progress",
             "/me/applications", "/me/applications/abc/appeal", "/me/deposits",
             "/me/transcripts", "/me/transcripts/abc/share"]
    assert {path: client.post(path, data={"days": "30"}).status_code for path in paths} == {
        path: 400 for path in paths}


def test_a_learner_sees_none_of_another_learners_things(runtime: Runtime) -> None:
    city = city_bank(runtime)
    sign_up(city.client)
    issue_record(city)
    token = form_token(city.client, "/me")
    ref = credential_refs(city.client)[0]
    city.client.post("/me/progress", data={"csrf_token": token, "programme": PROGRAMME})
    application = city.client.post("/me/applications",
                                   data={"csrf_token": token, "programme": PROGRAMME})
    shared = city.client.post(f"/me/credentials/{ref}/share",
                              data={"csrf_token": token, "days": "7"})
    other = city.client.application.test_client()
    sign_up(other, OTHER_ID)
    other_token = form_token(other, "/me")
    share_token = shared.headers["Location"].rsplit("/", 1)[1]
    answers = {
        "credential": other.get(f"/me/credentials/{ref}").status_code,
        "json": other.get(f"/me/credentials/{ref}/credential.json").status_code,
        "application": other.get(application.headers["Location"]).status_code,
        "appeal": other.post(application.headers["Location"] + "/appeal",
                             data={"csrf_token": other_token, "grounds": "mine"}).status_code,
        "share": other.get(f"/me/shares/{share_token}").status_code,
        "pdf": other.get(f"/me/shares/{share_token}/credential.pdf").status_code,
        "withdraw": other.post(f"/me/shares/{share_token}/withdraw",
                               data={"csrf_token": other_token}).status_code,
    }
    assert answers == dict.fromkeys(answers, 404)
    assert city.client.get(f"/s/{share_token}").status_code == 200


def test_progress_shows_a_bar_per_requirement_and_why_things_do_not_count(bank: Bank) -> None:
    client = bank.client
    chosen = client.post("/me/progress",
                         data={"csrf_token": form_token(client, "/me"), "programme": PROGRAMME})
    page = html(client.get("/me/progress"))
    requirements = re.findall(r'data-requirement="([^"]+)" data-counted="([^"]+)" '
                              r'data-required="([^"]+)"', page)
    assert chosen.status_code == 303
    assert requirements == [("total", "11", "72"), ("category:general", "4", "15"),
                            ("category:major", "7", "37")]
    assert "<strong>ACC110</strong>: Not passed (grade F on the letter scale)." in page
    assert "8 fewer thanks to exemptions" in page


def test_a_learner_applies_sees_the_decision_with_reasons_and_appeals(bank: Bank) -> None:
    client = bank.client
    token = form_token(client, "/me")
    applied = client.post("/me/applications", data={"csrf_token": token, "programme": PROGRAMME})
    path = applied.headers["Location"]
    application_id = path.rsplit("/", 1)[1]
    api = f"/api/v1/applications/{application_id}"
    review = {"verdict": "approve", "reasons": ["checked"]}
    assert client.post(f"{api}/first-review", json=review,
                       headers=bearer(bank.tokens["bjou"])).status_code == 200
    assert client.post(f"{api}/second-review", json=review,
                       headers=bearer(bank.operator)).status_code == 200
    decided = html(client.get(path))
    empty = client.post(f"{path}/appeal", data={"csrf_token": token, "grounds": " "})
    appealed = client.post(f"{path}/appeal",
                           data={"csrf_token": token, "grounds": "ENG110 should count."})
    after = html(client.get(path))
    assert (applied.status_code, attributes(decided, "data-decision")) == (303, ["granted"])
    assert "Decision: 11 credits recognised" in decided
    assert "Not passed (grade F on the letter scale)." in decided
    assert 'id="grounds"' in decided
    assert (empty.status_code, "Say why the decision should change." in html(empty)) == (422, True)
    assert (appealed.status_code, attributes(after, "data-status")[0]) == (303, "appealed")
    assert ('id="grounds"' in after, "ENG110 should count." in after) == (False, True)
    listed = html(client.get("/me/applications"))
    assert attributes(listed, "data-application") == [application_id]


def test_a_deposit_is_verified_and_junk_is_explained(bank: Bank, runtime: Runtime) -> None:
    client = bank.client
    token = form_token(client, "/me")
    did = client.get("/api/v1/learners/me", headers=bank.log_in(LEARNER_ID)).json["account"]["did"]
    mooc = json.dumps(xuetang_credential(runtime, did)).encode()
    accepted = client.post("/me/deposits", data={
        "csrf_token": token, "file": (io.BytesIO(mooc), "mooc.json")})
    junk = client.post("/me/deposits", data={
        "csrf_token": token, "file": (io.BytesIO(b"not json"), "junk.json")})
    assert accepted.status_code == 303
    assert attributes(html(client.get("/me/deposits")), "data-deposit") == ["accepted"]
    assert (junk.status_code, "Choose a credential file (JSON)" in html(junk)) == (422, True)
    assert len(credential_refs(client)) == 6


def test_a_shared_credential_opens_valid_for_anyone_until_withdrawn(bank: Bank) -> None:
    client = bank.client
    token = form_token(client, "/me")
    ref = credential_refs(client)[0]
    made = client.post(f"/me/credentials/{ref}/share", data={"csrf_token": token, "days": "30"})
    share_token = made.headers["Location"].rsplit("/", 1)[1]
    detail = html(client.get(made.headers["Location"]))
    employer = client.application.test_client()
    seen = html(employer.get(f"/s/{share_token}"))
    listed = html(client.get("/me/shares"))
    client.post(f"/me/shares/{share_token}/withdraw", data={"csrf_token": token})
    assert 'class="qr-figure"' in detail and f"/s/{share_token}" in detail
    assert attributes(seen, "data-verdict") == ["VALID"]
    assert attributes(listed, "data-share") == [share_token]
    assert employer.get(f"/s/{share_token}").status_code == 404
    bad_days = client.post(f"/me/credentials/{ref}/share", data={"csrf_token": token,
                                                                   "days": "1000"})
    assert bad_days.status_code == 400


def test_downloads_are_the_credential_json_and_a_pdf_whose_link_opens_verification(
        bank: Bank) -> None:
    client = bank.client
    ref = credential_refs(client)[0]
    downloaded = client.get(f"/me/credentials/{ref}/credential.json")
    printed = client.post(f"/me/credentials/{ref}/pdf",
                          data={"csrf_token": form_token(client, "/me")})
    pdf = client.get(printed.headers["Location"])
    share_token = printed.headers["Location"].split("/")[3]
    link = f"{client.application.extensions['creditbank'].settings.public_url}/s/{share_token}"
    reader = PdfReader(io.BytesIO(pdf.data))
    uris = {annotation.get_object()["/A"]["/URI"] for annotation in reader.pages[0]["/Annots"]}
    text = pdf_text(reader)
    assert (downloaded.mimetype, json.loads(downloaded.data)["credentialSubject"]["achievement"][
        "humanCode"]) == ("application/json", "LOG201")
    assert (pdf.status_code, pdf.mimetype, uris) == (200, "application/pdf", {link})
    assert "SupplyChainManagement" in text
    zh = client.get(printed.headers["Location"] + "?lang=zh")
    assert "终身学习学分银行" in pdf_text(PdfReader(io.BytesIO(zh.data)))


def test_a_transcript_is_requested_recorded_and_shared(bank: Bank) -> None:
    client = bank.client
    token = form_token(client, "/me")
    assert client.post("/me/transcripts", data={"csrf_token": token}).status_code == 303
    waiting = html(client.get("/me/transcripts"))
    assert attributes(waiting, "data-transcript") == ["signed"]
    bank.worker.drain(set(attributes(waiting, "data-batch")))
    recorded = html(client.get("/me/transcripts"))
    transcript_id = re.search(r"/me/transcripts/([^/]+)/share", recorded).group(1)
    shared = client.post(f"/me/transcripts/{transcript_id}/share",
                         data={"csrf_token": token, "days": "7"})
    seen = html(client.application.test_client().get(
        "/s/" + shared.headers["Location"].rsplit("/", 1)[1]))
    assert attributes(recorded, "data-transcript") == ["anchored"]
    assert (attributes(seen, "data-verdict"), "Shared transcript" in seen) == (["VALID"], True)


def test_sign_up_explains_each_problem(runtime: Runtime) -> None:
    client = city_bank(runtime).client
    token = form_token(client, "/sign-up")
    short = client.post("/sign-up", data={"csrf_token": token, "national_id": LEARNER_ID,
                                          "password": "short", "password_again": "short"})
    mismatch = client.post("/sign-up", data={"csrf_token": token, "national_id": LEARNER_ID,
                                             "password": PASSWORD, "password_again": "other"})
    bad_id = client.post("/sign-up", data={"csrf_token": token, "national_id": "!",
                                           "password": PASSWORD, "password_again": PASSWORD})
    errors = [attributes(html(response), 'class="field-error" id') for response in
              (short, mismatch, bad_id)]
    assert errors == [["password-error"], ["password_again-error"], ["national_id-error"]]
    assert {short.status_code, mismatch.status_code, bad_id.status_code} == {422}
