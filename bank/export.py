"""Download everything: what the bank holds about a learner, as JSON (every row of every table
the catalogue's `OWNERS` says is theirs, every column, sealed values opened and JSON documents
parsed) and as a readable PDF in Chinese or English.

Three things widen or narrow the walk of `OWNERS`:
- audit entries about the learner are those naming them (their id or DID) as subject, actor or in
  the details, and those whose subject is one of their own objects (an application, a deposit,
  a credential …);
- rows of other tables that name the learner (a verifier's saved result of their credential, an
  institution's stored API answer) are listed under "mentions" by table and key, with the columns
  that name them, but not their values: such a row belongs to someone else and may name others;
- credentials issued to the learner's DID by an institution they have not yet proved their
  identity to stay out (a national id alone proves nothing), as they do from the record.
Secrets (password hashes, hashes of tokens and codes, sealed keys) are replaced by a marker and
listed under "withheld" with the reason.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Float,
    String,
    Table,
    Text,
    and_,
    or_,
    select,
)
from sqlalchemy.sql.elements import ColumnElement

from bank.identity import disclosure
from bank.notices import programme_title
from bank.pdf import Booklet, Part, booklet_pdf, cjk_font
from bank.records import Held, credential_summary
from bank.transcripts import BANK_ISSUER_ID
from infra.audit import record
from infra.classification import COLUMNS, OWNERS, POLICIES, Owner
from infra.metadata import metadata
from infra.sealing import Sealed
from infra.times import iso_utc

FORMAT = "creditbank.learner-export/1"
SECRET = "[secret: kept as a hash]"
AUDIT = "audit_log"
CREDENTIALS = "credentials"
CHUNK = 500
KINDS = {"json": "application/json", "pdf": "application/pdf"}

SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("account", ("bank_learners", "bank_notice_preferences", "bank_targets",
                 "bank_planned_units", "bank_activation_codes", "bank_learner_tokens",
                 "web_sessions", "oidc_links")),
    ("identity_proofs", ("bank_identity_proofs",)),
    ("credentials", ("credentials", "bank_transcripts", "bank_verdicts")),
    ("deposits", ("bank_deposits",)),
    ("applications", ("bank_applications",)),
    ("agreements", ("bank_agreements",)),
    ("consents", ("bank_consents",)),
    ("corrections", ("bank_corrections",)),
    ("share_links", ("shared_links",)),
    ("wallet_offers", ("wallet_offers",)),
    ("notices", ("bank_notices",)),
    ("access_log", ("bank_access_log",)),
    ("audit", (AUDIT,)),
    ("guardian", ("bank_guardians",)),
)
"""The export's sections, named for people, and the tables whose rows each holds (a table owned
through a parent, like an application's reviews and decisions, sits inside its parent's rows)."""

TIME_COLUMNS = frozenset({"at", "since", "last_seen", "wait_until", "email_after"})
WITHHELD_WHY = {
    "password_hash": "your password, kept only as a salted hash that cannot be reversed",
    "_sha256": "a hash of a secret token or code; the secret itself is never stored",
    "sealed_": "a sealed key of the bank's",
}


@dataclass(frozen=True)
class Download:
    """An export as a file: its bytes, media type and file name."""

    content: bytes
    media_type: str
    filename: str


def export_json(engine: Engine, learner: Mapping[str, Any]) -> dict:
    """Everything the bank holds about the learner, machine-readable (see the module)."""
    with engine.connect() as connection:
        rows, undisclosed = _owned_rows(connection, learner)
        mentions = _mentions(connection, learner)
    tables = sorted(name for name, found in rows.items() if found)
    sections = {section: {name: [_tree(name, row, rows) for row in rows.get(name, [])]
                          for name in names if name in OWNERS}
                for section, names in (*SECTIONS, ("other", tuple(sorted(_roots()
                                                                          - _sectioned()))))}
    withheld: list[dict] = [{"table": name, "column": column.name, "why": why}
                            for name in tables for column in metadata.tables[name].columns
                            if (why := _secret(column.name)) is not None]
    if undisclosed:
        withheld.append({"table": CREDENTIALS, "column": None, "why": (
            "credentials issued to your national id by institutions you have not yet proved your "
            "identity to: they are shown once you prove who you are")})
    return {
        "format": FORMAT,
        "generated_at": iso_utc(time.time()),
        "learner": {"id": learner["id"], "did": learner["did"],
                    "display_name": learner.get("display_name")},
        "sections": sections,
        "mentions": mentions,
        "withheld": withheld,
        "classes": {name: _classes(name) for name in tables},
        "class_policies": _policies(),
    }


def export_pdf(engine: Engine, learner: Mapping[str, Any], *, lang: str) -> bytes:
    """A readable PDF of the export, in Chinese ("zh…") or English."""
    zh = lang.lower().startswith("zh")
    exported = export_json(engine, learner)
    with engine.connect() as connection:
        names = _issuer_names(connection, zh)
        titles = _programme_titles(connection, exported)
    words = _Words(zh)
    return booklet_pdf(_booklet(exported, words, names, titles), cjk_font())


def download(engine: Engine, learner: Mapping[str, Any], *, actor: str, kind: str,
             lang: str = "zh") -> Download:
    """The export as a file ("json" or "pdf"), recorded in the audit log (without its content)."""
    if kind not in KINDS:
        raise ValueError(f"an export is json or pdf, not {kind!r}")
    if kind == "json":
        content = json.dumps(export_json(engine, learner), ensure_ascii=False,
                             indent=2).encode("utf-8")
    else:
        content = export_pdf(engine, learner, lang=lang)
    with engine.begin() as connection:
        record(connection, actor=actor, action="learner.export", subject=learner["id"],
               details={"format": kind})
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    return Download(content, KINDS[kind], f"creditbank-my-data-{day}.{kind}")


# -- the rows ---------------------------------------------------------------------------------


def _owned_rows(connection: Connection,
                learner: Mapping[str, Any]) -> tuple[dict[str, list[dict]], bool]:
    """Each owned table's rows of the learner (as exported values), and whether credentials were
    left out for want of a proof of identity."""
    raw: dict[str, list[Mapping[str, Any]]] = {}
    undisclosed = False
    for name in _ordered():
        if name == AUDIT:
            continue
        owner, table = OWNERS[name], metadata.tables[name]
        if owner.parent is None:
            value = learner["id"] if owner.key == "id" else learner["did"]
            conditions = [table.c[owner.column] == value, *_where(table, owner)]
            raw[name] = [dict(row._mapping) for row in connection.execute(
                select(table).where(and_(*conditions)))]
        else:
            keys = sorted({row[owner.parent_column or "id"] for row in raw.get(owner.parent, [])})
            raw[name] = [dict(row._mapping) for part in _chunks(keys) for row in connection.execute(
                select(table).where(table.c[owner.column].in_(part), *_where(table, owner)))]
        if name == CREDENTIALS:
            shown = _disclosed(connection, learner, raw[name])
            undisclosed = any(row["id"] not in shown for row in raw[name])
            raw[name] = [row for row in raw[name] if row["id"] in shown]
    raw[AUDIT] = _audit_rows(connection, learner, raw)
    return {name: [_values(metadata.tables[name], row)
                   for row in sorted(rows, key=_order(metadata.tables[name]))]
            for name, rows in raw.items()}, undisclosed


def _ordered() -> list[str]:
    """The owned tables, each after its parent."""
    done: list[str] = []

    def visit(name: str) -> None:
        parent = OWNERS[name].parent
        if parent is not None and parent not in done:
            visit(parent)
        if name not in done:
            done.append(name)

    for name in sorted(OWNERS):
        visit(name)
    return done


def _where(table: Table, owner: Owner) -> list[ColumnElement[bool]]:
    return [table.c[column] == value for column, value in owner.where]


def _chunks(values: Sequence[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(values), CHUNK):
        yield list(values[start:start + CHUNK])


def _disclosed(connection: Connection, learner: Mapping[str, Any],
               rows: Sequence[Mapping[str, Any]]) -> set[str]:
    """The ids of the credentials the learner may see: from institutions their proofs disclose,
    the bank's own transcripts of their record, and those their own rows name (agreements)."""
    issuer_ids = disclosure(connection, learner["id"]).issuers()
    if issuer_ids is None:
        return {row["id"] for row in rows}
    allowed = {*issuer_ids, BANK_ISSUER_ID}
    named = set(connection.execute(select(metadata.tables["bank_agreements"].c.credential_id)
                                   .where(metadata.tables["bank_agreements"].c.learner_id
                                          == learner["id"])).scalars())
    return {row["id"] for row in rows if row["issuer_id"] in allowed or row["id"] in named}


