"""server/http/fast_get.py: which requests it takes, and that its answers are the view's answers."""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from werkzeug.test import Client, EnvironBuilder

from server import create_app
from server.config import Settings
from server.errors import QuerySyntaxError
from server.http import metrics
from server.http.fast_get import FastGet, plain_query


def environ(path: str = "/sparql", query_string: str = "query=ASK%20%7B%7D",
            method: str = "GET", **headers: str) -> dict[str, Any]:
    builder = EnvironBuilder(path=path, method=method, headers=headers)
    env = builder.get_environ()
    env["QUERY_STRING"] = query_string
    return env


@pytest.mark.parametrize(("env", "expected"), [
    (environ(), "ASK {}"),
    (environ(query_string="query=SELECT+*+WHERE+%7B%7D"), "SELECT * WHERE {}"),
    (environ(query_string="query="), ""),  # the view's 400, from the same function
    (environ(query_string="query=%E2%9C%93"), "\u2713"),
    (environ(query_string=""), None),  # the service description
    (environ(query_string="query=ASK%7B%7D&query=ASK%7B%7D"), None),  # two: the view's 400
    (environ(query_string="query=ASK%7B%7D&format=json"), None),
    (environ(query_string="query=ASK%7B%7D&timeout=5"), None),
    (environ(query_string="query=ASK%7B%7D&default-graph-uri=http%3A%2F%2Fa%2F"), None),
    (environ(query_string="update=CLEAR+ALL"), None),
    (environ(query_string="query=%FF"), None),  # not UTF-8: the view says so
    (environ(query_string="query=\xc3\xa9"), None),  # raw bytes, as PEP 3333 hands them over
    (environ(method="HEAD"), None),
    (environ(method="POST"), None),
    (environ(path="/sparql/"), None),
    (environ(path="/queries/verdict"), None),
    (environ(If_None_Match='"x"'), None),
])
def test_plain_query(env: dict[str, Any], expected: str | None) -> None:
    assert plain_query(env) == expected


def test_a_plain_query_never_reaches_flask(app: Flask) -> None:
    def flask_called(environ: dict[str, Any], start_response: Any) -> Any:
        pytest.fail("a plain GET query went to Flask")

    fast = FastGet(app, flask_called)
    response = Client(fast).get("/sparql?query=" + quote("ASK { ?s ?p ?o }"),
                                headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200
    assert response.json == {"head": {}, "boolean": True}


def through_flask(app: Flask) -> Any:
    """The app's envelope with the fast path taken out: every request goes to the view."""
    envelope = copy.copy(app.wsgi_app)
    envelope.inner = app.wsgi_app.inner.inner  # type: ignore[attr-defined]
    return envelope


SAME_ANSWER = [
    ("ASK { ?s ?p ?o }", "application/sparql-results+json"),
    ("SELECT ?s WHERE { ?s a ?t } ORDER BY ?s LIMIT 3", "application/sparql-results+xml"),
    ("SELECT ?s WHERE { ?s a ?t } ORDER BY ?s LIMIT 3", "text/csv"),
    ("SELECT ?s WHERE { ?s a ?t } ORDER BY ?s LIMIT 3", "text/tab-separated-values"),
    ("SELECT ?s WHERE { ?s a ?t } ORDER BY ?s LIMIT 3", ""),
    ("SELECT ?t (COUNT(?s) AS ?n) WHERE { ?s a ?t } GROUP BY ?t ORDER BY ?t",
     "application/sparql-results+json"),
    ("CONSTRUCT { ?s a ?t } WHERE { ?s a ?t } ORDER BY ?s LIMIT 5", "text/turtle"),
    ("CONSTRUCT { ?s a ?t } WHERE { ?s a ?t } ORDER BY ?s LIMIT 5", "application/n-triples"),
    ("SELECT * WHERE {", "application/json"),  # 400 quoting the parser
    ("ASK {}", "image/png"),  # 406
    ("", "text/html"),  # 400 as HTML
    ("SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }", ""),  # 403
]


@pytest.mark.parametrize(("text", "accept"), SAME_ANSWER)
def test_same_answer_as_the_view(app: Flask, text: str, accept: str) -> None:
    url = "/sparql?query=" + quote(text)
    headers = {"Accept": accept} if accept else {}
    fast = Client(app.wsgi_app).get(url, headers=headers)
    view = Client(through_flask(app)).get(url, headers=headers)
    assert (fast.status_code, fast.data) == (view.status_code, view.data)

    def comparable(response: Any) -> list[tuple[str, str]]:
        return sorted((k.lower(), v) for k, v in response.headers if k != "Server-Timing")
    assert comparable(fast) == comparable(view)
    if fast.status_code == 200:
        assert fast.headers["Server-Timing"].startswith("query;dur=")


def test_a_failing_error_handler_gives_the_apps_500_as_for_the_view(settings: Settings) -> None:
    app = create_app(settings)

    def broken(err: Exception) -> Any:
        raise RuntimeError("the handler itself fails")

    app.register_error_handler(QuerySyntaxError, broken)
    url = "/sparql?query=" + quote("SELECT * WHERE {")
    fast = Client(app.wsgi_app).get(url, headers={"Accept": "application/json"})
    view = Client(through_flask(app)).get(url, headers={"Accept": "application/json"})
    assert fast.status_code == view.status_code == 500
    assert fast.data == view.data
    assert fast.headers["Access-Control-Allow-Origin"] == "*"


def test_nothing_in_flask_that_the_fast_path_would_skip(app: Flask) -> None:
    """The fast path does not run Flask's request hooks: there must be none for /sparql."""
    for hooks in (app.before_request_funcs, app.after_request_funcs,
                  app.url_value_preprocessors, app.url_default_functions):
        assert not hooks.get(None) and not hooks.get("sparql")
    assert app.config["TRUSTED_HOSTS"] is None and app.config["SERVER_NAME"] is None


def test_counted_under_its_route(app: Flask) -> None:
    registry = metrics.for_app(app).registry
    assert registry is not None
    labels = {"route": "/sparql", "method": "GET", "status": "406"}
    before = registry.get_sample_value("k2d3_http_requests_total", labels) or 0
    Client(app.wsgi_app).get("/sparql?query=ASK%7B%7D", headers={"Accept": "image/png"})
    assert registry.get_sample_value("k2d3_http_requests_total", labels) == before + 1
