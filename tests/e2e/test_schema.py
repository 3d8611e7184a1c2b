"""schemathesis against the live broker: the protocol and JSON endpoints never answer 5xx and never
break their own OpenAPI description, whatever they are sent (a bounded number of examples each)."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

EXAMPLES_PER_OPERATION = 40
# No 5xx, and every answer as documented. (Whether schema-valid input is *accepted* is not checked:
# the schema cannot say which clients and codes exist.)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def test_protocol_endpoints_conform_to_their_schema(broker):
    schema = schemathesis.openapi.from_url(f"{broker.url}/openapi.json")
    checked = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,  # the same examples every run: CI stays deterministic
            database=None,
        )
        def conforms(case):
            case.call_and_validate(checks=CHECKS)

        conforms()
        checked.append(operation.label)
    assert "POST /token" in checked and "GET /authorize" in checked and len(checked) >= 10
