"""The running app's settings and store, for code that serves a request.

``create_app`` puts them on the app under these keys; views and page builders read them here
rather than each knowing the keys.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from flask import current_app, request
from pyoxigraph import Store

from server.config import Settings
from server.http.answer_cache import AnswerCache
from server.rdf.store import StoreReader, writer
from server.sparql.backend import RemoteReader, remote_writer

SETTINGS_KEY = "K2D3_SETTINGS"
STORE_KEY = "k2d3_store"
#: The process's ``server.http.answer_cache.AnswerCache`` (None when off).
CACHE_KEY = "k2d3_answer_cache"
#: True in a gunicorn worker that ``server.sparql.sandbox.cut_network`` cut off the network.
SANDBOXED_KEY = "k2d3_sandboxed"
#: A gunicorn worker's watchdog (``server.serving.serve.Watchdog``) and what it does on a timeout.
WATCHDOG_KEY = "k2d3_watchdog"
ON_TIMEOUT_KEY = "k2d3_on_timeout"


def settings() -> Settings:
    return current_app.config[SETTINGS_KEY]


def reader() -> StoreReader | RemoteReader:
    return current_app.extensions[STORE_KEY]


def strict_federation() -> bool:
    """:func:`is_strict_federation` for the request being served."""
    return is_strict_federation(settings(), current_app.extensions, request.environ)


def is_strict_federation(found: Settings, extensions: dict[str, Any],
                         environ: dict[str, Any]) -> bool:
    """Whether the text check is all that stops a fetch (``federation.check_federation``): with
    federation on, or in a gunicorn worker that could not cut itself off the network."""
    if found.federation_allow:
        return True
    return "gunicorn.socket" in environ and not extensions.get(SANDBOXED_KEY)


def writing(before: Callable[[Store, str], None] | None = None, *,
            timeout: float | None = None) -> AbstractContextManager[Store]:
    """One write transaction (``server.rdf.store.writer``), or one update request to a remote
    engine (``server.sparql.backend.remote_writer``): ``before`` checks the data as it is.

    A request's write waits for another writer (a ``k2d3 load`` may hold the store for
    minutes) at most half its time limit (``timeout``, by default ``query_timeout``) and
    never past it (:func:`time_left`), then is answered 503 with nothing changed, rather than
    be cut by the time limit while it waits and applied after its client was told it failed.
    """
    found = reader()
    if isinstance(found, RemoteReader):
        return remote_writer(found, before)
    limit = settings().query_timeout if timeout is None else timeout
    wait = min(limit / 2, time_left(current_app, request.environ, limit))
    return writer(settings().store, before, wait_s=wait)


def time_left(app: Any, environ: dict[str, Any], timeout: float) -> float:
    """Seconds this request may wait (for a claim, the writer lock) before its work, once its
    limit is ``timeout``: under gunicorn, what its watch leaves (``Watchdog.time_left``);
    elsewhere ``timeout``."""
    watchdog = app.extensions.get(WATCHDOG_KEY)
    if watchdog is None or "gunicorn.socket" not in environ:
        return timeout
    left: float = watchdog.time_left(timeout)
    return left


def answer_cache() -> AnswerCache | None:
    return current_app.extensions.get(CACHE_KEY)


def store() -> Store:
    """The store, read-only, as of its current version."""
    return reader().get()
