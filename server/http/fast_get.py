"""Plain GET queries answered without Flask's request machinery (WSGI middleware).

``GET /sparql?query=...`` with nothing else in the query string is what SPARQLWrapper, curl,
``wrk`` and most scripts send. Flask's request and application contexts, URL matching and
werkzeug's request and response objects cost more than the rest of a small query's handling
around the store: about 150 µs a request on this machine, and three times that on a core that
has just been idle for a few milliseconds, which is the usual case for a client that sends a
query, reads the answer and then sends the next. For such a request this middleware calls
:func:`server.http.query_answer.answer`, the same function the ``/sparql`` view answers with, and
hands its status, headers and body to the ``start_response`` it was given (the envelope's).

Anything else goes to Flask unchanged: another path or method, any other parameter
(``format``, ``timeout``, a dataset), a query string with raw non-ASCII bytes or escapes that
are not UTF-8, a conditional request. An error is rendered by the app's own error handlers, in
a request context made for it, so its response is the one the view would have given. The app
has no request hooks, trusted hosts or URL preprocessors that this would skip;
``tests/http/test_fast_get.py`` fails if one is added.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from werkzeug.wsgi import get_host

from server.http import metrics
from server.http.context import (
    CACHE_KEY,
    SETTINGS_KEY,
    STORE_KEY,
    is_strict_federation,
    time_left,
)
from server.http.headers import QUERY_HASH, ROUTE
from server.http.protocol import SparqlRequest
from server.http.query_answer import ENDPOINT_PATH, Served, answer, endpoint_for, runner_for

if TYPE_CHECKING:
    from flask import Flask

StartResponse = Callable[..., Any]


def plain_query(environ: dict[str, Any]) -> str | None:
    """The query text of a plain ``GET /sparql?query=...`` request, else None.

    Plain: GET, the path ``/sparql``, a query string in ASCII of the one parameter ``query``
    (percent-encoded UTF-8), and no ``If-None-Match``.
    """
    if (environ.get("REQUEST_METHOD") != "GET" or environ.get("PATH_INFO") != ENDPOINT_PATH
            or "HTTP_IF_NONE_MATCH" in environ):
        return None
    query_string = environ.get("QUERY_STRING", "")
    if not query_string.isascii():  # raw bytes, which PEP 3333 hands over as latin-1
        return None
    try:
        pairs = parse_qsl(query_string, keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        return None
    if len(pairs) != 1 or pairs[0][0] != "query":
        return None
    return pairs[0][1]


class FastGet:
    """The middleware: ``app.wsgi_app = FastGet(app, app.wsgi_app)`` (inside the envelope)."""

    def __init__(self, app: Flask, inner: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.inner = inner

    def __call__(self, environ: dict[str, Any],
                 start_response: StartResponse) -> Iterable[bytes]:
        text = plain_query(environ)
        if text is None:
            return self.inner(environ, start_response)
        environ[ROUTE] = ENDPOINT_PATH
        environ[QUERY_HASH] = metrics.query_hash(text)
        try:
            found = answer(SparqlRequest("query", text), environ.get("HTTP_ACCEPT"), None,
                           self.served(environ))
        except Exception as err:  # the app's own handlers tell 4xx from a logged 500
            return self._failed(environ, start_response, err)
        headers = found.headers
        if isinstance(found.body, list):
            headers = [*headers, ("Content-Length", str(sum(map(len, found.body))))]
        start_response(f"{found.status} {HTTPStatus(found.status).phrase}", headers)
        return found.body

    def served(self, environ: dict[str, Any]) -> Served:
        """What :func:`answer` needs, from the app and this request's environ."""
        app = self.app
        settings = app.config[SETTINGS_KEY]
        endpoint = endpoint_for(settings.public_url, environ["wsgi.url_scheme"],
                                get_host(environ))
        return Served(settings, app.extensions[STORE_KEY], endpoint,
                      lambda timeout: runner_for(app, environ, timeout),
                      is_strict_federation(settings, app.extensions, environ),
                      app.extensions.get(CACHE_KEY),
                      lambda timeout: time_left(app, environ, timeout))

    def _failed(self, environ: dict[str, Any], start_response: StartResponse,
                err: Exception) -> Iterable[bytes]:
        """The response the app's error handlers give ``err``, as for the view; a handler that
        fails in turn gives the app's 500, as in ``Flask.wsgi_app``."""
        with self.app.request_context(environ):
            try:
                rv = self.app.handle_user_exception(err)
                response = self.app.finalize_request(rv, from_error_handler=True)
            except Exception as again:  # as Flask.wsgi_app does
                response = self.app.handle_exception(again)
            return response(environ, start_response)
