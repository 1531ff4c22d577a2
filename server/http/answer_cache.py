"""Answers kept by the store's version: a slow query asked again is not evaluated again.

An answer's ETag (``query_answer.etag_for``) already names everything it depends on: the
store's version, the query text, the protocol dataset, the media type and the time limit. So
the ETag is the key, and a write (which changes the version) makes every older entry
unreachable; they leave as newer ones push them out. Only answers that took the engine at
least ``min_ms`` to compute are kept (a quick one costs less to recompute than the memory).
Each process keeps answers of up to a quarter of ``max_bytes`` in memory, least recently used
out first; under ``k2d3 serve`` its workers also share them through a folder
(``server.http.answer_files``), which keeps larger ones too (up to a quarter of its own bound)
and sends those from the file.

A slow answer that many clients ask for at once is computed once: :meth:`AnswerCache.lookup`
gives the first asker a :class:`Claim` on the key (``server.http.answer_claims``) and makes the
others wait for it, within their time limit, rather than compute it again or meet the bound on
heavy queries. At most ``max_waiters`` threads of a process wait so (half its threads, by
default): more compute the answer themselves, under that bound, which refuses a heavy one at
once; so a flood of one slow query leaves threads for the other requests, and a burst of a
quick one (not yet known as quick in a new worker) is answered. A key whose
answer was computed and not kept (quick, too large, or failed) is remembered, so its askers
never wait for one another.

With a remote engine as the backend (``server.sparql.backend``) the version also moves with
the clock, so an entry lives at most ``K2D3_BACKEND_VERSION_SECONDS``.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

from server.errors import QueryTimeout
from server.http.answer_claims import Claims, FileClaims, Held, ThreadClaims
from server.http.answer_files import AnswerFiles, Entry, FileEntry, Spool, name_of
from server.http.private_folder import private_folder

#: Keys remembered as computed and not kept, so that their askers do not wait on a claim.
UNKEPT_KEYS = 4096

__all__ = ["AnswerCache", "Claim", "Entry", "FileEntry", "Keeper"]


class Claim:
    """The asker's part in computing a key's answer: ``done`` once, with the value or without.

    A claim that leads holds the key while its holder computes (see the module docstring);
    one that does not (the key is known not to be kept) holds nothing.
    """

    def __init__(self, cache: AnswerCache, key: str, held: Held | None) -> None:
        self._cache, self.key, self._held = cache, key, held

    @property
    def leads(self) -> bool:
        return self._held is not None

    def keeper(self, headers: tuple[tuple[str, str], ...], elapsed_ms: float) -> Keeper:
        """What keeps a streamed answer with these headers as it is sent."""
        return Keeper(self._cache, self, headers, elapsed_ms)

    def not_kept(self) -> None:
        """The answer was too large to keep: later askers compute it without waiting."""
        self._cache.unkept(self.key)
        self.done()

    def done(self, value: Any = None, size: int = 0, elapsed_ms: float = 0.0) -> None:
        """Keep ``value`` (None: the computation failed) and let the waiters go."""
        try:
            failed = value is None and self._held is not None  # the waiters go at once then
            if failed or (value is not None
                          and not self._cache.put(self.key, value, size, elapsed_ms)):
                self._cache.unkept(self.key)
        finally:
            self.let_go()

    def let_go(self) -> None:
        """Let the waiters go (they compute it themselves) while this one goes on."""
        held, self._held = self._held, None
        if held is not None:
            held.release()


class Keeper:
    """A streamed answer kept as it is sent: in memory while it fits there, then in a file
    of the shared folder (where there is one), until it is whole (:meth:`finish`) or too
    large for either (then the claim's waiters go, and later askers do not wait)."""

    def __init__(self, cache: AnswerCache, claim: Claim, headers: tuple[tuple[str, str], ...],
                 elapsed_ms: float) -> None:
        self._cache, self._claim = cache, claim
        self._headers, self._elapsed_ms = headers, elapsed_ms
        self._chunks: list[bytes] | None = []
        self._spool: Spool | None = None
        self._size = 0
        self._memory_max = cache.max_bytes // 4

    def add(self, chunk: bytes) -> None:
        if self._chunks is None and self._spool is None:
            return
        self._size += len(chunk)
        if self._spool is not None:
            if not self._spool.write(chunk):
                self._give_up()
            return
        assert self._chunks is not None
        self._chunks.append(chunk)
        if self._size > self._memory_max:  # to a file, if there is a folder
            self._spool = self._cache.spool(self._claim.key, self._headers)
            held, self._chunks = self._chunks, None
            if self._spool is None or not all(self._spool.write(c) for c in held):
                self._give_up()

    def finish(self) -> None:
        """The answer was sent whole: keep it."""
        if self._spool is not None:
            spool, self._spool = self._spool, None
            if self._elapsed_ms >= self._cache.min_ms:
                spool.commit()
                self._cache.kept(self._claim.key)
                self._claim.let_go()
            else:
                spool.abort()
                self._claim.not_kept()
        elif self._chunks is not None:
            body, self._chunks = b"".join(self._chunks), None
            self._claim.done(Entry(self._headers, body), len(body), self._elapsed_ms)

    def abort(self) -> None:
        """The client left mid-way: keep nothing."""
        if self._spool is not None:
            self._spool.abort()
            self._spool = None
        self._chunks = None
        self._claim.let_go()

    def _give_up(self) -> None:
        if self._spool is not None:
            self._spool.abort()
        self._spool = self._chunks = None
        self._claim.not_kept()


class AnswerCache:
    """A byte-bounded LRU of answers (an :class:`Entry`, or a canned query's result) by key,
    with a shared folder of up to ``disk_bytes`` (default: ``max_bytes``) when ``folder``."""

    def __init__(self, max_bytes: int, min_ms: float, folder: Path | None = None,
                 disk_bytes: int | None = None, max_waiters: int = 4) -> None:
        self.max_bytes, self.min_ms, self.max_waiters = max_bytes, min_ms, max_waiters
        self._waiting = 0
        self._entries: OrderedDict[str, tuple[Any, int]] = OrderedDict()
        self._unkept: OrderedDict[str, None] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._files = None
        if folder is not None:
            private_folder(folder)  # its files are pickles: not from a folder others write
            self._files = AnswerFiles(folder, disk_bytes or max_bytes, max_bytes // 4)
        self._claims: Claims = FileClaims(folder) if folder is not None else ThreadClaims()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> Any:
        """The value kept under ``key`` (in memory, else in the shared folder), or None."""
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return found[0]
            known_unkept = key in self._unkept
        read = None if self._files is None or known_unkept else self._files.read(key)
        with self._lock:
            if read is None:
                self.misses += 1
                return None
            self.hits += 1
        if not isinstance(read[0], FileEntry):  # one too large for memory stays in its file
            self._remember(key, *read)
        return read[0]

    def lookup(self, key: str, wait_s: float) -> tuple[Any, Claim]:
        """The value kept under ``key``, or None and a :class:`Claim` to compute it under.

        Waits while another asker holds the key's claim, for up to ``wait_s`` seconds.

        Raises:
            QueryTimeout: the key was still being computed by another after ``wait_s``.
        """
        deadline = time.monotonic() + wait_s
        name = name_of(key)
        waiting = False
        try:
            while True:
                if (value := self.get(key)) is not None:
                    return value, Claim(self, key, None)
                if self._is_unkept(key):
                    return None, Claim(self, key, None)
                held = self._claims.try_claim(name)
                if held is not None:
                    if (value := self.get(key)) is not None:  # kept just before the claim
                        held.release()
                        return value, Claim(self, key, None)
                    return None, Claim(self, key, held)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise QueryTimeout(wait_s)
                if not waiting:
                    if not self._start_waiting():  # enough wait: compute it, under the
                        return None, Claim(self, key, None)  # bound on heavy queries
                    waiting = True
                self._claims.wait(name, left)
        finally:
            if waiting:
                with self._lock:
                    self._waiting -= 1

    def _start_waiting(self) -> bool:
        """Count one more waiting thread; False when ``max_waiters`` already wait (threads
        kept for other requests must not all be waiting)."""
        with self._lock:
            if self._waiting >= self.max_waiters:
                return False
            self._waiting += 1
            return True

    def put(self, key: str, value: Any, size: int, elapsed_ms: float) -> bool:
        """Keep ``value`` (about ``size`` bytes) if it took at least ``min_ms`` to compute: in
        memory if it takes at most a quarter of it, in the folder if it fits there (see the
        module docstring); whether it was kept."""
        if elapsed_ms < self.min_ms:
            return False
        in_memory = size + len(key) <= self.max_bytes // 4
        if in_memory:
            self._remember(key, value, size + len(key))
        if self._files is not None and size <= self._files.max_bytes // 4:
            self._files.write(key, value)
        elif not in_memory:
            return False
        self.kept(key)
        return True

    def spool(self, key: str, headers: tuple[tuple[str, str], ...]) -> Spool | None:
        """A file of the shared folder to write ``key``'s answer into (None: no folder)."""
        return self._files.spool(key, headers) if self._files is not None else None

    def kept(self, key: str) -> None:
        """``key``'s answer is kept: its askers wait for one another again."""
        with self._lock:
            self._unkept.pop(key, None)

    def unkept(self, key: str) -> None:
        """Remember that ``key``'s answer was computed and not kept (see :meth:`lookup`)."""
        with self._lock:
            self._unkept[key] = None
            self._unkept.move_to_end(key)
            while len(self._unkept) > UNKEPT_KEYS:
                self._unkept.popitem(last=False)

    def _is_unkept(self, key: str) -> bool:
        with self._lock:
            return key in self._unkept

    def _remember(self, key: str, value: Any, size: int) -> None:
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
