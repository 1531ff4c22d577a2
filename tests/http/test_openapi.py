"""The OpenAPI description (/openapi.json) and schemathesis against the real server.

The description is generated from the routes, so every route is in it; schemathesis then sends
requests generated from it to ``k2d3 serve`` and checks that none is answered with a server
error and that every answer's status and media type are ones the description declares.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    status_code_conformance,
)


def test_every_route_is_described(app, client) -> None:  # type: ignore[no-untyped-def]
    document = client.get("/openapi.json").get_json()
    described = set(document["paths"])
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = rule.rule
        for name in rule.arguments:
            path = path.replace(f"<path:{name}>", f"{{{name}}}").replace(f"<{name}>", f"{{{name}}}")
        assert path in described, path


def test_the_endpoint_documents_its_parameters_and_statuses(client) -> None:  # type: ignore[no-untyped-def]
    op = client.get("/openapi.json").get_json()["paths"]["/sparql"]["post"]
    assert {"query", "timeout", "default-graph-uri"} <= {p["name"] for p in op["parameters"]}
    assert {"400", "401", "403", "413", "415", "503"} <= set(op["responses"])
    assert "application/sparql-update" in op["requestBody"]["content"]
    assert "put" not in client.get("/openapi.json").get_json()["paths"]["/sparql"]


def test_the_description_is_a_page_too(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/openapi?lang=zh").get_data(as_text=True)
    assert "<h1>HTTP 接口</h1>" in page and "<code>POST /sparql</code>" in page


def test_no_generated_request_breaks_the_server(live_server: str) -> None:
    """schemathesis: up to 15 generated requests per operation (25 for the SPARQL endpoint)."""
    api = schemathesis.openapi.from_url(live_server + "/openapi.json")
    for result in api.get_all_operations():
        operation = result.ok()
        examples = 25 if operation.path == "/sparql" else 15

        @given(case=operation.as_strategy())
        @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case) -> None:  # type: ignore[no-untyped-def]
            case.call_and_validate(checks=[not_a_server_error, status_code_conformance,
                                           content_type_conformance],
                                   headers={"Host": "localhost"}, timeout=30)

        run()
