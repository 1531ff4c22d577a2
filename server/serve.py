"""``k2d3 serve``: gunicorn over the embedded store; Flask's server for --debug.

Sizing for a 2-core machine: ``settings.workers`` processes (default 2) x ``settings.threads``
threads, gunicorn's ``gthread`` worker extended by ``server.worker.K2D3Worker`` (idle keep-alive
connections wait in the poller, not in a thread; accepting is balanced across the workers), a
deep listen backlog and a generous ``worker_connections`` so 32 concurrent clients
queue instead of being refused. pyoxigraph releases the GIL while it evaluates, so threads
overlap query work; processes overlap the Python around it.

Timeouts that free the core: ``Store.query`` cannot be cancelled. A query runs in the request's
own thread under the worker's one :class:`Watchdog` thread; at the deadline the watchdog writes
the 503 straight onto the client's socket (``environ["gunicorn.socket"]``) and the worker process
then *retires*: it sends itself SIGTERM (gunicorn's graceful stop: no new connections, in-flight
requests may finish within ``graceful_timeout``), a timer ``os._exit``\\ s it if it lingers, and
the arbiter forks a fresh worker while the other workers keep answering. So the runaway
evaluation dies with its process shortly after the deadline (within ``RETIRE_GRACE_S``).
Outside gunicorn (tests, ``--debug``) queries run on ``deadline.with_deadline``'s thread pool.

With federation off, each worker cuts itself off the network when it starts (``server.sandbox``):
a ``SERVICE`` or ``LOAD`` the text check missed then fails instead of fetching.

The JSON access log is buffered (``metrics.log_access``); a worker writes what is left when it
exits or retires.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from . import create_app, metrics, request_line, sandbox
from .balance import Board
from .config import Settings
from .context import ON_TIMEOUT_KEY, SANDBOXED_KEY, WATCHDOG_KEY
from .errors import QueryAbandoned

log = logging.getLogger("k2d3.serve")

#: Seconds a retiring worker gets to finish its other in-flight requests.
RETIRE_GRACE_S = 3.0
#: Stack size of request threads (virtual memory; pages are only used when touched).
THREAD_STACK_BYTES = 64 * 1024 * 1024
#: How often the watchdog looks for overdue queries (so a 503 is at most this late).
WATCH_EVERY_S = 0.05


class Watchdog:
    """One thread per worker process that answers overdue queries and retires the worker.

    :meth:`run` evaluates in the caller's thread; registering and clearing its deadline is a
    dictionary update under a lock, so a request pays no thread handoff. Whichever of the
    request and the watchdog takes the entry first decides: the request returns its answer,
    or the watchdog calls ``answer`` (which writes the 503 on the socket) and ``on_expiry``.
    """

    def __init__(self, on_expiry: Callable[[], None]) -> None:
        self._on_expiry = on_expiry
        self._lock = threading.Lock()
        self._due: dict[int, tuple[float, Callable[[], None]]] = {}
        self._thread: threading.Thread | None = None

    def run(self, work: Callable[[], Any], timeout_s: float, *,
            answer: Callable[[], None]) -> Any:
        """Return ``work()``; raise QueryAbandoned if the watchdog answered meanwhile."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="k2d3-watchdog", daemon=True)
            self._thread.start()
        key = threading.get_ident()
        with self._lock:
            self._due[key] = (time.monotonic() + timeout_s, answer)
        try:
            value = work()
        except BaseException:
            if self._clear(key):
                raise
            raise QueryAbandoned(timeout_s) from None
        if not self._clear(key):
            raise QueryAbandoned(timeout_s)
        return value

    def _clear(self, key: int) -> bool:
        """Drop the request's deadline; False when the watchdog has taken it already."""
        with self._lock:
            return self._due.pop(key, None) is not None

    def _loop(self) -> None:
        while True:
            time.sleep(WATCH_EVERY_S)
            now = time.monotonic()
            with self._lock:
                late = [key for key, (deadline, _) in self._due.items() if deadline <= now]
                answers = [self._due.pop(key)[1] for key in late]
            for answer in answers:
                try:
                    answer()
                except Exception:  # a bug: log it, but keep watching the other requests
                    log.exception("the watchdog could not answer a timed-out request")
            if answers:
                self._on_expiry()


