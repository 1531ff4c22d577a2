"""Who computes an answer that others are waiting for: one claim per cache key at a time.

Without this, a slow query asked by many clients at once is computed by each of them (each
missing the cache until the first is done), and the bound on heavy queries
(``server.sparql.admission``) answers the rest 503. With it, the first asker holds the key's
claim while it computes, and the others wait for the claim to be given back, then read the
answer from the cache (``server.http.answer_cache``).

Two kinds of claims, with one interface:

* :class:`ThreadClaims`, within one process (an event per key being computed);
* :class:`FileClaims`, across the worker processes of one server: ``flock`` on a file per key
  in the folder they share. It conflicts between threads as between processes (each claimant
  opens its own file), and the kernel gives it back when its holder ends, even by ``kill -9``,
  so a crashed worker never leaves others waiting. The holder removes the file when done, so
  the folder holds lock files only for answers being computed. The race this leaves (a waiter
  that opened the file just before it went) can only make two processes compute one answer,
  as without claims; never a wrong answer, since the claim guards no data. Where no lock
  can be taken (the folder is gone, no descriptor is left), the claim is granted unlocked:
  every asker computes, as without claims.
"""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path
from typing import Protocol


class Held(Protocol):
    """A claim being held: ``release`` gives it back (a second call does nothing)."""

    def release(self) -> None: ...


class Claims(Protocol):
    def try_claim(self, name: str) -> Held | None:
        """The claim on ``name`` if no one holds it, else None, at once."""

    def wait(self, name: str, seconds: float) -> None:
        """Return once ``name``'s claim may be free, or after ``seconds``."""


class _Event:
    def __init__(self, owner: ThreadClaims, name: str, event: threading.Event) -> None:
        self._owner, self._name, self._event = owner, name, event

    def release(self) -> None:
        with self._owner.lock:
            if self._owner.held.get(self._name) is self._event:
                del self._owner.held[self._name]
        self._event.set()

    def __del__(self) -> None:  # a holder that forgot it: give it back when it is dropped
        self.release()


class _Unlocked:
    """A claim granted without a lock, where none can be taken: everyone computes."""

    def release(self) -> None:
        pass


class ThreadClaims:
    """Claims among the threads of one process."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.held: dict[str, threading.Event] = {}

    def try_claim(self, name: str) -> Held | None:
        with self.lock:
            if name in self.held:
                return None
            event = self.held[name] = threading.Event()
        return _Event(self, name, event)

    def wait(self, name: str, seconds: float) -> None:
        with self.lock:
            event = self.held.get(name)
        if event is not None:
            event.wait(seconds)


class _Flock:
    def __init__(self, path: Path, fd: int) -> None:
        self._path, self._fd = path, fd

    def release(self) -> None:
        fd, self._fd = self._fd, -1
        if fd < 0:
            return
        try:
            if os.stat(self._path).st_ino == os.fstat(fd).st_ino:  # still ours: remove it
                self._path.unlink()
        except FileNotFoundError:
            pass
        finally:
            os.close(fd)  # gives the lock back

    def __del__(self) -> None:  # a body never iterated: give it back when it is dropped
        self.release()


class FileClaims:
    """Claims among the processes (and threads) that share ``folder``."""

    #: How often a waiter looks again; a slow answer takes at least ``answer_cache_min_ms``.
    POLL_S = 0.02

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def try_claim(self, name: str) -> Held | None:
        path = self.folder / f"{name}.lock"
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError:  # the folder is gone, or no descriptor is left: no waiting then
            return _Unlocked()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if os.stat(path).st_ino != os.fstat(fd).st_ino:
                raise BlockingIOError  # locked a file its holder has just removed
        except (BlockingIOError, FileNotFoundError):
            os.close(fd)
            return None
        except OSError:
            os.close(fd)
            return _Unlocked()
        return _Flock(path, fd)

    def wait(self, name: str, seconds: float) -> None:
        threading.Event().wait(min(seconds, self.POLL_S))
