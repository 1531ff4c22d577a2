"""Spread keep-alive connections evenly over gunicorn's worker processes.

All workers poll one listening socket, and whichever calls ``accept`` first takes the client.
Clients that keep their connection alive (a benchmark, a script in a loop, YASGUI) then stay
with that worker for good, so eight clients often end up six on one worker and two on the
other: one process, held to one core by its GIL, serves three quarters of the load while the
other core idles (measured here: 2,200 req/s at six-two against 3,400 at four-four).

The :class:`Board` is a table in memory shared by the arbiter and the workers it forks: one
slot per worker, holding its pid and how many connections it holds. A worker that holds more
connections than the least busy other worker leaves a waiting client to that worker
(:func:`should_wait`) for at most ``WAIT_AT_MOST_S``, so a worker that has stopped accepting
(full, stopping, or stuck) cannot leave a client unserved. Nginx's ``accept_mutex`` answers the
same problem with a lock; a count keeps the decision local and needs no lock: each slot has one
writer, and a stale read only costs one uneven accept.

The board also gates retirements (:meth:`Board.may_retire`, see ``server.serving.serve.retire``):
one worker at a time, and not more often than every so many seconds across the server, so that
repeated runaway queries cannot keep every worker restarting. And it counts the workers that
failed to start since one last did (:meth:`Board.boot_failed`, see ``server.serving.boot``).
"""

from __future__ import annotations

import contextlib
import ctypes
import mmap
import multiprocessing
import time
from collections.abc import Iterator

#: How long a busier worker leaves a waiting client to the others before taking it itself.
WAIT_AT_MOST_S = 0.005
#: The counts of failed starts are advisory: a process that died holding their lock (killed
#: at the wrong moment) must not stop the others from starting, so the lock is waited for at
#: most this long.
BOOTS_LOCK_S = 1.0
#: Slots in the table (workers are numbered from 0 by the arbiter; more workers than this are
#: not balanced, only counted out).
SLOTS = 64


def should_wait(mine: int, fewest_elsewhere: int | None, waited_s: float) -> bool:
    """Whether a worker holding ``mine`` connections should let another take the next client.

    ``fewest_elsewhere`` is the smallest count among the other live workers (None when there
    are none); ``waited_s`` is how long this worker has left the client waiting so far.
    """
    if fewest_elsewhere is None or mine <= fewest_elsewhere:
        return False
    return waited_s < WAIT_AT_MOST_S


class Board:
    """Per-worker connection counts in an anonymous shared mapping (inherited across fork)."""

    def __init__(self, slots: int = SLOTS) -> None:
        self.slots = slots
        self._memory = mmap.mmap(-1, slots * 2 * ctypes.sizeof(ctypes.c_int64))
        self._cells = (ctypes.c_int64 * (slots * 2)).from_buffer(self._memory)
        self._retired = mmap.mmap(-1, ctypes.sizeof(ctypes.c_double))
        self._last_retirement = ctypes.c_double.from_buffer(self._retired)
        self._last_retirement.value = -1e9
        self._retire_lock = multiprocessing.get_context("fork").Lock()
        # [failed starts since a worker last joined, of those the last in a row that found no
        # other worker serving, whether any worker ever joined]
        self._boots_memory = mmap.mmap(-1, 3 * ctypes.sizeof(ctypes.c_int64))
        self._boots = (ctypes.c_int64 * 3).from_buffer(self._boots_memory)
        self._boots_lock = multiprocessing.get_context("fork").Lock()

    def free_slot(self, taken: set[int]) -> int | None:
        """The lowest slot number not in ``taken`` (the arbiter's choice for a new worker)."""
        return next((i for i in range(self.slots) if i not in taken), None)

    def join(self, slot: int, pid: int) -> None:
        """A worker, once ready to accept, enters its pid and starts with no connections."""
        self._cells[2 * slot + 1] = 0
        self._cells[2 * slot] = pid
        with self._boots_locked():
            self._boots[0] = self._boots[1] = 0
            self._boots[2] = 1

    def boot_failed(self, serving: int) -> tuple[int, int]:
        """A worker could not start while ``serving`` others were in service: how many have
        failed since a worker last joined, and how many of those in a row found none serving
        (this one included in both)."""
        with self._boots_locked():
            self._boots[0] += 1
            self._boots[1] = self._boots[1] + 1 if serving == 0 else 0
            return int(self._boots[0]), int(self._boots[1])

    @contextlib.contextmanager
    def _boots_locked(self) -> Iterator[None]:
        """The counts' lock, waited for at most ``BOOTS_LOCK_S`` (then the counts go unlocked)."""
        locked = self._boots_lock.acquire(timeout=BOOTS_LOCK_S)
        try:
            yield
        finally:
            if locked:
                self._boots_lock.release()

    @property
    def ever_joined(self) -> bool:
        """Whether any worker has started and joined since the server began."""
        return bool(self._boots[2])

    def leave(self, slot: int) -> None:
        """The worker in ``slot`` stops taking clients (it is stopping, or has exited)."""
        self._cells[2 * slot] = 0
        self._cells[2 * slot + 1] = 0

    def publish(self, slot: int, connections: int) -> None:
        self._cells[2 * slot + 1] = connections

    def live(self, but: int | None = None) -> int:
        """How many workers are in service (joined, not leaving), not counting slot ``but``."""
        return sum(1 for i in range(self.slots) if i != but and self._cells[2 * i])

    def may_retire(self, slot: int, workers: int, every_s: float, *, urgent: bool = False
                   ) -> bool:
        """Whether the worker in ``slot`` may retire now; if so, the retirement is booked.

        Only while every other one of the ``workers`` is in service (a replacement has joined),
        and, unless ``urgent``, not within ``every_s`` seconds of the last retirement.
        """
        with self._retire_lock:
            now = time.monotonic()
            if not urgent and now - self._last_retirement.value < every_s:
                return False
            if self.live(but=slot) < workers - 1:
                return False
            self._last_retirement.value = now
            return True

    def fewest_elsewhere(self, slot: int) -> int | None:
        """The fewest connections any other live worker holds, or None if there is none."""
        counts = [self._cells[2 * i + 1] for i in range(self.slots)
                  if i != slot and self._cells[2 * i]]
        return min(counts) if counts else None