def _audit_rows(connection: Connection, learner: Mapping[str, Any],
                raw: Mapping[str, Sequence[Mapping[str, Any]]]) -> list[Mapping[str, Any]]:
    """Audit entries naming the learner (subject, actor or details) or one of their objects."""
    table = metadata.tables[AUDIT]
    names = (learner["id"], learner["did"])
    objects = sorted({str(row[column.name]) for name, rows in raw.items()
                      for column in metadata.tables[name].primary_key.columns
                      if isinstance(column.type, String | Text) and _secret(column.name) is None
                      for row in rows} - set(names))
    naming = or_(table.c.subject.in_(names),
                 *(table.c[column].contains(value, autoescape=True)
                   for column in ("actor", "details") for value in names))
    found = {row.id: dict(row._mapping) for row in connection.execute(select(table).where(naming))}
    for part in _chunks(objects):
        found.update((row.id, dict(row._mapping)) for row in connection.execute(
            select(table).where(table.c.subject.in_(part))))
    return list(found.values())


def _mentions(connection: Connection, learner: Mapping[str, Any]) -> list[dict]:
    """Rows of tables outside `OWNERS` that name the learner: table, key, the columns naming
    them and when the row was made (values left out: see the module)."""
    names = (learner["id"], learner["did"])
    found = []
    for name in sorted(metadata.tables):
        if name in OWNERS:
            continue
        table = metadata.tables[name]
        plain = [column for column in table.columns
                 if isinstance(column.type, String | Text) and not isinstance(column.type, Sealed)]
        sealed = [column for column in table.columns if isinstance(column.type, Sealed)]
        rows: list[Mapping[str, Any]] = []
        if plain:
            rows += [dict(row._mapping) for row in connection.execute(select(table).where(or_(
                *(column.contains(value, autoescape=True)
                  for column in plain for value in names))))]
        if sealed:
            rows += [dict(row._mapping) for row in connection.execute(
                select(table).where(or_(*(column.is_not(None) for column in sealed))))]
        seen: set[tuple] = set()
        for row in sorted(rows, key=_order(table)):
            columns = [column.name for column in table.columns
                       if isinstance(row[column.name], str)
                       and any(value in row[column.name] for value in names)]
            key = tuple(row[column.name] for column in table.primary_key.columns)
            if columns and key not in seen:
                seen.add(key)
                found.append({"table": name, "key": _key(table, row), "columns": columns,
                              "at": _made_at(table, row)})
    return found


