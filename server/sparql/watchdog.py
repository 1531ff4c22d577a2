"""Every request's time limit in a gunicorn worker, kept by one watchdog thread per process.

``Store.query`` cannot be cancelled, and a page may run several queries, so the limit is kept
on the request, not on each query: :class:`Watched` (WSGI middleware) registers every request
when it comes in, with the default limit (``settings.query_timeout``); a query of ``/sparql``
may set its own (``timeout=``, up to the maximum) through :meth:`Watchdog.evaluate`, which
runs client queries and applies the bound on heavy ones (``server.sparql.admission``). The watch
ends when the app returns its response (a body streamed afterwards, like a dump, is not
limited: it is the client's reading speed, not work).

At the deadline the watchdog answers the request itself: ``503 query timed out`` written
straight on the client's socket, which it then shuts, so whatever the request's thread writes
later is lost. A thread that is still busy a moment later is *stuck* (in all likelihood a
pyoxigraph evaluation, which only ends with its process): the watchdog then asks, every
tick, for the worker to retire (``on_stuck``, see ``server.serving.serve.retire``), which frees the
core; a thread that finishes by itself needs nothing. Each registration and clearing is a
dictionary update under a lock, in the request's own thread: no thread handoff per request.

The watchdog also keeps the process's memory: every tick it reads the process's RSS
(``/proc/self/statm``, microseconds), and past ``memory_limit_kib``, once the heap has given
back what ended evaluations freed (``malloc_trim``), it answers at once every
request in progress, the queries being evaluated ``503`` :class:`~server.errors.MemoryLimit`
and the others ``503`` :class:`Restarting`, and has the process replaced (``on_memory``): an
evaluation cannot be stopped, and the only way to give its memory back is to end the process.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from server.errors import K2D3Error, MemoryLimit, QueryAbandoned, QueryTimeout
from server.sparql.admission import QUICK_S, QuickTable, Slots
from server.sparql.memory import give_back_freed_memory, own_rss_kib

log = logging.getLogger("k2d3.watchdog")

#: How often the watchdog looks for overdue requests (so a 503 is at most this late).
WATCH_EVERY_S = 0.05
#: A thread still busy this long after its request was answered late is stuck.
STUCK_AFTER_S = 0.25
#: A request's wait before its work (:meth:`Watchdog.time_left`) ends this long before its
#: deadline, so that its own thread answers it.
WAIT_MARGIN_S = 0.2


class Restarting(K2D3Error):
    """The worker is exiting with this request unanswered: it may be sent again at once."""

    status, title = 503, "Service Unavailable"

    def __init__(self) -> None:
        super().__init__("this server process is restarting; send the request again",
                         headers={"Retry-After": "1"})


class Watch:
    """One request in progress: its limit and how to answer it from another thread."""

    __slots__ = ("answer", "answered_at", "clock", "cpu", "deadline", "evaluating", "key",
                 "limit", "since", "slot", "sock", "started", "writes")

    def __init__(self, limit: float, answer: Callable[[K2D3Error], None],
                 sock: Any = None) -> None:
        self.started = time.monotonic()
        self.limit = limit
        self.deadline = self.started + limit
        self.answer = answer
        """Writes an error response on the request's socket and shuts it (any thread)."""
        self.sock = sock
        self.answered_at: float | None = None
        self.key: int | None = None
        """The client query being evaluated, while it is (see :meth:`Watchdog.evaluate`)."""
        self.since = 0.0
        self.clock: int | None = None
        """The CPU-time clock of the request's thread (``time.pthread_getcpuclockid``)."""
        self.cpu = 0.0
        self.slot = False
        self.writes = False
        self.evaluating = False
        """A query is being evaluated for this request (:meth:`Watchdog.evaluate`)."""


