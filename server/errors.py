"""Error types and the one place that turns them into HTTP responses.

Every expected failure is a :class:`K2D3Error` with the status the SPARQL 1.1 Protocol
(https://www.w3.org/TR/sparql11-protocol/#query-failure) or HTTP names for it; the handler
answers in JSON, HTML or plain text by ``Accept``, never with a stack trace. A bug stays a bug:
it is logged and answered 500 with a generic message. CORS headers go on every response,
errors and preflights included (https://fetch.spec.whatwg.org/#http-cors-protocol), and HTML
responses carry a ``Content-Security-Policy``.
"""

from __future__ import annotations

import json
import logging

from flask import Flask, Response, current_app, g, render_template_string, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger("k2d3.errors")

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, HEAD, POST, PUT, DELETE, OPTIONS",
    "Access-Control-Allow-Headers": "Accept, Authorization, Content-Type, If-None-Match, "
    "If-Match, Cache-Control, X-Requested-With",
    "Access-Control-Expose-Headers": "ETag, Location, Content-Type, K2D3-Truncated, "
    "X-Result-Truncated, Retry-After",
    "Access-Control-Max-Age": "86400",
}

#: Scripts and styles only from this server (YASGUI is vendored); inline styles are allowed
#: because YASGUI's table and editor set element styles.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
       "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'")

_HTML = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{{ status }} {{ title }}</title></head><body><h1>{{ status }} {{ title }}</h1>
<p>{{ message }}</p></body></html>"""


class K2D3Error(Exception):
    """An expected failure with its HTTP status and a message for the client."""

    status = 500
    title = "Internal Server Error"

    def __init__(self, message: str, *, status: int | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.headers = headers or {}


class BadRequest(K2D3Error):
    status, title = 400, "Bad Request"


class QuerySyntaxError(BadRequest):
    """The query or update does not parse; ``message`` quotes the parser (with position)."""

    def __init__(self, parser_message: str, *, kind: str = "query") -> None:
        super().__init__(f"SPARQL {kind} syntax error: {parser_message}")
        self.parser_message = parser_message


class Unauthorized(K2D3Error):
    status, title = 401, "Unauthorized"

    def __init__(self, message: str) -> None:
        super().__init__(message, headers={"WWW-Authenticate": 'Bearer realm="k2d3"'})


class Forbidden(K2D3Error):
    status, title = 403, "Forbidden"


class FederationRefused(Forbidden):
    """SERVICE or LOAD names an address outside ``federation_allow``."""


class NotFound(K2D3Error):
    status, title = 404, "Not Found"


class MethodNotAllowed(K2D3Error):
    status, title = 405, "Method Not Allowed"

    def __init__(self, message: str, allow: str) -> None:
        super().__init__(message, headers={"Allow": allow})


class NotAcceptable(K2D3Error):
    status, title = 406, "Not Acceptable"


class PayloadTooLarge(K2D3Error):
    status, title = 413, "Payload Too Large"


class UnsupportedMediaType(K2D3Error):
    status, title = 415, "Unsupported Media Type"


class PreconditionFailed(K2D3Error):
    status, title = 412, "Precondition Failed"


class QueryTimeout(K2D3Error):
    """The query ran past its deadline (503, as Fuseki answers a timed-out query)."""

    status, title = 503, "Service Unavailable"

    def __init__(self, seconds: float) -> None:
        super().__init__(f"query timed out after {seconds:g} s", headers={"Retry-After": "1"})
        self.seconds = seconds


class StoreUnavailable(K2D3Error):
    status, title = 503, "Service Unavailable"


def error_response(status: int, title: str, message: str,
                   headers: dict[str, str] | None = None) -> Response:
    """Render an error as JSON, HTML or text, whichever the client's ``Accept`` prefers."""
    best = request.accept_mimetypes.best_match(
        ["text/plain", "application/json", "text/html"], default="text/plain")
    if best == "application/json" and request.accept_mimetypes["application/json"]:
        body = json.dumps({"status": status, "error": title, "message": message})
        resp = Response(body, status, mimetype="application/json")
    elif best == "text/html" and request.accept_mimetypes["text/html"]:
        html = render_template_string(_HTML, status=status, title=title, message=message)
        resp = Response(html, status, mimetype="text/html")
    else:
        resp = Response(f"{status} {title}: {message}\n", status, mimetype="text/plain")
    for name, value in (headers or {}).items():
        resp.headers[name] = value
    return resp


def _k2d3_error(err: K2D3Error) -> Response:
    if isinstance(err, QueryTimeout):
        g.k2d3_timeout = True
        hook = current_app.extensions.get("k2d3_on_timeout")
        if hook is not None:
            hook()
    return error_response(err.status, err.title, err.message, err.headers)


def _http_error(err: HTTPException) -> Response:
    code = err.code or 500
    if code == 413:
        limit = current_app.config.get("MAX_CONTENT_LENGTH")
        message = f"request body larger than the limit of {limit} bytes"
    else:
        message = err.description or err.name
    headers = {k: v for k, v in err.get_headers() if k.lower() in {"allow", "location"}}
    return error_response(code, err.name, message, headers)


def _unexpected(err: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.path, exc_info=err)
    return error_response(500, "Internal Server Error", "an unexpected error happened; "
                          "it has been logged")


def add_cors_and_csp(resp: Response) -> Response:
    """Put CORS headers on every response, and a CSP on HTML ones."""
    for name, value in CORS_HEADERS.items():
        resp.headers.setdefault(name, value)
    if resp.mimetype == "text/html":
        resp.headers.setdefault("Content-Security-Policy", CSP)
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
    return resp


def register(app: Flask) -> None:
    """Install the error handlers and the CORS/CSP after-request hook on ``app``."""
    app.register_error_handler(K2D3Error, _k2d3_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
    app.after_request(add_cors_and_csp)
