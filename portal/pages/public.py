"""The public credit bank, without signing in: member institutions, the catalogue, programmes
with their rules in plain words, and the transfer guide.

Every page is rate-limited per client; a bad query answers its page with a 400 and the form's
errors. Nothing personal is shown: a dropped credential file is verified in the request, read
as a guest's and stored nowhere.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from flask import Blueprint, Flask, current_app, render_template, request, url_for
from flask_babel import gettext as _

from bank.guide import MAX_CREDENTIALS, MAX_UNITS, guide
from bank.public import institution, institutions, programme, programmes
from credentials.model import KINDS as UNIT_KINDS
from infra.errors import InvalidInput
from issuers.catalogue import parse_unit_ref, search_units, unit_versions
from portal.explain import (
    GUIDE_CLASS_EXPLANATIONS,
    GUIDE_CLASSES,
    INSTITUTION_STATUSES,
    KINDS,
    REASONS,
    RULE_GROUPS,
    describe_rule,
    describe_source,
    explain_guide_line,
    rule_group,
    rule_source,
)
from portal.i18n import current_language
from portal.pages.views import public_link, unbaked
from portal.ratelimit import limited
from portal.runtime import runtime
from verify.codes import Code

bp = Blueprint("public", __name__)

PAGE_SIZE = 20
GUIDE_RESULTS = 8
MAX_CREDITS = 1_000


def init_app(app: Flask) -> None:
    """Register the public pages (rate-limited under the public API's scopes, "public" and
    "public_guide"; a dropped file is also counted as a verification)."""
    app.register_blueprint(bp)


@bp.context_processor
def public_values() -> dict:
    """Labels and helpers every public page uses."""
    return {"KINDS": KINDS, "UNIT_KINDS": UNIT_KINDS, "local_name": local_name,
            "INSTITUTION_STATUSES": INSTITUTION_STATUSES, "GUIDE_CLASSES": GUIDE_CLASSES,
            "GUIDE_CLASS_EXPLANATIONS": GUIDE_CLASS_EXPLANATIONS, "number": number,
            "levels_text": levels_text, "kinds_text": kinds_text}


@bp.get("/institutions")
@limited("public")
def institutions_page() -> str:
    """Every member institution as the chain records it."""
    return render_template("public/institutions.html",
                           institutions=institutions(runtime().engine, runtime().view))


@bp.get("/institutions/<issuer_id>")
@limited("public")
def institution_page(issuer_id: str) -> str:
    """One institution: scope, accreditation window and status, signing keys, DID document."""
    engine, view = runtime().engine, runtime().view
    found = institution(engine, view, issuer_id)
    offered = [item for item in programmes(engine, view, as_of=_today())
               if item["institution"]["id"] == issuer_id]
    return render_template("public/institution.html", institution=found, programmes=offered)


@bp.get("/catalogue")
@limited("public")
def catalogue() -> tuple[str, int] | str:
    """Search every institution's units by text, kind, level, field and credits, a page at a
    time (the next page starts after the last unit shown)."""
    filters, errors = search_filters(request.args)
    after = request.args.get("after") or None
    found: list[dict] = []
    if not errors:
        found, errors = _search(filters, after, PAGE_SIZE + 1)
    if errors:
        return render_template("public/catalogue.html", units=[], errors=errors,
                               form=request.args, next_after=None, searched=True), 400
    next_after = found[PAGE_SIZE - 1]["ref"] if len(found) > PAGE_SIZE else None
    return render_template("public/catalogue.html", units=found[:PAGE_SIZE], errors={},
                           form=request.args, next_after=next_after, after=after,
                           filters=filters_args(), searched=bool(filters))


@bp.get("/catalogue/<issuer_id>/<code>")
@limited("public")
def unit_page(issuer_id: str, code: str) -> str:
    """Every version of one unit, newest first."""
    versions = unit_versions(runtime().engine, issuer_id, code)
    return render_template("public/unit.html", versions=versions[::-1], issuer_id=issuer_id,
                           institution=institution(runtime().engine, runtime().view, issuer_id))


@bp.get("/programmes")
@limited("public")
def programmes_page() -> str:
    """Every programme with an approved rule-set version in force today."""
    return render_template("public/programmes.html",
                           programmes=programmes(runtime().engine, runtime().view,
                                                 as_of=_today()))


@bp.get("/programmes/<rule_set_id>")
@limited("public")
def programme_page(rule_set_id: str) -> str:
    """A programme's requirements and its rules in force, in plain words, with the version's
    hash, the blocks that anchored and approved it, and its history."""
    engine, view = runtime().engine, runtime().view
    found = programme(engine, view, rule_set_id, as_of=_today())
    rule_set = found["rule_set"]
    names = provider_names(institutions(engine, view))
    groups: dict[str, list[dict]] = {key: [] for key in RULE_GROUPS}
    for rule in rule_set.rules:
        groups[rule_group(rule)].append({
            "id": rule.id, "applies_to": rule_source(rule, names),
            "text": describe_rule(rule, rule_set.programme, names)})
    minimums = [{"min_credits": item.min_credits, "source": describe_source(item.source, names)}
                for item in rule_set.programme.source_minimums]
    return render_template("public/programme.html", programme=found,
                           requirements=rule_set.programme, groups=groups, minimums=minimums,
                           RULE_GROUPS=RULE_GROUPS)


@bp.get("/guide")
@limited("public_guide")
def guide_page() -> tuple[str, int] | str:
    """The transfer guide: picked units (`unit=ISSUER:CODE`, kept in the address so that the
    answer can be shared) against every programme, and a catalogue search to pick from."""
    return _guide(request.args.getlist("unit"), [])


@bp.post("/guide")
@limited("public_guide")
@limited("verify")
def guide_files() -> tuple[str, int] | str:
    """The transfer guide with credential files dropped on it: verified now, stored nowhere."""
    limit = current_app.config["MAX_CREDENTIAL_BYTES"]
    uploads = [item for item in request.files.getlist("credentials") if item.filename]
    documents, errors = [], {}
    if not uploads:
        errors["credentials"] = _("Choose one or more credential files.")
    elif len(uploads) > MAX_CREDENTIALS:
        errors["credentials"] = _("Choose at most %(count)d credential files.",
                                  count=MAX_CREDENTIALS)
    for upload in uploads[:MAX_CREDENTIALS]:
        raw = upload.stream.read(limit + 1)
        if len(raw) > limit:
            errors["credentials"] = _("A file is larger than %(size)d KB, too large to be a "
                                      "credential.", size=limit // 1024)
            continue
        raw, error = unbaked(raw, limit)
        if error is not None:
            errors["credentials"] = error
        documents.append(raw.decode("utf-8", errors="replace"))
    if errors:
        return _guide(request.form.getlist("unit"), [], errors)
    return _guide(request.form.getlist("unit"), documents)


def _guide(units: list[str], documents: list[str],
           errors: dict[str, str] | None = None) -> tuple[str, int] | str:
    """The guide's page for the picked units and dropped files; 400 with the form's errors."""
    errors = dict(errors or {})
    picks = [ref.strip() for ref in units if ref.strip()]
    if len(picks) > MAX_UNITS:
        errors["unit"] = _("Pick at most %(count)d units.", count=MAX_UNITS)
    elif any(parse_unit_ref(ref) is None for ref in picks) or len(set(picks)) != len(picks):
        errors["unit"] = _("A picked unit is not written as INSTITUTION:CODE, or is picked "
                           "twice; start again from the catalogue search.")
    filters, search_errors = search_filters(request.args)
    errors.update(search_errors)
    results: list[dict] = []
    if filters and not search_errors:
        results, search_errors = _search(filters, None, GUIDE_RESULTS)
        errors.update(search_errors)
    answer = None
    if (picks or documents) and "unit" not in errors and "credentials" not in errors:
        try:
            answer = guide(runtime().engine, runtime().view, units=picks, credentials=documents,
                           as_of=_today(), context=runtime().public_context(
                               current_app.config["MAX_CREDENTIAL_BYTES"]))
        except InvalidInput:
            errors["unit"] = _("A picked unit is not in the catalogue (any more); start again "
                               "from the catalogue search.")
    page = render_template(
        "public/guide.html", picks=picks, picked=answer["units"] if answer else [],
        answer=_readable(answer) if answer else None, results=results, errors=errors,
        form=request.args, searched=bool(filters), max_credentials=MAX_CREDENTIALS,
        institutions={item["rule_set_id"]: item["institution"] for item in programmes(
            runtime().engine, runtime().view, as_of=_today())} if answer else {},
        share=public_link("public.guide_page", unit=picks) if picks else None,
        pick_link=lambda ref: _guide_link([*picks, ref], **filters_args()),
        drop_link=lambda ref: _guide_link([item for item in picks if item != ref]))
    return (page, 400) if errors else page


def _guide_link(units: list[str], **search: str) -> str:
    """The guide's address for these picks (and a search to keep)."""
    values: dict[str, Any] = {**search, "unit": units}
    return url_for("public.guide_page", **values)


