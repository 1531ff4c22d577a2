"""Request metrics for Prometheus (``prometheus_client``), and the structured JSON access log.

Each request is counted by route, method and status, with errors, query timeouts and a
latency histogram by route. Under gunicorn several worker processes serve one port, so a
scrape of ``/metrics`` must not see only the worker that happened to answer: ``k2d3 serve``
gives the workers one empty temporary folder (``app.config["K2D3_METRICS_DIR"]``) and
``prometheus_client`` runs in its multiprocess mode
(https://prometheus.github.io/client_python/multiprocess/): each worker's counters live in
memory-mapped files ``<kind>_<pid>.db`` there, written as they change, and ``/metrics`` merges
every file. Counters and histograms of workers that have exited stay (the library keeps them:
``mark_process_dead`` only drops *live* gauges), so totals never go backwards when a worker is
retired, replaced or killed; ``k2d3_worker_processes`` is a ``livesum`` gauge, so it counts the
workers serving now. Without the folder (Flask's test client, ``k2d3 serve --debug``) each app
has its own registry in memory. The exposition and its content type are the library's.

Exported (``route`` is the Flask rule, or the endpoint's path, or ``unmatched``):

- ``k2d3_http_requests_total{route,method,status}``: requests answered;
- ``k2d3_http_errors_total{route,status}``: of those, statuses >= 400;
- ``k2d3_query_timeouts_total{route}``: queries stopped at their time limit;
- ``k2d3_query_memory_stops_total{route}``: queries stopped because their process passed its
  memory limit (``K2D3_WORKER_MEMORY_MIB``; the process is then replaced);
- ``k2d3_http_request_duration_seconds{route}``: a histogram of the time to the response's
  first byte (buckets ``BUCKETS``, plus ``_sum`` and ``_count``);
- ``k2d3_worker_processes``: worker processes serving (1 without gunicorn).

Both are cheap on the request's path: :meth:`Metrics.observe` bumps three or four values
(each a write into the mapped file), and :func:`log_access` only queues a tuple; a background
thread formats the JSON lines and hands them to the ``k2d3.access`` logger as one record every
``LOG_EVERY_S`` (and :func:`flush_access_log` at exit).
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections import deque
from json.encoder import encode_basestring as _json
from pathlib import Path
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    values,
)
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from server.http.private_folder import private_folder

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
LOG_EVERY_S = 0.5
#: The variable through which ``prometheus_client`` finds the folder in multiprocess mode.
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

access_log = logging.getLogger("k2d3.access")
# ``_created`` series exist only in one mode (the files do not hold them): leave them out of
# both, so a scrape has the same series with or without gunicorn.
disable_created_metrics()


def for_app(app: Any) -> Metrics:
    """The Flask ``app``'s Metrics, made on first use (in multiprocess mode when
    ``server.serving.serve`` has set ``K2D3_METRICS_DIR``)."""
    found: Metrics | None = app.extensions.get("k2d3_metrics")
    if found is None:
        directory = app.config.get("K2D3_METRICS_DIR")
        found = app.extensions["k2d3_metrics"] = Metrics(Path(directory) if directory else None)
    return found


def query_hash(text: str) -> str:
    """A short, stable fingerprint of a query for the access log (not the query itself)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def multiprocess(directory: Path) -> None:
    """Put this process, and those it forks from now on, in ``prometheus_client``'s
    multiprocess mode over ``directory``.

    The library chooses how values are kept when it is first imported, from
    ``PROMETHEUS_MULTIPROC_DIR``; ``k2d3 serve`` has imported it long before it makes the
    folder, so the choice is made again here, as the library's own tests do. Metrics made
    before this call keep counting in memory only.

    The folder is made again if it has gone (a cleaner of the temporary folder may remove it
    while the server runs): without it no worker could start, and the counts of the workers
    before are lost with it anyway (those still running count on in files no longer in it,
    unseen until they are replaced). One another user has made in its place is refused
    (:func:`server.http.private_folder.private_folder`).
    """
    private_folder(directory)
    os.environ[MULTIPROC_ENV] = str(directory)
    if not getattr(values.ValueClass, "_multiprocess", False):
        values.ValueClass = values.MultiProcessValue()


