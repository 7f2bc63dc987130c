"""Schemathesis against the service's own OpenAPI: no 5xx and no response that breaks its own schema.

Each operation gets a fixed number of generated examples (bounded run); the data is the demo workspace and the
calls carry an admin key (admin may call every operation, so the fuzzer gets past authorization). The operations
are driven through their Hypothesis strategies directly: Schemathesis' pytest plugin does not load under pytest 9.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from copyloom.api.services import Services
from copyloom.contracts.enums import Role

pytestmark = pytest.mark.slow
EXAMPLES_PER_OPERATION = 10


def test_no_server_errors_and_responses_match_schema(
    app: Any, services: Services, demo_workspace: str, keys: dict[Role, str]
) -> None:
    app.state.services = services
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    headers = {"Authorization": f"Bearer {keys[Role.ADMIN]}"}
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 20

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            case.call_and_validate(headers=headers, checks=[not_a_server_error, response_schema_conformance])

        try:
            run()
        except Exception as exc:  # collect every operation's failure, then report them together
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:600]}")
    assert not failures, "\n\n".join(failures)
