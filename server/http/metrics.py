"""Request metrics in the Prometheus text format, and the structured JSON access log.

Each process counts its own requests (by route, method and status), errors, query timeouts
and a latency histogram. Under gunicorn several worker processes serve one port, so a scrape
of ``/metrics`` must not see only the worker that happened to answer: ``server.serving.serve`` gives
every worker a shared directory (``app.config["K2D3_METRICS_DIR"]``) where each one writes its
counters as ``<pid>.json`` (atomically: from a background thread within half a second of a
change, and when it exits), and ``/metrics`` adds up all the files with its own live
counters. Files of exited workers stay, so counters never go backwards when a worker is
replaced. Exposition format:
https://prometheus.io/docs/instrumenting/exposition_formats/

Both are cheap on the request's path: :meth:`Metrics.observe` bumps one histogram bucket
(cumulative counts are made when dumping), and :func:`log_access` only queues a tuple; a
background thread formats the JSON lines and hands them to the ``k2d3.access`` logger as one
record every ``LOG_EVERY_S`` (and :func:`flush_access_log` at exit).
"""

from __future__ import annotations

import bisect
import hashlib
import json
import logging
import os
import threading
import time
from collections import Counter, deque
from json.encoder import encode_basestring as _json
from pathlib import Path
from typing import Any

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
DUMP_EVERY_S = 0.5
LOG_EVERY_S = 0.5

access_log = logging.getLogger("k2d3.access")


def for_app(app: Any) -> Metrics:
    """The Flask ``app``'s Metrics, made on first use (writing to ``K2D3_METRICS_DIR`` when
    ``server.serving.serve`` has set it)."""
    found: Metrics | None = app.extensions.get("k2d3_metrics")
    if found is None:
        directory = app.config.get("K2D3_METRICS_DIR")
        found = app.extensions["k2d3_metrics"] = Metrics(Path(directory) if directory else None)
    return found


def query_hash(text: str) -> str:
    """A short, stable fingerprint of a query for the access log (not the query itself)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


class Metrics:
    """One process's counters; thread-safe."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory
        self._lock = threading.Lock()
        self.requests: Counter[tuple[str, str, str]] = Counter()
        self.errors: Counter[tuple[str, str]] = Counter()
        self.timeouts: Counter[str] = Counter()
        self.hist: Counter[tuple[str, int]] = Counter()
        """(route, index of the smallest bucket bound >= the duration) -> count."""
        self.sums: dict[str, float] = {}
        self._dirty = False
        self._flusher: threading.Thread | None = None

    def observe(self, route: str, method: str, status: int, seconds: float,
                timed_out: bool = False) -> None:
        """Count one finished request."""
        with self._lock:
            self.requests[(route, method, str(status))] += 1
            if status >= 400:
                self.errors[(route, str(status))] += 1
            if timed_out:
                self.timeouts[route] += 1
            self.hist[(route, bisect.bisect_left(BUCKETS, seconds))] += 1
            self.sums[route] = self.sums.get(route, 0.0) + seconds
            self._dirty = True
        if self.directory is not None and self._flusher is None:
            self._flusher = threading.Thread(target=self._flush_loop, name="k2d3-metrics",
                                             daemon=True)
            self._flusher.start()

    def _flush_loop(self) -> None:
        while True:
            time.sleep(DUMP_EVERY_S)
            if self._dirty:
                self.dump()

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": [[*k, v] for k, v in self.requests.items()],
                "errors": [[*k, v] for k, v in self.errors.items()],
                "timeouts": [[k, v] for k, v in self.timeouts.items()],
                "buckets": self._cumulative(),
                "sums": [[k, v] for k, v in self.sums.items()],
            }

    def _cumulative(self) -> list[list[Any]]:
        """The histogram as Prometheus buckets: [route, "le", count of durations <= le]."""
        out = []
        for route in {route for route, _ in self.hist}:
            total = 0
            for index, bound in enumerate([*map(repr, BUCKETS), "+Inf"]):
                total += self.hist.get((route, index), 0)
                out.append([route, bound, total])
        return out

    def dump(self) -> None:
        """Write this process's counters to ``<directory>/<pid>.json`` (atomic rename)."""
        if self.directory is None:
            return
        self._dirty = False
        path = self.directory / f"{os.getpid()}.json"
        tmp = path.with_suffix(f".tmp{threading.get_ident()}")
        try:
            tmp.write_text(json.dumps(self.state()), encoding="utf-8")
            os.replace(tmp, path)
        except OSError:  # the directory is gone: the server is shutting down
            return

    def collect(self) -> list[dict[str, Any]]:
        """This process's live state plus every other process's last dump."""
        states = [self.state()]
        if self.directory is not None:
            own = f"{os.getpid()}.json"
            for path in sorted(self.directory.glob("*.json")):
                if path.name != own:
                    try:
                        states.append(json.loads(path.read_text(encoding="utf-8")))
                    except (OSError, ValueError):
                        continue
        return states


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _sum(states: list[dict[str, Any]], key: str) -> dict[tuple[str, ...], float]:
    total: dict[tuple[str, ...], float] = {}
    for state in states:
        for *labels, value in state.get(key, []):
            total[tuple(labels)] = total.get(tuple(labels), 0) + value
    return total


def render(states: list[dict[str, Any]], processes: int) -> str:
    """The Prometheus text exposition of the summed ``states``."""
    lines = ["# HELP k2d3_http_requests_total HTTP requests answered, by route, method, status.",
             "# TYPE k2d3_http_requests_total counter"]
    for (route, method, status), n in sorted(_sum(states, "requests").items()):
        lines.append(f'k2d3_http_requests_total{{route="{_label(route)}",method="{method}",'
                     f'status="{status}"}} {n:g}')
    lines += ["# HELP k2d3_http_errors_total HTTP responses with status >= 400, by route.",
              "# TYPE k2d3_http_errors_total counter"]
    for (route, status), n in sorted(_sum(states, "errors").items()):
        lines.append(f'k2d3_http_errors_total{{route="{_label(route)}",status="{status}"}} {n:g}')
    lines += ["# HELP k2d3_query_timeouts_total Queries stopped at their time limit, by route.",
              "# TYPE k2d3_query_timeouts_total counter"]
    for (route,), n in sorted(_sum(states, "timeouts").items()):
        lines.append(f'k2d3_query_timeouts_total{{route="{_label(route)}"}} {n:g}')
    lines += ["# HELP k2d3_http_request_duration_seconds Time to the response's first byte.",
              "# TYPE k2d3_http_request_duration_seconds histogram"]
    buckets, sums = _sum(states, "buckets"), _sum(states, "sums")
    for (route,) in sorted(sums):
        for bound in [repr(b) for b in BUCKETS] + ["+Inf"]:
            lines.append(f'k2d3_http_request_duration_seconds_bucket{{route="{_label(route)}",'
                         f'le="{bound}"}} {buckets.get((route, bound), 0):g}')
        lines.append(f'k2d3_http_request_duration_seconds_sum{{route="{_label(route)}"}} '
                     f'{sums[(route,)]:.6f}')
        lines.append(f'k2d3_http_request_duration_seconds_count{{route="{_label(route)}"}} '
                     f'{buckets.get((route, "+Inf"), 0):g}')
    lines += ["# HELP k2d3_worker_processes Worker processes that have reported metrics.",
              "# TYPE k2d3_worker_processes gauge", f"k2d3_worker_processes {processes}"]
    return "\n".join(lines) + "\n"


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
