"""Schemathesis against the app's OpenAPI schema (/openapi.json): no request gets a 500.

Requests are generated from the schema, valid and invalid (negative mode), and sent to the
real app in-process; the check is schemathesis' own `not_a_server_error`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from starlette.testclient import TestClient

from bot.app import create_app
from bot.runtime import build_runtime
from tests.conftest import make_settings
from tests.fakes.clock import FixedClock


@pytest.fixture(scope="module")
def api_app(tmp_path_factory: pytest.TempPathFactory, nlu_model_path: Path) -> Iterator[Any]:
    settings_ = make_settings(tmp_path_factory.mktemp("fuzz"), nlu_model_path)
    app = create_app(settings_, runtime=build_runtime(settings_, clock=FixedClock()))
    with TestClient(app):  # runs the lifespan (outbox worker, shared state) around the module
        yield app


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_request_gets_a_server_error(api_app: Any, mode: GenerationMode) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", api_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    exercised = 0

    for operation in operations:
        raw = operation.definition.raw
        if mode is GenerationMode.NEGATIVE and not (raw.get("parameters") or raw.get("requestBody")):
            continue  # nothing to make invalid

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=15, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(checks=[not_a_server_error])

        try:
            check()
        except Unsatisfiable:
            # Negative mode finds nothing invalid to send when every field accepts any string.
            assert mode is GenerationMode.NEGATIVE
            continue
        exercised += 1
    assert exercised >= (10 if mode is GenerationMode.POSITIVE else 4)
