"""The participant API against its OpenAPI document (schemathesis): no 500, never HTML or a
traceback on /api, answers shaped as documented. A bounded run here; `make fuzz` runs more."""

from __future__ import annotations

import os

import schemathesis
import schemathesis.specs.openapi.schemas  # noqa: F401  (imported here, not lazily deep in a test: see below)
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from contest.web.openapi import DOCUMENT
from tests.play_support import make_bank, make_contest, make_units

# schemathesis imports its schema module on first use; pytest then rewrites it, and CPython 3.11's
# parser can fail ("AST constructor recursion depth mismatch") when that happens on a deep stack.
EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "25"))


def no_traceback_or_html(ctx, response, case):
    """Every /api answer is JSON; an error is {"error", "message"} in Chinese, never a stack trace."""
    text = response.text
    assert "Traceback" not in text and "<html" not in text.lower(), f"{case.method} {case.path}: {text[:200]}"
    content_type = {name.lower(): value for name, value in response.headers.items()}.get("content-type", [""])
    assert content_type[0].startswith("application/json"), content_type
    if response.status_code >= 400:
        body = response.json()
        assert set(body) >= {"error", "message"} and body["message"], body


def test_api_answers_as_documented(app, rt):
    # Something real behind the small ids the fuzzer tries first: a contest and units.
    make_contest(rt, make_bank(rt.session))
    make_units(rt.session)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    checks = [not_a_server_error, no_traceback_or_html, content_type_conformance, response_schema_conformance]
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == len(DOCUMENT["paths"])
    for operation in operations:
        # (schemathesis's own pytest plugin does not run on this pytest; hypothesis drives it directly)
        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def answers_well(case):
            case.call_and_validate(checks=checks)

        answers_well()


def test_document_is_served_and_names_every_api_route(app, client):
    served = client.get("/api/v1/openapi.json").get_json()
    assert served == DOCUMENT and served["openapi"].startswith("3.")
    documented = {path for path in served["paths"]}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/") and not rule.rule.endswith("openapi.json"):
            path = rule.rule[len("/api/v1"):]
            for name in rule.arguments:
                path = path.replace(f"<int:{name}>", f"{{{name}}}")
            assert path in documented, f"{rule.rule} is not in the OpenAPI document"
