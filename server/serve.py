"""``k2d3 serve``: gunicorn (gthread workers) over the embedded store; Flask's server for --debug.

Sizing for a 2-core machine: ``settings.workers`` processes (default 2) x ``settings.threads``
threads, gunicorn's ``gthread`` worker (idle keep-alive connections wait in the poller, not in a
thread), a deep listen backlog and a generous ``worker_connections`` so 32 concurrent clients
queue instead of being refused. pyoxigraph releases the GIL while it evaluates, so threads
overlap query work; processes overlap the Python around it.

Timeouts that free the core: ``Store.query`` cannot be cancelled, so the query runs in a
thread (``execute.with_deadline``) and the request answers 503 at its deadline. The worker
process owning the runaway thread then *retires*: it sends itself SIGTERM (gunicorn's graceful
stop: no new connections, in-flight requests may finish within ``graceful_timeout``), a
watchdog ``os._exit``\\ s it if it lingers, and the arbiter forks a fresh worker while the other
workers keep answering. So the runaway evaluation dies with its process shortly after the
deadline (within ``RETIRE_GRACE_S``).
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from . import create_app
from .config import Settings

log = logging.getLogger("k2d3.serve")

#: Seconds a retiring worker gets to finish its other in-flight requests.
RETIRE_GRACE_S = 3.0


def retire(worker: Any, app: Flask) -> None:
    """Stop this worker process soon: graceful SIGTERM now, a hard exit after the grace."""
    if getattr(worker, "k2d3_retiring", False):
        return
    worker.k2d3_retiring = True
    log.warning("worker %s retires: a query ran past its deadline", os.getpid())
    found = app.extensions.get("k2d3_metrics")
    if found is not None:
        found.dump()

    def hard_exit() -> None:
        if found is not None:
            found.dump()
        os._exit(0)

    timer = threading.Timer(RETIRE_GRACE_S, hard_exit)
    timer.daemon = True
    timer.start()
    os.kill(os.getpid(), signal.SIGTERM)


def _post_worker_init(worker: Any) -> None:
    app = worker.wsgi
    app.extensions["k2d3_on_timeout"] = lambda: retire(worker, app)


def _worker_exit(_arbiter: Any, worker: Any) -> None:
    found = getattr(worker, "wsgi", None) and worker.wsgi.extensions.get("k2d3_metrics")
    if found is not None:
        found.dump()


def gunicorn_options(settings: Settings, host: str, port: int) -> dict[str, Any]:
    """The gunicorn configuration for ``k2d3 serve`` (see the module docstring)."""
    return {
        "bind": f"{host}:{port}",
        "workers": settings.workers,
        "threads": settings.threads,
        "worker_class": "gthread",
        "worker_connections": 1000,
        "backlog": 2048,
        "keepalive": 5,
        "timeout": int(settings.max_query_timeout) + 30,
        "graceful_timeout": int(RETIRE_GRACE_S),
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        "post_worker_init": _post_worker_init,
        "worker_exit": _worker_exit,
        "proc_name": "k2d3",
    }


class K2D3Server(BaseApplication):
    """gunicorn, programmatically: each worker builds its own app (and read-only store)."""

    def __init__(self, settings: Settings, options: dict[str, Any], metrics_dir: Path) -> None:
        self.settings = settings
        self.options = options
        self.metrics_dir = metrics_dir
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