def _readable(answer: dict) -> dict:
    """The guide's answer with a title for each line's learning, a class for each programme and
    every reason in plain words."""
    titles = {item["outcome"]: f"{item['title']} ({item['ref']})" for item in answer["units"]}
    titles.update({item["outcome"]: item["title"] for item in answer["credentials"]})
    ranked = []
    for item in answer["programmes"]:
        lines = [{**line, "learning": ", ".join(titles.get(outcome, outcome)
                                                for outcome in line["outcome_ids"]),
                  "reason": explain_guide_line(line)} for line in item["lines"]]
        verdicts = {line["verdict"] for line in lines}
        best = next((name for name in GUIDE_CLASSES if name in verdicts), "miss")
        ranked.append({**item, "lines": lines, "verdict": best})
    not_counted = [{**item, "reason": _not_counted(item)} for item in answer["not_counted"]]
    return {**answer, "programmes": ranked, "not_counted": not_counted}


def _not_counted(item: Mapping[str, Any]) -> str:
    """Why a dropped file does not count, in plain words."""
    if item["code"] == "duplicate":
        return _("The same credential was dropped twice; it counts once.")
    try:
        return str(REASONS[Code(item["code"])])
    except ValueError:
        return _("The credential verifies, but it does not describe learning the guide can "
                 "read.")