def _key(table: Table, row: Mapping[str, Any]) -> dict:
    return {column.name: _value(table, column, row[column.name])
            for column in table.primary_key.columns}


def _made_at(table: Table, row: Mapping[str, Any]) -> str | None:
    column = _time_column(table)
    return None if column is None else iso_utc(row[column.name])


def _order(table: Table) -> Callable[[Mapping[str, Any]], tuple]:
    """Rows oldest first (by the table's first time column), then by primary key."""
    column = _time_column(table)

    def key(row: Mapping[str, Any]) -> tuple:
        made = row[column.name] if column is not None else None
        return (made or 0.0, tuple(str(row[item.name]) for item in table.primary_key.columns))

    return key


def _time_column(table: Table) -> Column | None:
    return next((column for column in table.columns if _is_time(column)), None)


def _is_time(column: Column) -> bool:
    name = column.name
    return isinstance(column.type, Float) and (
        name.endswith("_at") or name in TIME_COLUMNS
        or (name == "valid_until" and column.table.name == CREDENTIALS))


def _values(table: Table, row: Mapping[str, Any]) -> dict:
    """A row as exported: every column, secrets replaced, times in ISO 8601, bytes in hex, JSON
    documents parsed."""
    return {column.name: SECRET if _secret(column.name) is not None
            else _value(table, column, row[column.name]) for column in table.columns}