class Watchdog:
    """The watchdog of one worker process (see the module docstring).

    ``on_stuck(urgent)`` is called on the watchdog's thread while some thread is stuck, until
    it returns True (the worker retires); ``urgent`` when one of them holds the writer lock.
    ``slots`` bounds heavy client queries; ``quick`` remembers which are quick.
    ``on_answered(sock)`` is told of each request answered late (the worker stops counting
    its connection). Past ``memory_limit_kib`` of ``rss_kib()`` (0: no limit), every request
    is answered and ``on_memory()`` is called once (the process is replaced).
    """

    def __init__(self, on_stuck: Callable[[bool], bool], slots: Slots | None = None,
                 quick: QuickTable | None = None,
                 on_answered: Callable[[Any], None] | None = None, *,
                 memory_limit_kib: int = 0, on_memory: Callable[[], None] | None = None,
                 rss_kib: Callable[[], int] = own_rss_kib,
                 trim: Callable[[], None] = give_back_freed_memory) -> None:
        self._on_stuck = on_stuck
        self._on_answered = on_answered
        self.memory_limit_kib = memory_limit_kib
        self._on_memory = on_memory
        self._rss_kib = rss_kib
        self._trim = trim
        self.over_memory = False
        self.slots = slots or Slots(1 << 30)
        self.quick = quick if quick is not None else QuickTable(1024)
        self._lock = threading.Lock()
        self._watches: dict[int, Watch] = {}
        self._late: dict[int, Watch] = {}          # answered late, thread still busy
        self._thread: threading.Thread | None = None
        self._clocks: dict[int, int] = {}
        self.retiring = False

    def begin(self, limit: float, answer: Callable[[K2D3Error], None],
              sock: Any = None) -> Watch:
        """Watch the calling thread's request from now, for ``limit`` seconds."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="k2d3-watchdog", daemon=True)
            self._thread.start()
        watch = Watch(limit, answer, sock)
        with self._lock:
            self._watches[threading.get_ident()] = watch
        return watch

    def end(self, watch: Watch) -> bool:
        """Stop watching; False when the watchdog has answered the request already."""
        key = threading.get_ident()
        with self._lock:
            mine = self._watches.get(key) is watch
            if mine:
                del self._watches[key]
            elif self._late.get(key) is watch:
                del self._late[key]
        if watch.slot:
            watch.slot = False
            self.slots.give_back(key)
        return mine

    def evaluate(self, work: Callable[[], Any], timeout_s: float, *, key: int | None = None,
                 writes: bool = False) -> Any:
        """Run a client's query (``work``) in the calling thread within ``timeout_s`` of its
        request's start: the :data:`~server.sparql.deadline.Runner` under gunicorn.

        ``key`` (``admission.query_key``) marks a client query that is bound by the slots
        for heavy queries unless known quick; ``writes`` an update (it holds the writer lock).

        Raises:
            admission.Overloaded: not known quick, and every slot is taken.
            QueryAbandoned: the watchdog answered the request meanwhile.
        """
        watch = self._current()
        if watch is None:
            if self._answered_late():  # answered 503 while it waited (a lock, a claim)
                raise QueryAbandoned(timeout_s)
            # not under the middleware (a test): watch this call alone
            return self.run(work, timeout_s, answer=lambda _err: None, key=key)
        watch.limit = timeout_s
        watch.deadline = watch.started + timeout_s
        watch.writes = writes
        if key is not None and key not in self.quick:
            self.slots.take(threading.get_ident(), watch.deadline)
            watch.slot = True
        watch.since = started = time.monotonic()
        watch.cpu = time.thread_time()
        watch.clock = self._clock()
        watch.key = key
        watch.evaluating = True
        try:
            value = work()
        finally:
            watch.evaluating = False
            watch.key = None
            if watch.slot:
                watch.slot = False
                self.slots.give_back(threading.get_ident())
        if watch.answered_at is not None:
            raise QueryAbandoned(timeout_s)
        # Within QUICK_S of wall time is within it of CPU time: no second system call then.
        if key is not None and (time.monotonic() - started < QUICK_S
                                or time.thread_time() - watch.cpu < QUICK_S):
            self.quick.add(key)
        return value

    def run(self, work: Callable[[], Any], timeout_s: float, *,
            answer: Callable[[K2D3Error], None], key: int | None = None) -> Any:
        """Watch one piece of work alone (begin, :meth:`evaluate`, end)."""
        watch = self.begin(timeout_s, answer)
        try:
            value = self.evaluate(work, timeout_s, key=key)
        except QueryAbandoned:
            self.end(watch)
            raise
        except BaseException:
            if self.end(watch):
                raise
            raise QueryAbandoned(timeout_s) from None
        if not self.end(watch):
            raise QueryAbandoned(timeout_s)
        return value

    def _clock(self) -> int:
        """The calling thread's CPU-time clock, looked up once per thread."""
        ident = threading.get_ident()
        clock = self._clocks.get(ident)
        if clock is None:
            clock = self._clocks[ident] = time.pthread_getcpuclockid(ident)
        return clock

    def _current(self) -> Watch | None:
        return self._watches.get(threading.get_ident())

    def _answered_late(self) -> bool:
        with self._lock:
            return threading.get_ident() in self._late

    def time_left(self, timeout_s: float) -> float:
        """Seconds the calling thread's request may still wait (for a claim, a lock) before
        its work, once its limit is ``timeout_s`` from its start (as :meth:`evaluate` sets
        it): a wait that ends by then leaves the 503 to the request's own thread, so the
        watchdog never finds it stuck. ``timeout_s`` itself outside a watched request."""
        watch = self._current()
        if watch is None:
            return 0.0 if self._answered_late() else timeout_s
        watch.limit = timeout_s
        watch.deadline = watch.started + timeout_s
        return max(0.0, watch.deadline - time.monotonic() - WAIT_MARGIN_S)

    def in_progress(self) -> list[Watch]:
        """The requests being worked on and not answered yet."""
        with self._lock:
            return list(self._watches.values())

    def answer_all(self) -> int:
        """Answer every request not answered yet ``503`` (the worker is exiting); how many."""
        with self._lock:
            taken = list(self._watches.values())
            self._watches.clear()
        _answer(taken, Restarting())
        return len(taken)

    def _loop(self) -> None:
        while True:
            time.sleep(WATCH_EVERY_S)
            now = time.monotonic()
            if self.memory_limit_kib and not self.over_memory:
                used = self._rss_kib()
                if used > self.memory_limit_kib:
                    self._trim()  # freed memory kept by the heap is not the queries' doing
                    used = self._rss_kib()
                if used > self.memory_limit_kib:
                    self._out_of_memory(now, used)
            with self._lock:
                overdue = [k for k, w in self._watches.items() if w.deadline <= now]
                late = [self._watches.pop(k) for k in overdue]
                for key, watch in zip(overdue, late, strict=True):
                    watch.answered_at = now
                    self._late[key] = watch
                stuck = [w for w in self._late.values()
                         if now - (w.answered_at or now) >= STUCK_AFTER_S]
                slow = [w for w in self._watches.values()
                        if w.key is not None and now - w.since > QUICK_S]
            _answer(late)
            if self._on_answered is not None:
                for watch in late:
                    self._on_answered(watch.sock)
            for watch in slow:  # slower than it was: not quick any more
                query = watch.key
                if query is not None and _cpu_since(watch) > QUICK_S:
                    self.quick.discard(query)
            if stuck and not self.retiring:
                self.retiring = self._on_stuck(any(w.writes for w in stuck))

    def _out_of_memory(self, now: float, used_kib: int) -> None:
        """Answer every request in progress at once and have the process replaced."""
        self.over_memory = self.retiring = True
        with self._lock:
            taken = list(self._watches.items())
            self._watches.clear()
            for key, watch in taken:
                watch.answered_at = now
                self._late[key] = watch  # its thread's work is abandoned, as when late
        watches = [watch for _key, watch in taken]
        log.warning("worker %s uses %d MiB, over its %d MiB (K2D3_WORKER_MEMORY_MIB): "
                    "%d request(s) answered 503, the process is replaced", os.getpid(),
                    used_kib // 1024, self.memory_limit_kib // 1024, len(watches))
        limit = MemoryLimit(self.memory_limit_kib // 1024)
        _answer([w for w in watches if w.evaluating], limit)
        _answer([w for w in watches if not w.evaluating], Restarting())
        if self._on_answered is not None:
            for watch in watches:
                self._on_answered(watch.sock)
        if self._on_memory is not None:
            self._on_memory()


def _cpu_since(watch: Watch) -> float:
    """CPU seconds the watch's thread has spent since its query began (0 if unknown)."""
    try:
        return time.clock_gettime(watch.clock) - watch.cpu if watch.clock is not None else 0.0
    except OSError:  # the thread has ended meanwhile
        return 0.0


def _answer(watches: Iterable[Watch], err: K2D3Error | None = None) -> None:
    for watch in watches:
        try:
            watch.answer(err or QueryTimeout(watch.limit))
        except Exception:  # a bug: log it, but keep watching the other requests
            log.exception("the watchdog could not answer a timed-out request")