SEARCH_ARGS = ("q", "kind", "level", "field", "min_credits", "max_credits", "institution")
SEARCH_MESSAGES = {
    "q": lambda: _("Search for 1 to 200 characters of a code or title."),
    "kind": lambda: _("Choose a kind of learning from the list."),
    "level": lambda: _("The level is a whole number from 0 to 99."),
    "field": lambda: _("The field is 1 to 200 characters."),
    "min_credits": lambda: _("Credits are a number from 0 to %(max)d.", max=MAX_CREDITS),
    "max_credits": lambda: _("Credits are a number from 0 to %(max)d, and the most is not "
                             "below the least.", max=MAX_CREDITS),
    "institution": lambda: _("Choose an institution from the list."),
    "after": lambda: _("This page of results does not exist; start the search again."),
}
SEARCH_FIELDS = {"text": "q", "issuer_id": "institution"}


def search_filters(args: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The catalogue filters of a query string (only those given), and the form's errors."""
    filters: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name in SEARCH_ARGS:
        value = (args.get(name) or "").strip()
        if not value:
            continue
        if name == "level":
            if not (value.isascii() and value.isdigit() and len(value) <= 2):
                errors[name] = SEARCH_MESSAGES[name]()
                continue
            filters[name] = int(value)
        elif name in ("min_credits", "max_credits"):
            credits = _credits(value)
            if credits is None:
                errors[name] = SEARCH_MESSAGES[name]()
                continue
            filters[name] = credits
        elif name == "kind" and value not in UNIT_KINDS:
            errors[name] = SEARCH_MESSAGES[name]()
        else:
            filters[name] = value
    return filters, errors


def filters_args() -> dict[str, str]:
    """The search's query parameters as given, to keep them in a link."""
    return {name: request.args[name] for name in SEARCH_ARGS if request.args.get(name)}


def _credits(value: str) -> float | None:
    try:
        credits = float(value) if len(value) <= 12 else math.nan
    except ValueError:
        return None
    return credits if math.isfinite(credits) and 0 <= credits <= MAX_CREDITS else None


def _search(filters: dict[str, Any], after: str | None,
            limit: int) -> tuple[list[dict], dict[str, str]]:
    """The units that match, or the form's errors for what the search refused."""
    arguments = {"text" if name == "q" else "issuer_id" if name == "institution" else name: value
                 for name, value in filters.items()}
    try:
        with runtime().engine.connect() as connection:
            return search_units(connection, after=after, limit=limit, **arguments), {}
    except InvalidInput as error:
        fields = [SEARCH_FIELDS.get(name, name) for name in (error.errors or {"q": []})]
        return [], {field: SEARCH_MESSAGES.get(field, SEARCH_MESSAGES["q"])() for field in fields}


def local_name(item: Mapping[str, Any]) -> str:
    """An institution's name in the page's language (its Chinese name when it has one)."""
    if current_language() == "zh" and item.get("name_zh"):
        return str(item["name_zh"])
    return str(item["name"])


def provider_names(found: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Institution DID → its name in the page's language."""
    return {item["did"]: local_name(item) for item in found}


def number(value: Any) -> str:
    """Credits without trailing zeros."""
    return f"{float(value):g}"


def kinds_text(kinds: Sequence[str]) -> str:
    """Kinds of learning by their names in the page's language."""
    return ", ".join(str(KINDS.get(kind, kind)) for kind in kinds)


def levels_text(levels: Sequence[int]) -> str:
    """Framework levels as runs, like "4–7"."""
    runs: list[list[int]] = []
    for level in sorted(levels):
        if runs and level == runs[-1][-1] + 1:
            runs[-1].append(level)
        else:
            runs.append([level])
    return ", ".join(str(run[0]) if len(run) == 1 else f"{run[0]}–{run[-1]}" for run in runs)


def _today() -> date:
    return datetime.now(UTC).date()
