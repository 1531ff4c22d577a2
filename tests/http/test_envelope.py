"""server/http/envelope.py: the WSGI middleware's headers, counts and log lines, on a small app."""

from __future__ import annotations

import logging

import pytest
from flask import Flask, Response, request

from server.http import metrics
from server.http.envelope import Envelope, add_headers
from server.http.headers import ANSWERED, CSP, QUERY_HASH


@pytest.mark.parametrize(("method", "headers", "expected", "absent"), [
    ("GET", [("Content-Type", "application/json")],
     {"access-control-allow-origin": "*"},
     {"access-control-allow-methods", "content-security-policy"}),
    ("OPTIONS", [],
     {"access-control-allow-origin": "*", "access-control-max-age": "86400"},
     {"content-security-policy"}),
    ("GET", [("Content-Type", "text/html; charset=utf-8")],
     {"content-security-policy": CSP, "x-content-type-options": "nosniff"}, set()),
    # what a view set is kept, not doubled
    ("GET", [("Access-Control-Allow-Origin", "https://one.example")],
     {"access-control-allow-origin": "https://one.example"}, set()),
])
def test_add_headers(method: str, headers: list[tuple[str, str]], expected: dict[str, str],
                     absent: set[str]) -> None:
    add_headers(method, headers)
    names = [name.lower() for name, _ in headers]
    assert len(names) == len(set(names)), "no header twice"
    got = {name.lower(): value for name, value in headers}
    assert {k: got.get(k) for k in expected} == expected
    assert not absent & set(got)


@pytest.fixture()
def small_app() -> Flask:
    app = Flask(__name__)

    @app.route("/things/<name>")
    def thing(name: str) -> Response:
        request.environ[QUERY_HASH] = "abc"
        if name == "answered":  # as when the watchdog has answered on the socket itself
            request.environ[ANSWERED] = True
        return Response("<p>hi</p>", mimetype="text/html")

    app.wsgi_app = Envelope(app)  # type: ignore[method-assign]
    return app


def _count(app: Flask, route: str, status: str) -> float:
    registry = metrics.for_app(app).registry
    assert registry is not None  # no gunicorn: the app's own registry
    found = registry.get_sample_value("k2d3_http_requests_total",
                                      {"route": route, "method": "GET", "status": status})
    return found or 0


def test_every_response_is_counted_by_its_route_and_logged(
        small_app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    client = small_app.test_client()
    with caplog.at_level(logging.INFO, logger="k2d3.access"):
        page = client.get("/things/one")
        missing = client.get("/nowhere")
        metrics.flush_access_log()
    assert page.headers["Content-Security-Policy"] == CSP
    assert missing.status_code == 404
    assert missing.headers["Access-Control-Allow-Origin"] == "*"
    assert _count(small_app, "/things/<name>", "200") == 1
    assert _count(small_app, "unmatched", "404") == 1
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert '"path": "/things/one"' in logged and '"query_hash": "abc"' in logged
    assert '"route": "unmatched"' in logged


def test_a_request_the_watchdog_answered_is_not_counted_twice(small_app: Flask) -> None:
    small_app.test_client().get("/things/answered")
    assert _count(small_app, "/things/<name>", "200") == 0


def test_a_second_start_response_is_not_counted_again(small_app: Flask) -> None:
    """WSGI lets an app call start_response again with exc_info (to replace an error's
    headers before any body is sent); the request is still one request."""
    seen: list[str] = []

    def app(environ, start_response):  # type: ignore[no-untyped-def]
        start_response("200 OK", [("Content-Type", "text/plain")])
        start_response("500 Internal Server Error", [("Content-Type", "text/plain")],
                       (RuntimeError, RuntimeError("late"), None))
        return [b"x"]

    envelope = Envelope(small_app)
    envelope.inner = app
    list(envelope({"REQUEST_METHOD": "GET", "PATH_INFO": "/x"},
                  lambda status, headers, exc_info=None: seen.append(status)))
    assert len(seen) == 2
    assert _count(small_app, "unmatched", "200") == 1
    assert _count(small_app, "unmatched", "500") == 0


@pytest.mark.parametrize(("query_string", "status"), [
    ("query=\xff", 400),  # a raw byte that is not UTF-8, as PEP 3333 hands it over
    ("format=json&query=ASK%7B%7D&x=\xc3", 400),  # a UTF-8 sequence cut short
    ("query=ASK%7B%7D%23\xc3\xa9", 200),  # raw UTF-8 is fine
])
def test_a_query_string_that_is_not_utf8_is_a_400(app: Flask, query_string: str,
                                                   status: int) -> None:
    from werkzeug.test import EnvironBuilder, run_wsgi_app

    accept = "text/plain, */*;q=0.1"  # errors as text, answers in any format
    env = EnvironBuilder(path="/sparql", headers={"Accept": accept}).get_environ()
    env["QUERY_STRING"] = query_string
    body, got, headers = run_wsgi_app(app.wsgi_app, env)
    assert int(got[:3]) == status
    assert headers["Access-Control-Allow-Origin"] == "*"
    if status == 400:
        assert b"".join(body).startswith(b"400 Bad Request: the query string is not UTF-8 at byte")
