"""Schemathesis fuzzes every operation of the OpenAPI document (the verify endpoint and the issuer
API, signed in as an accredited issuer) with valid and invalid input: no 5xx, and the portal keeps
serving."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error

from portal.app import create_app
from tests.support.issuer import accredited
from tests.support.runtimes import module_runtime

EXAMPLES_PER_OPERATION = 50


@pytest.fixture(scope="module")
def fuzzed(request: pytest.FixtureRequest) -> Iterator[tuple[Flask, str]]:
    """One portal for the whole module (a chain is slow to create) and an issuer's API token."""
    with module_runtime(request, "fuzz") as runtime:
        token = accredited(runtime).token
        yield create_app(runtime, {"RATE_LIMITS": {}}), token


@pytest.mark.slow
def test_no_input_causes_a_server_error(fuzzed) -> None:
    app, token = fuzzed
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    headers = {"Authorization": f"Bearer {token}"}

    for operation, mode in itertools.product(operations, schemathesis.GenerationMode):

        @given(case=operation.as_strategy(mode))
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def call(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers, checks=[not_a_server_error])

        try:
            call()
        except Unsatisfiable:
            if mode is schemathesis.GenerationMode.POSITIVE:
                raise  # every operation has valid input; some (a free-form string) no invalid one

    assert {operation.label for operation in operations} >= {"POST /api/v1/verify"}


def test_the_portal_keeps_serving_after_fuzzing(fuzzed) -> None:
    app, _ = fuzzed
    response = app.test_client().get("/api/v1/openapi.json")
    assert (response.status_code, response.get_json()["info"]["title"]) == (200, "creditbank")
