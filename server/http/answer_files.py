"""The answer cache's shared half: answers in a folder that a server's worker processes share.

Each worker keeps the answers it computed in memory (``server.http.answer_cache``); without a
shared place, a slow query computed by one worker is computed again by every other one. Here
each kept answer is also a file named by its key's hash, written whole under a temporary name
and renamed into place, so a reader sees the whole file or none. The value is pickled, which is
why the folder must be one only this server writes: ``k2d3 serve`` makes it for its workers
(``tempfile.mkdtemp``, mode 0700) and removes it when it stops; ``K2D3_ANSWER_CACHE_DIR``
names another.

The folder holds at most ``max_bytes`` of answers: after each write, the files least recently
used (by modification time, which a read renews) go until the rest fit. Writes are rare (only
answers that took ``answer_cache_min_ms`` or more), so listing the folder then costs little.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import tempfile
import time
from pathlib import Path
from typing import Any

SUFFIX = ".answer"
#: A temporary file older than this was left by a writer that died: trimming removes it.
STALE_TMP_S = 600


def name_of(key: str) -> str:
    """The file name (without suffix) for a cache key: its hash, so any key makes a safe name."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:40]


class AnswerFiles:
    """Answers by key in ``folder``, at most ``max_bytes`` of them."""

    def __init__(self, folder: Path, max_bytes: int) -> None:
        self.folder, self.max_bytes = folder, max_bytes

    def read(self, key: str) -> tuple[Any, int] | None:
        """The value kept under ``key`` and its size in bytes, or None (absent, or gone while
        being read)."""
        path = self.folder / (name_of(key) + SUFFIX)
        try:
            with open(path, "rb") as file:
                data = file.read()
            os.utime(path)
        except OSError:
            return None
        try:
            stored_key, value = pickle.loads(data)
        except Exception:  # noqa: BLE001 - not an answer this server wrote: a miss
            return None
        return (value, len(data)) if stored_key == key else None  # a hash collision: a miss

    def write(self, key: str, value: Any) -> None:
        """Keep ``value`` under ``key``, then trim the folder to ``max_bytes``. A folder that
        cannot take it (gone, full) only means the answer is not shared."""
        data = pickle.dumps((key, value), protocol=pickle.HIGHEST_PROTOCOL)
        if len(data) > self.max_bytes // 4:
            return
        try:
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".", suffix=".tmp")
        except OSError:  # the folder is gone or full: the answer is just not shared
            return
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
            os.replace(tmp, self.folder / (name_of(key) + SUFFIX))
        except OSError:
            Path(tmp).unlink(missing_ok=True)
            return
        self.trim()

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
