"""``k2d3 serve``: gunicorn over the embedded store; Flask's server for --debug.

Sizing for a 2-core machine: ``settings.workers`` processes (default 2) x ``settings.threads``
threads, gunicorn's ``gthread`` worker extended by ``server.serving.worker.K2D3Worker`` (a request
is read in the poller before a thread is given to it; idle keep-alive connections wait in the
poller, not in a thread; accepting is balanced across the workers), a deep listen backlog and
a generous ``worker_connections`` so 32 concurrent clients queue instead of being refused.
pyoxigraph releases the GIL while it evaluates, so threads overlap query work; processes
overlap the Python around it.

Time limits that free the core: ``Store.query`` cannot be cancelled. Every request runs in its
own thread under the worker's one watchdog (``server.sparql.watchdog``, installed here): at the
deadline the watchdog writes the 503 straight onto the client's socket, and if the request's
thread is still busy a moment later (a runaway evaluation) the worker process *retires*
(:func:`retire`): it stops accepting at once, finishes what it holds within
``RETIRE_GRACE_S`` (anything still unanswered then, queued or running, is answered ``503`` with
``Retry-After``, never cut off), and exits; the arbiter forks a fresh worker while the others
keep answering. Retirements are rationed (``balance.Board.may_retire``): one worker at a time,
and at most one every ``RETIRE_EVERY_S`` across the server, so clients that keep sending
runaway queries cannot keep the workers restarting; meanwhile their stuck queries keep their
slots for heavy queries (``server.sparql.admission``), so further unknown queries get an immediate
503 while quick ones are answered. Updates holding the writer lock are not rationed in time.
A worker starts in about 0.3 s here (``create_app`` 0.15 s and its first query).

Memory the same way: a worker whose RSS passes ``settings.worker_memory_mib`` (a query
materialising a join, a sort or a group over millions of rows) has its requests answered by
the watchdog and is replaced at once (:func:`replace_now`), not rationed: the machine's memory
is at stake, and an evaluation gives its memory back only when its process ends.

With federation off, each worker cuts itself off the network when it starts
(``server.sparql.sandbox``): a ``SERVICE`` or ``LOAD`` the text check missed then fails instead of
fetching.

The JSON access log is buffered (``metrics.log_access``); a worker writes what is left when it
exits or retires. Metrics are ``prometheus_client``'s in multiprocess mode
(``server.http.metrics``): the workers share an empty temporary folder made here for this run
(removed when the server stops), and the arbiter marks each exited worker dead there
(``child_exit``).
"""

from __future__ import annotations

import errno
import functools
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from server import create_app
from server.config import Settings
from server.http import metrics
from server.http.context import SANDBOXED_KEY, WATCHDOG_KEY
from server.serving import gthread_check, request_line
from server.serving.balance import Board
from server.sparql import sandbox
from server.sparql.admission import QuickTable, Slots
from server.sparql.watchdog import Watchdog

log = logging.getLogger("k2d3.serve")

#: Seconds a retiring worker gets to finish its other in-flight requests.
RETIRE_GRACE_S = 3.0
#: Retirements across the server are at least this many seconds apart (unless urgent).
RETIRE_EVERY_S = 5.0
#: A worker over its memory exits this soon (its answers are written; its evaluations only
#: end with it, and keep taking memory meanwhile).
MEMORY_EXIT_S = 0.5
#: Stack size of request threads (virtual memory; pages are only used when touched).
THREAD_STACK_BYTES = 64 * 1024 * 1024

#: The worker of ``k2d3 serve``, and gunicorn's own that stands in for it when the installed
#: gunicorn lacks the internals it builds on (``server.serving.gthread_check``).
K2D3_WORKER = "server.serving.worker.K2D3Worker"
STOCK_WORKER = "gthread"

__all__ = ["Watchdog", "gunicorn_options", "retire", "run", "worker_class"]


@functools.cache
def worker_class() -> str:
    """``K2D3_WORKER``, or ``STOCK_WORKER`` (said once, as a warning) when gunicorn has changed
    under it: the server then still serves, without the worker's guarantees."""
    lacking = gthread_check.missing()
    if not lacking:
        return K2D3_WORKER
    log.warning("the installed gunicorn lacks what %s builds on (%s): serving with gunicorn's "
                "stock gthread worker, so slow clients hold threads and keep-alive clients are "
                "not balanced between processes", K2D3_WORKER, "; ".join(lacking))
    return STOCK_WORKER


def retire(worker: Any, urgent: bool = False) -> bool:
    """Retire this worker process if the board allows it now; whether it is retiring.

    Stops accepting at once (graceful SIGTERM: gunicorn's loop ends, then the worker answers
    or finishes what it holds, see ``K2D3Worker.run``); a timer exits the process if that
    lingers. ``urgent``: a stuck thread holds the writer lock, so do not wait for the interval.
    """
    if getattr(worker, "k2d3_retiring", False):
        return True
    board, slot = getattr(worker.app, "board", None), getattr(worker, "k2d3_slot", None)
    workers = getattr(getattr(worker.app, "settings", None), "workers", 1)
    if board is not None and slot is not None and not board.may_retire(
            slot, workers, RETIRE_EVERY_S, urgent=urgent):
        return False
    log.warning("worker %s retires: a request is stuck past its deadline", os.getpid())
    _leave(worker, RETIRE_GRACE_S + 2.0)
    return True


