"""The ledger's commands: `creditbank node` refuses call limits it cannot keep."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from ledger.cli import node_command


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("CREDITBANK_CALL_GAS_CAP", "20000", "CREDITBANK_CALL_GAS_CAP: at least 21000 (got 20000)"),
        ("CREDITBANK_CALL_SECONDS", "0",
         "CREDITBANK_CALL_SECONDS must be a positive, finite number, not '0'"),
    ],
)
def test_the_node_refuses_call_limits_it_cannot_keep(tmp_path, variable, value, message) -> None:
    result = CliRunner().invoke(node_command, ["--data", str(tmp_path)], env={variable: value})
    assert (result.exit_code, result.output) == (1, f"Error: {message}\n")
