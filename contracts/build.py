"""Compile the Vyper sources into the committed artifacts: `python -m contracts.build`."""

from __future__ import annotations

import hashlib
import json
import sys
from importlib import resources
from typing import Any

import vyper

from contracts import NAMES

EVM_VERSION = "shanghai"


def source(name: str) -> str:
    """The Vyper source of a contract."""
    return resources.files("contracts").joinpath(f"{name}.vy").read_text("utf-8")


def compile_artifact(name: str) -> dict[str, Any]:
    """Compile one contract into its artifact document."""
    text = source(name)
    output = vyper.compile_code(text, output_formats=["abi", "bytecode"])
    return {
        "contractName": name,
        "compiler": f"vyper {vyper.__version__}",
        "evmVersion": EVM_VERSION,
        "sourceSha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        "abi": output["abi"],
        "bytecode": output["bytecode"],
    }


def render(artifact: dict[str, Any]) -> str:
    """The artifact as committed: sorted, indented JSON with a final newline."""
    return json.dumps(artifact, indent=2, sort_keys=True) + "\n"


def main() -> int:
    """Rewrite every artifact from its source."""
    folder = resources.files("contracts").joinpath("artifacts")
    for name in NAMES:
        path = folder.joinpath(f"{name}.json")
        with resources.as_file(path) as target:
            target.write_text(render(compile_artifact(name)), encoding="utf-8")
        print(f"compiled {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
