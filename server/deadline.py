"""Run a piece of work within a deadline, for callers outside gunicorn's watchdog.

``Store.query`` cannot be cancelled, so :func:`with_deadline` runs the work on a reusable
daemon thread and stops *waiting* at the deadline (raising QueryTimeout); the thread is
abandoned. That is only for the Flask test client and ``k2d3 serve --debug``: under gunicorn
every request is watched as a whole and queries run through ``server.watchdog.Watchdog.
evaluate``, which stops a runaway by retiring its worker process. Both have the
:class:`Runner` shape.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any, Protocol

from .errors import QueryTimeout


class Runner(Protocol):
    """Runs ``work`` within ``timeout_s``: :func:`with_deadline` or ``Watchdog.evaluate``.

    ``key`` (``admission.query_key``) marks a client's query, bound by the slots for heavy
    queries unless known quick; ``writes`` marks an update. Only the watchdog uses them.
    """

    def __call__(self, work: Callable[[], Any], timeout_s: float, *, key: int | None = None,
                 writes: bool = False) -> Any: ...



class _DaemonPool:
    """Reusable daemon threads for query evaluation.

    A fresh thread per query costs its start and RocksDB's per-thread set-up (~0.2 ms); pool
    threads are reused. They are daemons (unlike ``concurrent.futures``'), so a runaway query
    never holds up the process's exit. A thread stuck in a runaway query is simply not idle:
    the next task gets a new thread.
    """

    def __init__(self) -> None:
        self._tasks: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0

    def submit(self, task: Callable[[], None]) -> None:
        with self._lock:
            spawn = self._idle == 0
            if not spawn:
                self._idle -= 1
        self._tasks.put(task)
        if spawn:
            threading.Thread(target=self._loop, name="k2d3-query", daemon=True).start()

    def release(self) -> None:
        """Called by a task on its pool thread just before it signals its result, so that
        the caller's next task finds this thread idle instead of spawning another."""
        with self._lock:
            self._idle += 1

    def _loop(self) -> None:
        while True:
            self._tasks.get()()


_POOL = _DaemonPool()


def with_deadline(work: Callable[[], Any], timeout_s: float, *, key: int | None = None,
                  writes: bool = False) -> Any:
    """Run ``work`` on a pool thread; return its value or raise its error or QueryTimeout
    (``key`` and ``writes`` are for the watchdog's :class:`Runner` and ignored here)."""
    box: dict[str, Any] = {}
    done = threading.Event()

    def target() -> None:
        try:
            box["value"] = work()
        except BaseException as exc:  # re-raised in the caller's thread below
            # Drop the traceback here: its frames hold pyoxigraph objects that must be
            # freed on the thread that made them.
            exc.__context__ = None
            box["error"] = exc.with_traceback(None)
        finally:
            _POOL.release()
            done.set()

    _POOL.submit(target)
    if not done.wait(timeout_s):
        raise QueryTimeout(timeout_s)
    if "error" in box:
        raise box["error"]
    return box["value"]