def _value(table: Table, column: Column, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if _is_time(column):
        return iso_utc(value)
    if (isinstance(value, str) and isinstance(column.type, Text | Sealed)
            and value[:1] in ("{", "[")):
        try:
            parsed = json.loads(value)
        except ValueError:
            return value
        return parsed if isinstance(parsed, dict | list) else value
    return value


def _secret(name: str) -> str | None:
    """Why a column is withheld (a secret kept as a hash), or None."""
    if name == "password_hash":
        return WITHHELD_WHY["password_hash"]
    if name.endswith("_sha256"):
        return WITHHELD_WHY["_sha256"]
    if name.startswith("sealed_"):
        return WITHHELD_WHY["sealed_"]
    return None


def _roots() -> set[str]:
    return {name for name, owner in OWNERS.items() if owner.parent is None}


def _sectioned() -> set[str]:
    return {name for _section, names in SECTIONS for name in names}


def _tree(name: str, row: dict, rows: Mapping[str, list[dict]]) -> dict:
    """A row with its children (tables owned through it) inside, under each child's name."""
    tree = dict(row)
    for child, owner in sorted(OWNERS.items()):
        if owner.parent == name:
            tree[child] = [_tree(child, item, rows) for item in rows.get(child, [])
                           if item[owner.column] == row[owner.parent_column or "id"]]
    return tree


def _classes(name: str) -> dict:
    """What a table is for (en and zh) and the catalogue class of each of its columns."""
    catalogued = COLUMNS.get(name)
    if catalogued is None:
        return {"purpose": None, "columns": {}}
    return {"purpose": {"en": catalogued.purpose.en, "zh": catalogued.purpose.zh},
            "columns": {column: str(kind) for column, kind in catalogued.columns.items()}}


def _policies() -> dict:
    """Each class's name, protection and retention in both languages."""
    return {str(kind): {
        "name": {"en": policy.name.en, "zh": policy.name.zh},
        "protection": [{"en": item.en, "zh": item.zh} for item in policy.protection],
        "retention": [{"en": item.en, "zh": item.zh} for item in policy.retention],
    } for kind, policy in POLICIES.items()}


# -- the PDF -----------------------------------------------------------------------------------

WORDS: dict[str, tuple[str, str]] = {
    "heading": ("Lifelong Learning Credit Bank", "终身学习学分银行"),
    "title": ("Everything the credit bank holds about you", "学分银行保存的关于你的全部数据"),
    "intro": ("Made on {date}. The JSON download holds the same data in full, with the "
              "credentials themselves.",
              "生成于{date}。JSON 下载包含同样的数据的完整内容，以及证书原件。"),
    "account": ("Account", "账户"),
    "name": ("Name", "姓名"),
    "did": ("Learner DID", "学习者 DID"),
    "opened": ("Opened", "开户时间"),
    "opened_by": ("Opened by", "开户方"),
    "proofs": ("Identity proved by", "身份证明方式"),
    "closing": ("Closing on request of", "申请注销时间"),
    "credentials": ("Credentials", "学习成果证书"),
    "issuer": ("Issuer", "颁发机构"),
    "credits": ("Credits", "学分"),
    "date": ("Completed on", "完成日期"),
    "status": ("Status", "状态"),
    "deposits": ("Deposits", "存入的证书"),
    "deposited": ("Deposited", "存入时间"),
    "applications": ("Applications and decisions", "认定申请与决定"),
    "programme": ("Programme", "专业"),
    "submitted": ("Submitted", "提交时间"),
    "decision": ("Decision", "决定"),
    "appeal": ("Appeal", "申诉"),
    "consents": ("Consents", "同意记录"),
    "purpose": ("Purpose", "用途"),
    "version": ("Text version", "文本版本"),
    "given": ("Given", "同意时间"),
    "withdrawn": ("Withdrawn", "撤回时间"),
    "shares": ("Share links", "分享链接"),
    "kind": ("Shared", "分享内容"),
    "created": ("Created", "创建时间"),
    "expires": ("Works until", "有效期至"),
    "access": ("Who looked at your record", "谁查看过你的档案"),
    "when": ("When", "时间"),
    "who": ("Who", "查看人"),
    "what": ("What", "查看内容"),
    "why": ("Task", "事由"),
    "none": ("Nothing.", "无。"),
    "no_cjk": ("Chinese text cannot be printed: no Chinese font is installed on the server. "
               "The JSON download holds everything.",
               "Chinese text cannot be printed: no Chinese font is installed on the server."),
    "in_force": ("in force", "有效"),
    "revoked": ("revoked", "已撤销"),
    "expired": ("expired", "已过期"),
    "not_in_force": ("replaced", "已被取代"),
    "credits_of": ("{credits} credits, {date}", "{credits} 学分，{date}"),
    "centre": ("the city learning centre", "城市学习中心"),
    "guardian": ("your guardian", "你的监护人"),
    "learner": ("you", "你本人"),
    "credential": ("Credential", "证书"),
    "transcript": ("Transcript", "成绩单"),
}
"""The PDF's words, (English, Chinese); `{name}` are filled in."""

STATES = {
    "submitted": ("submitted", "已提交"), "first_reviewed": ("first review done", "初审完成"),
    "decided": ("decided", "已决定"), "appealed": ("appealed", "申诉中"),
    "withdrawn": ("withdrawn", "已撤回"), "accepted": ("accepted", "已接受"),
    "rejected": ("rejected", "已拒绝"), "review": ("waiting for review", "待审核"),
    "pending": ("pending", "处理中"), "upheld": ("upheld", "维持"),
    "granted": ("granted", "支持"), "open": ("open", "处理中"),
}


class _Words:
    """The PDF's words in one language."""

    def __init__(self, zh: bool) -> None:
        self.zh = zh

    def __call__(self, key: str, **values: object) -> str:
        english, chinese = WORDS[key]
        return (chinese if self.zh else english).format(**values)

    def state(self, value: object) -> str:
        pair = STATES.get(str(value))
        return str(value) if pair is None else pair[1 if self.zh else 0]

    def day(self, value: object) -> str:
        text = str(value or "")
        return text[:10] if text else "–"


def _issuer_names(connection: Connection, zh: bool) -> dict[str, str]:
    table = metadata.tables["issuers"]
    return {row.id: (row.name_zh if zh and row.name_zh else row.name)
            for row in connection.execute(select(table.c.id, table.c.name, table.c.name_zh))}


def _programme_titles(connection: Connection, exported: dict) -> dict[tuple[str, int], str]:
    pairs = {(row["rule_set_id"], row["version"])
             for row in exported["sections"]["applications"].get("bank_applications", [])}
    return {pair: programme_title(connection, *pair) for pair in sorted(pairs)}


def _booklet(exported: dict, words: _Words, names: Mapping[str, str],
             titles: Mapping[tuple[str, int], str]) -> Booklet:
    sections = exported["sections"]
    now = exported["generated_at"]
    return Booklet(
        heading=words("heading"),
        title=words("title"),
        intro=words("intro", date=words.day(now)),
        parts=[
            Part(words("account"), list(_account(sections, words))),
            Part(words("credentials"), list(_credentials(sections, words, names, now))),
            Part(words("deposits"), list(_deposits(sections, words))),
            Part(words("applications"), list(_applications(sections, words, names, titles))),
            Part(words("consents"), [
                [(words("purpose"), row["purpose"]), (words("version"), row["text_version"]),
                 (words("given"), words.day(row["given_at"])),
                 (words("withdrawn"), words.day(row["withdrawn_at"]))]
                for row in sections["consents"].get("bank_consents", [])]),
            Part(words("shares"), [
                [(words("kind"), _shared_title(row, words)),
                 (words("created"), words.day(row["created_at"])),
                 (words("expires"), words.day(row["expires_at"])),
                 (words("status"), words.state("withdrawn") if row["revoked"] else "")]
                for row in sections["share_links"].get("shared_links", [])]),
            Part(words("access"), [
                [(words("when"), str(row["at"]).replace("T", " ").rstrip("Z")),
                 (words("who"), _reader(row, words, names)),
                 (words("what"), f"{row['what']} {row['object_id']}"),
                 (words("why"), row["purpose"])]
                for row in sections["access_log"].get("bank_access_log", [])]),
        ],
        empty=words("none"),
        no_cjk_note=words("no_cjk"),
    )


def _account(sections: dict, words: _Words) -> Iterable[list[tuple[str, str]]]:
    for row in sections["account"].get("bank_learners", []):
        proofs = sorted({item["method"] for item in
                         sections["identity_proofs"].get("bank_identity_proofs", [])})
        yield [(words("name"), row["display_name"] or "–"), (words("did"), row["did"]),
               (words("opened"), words.day(row["created_at"])),
               (words("opened_by"), row["opened_by"]),
               (words("proofs"), ", ".join(proofs) or "–")]


def _credentials(sections: dict, words: _Words, names: Mapping[str, str],
                 now: str) -> Iterable[list[tuple[str, str]]]:
    for row in sections["credentials"].get(CREDENTIALS, []):
        document = row["anchored"] or row["signed"] or {}
        summary = credential_summary(Held("issued", document))
        revoked = bool(row.get("revocations"))
        expired = row["valid_until"] is not None and row["valid_until"] < now
        status = "revoked" if revoked else "expired" if expired else "in_force"
        credits = row["credits"] if row["credits"] is not None else summary["credits"]
        yield [(words("credential"), str(summary["title"] or row["unit_code"])),
               (words("issuer"), names.get(row["issuer_id"], row["issuer_id"])),
               (words("credits"), "–" if credits is None else f"{credits:g}"),
               (words("date"), str(row["completed_on"] or summary["completed_on"] or "–")),
               (words("status"), words(status))]


def _deposits(sections: dict, words: _Words) -> Iterable[list[tuple[str, str]]]:
    for row in sections["deposits"].get("bank_deposits", []):
        document = row["credential"] if isinstance(row["credential"], dict) else {}
        summary = credential_summary(Held("deposit", document))
        yield [(words("credential"), str(summary["title"] or row["credential_id"])),
               (words("deposited"), words.day(row["deposited_at"])),
               (words("status"), words.state(row["status"]))]


def _applications(sections: dict, words: _Words, names: Mapping[str, str],
                  titles: Mapping[tuple[str, int], str]) -> Iterable[list[tuple[str, str]]]:
    for row in sections["applications"].get("bank_applications", []):
        rows = [(words("programme"), titles.get((row["rule_set_id"], row["version"]),
                                                row["rule_set_id"])),
                (words("issuer"), names.get(row["institution_id"], row["institution_id"])),
                (words("submitted"), words.day(row["submitted_at"])),
                (words("status"), words.state(row["status"]))]
        for decision in row.get("bank_decisions", []):
            credits = decision["credits"]
            text = words("credits_of", credits="–" if credits is None else f"{credits:g}",
                         date=words.day(decision["decided_at"]))
            state = "in_force" if decision["in_force"] else "not_in_force"
            rows.append((words("decision"), f"{text} ({words(state)})"))
            for appeal in decision.get("bank_appeals", []):
                rows.append((words("appeal"), f"{words.day(appeal['filed_at'])} "
                                              f"{words.state(appeal['status'])}"))
        yield rows


def _shared_title(row: dict, words: _Words) -> str:
    document = row["credential_json"] if isinstance(row["credential_json"], dict) else {}
    title = credential_summary(Held("issued", document))["title"]
    return str(title or words("transcript" if row["kind"] == "transcript" else "credential"))


def _reader(row: dict, words: _Words, names: Mapping[str, str]) -> str:
    organisation = row["organisation"]
    if organisation in ("centre", "guardian"):
        place = words(organisation)
    else:
        place = names.get(organisation, organisation)
    return f"{row['actor']} ({place})"