def replace_now(worker: Any) -> None:
    """End this worker within ``MEMORY_EXIT_S``, whatever the board says: it uses more memory
    than it may (the watchdog has answered what it held; the arbiter starts another)."""
    _leave(worker, MEMORY_EXIT_S)


def _leave(worker: Any, exit_after_s: float) -> None:
    """Stop accepting now (graceful SIGTERM, off the board) and exit within ``exit_after_s``."""
    worker.k2d3_retiring = True
    metrics.flush_access_log()  # the metrics are written as they change
    timer = threading.Timer(exit_after_s, getattr(worker, "exit_now", _exit_now))
    timer.daemon = True
    timer.start()
    if hasattr(worker, "leave_board"):
        worker.leave_board()
    os.kill(os.getpid(), signal.SIGTERM)


def _exit_now() -> None:
    """End a stock gthread worker that lingers while retiring (``K2D3Worker.exit_now`` also
    answers what it holds)."""
    metrics.flush_access_log()
    os._exit(0)


def _pre_fork(server: Any, worker: Any) -> None:
    """In the arbiter: give the worker about to be forked a free slot on the board."""
    taken = {slot for w in server.WORKERS.values()
             if (slot := getattr(w, "k2d3_slot", None)) is not None}
    worker.k2d3_slot = server.app.board.free_slot(taken)


def _child_exit(server: Any, worker: Any) -> None:
    """In the arbiter: a worker has exited, so its slot no longer takes clients, and it no
    longer counts as serving in the metrics (its counts stay)."""
    if getattr(worker, "k2d3_slot", None) is not None:
        server.app.board.leave(worker.k2d3_slot)
    metrics.process_dead(worker.pid, server.app.metrics_dir)


def _post_fork(server: Any, worker: Any) -> None:
    """In the new worker, still one thread: with federation off, cut it off the network (not
    with a remote engine as the backend, which the worker must reach: then the request's text
    is checked strictly, as with federation on)."""
    settings = server.app.settings
    worker.k2d3_sandboxed = (not settings.federation_allow and not settings.backend
                             and sandbox.cut_network())


def _post_worker_init(worker: Any) -> None:
    """In the new worker: its watchdog, with this worker's slots for heavy queries."""
    app = worker.wsgi
    settings = worker.app.settings
    app.extensions[SANDBOXED_KEY] = getattr(worker, "k2d3_sandboxed", False)
    slots = Slots(settings.heavy_queries) if settings.heavy_queries > 0 else None  # 0: off
    dog = Watchdog(lambda urgent: retire(worker, urgent), slots, worker.app.quick,
                   on_answered=getattr(worker, "forget", None),
                   memory_limit_kib=settings.worker_memory_mib * 1024,
                   on_memory=lambda: replace_now(worker))
    app.extensions[WATCHDOG_KEY] = worker.k2d3_watchdog = dog
    worker.k2d3_flush = metrics.flush_access_log


def _worker_exit(_arbiter: Any, _worker: Any) -> None:
    metrics.flush_access_log()


class PortTaken(OSError):
    """Something already listens on the address ``k2d3 serve`` was asked to bind."""


def check_port(host: str, port: int) -> None:
    """Raise :class:`PortTaken` when ``host:port`` cannot be bound (gunicorn would otherwise
    retry five times, a second apart, and then print a traceback)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                raise PortTaken(exc.errno, f"port {port} on {host} is not free") from None
            raise


def _when_ready(server: Any) -> None:
    """In the arbiter, once gunicorn listens: say where, on standard output."""
    host, port = server.cfg.bind[0].rsplit(":", 1)
    shown = f"[{host}]" if ":" in host else host
    print(f"k2d3 is serving on http://{shown}:{port}/ ({server.cfg.workers} processes); "
          "Ctrl-C stops it", flush=True)


def gunicorn_options(settings: Settings, host: str, port: int) -> dict[str, Any]:
    """The gunicorn configuration for ``k2d3 serve`` (see the module docstring)."""
    return {
        "bind": f"{host}:{port}",
        "workers": settings.workers,
        "threads": settings.threads,
        "worker_class": worker_class(),
        "worker_connections": 1000,
        "backlog": 2048,
        "keepalive": 5,
        "timeout": int(settings.max_query_timeout) + 30,
        "graceful_timeout": int(RETIRE_GRACE_S),
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        "when_ready": _when_ready,
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
        self.quick = QuickTable()  # the same
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        app = create_app(self.settings)
        app.config["K2D3_METRICS_DIR"] = str(self.metrics_dir)
        metrics.for_app(app)  # this worker counts as serving from now on
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
    check_port(host, port)
    if debug:
        create_app(settings).run(host=host, port=port, debug=True, threaded=True)
        return
    metrics_dir = Path(tempfile.mkdtemp(prefix="k2d3-metrics-"))
    answers_dir = None
    if settings.answer_cache_bytes > 0 and not settings.answer_cache_dir:
        # The workers' shared answers (``server.http.answer_files``): private, made per run.
        answers_dir = Path(tempfile.mkdtemp(prefix="k2d3-answers-"))
        settings = replace(settings, answer_cache_dir=str(answers_dir))
    arbiter_pid = os.getpid()
    try:
        K2D3Server(settings, gunicorn_options(settings, host, port), metrics_dir).run()
    finally:
        # Workers are forked from here and leave through this frame too: only the arbiter
        # may remove the directories they share.
        if os.getpid() == arbiter_pid:
            shutil.rmtree(metrics_dir, ignore_errors=True)
            if answers_dir is not None:
                shutil.rmtree(answers_dir, ignore_errors=True)
