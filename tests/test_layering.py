"""The house plan: which of our rooms, and which web, chain and I/O libraries, each room imports."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

from tests.support.paths import ROOT

PRODUCT = ("contracts", "credentials", "infra", "ledger", "rules", "verify", "issuers", "bank",
           "portal")
ROOMS = (*PRODUCT, "bench")
OURS = (*ROOMS, "tests")

# Room -> the other rooms of ours it may import (a room may always import itself). No room
# imports portal; bench, the benchmark harness, may import anything but the tests.
MAY_IMPORT: dict[str, frozenset[str]] = {
    "contracts": frozenset(),
    "credentials": frozenset(),
    "infra": frozenset({"credentials"}),
    "ledger": frozenset({"contracts", "credentials", "infra"}),
    "rules": frozenset({"credentials"}),
    "verify": frozenset({"credentials", "infra", "ledger"}),
    "issuers": frozenset({"credentials", "infra", "ledger", "rules"}),
    "bank": frozenset({"credentials", "infra", "ledger", "rules", "verify", "issuers"}),
    "portal": frozenset(set(PRODUCT) - {"portal"}),
    "bench": frozenset(set(ROOMS) - {"bench"}),
}

# Third-party (and stdlib I/O) libraries by kind, as module patterns. eth_hash is not a chain
# library: it is keccak256 alone, pure, and the credentials and rules rooms hash with it.
LIBRARIES: dict[str, tuple[str, ...]] = {
    "web": ("flask", "flask_smorest", "flask_babel", "werkzeug", "jinja2", "markupsafe"),
    "chain": ("web3", "eth", "eth_*", "rlp", "hexbytes"),
    "database": ("sqlalchemy", "psycopg", "alembic"),
    "io": ("requests", "click", "socket", "http.client", "urllib.request", "subprocess"),
}
PURE = ("eth_hash",)

# Room -> the kinds of library it must not import. Only the portal serves the web; verify reads
# the chain through ledger alone; the pure rooms do no I/O at all. bench is not checked.
MAY_NOT_USE: dict[str, frozenset[str]] = {
    "contracts": frozenset({"web"}),
    "credentials": frozenset({"web", "chain", "database", "io"}),
    "infra": frozenset({"web"}),
    "ledger": frozenset({"web"}),
    "rules": frozenset({"web", "chain", "database", "io"}),
    "verify": frozenset({"web", "chain", "database"}),
    "issuers": frozenset({"web"}),
    "bank": frozenset({"web"}),
    "portal": frozenset(),
}


@dataclass(frozen=True)
class Import:
    """One imported name: `names` adds `module.name` for each name a from-import takes."""

    module: str
    line: int
    imported: str
    names: tuple[str, ...]


def module_name(path: Path) -> str:
    """The dotted module name of a source file under the repository root."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, module: str, siblings: frozenset[str] = frozenset()) -> Iterator[Import]:
    """Every import in a file, at any depth, relative ones resolved against `module`.

    `siblings` are the modules of a script directory, imported by their bare names.
    """
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = _local(alias.name, module, siblings)
                yield Import(module, node.lineno, target, (target,))
        elif isinstance(node, ast.ImportFrom):
            target = node.module or ""
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            target = _local(target, module, siblings)
            yield Import(module, node.lineno, target,
                         (target, *(f"{target}.{alias.name}" for alias in node.names)))


def _local(name: str, module: str, siblings: frozenset[str]) -> str:
    head = name.partition(".")[0]
    return f"{module.rpartition('.')[0]}.{name}" if head in siblings else name


def room_imports(room: str) -> Iterator[Import]:
    """Every import made by the files of one room."""
    directory = ROOT / room
    siblings = frozenset() if (directory / "__init__.py").exists() else frozenset(
        path.stem for path in directory.glob("*.py"))
    for path in sorted(directory.rglob("*.py")):
        yield from imports_of(path, module_name(path), siblings)


def library_kind(name: str) -> str | None:
    """The kind of library a dotted module name belongs to, if any."""
    if name.partition(".")[0] in PURE:
        return None
    for kind, patterns in LIBRARIES.items():
        if any(fnmatchcase(name, pattern) or name.startswith(pattern + ".")
               for pattern in patterns):
            return kind
    return None


def violations() -> list[str]:
    """`module -> imported (line)` for every import that breaks the plan."""
    found = []
    for room in ROOMS:
        for item in room_imports(room):
            target = item.imported.partition(".")[0]
            if target in OURS and target != room and target not in MAY_IMPORT[room]:
                found.append(f"{item.module} -> {item.imported} ({item.line})")
                continue
            banned = MAY_NOT_USE.get(room, frozenset())
            for name in item.names:
                if library_kind(name) in banned:
                    found.append(f"{item.module} -> {name} ({item.line})")
                    break
    return found


def test_every_import_follows_the_house_plan() -> None:
    found = violations()
    assert not found, "imports the house plan forbids (see tests/test_layering.py):\n" + "\n".join(
        found)


def test_the_plan_names_every_package() -> None:
    packages = {path.parent.name for path in ROOT.glob("*/__init__.py")} - {"tests"}
    assert (packages - set(PRODUCT), set(MAY_IMPORT) - set(ROOMS)) == (set(), set())
    assert all(any((ROOT / room).rglob("*.py")) for room in ROOMS)


def test_nested_and_relative_imports_are_seen(tmp_path: Path) -> None:
    source = tmp_path / "module.py"
    source.write_text(
        "from . import sibling\n"
        "from ..other import thing\n"
        "def later():\n"
        "    import flask.json\n"
        "    from .inner.deep import name\n",
        encoding="utf-8",
    )
    found = sorted((item.line, item.imported)
                   for item in imports_of(source, "room.package.module"))
    assert found == [(1, "room.package"), (2, "room.other"), (4, "flask.json"),
                     (5, "room.package.inner.deep")]
    assert library_kind("flask.json") == "web" and library_kind("eth_hash.auto") is None