def process_dead(pid: int, directory: Path) -> None:
    """In the arbiter, once worker ``pid`` has exited: drop its live gauges (it no longer
    counts as serving); its counters and histograms stay in the totals."""
    mark_process_dead(pid, str(directory))


class Metrics:
    """One app's counters; thread-safe (the library locks each value)."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory
        if directory is not None:
            multiprocess(directory)
        #: Where the metrics are registered: None in multiprocess mode (the library's advice:
        #: a scrape reads the files through a registry of its own, see :meth:`exposition`).
        self.registry = None if directory is not None else CollectorRegistry()
        registry = self.registry
        self.requests = Counter("k2d3_http_requests", "HTTP requests answered, by route, "
                                "method, status.", ["route", "method", "status"],
                                registry=registry)
        self.errors = Counter("k2d3_http_errors", "HTTP responses with status >= 400, by route.",
                              ["route", "status"], registry=registry)
        self.timeouts = Counter("k2d3_query_timeouts", "Queries stopped at their time limit, "
                                "by route.", ["route"], registry=registry)
        self.memory_stops = Counter("k2d3_query_memory_stops", "Queries stopped because their "
                                    "process passed its memory limit, by route.", ["route"],
                                    registry=registry)
        self.durations = Histogram("k2d3_http_request_duration_seconds", "Time to the "
                                   "response's first byte.", ["route"], buckets=BUCKETS,
                                   registry=registry)
        Gauge("k2d3_worker_processes", "Worker processes serving.", multiprocess_mode="livesum",
              registry=registry).set(1)
        self._children: dict[tuple[str, str, int], tuple[Any, Any, Any]] = {}

    def observe(self, route: str, method: str, status: int, seconds: float,
                timed_out: bool = False, over_memory: bool = False) -> None:
        """Count one finished request."""
        key = (route, method, status)
        children = self._children.get(key)
        if children is None:  # the library's label lookup, once per combination
            children = self._children[key] = (
                self.requests.labels(route, method, str(status)),
                self.errors.labels(route, str(status)) if status >= 400 else None,
                self.durations.labels(route))
        requests, errors, durations = children
        requests.inc()
        if errors is not None:
            errors.inc()
        if timed_out:
            self.timeouts.labels(route).inc()
        if over_memory:
            self.memory_stops.labels(route).inc()
        durations.observe(seconds)

    def exposition(self) -> tuple[bytes, str]:
        """The Prometheus text of every worker's metrics (or this app's), and its media type."""
        registry = self.registry
        if registry is None:
            registry = CollectorRegistry()
            MultiProcessCollector(registry, path=str(self.directory))
        return generate_latest(registry), CONTENT_TYPE_LATEST


_pending: deque[tuple[Any, ...]] = deque()
_log_lock = threading.Lock()
_log_thread: list[threading.Thread] = []


def log_access(method: str, route: str, path: str, status: int, seconds: float,
               query_digest: str | None) -> None:
    """Queue one JSON access-log line; never headers, so never the update token."""
    if not access_log.isEnabledFor(logging.INFO):
        return
    _pending.append((time.time(), method, route, path, status, seconds, query_digest))
    if not _log_thread:
        with _log_lock:
            if not _log_thread:
                _log_thread.append(threading.Thread(target=_log_loop, name="k2d3-log",
                                                    daemon=True))
                _log_thread[0].start()


def _log_loop() -> None:
    while True:
        time.sleep(LOG_EVERY_S)
        flush_access_log()


def flush_access_log() -> None:
    """Write the queued access-log lines, as one log record."""
    lines, pid = [], os.getpid()
    while True:
        try:
            ts, method, route, path, status, seconds, digest = _pending.popleft()
        except IndexError:
            break
        extra = f', "query_hash": "{digest}"' if digest else ""
        lines.append(f'{{"ts": {ts:.3f}, "method": {_json(method)}, "route": {_json(route)}, '
                     f'"path": {_json(path)}, "status": {status}, '
                     f'"duration_ms": {seconds * 1000:.3f}, "pid": {pid}{extra}}}')
    if lines:
        access_log.info("\n".join(lines))


def _after_fork() -> None:
    _pending.clear()
    _log_thread.clear()


os.register_at_fork(after_in_child=_after_fork)
