"""The OpenAPI 3.1 document: generated from the routes, valid, complete; and the API fuzzed from it."""
from __future__ import annotations

import hypothesis
import pytest
import schemathesis
from openapi_spec_validator import validate

from service.api.openapi import build_document, undocumented_operations


def test_every_api_route_is_documented_and_the_document_validates(api_app, api) -> None:
    assert undocumented_operations(api_app) == []
    resp = api.get("/api/v1/openapi.json")
    assert resp.status_code == 200
    doc = resp.get_json()
    validate(doc)
    assert doc["openapi"].startswith("3.1")
    parks = doc["paths"]["/parks"]["get"]
    names = {p["name"] for p in parks["parameters"]}
    assert {"bbox", "municipality", "province", "kind", "risk_class", "min_score", "max_score", "hotspot",
            "changed_since", "sort", "limit", "offset", "geometry", "f"} <= names
    kinds = next(p for p in parks["parameters"] if p["name"] == "kind")["schema"]
    assert "bungalowpark" in str(kinds), "vocabulary words are listed in the document"
    assert {"200", "304", "400", "401", "403", "406"} <= set(parks["responses"])
    assert parks["x-required-role"] == "analyst"
    post = doc["paths"]["/signals"]["post"]
    assert "requestBody" in post and {"201", "413", "415", "422"} <= set(post["responses"])
    with api_app.app_context():
        assert build_document(api_app) == doc


def test_the_documentation_page_serves_its_own_assets_under_the_csp(api) -> None:
    resp = api.get("/api/v1/docs")
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    html = resp.get_data(as_text=True)
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in html and "<script>" not in html
    assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in resp.headers["Content-Security-Policy"]
    for asset in ("/static/vendor/swagger-ui/swagger-ui-bundle.js", "/static/vendor/swagger-ui/swagger-ui.css",
                  "/static/api-docs.js"):
        assert api.get(asset).status_code == 200, asset


# -- fuzzing: every GET operation from the document, bounded examples, as an analyst ---------------------
@pytest.fixture
def fuzz_schema(api_app, api):
    token = api.environ_base["HTTP_AUTHORIZATION"]
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", api_app, headers={"Authorization": token})
    return schema, token


@pytest.mark.slow
def test_fuzzing_the_read_api_finds_no_server_error_and_answers_match_the_schemas(fuzz_schema) -> None:
    schema, token = fuzz_schema
    failures: list[str] = []
    for result in schema.include(method="GET").get_all_operations():
        operation = result.ok()

        @hypothesis.settings(max_examples=25, deadline=None, derandomize=True, database=None,
                             suppress_health_check=list(hypothesis.HealthCheck))
        @hypothesis.given(case=operation.as_strategy())
        def check(case) -> None:
            response = case.call(headers={"Authorization": token})
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} {case.query}: {response.status_code}")
            # A combination the document cannot express (a bbox whose minimum exceeds its maximum) is a 400
            # by design, so "schema-valid data must be accepted" is left out; and every case carries a valid
            # token on purpose, so "invalid credentials are refused" is tested apart (below), not here.
            case.validate_response(response, excluded_checks=[schemathesis.checks.positive_data_acceptance,
                                                               schemathesis.checks.ignored_auth])

        check()
    assert failures == []


def test_the_api_refuses_missing_and_invalid_tokens(api_app) -> None:
    client = api_app.test_client()
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic eDp5"}):
        resp = client.get("/api/v1/parks", headers=headers)
        assert resp.status_code == 401 and resp.mimetype == "application/problem+json"
