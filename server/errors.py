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
import socket
from email.utils import formatdate
from http import HTTPStatus

from flask import Flask, Response, current_app, request
from jinja2 import Environment
from werkzeug.datastructures import MIMEAccept
from werkzeug.exceptions import HTTPException
from werkzeug.http import parse_accept_header

from .context import ON_TIMEOUT_KEY
from .envelope import ANSWERED, CORS_HEADERS, CSP, TIMED_OUT
from .snapshots import StoreFull

log = logging.getLogger("k2d3.errors")

_HTML = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{{ status }} {{ title }}</title></head><body><h1>{{ status }} {{ title }}</h1>
<p>{{ message }}</p></body></html>"""
_HTML_TEMPLATE = Environment(autoescape=True).from_string(_HTML)


class K2D3Error(Exception):
    """An expected failure with its HTTP status and a message for the client.

    A ``status`` given to the constructor brings its standard title along (a 400 raised as a
    plain ``K2D3Error`` was titled "Internal Server Error"), so the two always agree.
    """

    status = 500
    title = "Internal Server Error"

    def __init__(self, message: str, *, status: int | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None and status != self.status:
            self.status, self.title = status, HTTPStatus(status).phrase
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


#: The starts and ends of pyoxigraph's messages (0.5) for a request that asks for something it
#: cannot evaluate: an unknown function, a SERVICE name that is no IRI.
_ENGINE_REFUSALS = (("The custom function ", "The variable encoding the service name"),
                    (" is not a valid service name",))


def refused_by_engine(exc: RuntimeError) -> BadRequest | None:
    """A 400 for pyoxigraph's refusal of what the request asks (it names the function or the
    service), or None when ``exc`` is something else (a storage failure stays a 500).

    The recommendation makes an unknown function an evaluation error (an unbound value in a
    ``BIND``, false in a ``FILTER``); pyoxigraph refuses the whole query instead, so the client
    is told which function, rather than being answered 500.
    """
    message = str(exc)
    starts, ends = _ENGINE_REFUSALS
    if not (message.startswith(starts) or message.endswith(ends)):
        return None
    return BadRequest(f"{message[0].lower()}{message[1:]} by this endpoint (it has the "
                      "functions of SPARQL 1.1 and the XSD casts)")


class QueryTimeout(K2D3Error):
    """The query ran past its deadline (503, as Fuseki answers a timed-out query)."""

    status, title = 503, "Service Unavailable"

    def __init__(self, seconds: float) -> None:
        super().__init__(f"query timed out after {seconds:g} s", headers={"Retry-After": "1"})
        self.seconds = seconds


class QueryAbandoned(QueryTimeout):
    """The watchdog has already answered this timed-out request on its socket (``serve``)."""


class BadGateway(K2D3Error):
    """A remote this server called on the client's behalf (an allow-listed ``SERVICE``)
    failed (https://www.rfc-editor.org/rfc/rfc9110#section-15.6.3)."""

    status, title = 502, "Bad Gateway"


class StoreUnavailable(K2D3Error):
    status, title = 503, "Service Unavailable"


class InsufficientStorage(K2D3Error):
    """The disk is full; the write was not applied (RFC 4918 section 11.5)."""

    status, title = 507, "Insufficient Storage"


def render_error(accept: str | None, status: int, title: str, message: str) -> tuple[str, str]:
    """An error's body and mimetype: JSON, HTML or text, whichever ``accept`` prefers.

    Pure (no request context), so the watchdog thread can use it too.
    """
    accepted = parse_accept_header(accept, MIMEAccept)
    best = accepted.best_match(["text/plain", "application/json", "text/html"],
                               default="text/plain")
    if best == "application/json" and accepted["application/json"]:
        return json.dumps({"status": status, "error": title, "message": message}), best
    if best == "text/html" and accepted["text/html"]:
        return _HTML_TEMPLATE.render(status=status, title=title, message=message), best
    return f"{status} {title}: {message}\n", "text/plain"


def error_response(status: int, title: str, message: str,
                   headers: dict[str, str] | None = None) -> Response:
    """Render an error as JSON, HTML or text, whichever the client's ``Accept`` prefers."""
    body, mimetype = render_error(request.headers.get("Accept"), status, title, message)
    resp = Response(body, status, mimetype=mimetype)
    for name, value in (headers or {}).items():
        resp.headers[name] = value
    return resp


def raw_error_response(accept: str | None, err: K2D3Error, *, head: bool = False) -> bytes:
    """``err`` as a complete HTTP/1.1 response that closes the connection, for a raw socket.

    The same body, CORS headers and CSP as :func:`error_response` plus
    :func:`server.envelope.add_headers` give
    (https://www.rfc-editor.org/rfc/rfc9112#section-9.6); no body when answering a ``head``
    request.
    """
    body, mimetype = render_error(accept, err.status, err.title, err.message)
    payload = body.encode("utf-8")
    headers = {"Date": formatdate(usegmt=True), "Content-Type": f"{mimetype}; charset=utf-8",
               "Content-Length": str(len(payload)), "Connection": "close", **err.headers,
               **CORS_HEADERS}
    if mimetype == "text/html":
        headers.update({"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff"})
    start = f"HTTP/1.1 {err.status} {HTTPStatus(err.status).phrase}\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n"
    return start.encode("latin-1") + (b"" if head else payload)


def send_and_close(sock: socket.socket, response: bytes) -> None:
    """Write ``response`` on a client socket without blocking, then shut the socket down, so
    anything the request's own thread writes later fails instead of reaching the client."""
    try:
        sock.send(response, socket.MSG_DONTWAIT)
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:  # the client has gone
        return


def _k2d3_error(err: K2D3Error) -> Response:
    if isinstance(err, QueryAbandoned):     # answered already; whatever follows is dropped
        request.environ[ANSWERED] = True
        return Response(status=err.status)
    if isinstance(err, QueryTimeout):
        request.environ[TIMED_OUT] = True
        hook = current_app.extensions.get(ON_TIMEOUT_KEY)
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


def register(app: Flask) -> None:
    """Install the error handlers on ``app`` (``server.envelope`` adds CORS and the CSP)."""
    app.register_error_handler(K2D3Error, _k2d3_error)
    app.register_error_handler(StoreFull, lambda err: _k2d3_error(InsufficientStorage(str(err))))
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
