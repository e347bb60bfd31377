"""credentials/ imports no web, chain or database library and nothing of ours."""

import ast
from pathlib import Path

ROOT = Path(__file__).parent.parent
FORBIDDEN = {"flask", "web3", "eth", "eth_utils", "eth_account", "eth_abi", "sqlalchemy",
             "contracts", "ledger", "issuers", "portal", "verify", "tests", "bench"}
ALLOWED = {"eth_hash"}


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_credentials_imports_stay_inside_its_layer() -> None:
    found = {}
    for path in sorted((ROOT / "credentials").rglob("*.py")):
        bad = {root for root in imported_roots(path) - ALLOWED
               if root in FORBIDDEN or root.startswith("eth")}
        if bad:
            found[str(path.relative_to(ROOT))] = sorted(bad)
    assert found == {}
