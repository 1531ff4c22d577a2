"""Errors as HTTP responses: the error handlers, and responses written straight to a socket.

The handler answers in JSON, HTML or plain text by ``Accept``, never with a stack trace. A bug
stays a bug: it is logged and answered 500 with a generic message. Responses written to a raw
socket (by the watchdog and the worker) carry the CORS headers and the CSP the envelope gives
every other response (https://fetch.spec.whatwg.org/#http-cors-protocol).
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

from server.errors import InsufficientStorage, K2D3Error, QueryAbandoned, QueryTimeout
from server.http.context import ON_TIMEOUT_KEY
from server.http.headers import ANSWERED, CORS_HEADERS, CSP, TIMED_OUT
from server.rdf.snapshots import StoreFull, WriterBusy

log = logging.getLogger("k2d3.errors")

_HTML = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{{ status }} {{ title }}</title></head><body><h1>{{ status }} {{ title }}</h1>
<p>{{ message }}</p></body></html>"""
_HTML_TEMPLATE = Environment(autoescape=True).from_string(_HTML)


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
    :func:`server.http.envelope.add_headers` give
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
    """Install the error handlers on ``app`` (``server.http.envelope`` adds CORS and the CSP)."""
    app.register_error_handler(K2D3Error, _k2d3_error)
    app.register_error_handler(StoreFull, lambda err: _k2d3_error(InsufficientStorage(str(err))))
    app.register_error_handler(WriterBusy, lambda err: _k2d3_error(K2D3Error(
        str(err), status=503, headers={"Retry-After": "5"})))
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