def retire(worker: Any, app: Flask) -> None:
    """Stop this worker process soon: graceful SIGTERM now, a hard exit after the grace."""
    if getattr(worker, "k2d3_retiring", False):
        return
    worker.k2d3_retiring = True
    log.warning("worker %s retires: a query ran past its deadline", os.getpid())
    metrics.flush_access_log()
    found = app.extensions.get("k2d3_metrics")
    if found is not None:
        found.dump()

    def hard_exit() -> None:
        metrics.flush_access_log()
        if found is not None:
            found.dump()
        os._exit(0)

    timer = threading.Timer(RETIRE_GRACE_S, hard_exit)
    timer.daemon = True
    timer.start()
    os.kill(os.getpid(), signal.SIGTERM)


def _pre_fork(server: Any, worker: Any) -> None:
    """In the arbiter: give the worker about to be forked a free slot on the board."""
    taken = {slot for w in server.WORKERS.values()
             if (slot := getattr(w, "k2d3_slot", None)) is not None}
    worker.k2d3_slot = server.app.board.free_slot(taken)


def _child_exit(server: Any, worker: Any) -> None:
    """In the arbiter: a worker has exited, so its slot no longer takes clients."""
    if getattr(worker, "k2d3_slot", None) is not None:
        server.app.board.leave(worker.k2d3_slot)


def _post_fork(server: Any, worker: Any) -> None:
    """In the new worker, still one thread: with federation off, cut it off the network."""
    worker.k2d3_sandboxed = not server.app.settings.federation_allow and sandbox.cut_network()


def _post_worker_init(worker: Any) -> None:
    app = worker.wsgi
    app.extensions[SANDBOXED_KEY] = getattr(worker, "k2d3_sandboxed", False)
    app.extensions[ON_TIMEOUT_KEY] = lambda: retire(worker, app)
    app.extensions[WATCHDOG_KEY] = Watchdog(app.extensions[ON_TIMEOUT_KEY])


def _worker_exit(_arbiter: Any, worker: Any) -> None:
    metrics.flush_access_log()
    found = getattr(worker, "wsgi", None) and worker.wsgi.extensions.get("k2d3_metrics")
    if found is not None:
        found.dump()


def gunicorn_options(settings: Settings, host: str, port: int) -> dict[str, Any]:
    """The gunicorn configuration for ``k2d3 serve`` (see the module docstring)."""
    return {
        "bind": f"{host}:{port}",
        "workers": settings.workers,
        "threads": settings.threads,
        "worker_class": "server.worker.K2D3Worker",
        "worker_connections": 1000,
        "backlog": 2048,
        "keepalive": 5,
        "timeout": int(settings.max_query_timeout) + 30,
        "graceful_timeout": int(RETIRE_GRACE_S),
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        "pre_fork": _pre_fork,
        "post_fork": _post_fork,
        "child_exit": _child_exit,
        "post_worker_init": _post_worker_init,
        "worker_exit": _worker_exit,
        "proc_name": "k2d3",
        "limit_request_line": request_line.gunicorn_limit(settings.max_request_line),
    }


class K2D3Server(BaseApplication):
    """gunicorn, programmatically: each worker builds its own app (and read-only store)."""

    def __init__(self, settings: Settings, options: dict[str, Any], metrics_dir: Path) -> None:
        self.settings = settings
        self.options = options
        self.metrics_dir = metrics_dir
        self.board = Board()  # made before the workers fork, so they share it
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        app = create_app(self.settings)
        app.config["K2D3_METRICS_DIR"] = str(self.metrics_dir)
        return app


def _access_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    access = logging.getLogger("k2d3.access")
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    access.propagate = False


def run(settings: Settings, host: str = "127.0.0.1", port: int = 8000,
        debug: bool = False) -> None:
    """Serve k2d3 on ``host:port`` until interrupted (gunicorn; Flask's server with ``debug``)."""
    _access_logging()
    # Request threads get deep stacks: pyoxigraph's parser recurses (see sparql_text.too_complex
    # for the limits that keep requests inside even the default 8 MiB). Forked workers inherit it.
    threading.stack_size(THREAD_STACK_BYTES)
    if debug:
        create_app(settings).run(host=host, port=port, debug=True, threaded=True)
        return
    metrics_dir = Path(tempfile.mkdtemp(prefix="k2d3-metrics-"))
    arbiter_pid = os.getpid()
    try:
        K2D3Server(settings, gunicorn_options(settings, host, port), metrics_dir).run()
    finally:
        # Workers are forked from here and leave through this frame too: only the arbiter
        # may remove the directory they share.
        if os.getpid() == arbiter_pid:
            shutil.rmtree(metrics_dir, ignore_errors=True)
