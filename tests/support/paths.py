"""Where the test suite's files are: the repository, vectors, Node packages and examples."""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
ROOT = TESTS.parent
VECTORS = TESTS / "vectors"
JS_DIR = TESTS / "js"
EXAMPLES = ROOT / "examples"
