"""schemathesis against ``/openapi.json`` of the app (in-process ASGI transport), with valid
credentials: at least 1000 generated cases across every route (the stream excepted: it
never ends by design, and has its own tests); 0 responses of 5xx; every response conforms
to the schema (documented status, content type and body)."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.app_support import MICRO
from tests.http.support import HttpWorld

CASES_PER_ROUTE = 36
MIN_TOTAL_CASES = 1000
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def fuzz(operation: Any, token: str, counts: dict[str, int]) -> None:
    label = f"{operation.method.upper()} {operation.path}"
    counts[label] = 0

    @given(case=operation.as_strategy())
    @settings(
        max_examples=CASES_PER_ROUTE,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        counts[label] += 1
        case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)

    run()


def test_generated_requests_never_fail_the_server_or_the_schema() -> None:
    h = HttpWorld.build()
    _, _, session = h.user("alice", 1_000_000 * MICRO)
    h.account(session, "desk")
    schema = schemathesis.openapi.from_asgi("/openapi.json", h.client.app)
    counts: dict[str, int] = {}
    operations = [
        result.ok() for result in schema.get_all_operations() if result.ok().path != "/v1/stream"
    ]
    assert len(operations) == 31
    for operation in operations:
        token = h.ops_token if operation.path.startswith("/v1/admin/") else session
        fuzz(operation, token, counts)
    total = sum(counts.values())
    assert all(n >= 1 for n in counts.values()), counts
    assert total >= MIN_TOTAL_CASES, counts
