"""schemathesis against the live broker: the protocol and JSON endpoints never answer 5xx and never
break their own OpenAPI description, whatever they are sent (a bounded number of examples each); and
hypothesis against every page form, which the description leaves out."""

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

from tests.web.test_hostile_input import agents  # noqa: F401  (a browser for each session a page needs)

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


# The pages are not in the OpenAPI description (include_in_schema=False): their forms are fuzzed here,
# by hypothesis, over the same routes tests/web/test_hostile_input.py discovers, each posted as a
# browser signed in strongly enough for it. Any text, in the fields the pages read or in others.
FORM_EXAMPLES_PER_ROUTE = 8
# Posts that end the signed-in session would leave the routes after them unreached.
SESSION_ENDING = {"/account/sign-out-everywhere", "/account/delete"}


def test_page_forms_never_answer_5xx_whatever_they_are_sent(broker, agents):  # noqa: F811
    from hypothesis import strategies as st

    from broker.webkit.access import rule_for
    from broker.webkit.forms import FIELDS
    from tests.web.test_hostile_input import concrete, page_form_routes

    names = st.sampled_from(sorted({*FIELDS, "code", "password", "birth_date-year", "known_years", "x"}))
    values = st.text(st.characters(exclude_categories=["Cs"]), max_size=300) | st.from_regex(r"[0-9]{0,30}")
    forms = st.dictionaries(names, values, max_size=6)
    routes = [path for path in page_form_routes() if path not in SESSION_ENDING]
    for path in routes:
        fuzz_form(agents[rule_for(path).need], broker.url + concrete(path), forms)
    assert len(routes) >= 40


def fuzz_form(agent, url: str, forms) -> None:
    @given(form=forms)
    @settings(
        max_examples=FORM_EXAMPLES_PER_ROUTE,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def answers(form):
        response = agent.post(url, form)
        assert response.status_code < 500, (url, form, response.status_code)

    answers()
