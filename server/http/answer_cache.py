"""Answers kept by the store's version: a slow query asked again is not evaluated again.

An answer's ETag (``query_answer.etag_for``) already names everything it depends on: the
store's version, the query text, the protocol dataset, the media type and the time limit. So
the ETag is the key, and a write (which changes the version) makes every older entry
unreachable; they leave as newer ones push them out. Only answers that took the engine at
least ``min_ms`` to compute are kept (a quick one costs less to recompute than the memory),
only whole answers (not streamed ones, which are large by definition), and the total is
bounded by bytes, least recently used out first. One cache per process, shared by its threads.

With a remote engine as the backend (``server.sparql.backend``) the version also moves with
the clock, so an entry lives at most ``K2D3_BACKEND_VERSION_SECONDS``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Entry:
    """One answer as it was sent: its headers (without per-response ones) and body."""

    headers: tuple[tuple[str, str], ...]
    body: bytes


class AnswerCache:
    """A byte-bounded LRU of answers (an :class:`Entry`, or a canned query's result) by key."""

    def __init__(self, max_bytes: int, min_ms: float) -> None:
        self.max_bytes, self.min_ms = max_bytes, min_ms
        self._entries: OrderedDict[str, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> Any:
        """The value kept under ``key``, or None."""
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return found[0]

    def put(self, key: str, value: Any, size: int, elapsed_ms: float) -> None:
        """Keep ``value`` (about ``size`` bytes) if it took at least ``min_ms`` to compute and
        takes at most a quarter of the cache (see the module docstring)."""
        size += len(key)
        if elapsed_ms < self.min_ms or size > self.max_bytes // 4:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._entries[key] = (value, size)
            self._bytes += size
            while self._bytes > self.max_bytes and self._entries:
                self._bytes -= self._entries.popitem(last=False)[1][1]

    @property
    def size_bytes(self) -> int:
        return self._bytes
