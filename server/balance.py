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
"""

from __future__ import annotations

import ctypes
import mmap

#: How long a busier worker leaves a waiting client to the others before taking it itself.
WAIT_AT_MOST_S = 0.005
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

    def free_slot(self, taken: set[int]) -> int | None:
        """The lowest slot number not in ``taken`` (the arbiter's choice for a new worker)."""
        return next((i for i in range(self.slots) if i not in taken), None)

    def join(self, slot: int, pid: int) -> None:
        """A worker, once ready to accept, enters its pid and starts with no connections."""
        self._cells[2 * slot + 1] = 0
        self._cells[2 * slot] = pid

    def leave(self, slot: int) -> None:
        """The worker in ``slot`` stops taking clients (it is stopping, or has exited)."""
        self._cells[2 * slot] = 0
        self._cells[2 * slot + 1] = 0

    def publish(self, slot: int, connections: int) -> None:
        self._cells[2 * slot + 1] = connections

    def fewest_elsewhere(self, slot: int) -> int | None:
        """The fewest connections any other live worker holds, or None if there is none."""
        counts = [self._cells[2 * i + 1] for i in range(self.slots)
                  if i != slot and self._cells[2 * i]]
        return min(counts) if counts else None
