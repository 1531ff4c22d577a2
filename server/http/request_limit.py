"""WSGI middleware that puts every request of a gunicorn worker under its time limit.

Every route's work (the SPARQL endpoint's query, a canned query page's queries, the evidence
map's, a resource page's, linked data, graphs) runs in the request's thread between the start
of the app call and its return, so watching that span (``server.sparql.watchdog``) limits all of it,
with the same limit and the same way of stopping as the endpoint: ``settings.query_timeout``
unless the request's query asks for another (``timeout=``, up to ``max_query_timeout``). Past
the limit the watchdog answers ``503 query timed out`` and the worker retires if the work does
not stop (``server.serving.serve``).

Outside gunicorn (the Flask test client, ``k2d3 serve --debug``) there is no watchdog: queries
of ``/sparql`` and of canned pages run under ``server.sparql.deadline.with_deadline``, which stops
waiting but cannot stop the work.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from time import perf_counter
from typing import TYPE_CHECKING, Any

from server.errors import K2D3Error, MemoryLimit, QueryTimeout
from server.http.context import SETTINGS_KEY, WATCHDOG_KEY
from server.http.envelope import observe
from server.http.headers import ANSWERED, COUNTED, OVER_MEMORY, STARTED, TIMED_OUT
from server.http.problems import raw_error_response, send_and_close

if TYPE_CHECKING:
    from flask import Flask

StartResponse = Callable[..., Any]


class Watched:
    """The middleware: ``app.wsgi_app = Watched(app, app.wsgi_app)``, inside the envelope."""

    def __init__(self, app: Flask, inner: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.inner = inner

    def __call__(self, environ: dict[str, Any],
                 start_response: StartResponse) -> Iterable[bytes]:
        dog = self.app.extensions.get(WATCHDOG_KEY)
        sock = environ.get("gunicorn.socket")
        if dog is None or sock is None:
            return self.inner(environ, start_response)
        limit = self.app.config[SETTINGS_KEY].query_timeout
        watch = dog.begin(limit, partial(answer_late, self.app, environ), sock)
        try:
            return self.inner(environ, start_response)
        finally:
            dog.end(watch)


def answer_late(app: Flask, environ: dict[str, Any], err: K2D3Error) -> None:
    """Answer a request from the watchdog's thread: ``err`` written on its socket, which is
    then shut; counted and logged as the envelope does."""
    method = environ.get("REQUEST_METHOD", "GET")
    environ[ANSWERED] = True
    if isinstance(err, QueryTimeout):
        environ[TIMED_OUT] = True
    elif isinstance(err, MemoryLimit):
        environ[OVER_MEMORY] = True
    send_and_close(environ["gunicorn.socket"],
                   raw_error_response(environ.get("HTTP_ACCEPT"), err, head=method == "HEAD"))
    if COUNTED not in environ:  # the request's own thread may have counted it meanwhile
        environ[COUNTED] = True
        observe(app, environ, err.status, perf_counter() - environ.get(STARTED, perf_counter()))
