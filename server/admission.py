"""Which client queries may start now: a bound on heavy queries per worker process.

``Store.query`` cannot be stopped short of ending its process, so a bound on heavy queries has
to be applied before a query starts, when its cost is not known yet. The server knows it
afterwards: a query text that has finished within :data:`QUICK_S` of CPU time (its thread's,
so that a busy machine, which stretches every query's wall time, does not make quick queries
look heavy) is *quick* from then on, and runs at once whatever else is running. Any other
query (new, or known to be slow) is *heavy*: it needs one of the worker's
``settings.heavy_queries`` slots for as long as it runs, and when they are all taken it is
answered ``503`` with ``Retry-After`` at once (:class:`Overloaded`), before it costs anything.
Sixteen runaway queries at once therefore hold four threads of a 2 x 8 server (the default of
2 slots a worker), the other twelve clients are told to come back later, and a cheap
``ASK {}`` that has run before is answered meanwhile by the free threads.

What is quick is remembered in :class:`QuickTable`, a table in memory shared by the arbiter and
all its workers (inherited across fork), so a worker that replaces a retired one knows it too.
A query is keyed by its text and everything else that decides its cost (dataset, bindings);
a quick query that turns slow (the data grew) is forgotten as soon as it passes the mark.
"""

from __future__ import annotations

import math
import mmap
import threading
import time

from .errors import K2D3Error

#: A query that finished within this many CPU seconds is quick: it needs no slot next time.
QUICK_S = 0.1
#: Entries in the shared table of quick queries (8 bytes each), and how far a key is probed.
QUICK_ENTRIES = 16384
PROBES = 8
MASK = (1 << 64) - 1


class Overloaded(K2D3Error):
    """Every slot for heavy queries is taken: come back after ``Retry-After`` seconds."""

    status, title = 503, "Service Unavailable"

    def __init__(self, slots: int, retry_after: int) -> None:
        super().__init__(
            f"the server is running as many long queries as it takes at once ({slots} per "
            f"process); this query is not known to be quick, so try again in {retry_after} s",
            headers={"Retry-After": str(retry_after)})


def query_key(text: str, *context: str | bool | None) -> int:
    """A query's key in the quick table: a 64-bit hash of its text and ``context`` (never 0,
    which marks a free entry). Python's ``hash``, whose seed the arbiter's forks share, so the
    key of a query is the same in every worker of a server; a hash of the text is computed once
    per string (measured: 11 us a key with blake2b and ``repr``, under 1 us this way)."""
    return hash((text, *context)) & MASK or 1


class QuickTable:
    """The keys of queries known to be quick, in an anonymous shared mapping.

    Open addressing over :data:`PROBES` entries from the key's home (the table has that many
    more entries than homes, so a probe never wraps); a full neighbourhood overwrites the home
    entry (this is a cache: a lost key only costs a slot once). Each entry is one aligned
    64-bit word, written whole, so processes need no lock.
    """

    def __init__(self, entries: int = QUICK_ENTRIES) -> None:
        self.entries = entries
        self._memory = mmap.mmap(-1, (entries + PROBES) * 8)
        self._cells = memoryview(self._memory).cast("Q")

    def __contains__(self, key: int) -> bool:
        cells, home = self._cells, key % self.entries
        if cells[home] == key:  # the usual case, with a table far from full
            return True
        return any(cells[i] == key for i in range(home + 1, home + PROBES))

    def add(self, key: int) -> None:
        cells, home = self._cells, key % self.entries
        free = None
        for i in range(home, home + PROBES):
            if cells[i] == key:
                return
            if free is None and cells[i] == 0:
                free = i
        cells[home if free is None else free] = key

    def discard(self, key: int) -> None:
        cells, home = self._cells, key % self.entries
        for i in range(home, home + PROBES):
            if cells[i] == key:
                cells[i] = 0


class Slots:
    """A worker's slots for heavy queries: who holds one, until when it may run."""

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self._lock = threading.Lock()
        self._held: dict[int, float] = {}   # holder -> its deadline (time.monotonic())

    def take(self, holder: int, deadline: float) -> None:
        """Take a slot for ``holder`` or raise :class:`Overloaded` at once."""
        with self._lock:
            if len(self._held) >= self.slots:
                raise Overloaded(self.slots, self.retry_after(time.monotonic()))
            self._held[holder] = deadline

    def give_back(self, holder: int) -> None:
        with self._lock:
            self._held.pop(holder, None)

    def held(self) -> int:
        return len(self._held)

    def retry_after(self, now: float) -> int:
        """Whole seconds until a slot is sure to be free: the soonest deadline of a holder
        (a query past it is answered then, and its slot goes with its process)."""
        soonest = min(self._held.values(), default=now + 1)
        return max(1, min(60, math.ceil(soonest - now)))
