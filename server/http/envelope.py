"""WSGI middleware around the Flask app: what every response gets, whatever answered it.

Every response carries the CORS headers (a preflight answer the preflight ones too, an HTML one
a Content-Security-Policy), and every request is timed to its
response's first byte, counted for ``/metrics`` and written to the access log.

This wraps ``app.wsgi_app``, Flask's documented place for middleware, instead of being
before/after-request hooks: a hook reads the request through Flask's context proxies and
rebuilds werkzeug ``Headers``, which cost more than the rest of a small query's handling around
the store. Here it is a few dictionary lookups on the WSGI environ and an append to the header
list. The route label comes from the request Flask matched (``environ["werkzeug.request"]``,
still in place when the response starts), or from ``ROUTE`` for a request answered without
Flask.

Views leave notes for it in the environ under the keys below.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from time import perf_counter
from typing import TYPE_CHECKING, Any

from werkzeug.wsgi import get_path_info

from server.http import hosts, metrics
from server.http.context import SETTINGS_KEY
from server.http.headers import (
    ANSWERED,
    CORS_HEADERS,
    COUNTED,
    CSP,
    OVER_MEMORY,
    PREFLIGHT_HEADERS,
    QUERY_HASH,
    ROUTE,
    STARTED,
    TIMED_OUT,
)
from server.http.problems import render_error

if TYPE_CHECKING:
    from flask import Flask

_CORS = list(CORS_HEADERS.items())
_PREFLIGHT = _CORS + list(PREFLIGHT_HEADERS.items())
_HTML_ONLY = [("Content-Security-Policy", CSP), ("X-Content-Type-Options", "nosniff")]

StartResponse = Callable[..., Any]

log = logging.getLogger("k2d3.envelope")


def add_headers(method: str, headers: list[tuple[str, str]]) -> None:
    """Add the CORS headers (and the preflight ones to an OPTIONS answer, a CSP to HTML) to
    ``headers`` in place, keeping any a view has set already."""
    present = {name.lower() for name, _ in headers}
    wanted = _PREFLIGHT if method == "OPTIONS" else _CORS
    if "text/html" in _content_type(headers):
        wanted = wanted + _HTML_ONLY
    headers.extend((name, value) for name, value in wanted if name.lower() not in present)


def _content_type(headers: list[tuple[str, str]]) -> str:
    for name, value in headers:
        if name.lower() == "content-type":
            return value.partition(";")[0].strip().lower()
    return ""


class Envelope:
    """The middleware: ``app.wsgi_app = Envelope(app)`` (see the module docstring)."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.inner = app.wsgi_app
        settings = app.config.get(SETTINGS_KEY)  # None in an app made by hand, as in tests
        self.hosts = hosts.own_names(getattr(settings, "public_url", None),
                                     getattr(settings, "allowed_hosts", ()))

    def __call__(self, environ: dict[str, Any],
                 start_response: StartResponse) -> Iterable[bytes]:
        started = environ[STARTED] = perf_counter()

        def respond(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            add_headers(environ.get("REQUEST_METHOD", "GET"), headers)
            # Counted once (a second call replaces the headers of an error), and not at all
            # when the watchdog has answered and counted it.
            if ANSWERED not in environ and COUNTED not in environ:
                environ[COUNTED] = True
                try:
                    self.observe(environ, int(status[:3]), perf_counter() - started)
                except Exception:  # a bug in counting must not cost the client its answer
                    log.exception("could not count %s", environ.get("PATH_INFO"))
            return start_response(status, headers, exc_info)

        query_string = environ.get("QUERY_STRING", "")
        if not query_string.isascii() and (problem := not_utf8(query_string)):
            return _bad_request(environ, respond, problem)
        if problem := hosts.refusal(environ, self.hosts):
            return _bad_request(environ, respond, problem)
        return self.inner(environ, respond)

    def observe(self, environ: dict[str, Any], status: int, seconds: float) -> None:
        observe(self.app, environ, status, seconds)


def observe(app: Flask, environ: dict[str, Any], status: int, seconds: float) -> None:
    """Count and log one answered request (also for the watchdog, which answers late ones)."""
    request = environ.get("werkzeug.request")
    rule = getattr(request, "url_rule", None)
    route = environ.get(ROUTE) or (rule.rule if rule is not None else "unmatched")
    method = environ.get("REQUEST_METHOD", "GET")
    metrics.for_app(app).observe(route, method, status, seconds,
                                 timed_out=TIMED_OUT in environ,
                                 over_memory=OVER_MEMORY in environ)
    path = request.path if request is not None else get_path_info(environ)
    metrics.log_access(method, route, path, status, seconds, environ.get(QUERY_HASH))


def not_utf8(query_string: str) -> str | None:
    """What is wrong with a query string that is not UTF-8, or None when it is.

    Under PEP 3333 the server hands raw bytes of the request target over as latin-1; werkzeug
    decodes them as UTF-8 strictly and would fail with a 500 on every route that reads
    ``request.args``. gunicorn refuses such targets itself; other WSGI servers do not.
    """
    try:
        query_string.encode("latin-1").decode("utf-8")
    except UnicodeError as err:
        where = f" at byte {err.start}" if isinstance(err, UnicodeDecodeError) else ""
        return f"the query string is not UTF-8{where}; percent-encode its UTF-8 bytes"
    return None


def _bad_request(environ: dict[str, Any], start_response: StartResponse,
                 message: str) -> Iterable[bytes]:

    body, mimetype = render_error(environ.get("HTTP_ACCEPT"), 400, "Bad Request", message)
    payload = body.encode("utf-8")
    start_response("400 BAD REQUEST", [("Content-Type", f"{mimetype}; charset=utf-8"),
                                       ("Content-Length", str(len(payload)))])
    return [payload]
