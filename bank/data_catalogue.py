"""The data catalogue as people read it: `DATA.md` (Markdown, generated) and a line per column
for scripts, both from `infra.classification` and the minors' ages."""

from __future__ import annotations

from bank.tables import ADULT_AGE, GUARDIANS_UNTIL_AGE
from infra.classification import (
    COLUMNS,
    KEYED_HASHES,
    OWNERS,
    POLICIES,
    RETENTION,
    SEALED,
    STATED,
    DataClass,
    Owner,
)

RIGHTS = (
    ("See and download everything the bank holds (JSON and PDF)", "/me/data",
     "GET /api/v1/learners/me/export"),
    ("See who looked at the record, when and for which task", "/me/access",
     "GET /api/v1/learners/me/access"),
    ("Give and withdraw consents, each with its text's version", "/me/consents", ""),
    ("Ask for a correction, routed to whoever owns the data", "/me/corrections", ""),
    ("Close the account", "/me/close", "POST /api/v1/learners/me/closure"),
    (f"A guardian manages a learner under {GUARDIANS_UNTIL_AGE}", "/guardian", ""),
)
"""The learner's rights: what, the page, and the API where there is one."""

KEPT_AFTER_CLOSURE = (
    "The issuing institution's entry of each credential (id, unit, session, batch, position, "
    "digest, status entry) without any personal field, so the institution can still revoke it "
    "and every verifier still sees its status.",
    f"The audit trail of privileged actions, the learner replaced by a pseudonym, for "
    f"{RETENTION['AUDIT_LOG_DAYS']} days: the law asks operators to keep logs.",
    "The batch roots anchored on the chain, which hold nothing personal.",
    "Statistics, which count but name no one.",
)
"""What closing an account keeps, and why."""


SEALED_KIND = "sealed"
KEYED_HASH_KIND = "keyed hash"
STATED_KIND = "stated"


def protection_kind(table: str, column: str) -> str | None:
    """How a sensitive column is protected beyond its class (sealed, keyed hash or a stated
    protection); None for other columns."""
    name = f"{table}.{column}"
    if COLUMNS[table].columns[column] is not DataClass.SENSITIVE:
        return None
    if name in SEALED:
        return SEALED_KIND
    return KEYED_HASH_KIND if name in KEYED_HASHES else STATED_KIND


def by_class(table: str) -> dict[DataClass, list[str]]:
    """A table's columns grouped by class, every class present (in the catalogue's order)."""
    grouped: dict[DataClass, list[str]] = {data_class: [] for data_class in DataClass}
    for column, data_class in COLUMNS[table].columns.items():
        grouped[data_class].append(column)
    return grouped


def sensitive_protection(table: str, column: str) -> str:
    """A sensitive column's protection in English: "sealed", "keyed hash" or the stated one."""
    kind = protection_kind(table, column)
    return STATED[f"{table}.{column}"].en if kind == STATED_KIND else kind or ""


def owner_text(owner: Owner | None) -> str:
    """How a table's rows belong to a learner, in a sentence."""
    if owner is None:
        return "No column names a learner."
    if owner.parent is not None:
        text = (f"A row belongs to the learner who owns the `{owner.parent}` row its "
                f"`{owner.column}` refers to")
    else:
        what = "id" if owner.key == "id" else "DID"
        text = f"A row belongs to the learner whose {what} is in `{owner.column}`"
    conditions = " and ".join(f"`{column}` is `{value}`" for column, value in owner.where)
    return f"{text}{' when ' + conditions if conditions else ''}."


def class_title(data_class: DataClass) -> str:
    """A class's name in English with the Chinese one."""
    name = POLICIES[data_class].name
    return f"{name.en} ({name.zh})"


def lines() -> list[str]:
    """A tab-separated line per column: table, column, class, and a sensitive column's
    protection."""
    return ["\t".join(filter(None, (table, column, data_class.value,
                                    sensitive_protection(table, column))))
            for table, catalogued in sorted(COLUMNS.items())
            for column, data_class in catalogued.columns.items()]


def markdown() -> str:
    """The text of DATA.md."""
    out = [
        "# The data the bank holds (数据分级分类)",
        "",
        "Generated from `infra/classification.py` by `creditbank data catalogue --markdown > "
        "DATA.md`; a test fails when it is not current. The operator console shows the same "
        "catalogue at `/operator/data`.",
        "",
        "Every column of every table is in one of four classes. Each class has its protection and "
        "its retention; the purge job (`creditbank data retention`) applies the periods below.",
        "",
        "## Classes",
    ]
    for data_class, policy in POLICIES.items():
        out += ["", f"### {class_title(data_class)}", "", f"For example: {policy.examples.en}",
                "", "Protection:", ""]
        out += [f"- {measure.en}" for measure in policy.protection]
        out += ["", "Retention:", ""]
        out += [f"- {period.en}" for period in policy.retention]
    out += ["", "## Retention periods", "", "| constant | days |", "|---|---|"]
    out += [f"| `{name}` | {days} |" for name, days in RETENTION.items()]
    out += ["", "## The learner's rights, and where to exercise them", "",
            "| right | page | API |", "|---|---|---|"]
    out += [f"| {right} | `{page}` | {f'`{api}`' if api else '—'} |"
            for right, page, api in RIGHTS]
    out += ["", "## What is kept after an account is closed, and why", "",
            f"Closing an account erases or anonymises the learner's personal data "
            f"{RETENTION['CLOSURE_GRACE_DAYS']} days later. Kept:", ""]
    out += [f"- {kept}" for kept in KEPT_AFTER_CLOSURE]
    out += ["", "The chain holds nothing personal, so nothing there needs erasing, and a "
            "credential file the learner kept still verifies.",
            "", "## Minors (未成年人)", "",
            f"- A learner under {GUARDIANS_UNTIL_AGE} (by the date of birth in the national id) "
            f"gets an account only with a guardian's consent; the guardian signs in through the "
            f"city's sign-on and sees and manages the account until the learner turns "
            f"{GUARDIANS_UNTIL_AGE}.",
            f"- Between {GUARDIANS_UNTIL_AGE} and {ADULT_AGE}, sensitive personal data is shown "
            f"to no one but the learner and their reviewers.",
            "", "## The catalogue"]
    for table, catalogued in sorted(COLUMNS.items()):
        out += ["", f"### `{table}`", "", catalogued.purpose.en, "", owner_text(OWNERS.get(table)),
                "", "| class | columns |", "|---|---|"]
        for data_class, columns in by_class(table).items():
            cells = [f"`{column}` ({sensitive_protection(table, column)})"
                     if data_class is DataClass.SENSITIVE else f"`{column}`" for column in columns]
            if cells:
                out.append(f"| {class_title(data_class)} | {', '.join(cells)} |")
    return "\n".join(out) + "\n"
