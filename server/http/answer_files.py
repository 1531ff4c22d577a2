"""The answer cache's shared half: answers in a folder that a server's worker processes share.

Each worker keeps the answers it computed in memory (``server.http.answer_cache``); without a
shared place, a slow query computed by one worker is computed again by every other one. Here
each kept answer is also a file named by its key's hash, written whole under a temporary name
and renamed into place, so a reader sees the whole file or none: a small head (the key, and
the answer's headers or a canned query's result, pickled) then an answer's body as it was
sent. Pickles are why the folder must be one only this server writes: ``k2d3 serve`` makes it
for its workers (``tempfile.mkdtemp``, mode 0700) and removes it when it stops;
``K2D3_ANSWER_CACHE_DIR`` names another.

The folder holds at most ``max_bytes`` (``K2D3_ANSWER_CACHE_DISK_BYTES``), so it keeps answers
too large for memory: a body larger than ``in_memory_max`` is sent from the file in chunks
(:class:`FileEntry`), never read whole. After each write the files least recently used (by
modification time, which a read renews) go until the rest fit; writes are rare (only answers
that took ``answer_cache_min_ms`` or more), so listing the folder then costs little.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import struct
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

SUFFIX = ".answer"
#: A temporary file older than this was left by a writer that died: trimming removes it.
STALE_TMP_S = 600
#: A file's first bytes: a tag and the length of the pickled head that follows.
HEAD = struct.Struct(">4sI")
TAG = b"K2A1"
#: Bytes a body is sent in from its file.
CHUNK = 1 << 20


@dataclass(frozen=True)
class Entry:
    """One answer as it was sent: its headers (without per-response ones) and body."""

    headers: tuple[tuple[str, str], ...]
    body: bytes

    def chunks(self) -> Iterable[bytes]:
        return [self.body]


class FileEntry:
    """An answer whose body is still in its file (open, so trimming cannot take it away):
    send ``chunks()`` once; closing them closes the file."""

    def __init__(self, headers: tuple[tuple[str, str], ...], file: IO[bytes]) -> None:
        self.headers, self._file = headers, file

    def chunks(self) -> Iterable[bytes]:
        return _FileChunks(self._file)


class _FileChunks:
    def __init__(self, file: IO[bytes]) -> None:
        self._file = file

    def __iter__(self) -> Iterator[bytes]:
        with self._file:
            while chunk := self._file.read(CHUNK):
                yield chunk

    def close(self) -> None:
        self._file.close()


def name_of(key: str) -> str:
    """The file name (without suffix) for a cache key: its hash, so any key makes a safe name."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:40]


class AnswerFiles:
    """Answers by key in ``folder``, at most ``max_bytes`` of them."""

    def __init__(self, folder: Path, max_bytes: int, in_memory_max: int) -> None:
        self.folder, self.max_bytes, self.in_memory_max = folder, max_bytes, in_memory_max

    def read(self, key: str) -> tuple[Any, int] | None:
        """The value kept under ``key`` and its size in bytes, or None (absent, unreadable,
        or another key's). A body over ``in_memory_max`` comes as a :class:`FileEntry`."""
        path = self.folder / (name_of(key) + SUFFIX)
        try:
            file = open(path, "rb")  # noqa: SIM115 - a FileEntry keeps it open
        except OSError:
            return None
        try:
            tag, length = HEAD.unpack(file.read(HEAD.size))
            stored_key, kind, value = pickle.loads(file.read(length))
            if tag != TAG or stored_key != key:
                raise ValueError("another key's file")  # a hash collision: a miss
            size = os.fstat(file.fileno()).st_size - HEAD.size - length
            with contextlib.suppress(OSError):
                os.utime(path)
            if kind == "value":
                file.close()
                return value, length
            if size > self.in_memory_max:
                return FileEntry(value, file), size
            body = file.read()
            file.close()
            return Entry(value, body), size
        except Exception:  # noqa: BLE001 - not an answer this server wrote whole: a miss
            file.close()
            return None

    def write(self, key: str, value: Any) -> None:
        """Keep ``value`` (an :class:`Entry`, or any picklable value) under ``key``."""
        spool = self.spool(key, value.headers if isinstance(value, Entry) else value,
                           "entry" if isinstance(value, Entry) else "value")
        if spool is not None:
            if isinstance(value, Entry):
                spool.write(value.body)
            spool.commit()

    def spool(self, key: str, head: Any, kind: str = "entry") -> Spool | None:
        """A file for ``key``'s answer to be written into as it is sent (None: the folder
        cannot take one). A folder that cannot take it (gone, full) only means the answer is
        not shared."""
        data = pickle.dumps((key, kind, head), protocol=pickle.HIGHEST_PROTOCOL)
        if len(data) > self.max_bytes // 4:
            return None
        try:
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".", suffix=".tmp")
        except OSError:
            return None
        spool = Spool(self, Path(tmp), os.fdopen(fd, "wb"), self.folder / (name_of(key) + SUFFIX))
        spool.write(HEAD.pack(TAG, len(data)) + data)
        return spool

    def trim(self) -> None:
        """Remove the least recently used answers until the rest fit in ``max_bytes``."""
        files = []
        try:
            entries = list(os.scandir(self.folder))
        except OSError:
            return
        stale = time.time() - STALE_TMP_S
        for entry in entries:
            if entry.name.endswith(".tmp"):  # left by a writer killed mid-write
                with contextlib.suppress(OSError):
                    if entry.stat().st_mtime < stale:
                        os.unlink(entry.path)
            elif entry.name.endswith(SUFFIX):
                try:
                    stat = entry.stat()
                except FileNotFoundError:
                    continue
                files.append((stat.st_mtime_ns, stat.st_size, entry.path))
        total = sum(size for _, size, _ in files)
        for _, size, path in sorted(files):
            if total <= self.max_bytes:
                break
            Path(path).unlink(missing_ok=True)
            total -= size


class Spool:
    """An answer being written to its file: ``write`` its bytes, then ``commit`` (renamed into
    place, the folder trimmed) or ``abort``. A write that fails (a full disk) aborts."""

    def __init__(self, files: AnswerFiles, tmp: Path, file: IO[bytes], final: Path) -> None:
        self._files, self._tmp, self._file, self._final = files, tmp, file, final
        self.size = 0

    def write(self, data: bytes) -> bool:
        """Whether the bytes went in (False once aborted, or over a quarter of the folder)."""
        if self._file.closed:
            return False
        self.size += len(data)
        try:
            if self.size > self._files.max_bytes // 4:
                raise OSError("too large for the folder")
            self._file.write(data)
        except OSError:
            self.abort()
            return False
        return True

    def commit(self) -> None:
        if self._file.closed:
            return
        try:
            self._file.close()
            os.replace(self._tmp, self._final)
        except OSError:
            self.abort()
            return
        self._files.trim()

    def abort(self) -> None:
        with contextlib.suppress(OSError):
            self._file.close()
        self._tmp.unlink(missing_ok=True)
