"""The store folder as a series of immutable snapshots, swapped in atomically (copy-on-write).

Layout of the store folder (``K2D3_STORE``)::

    current -> data-<stamp>   symlink to the live snapshot, replaced atomically
    data-<stamp>/             RocksDB folders; never written again once published
    .tmp-<stamp>/             a snapshot being written (by a write or a build); never read
    lock                      writers (build, SPARQL Update, Graph Store writes) hold it with flock

The version token (the HTTP ETag's core) is the live snapshot's ``<stamp>``: reading it is one
``readlink``, and a token always names exactly one snapshot's data.

pyoxigraph says that opening a store read-only while another process writes it is undefined
behaviour (readers got ``Corruption ... .sst: No such file``), so nothing opens a folder that
anything writes. A write, under the lock: :func:`checkpoint` the live snapshot into
``.tmp-<stamp>`` (hard links to the files RocksDB never changes in place, copies of the few
it appends to, so that its reuse of old log files cannot reach a published snapshot), open it
read-write, apply the whole write, flush and close, then :func:`publish`: rename it
``data-<stamp>``, point ``current`` at it (a new link renamed over the old) and fsync. A crash
at any moment leaves ``current`` on a complete snapshot; the leftovers are removed by the next
:func:`prune` (every write and build runs one, under the lock, and so do readers when the lock
is free).

Readers take a shared ``flock`` on the folder of the snapshot they read (:func:`hold_current`)
and :func:`prune` deletes a snapshot only when it can lock it exclusively, so no process loses
a snapshot it still reads (RocksDB opens some ``.sst`` files lazily, so an open store needs its
files).
"""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

CURRENT = "current"
PREFIX = "data-"
TMP_PREFIX = ".tmp-"
LOCK = "lock"
#: RocksDB files that it never writes in place once written (it writes a new file, or
#: renames one over ``CURRENT``): a checkpoint links them.
LINKED = (".sst", ".blob", "CURRENT", "IDENTITY", "OPTIONS-")
#: RocksDB files that it may append to or reuse (it recycles old log files): copied.
COPIED = ("MANIFEST-", ".log")
#: Written by the store before snapshots (a token file); the link names the version now.
OLD_VERSION_FILE = "version"


class StoreMissing(FileNotFoundError):
    """The store folder holds no built store yet (run ``k2d3 build``)."""


class StoreFull(OSError):
    """The disk is full: the write was not applied, and the live snapshot is as it was."""


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` reports a full disk (RocksDB's errors carry no errno, only the text)."""
    return isinstance(exc, OSError) and (
        exc.errno in {errno.ENOSPC, errno.EDQUOT} or "No space left on device" in str(exc))


def live_dir(root: Path) -> Path:
    """The snapshot the ``current`` symlink points at."""
    link = root / CURRENT
    if not link.is_symlink() and not link.is_dir():
        raise StoreMissing(f"no store at {root}: run `k2d3 build --store {root}`")
    return link.resolve()


def exists(root: Path) -> bool:
    try:
        live_dir(root)
    except StoreMissing:
        return False
    return True


def version_of(snapshot: Path) -> str:
    """The version token of a snapshot: its name without the prefix."""
    return snapshot.name.removeprefix(PREFIX)


def read_version(root: Path | str) -> str:
    """The live snapshot's version token ("" when the store was never built): one readlink.

    ``root`` may be the path of the ``current`` link itself, as a string (a reader's hot path).
    """
    link = root if isinstance(root, str) else str(root / CURRENT)
    try:
        return os.readlink(link).removeprefix(PREFIX)
    except OSError:
        return ""


class WriterBusy(Exception):
    """Another writer (a ``k2d3 load``, a build, a long update) held the store's writer lock
    for all the time this one could wait."""

    def __init__(self, waited: float) -> None:
        super().__init__(f"another write to the store (a k2d3 load or build, or another "
                         f"update) is in progress and did not end within {waited:g} s; "
                         f"nothing was changed: send this write again later")
        self.waited = waited


#: How often a writer with a time limit tries the lock again.
LOCK_POLL_S = 0.05


@contextmanager
def write_lock(root: Path, wait_s: float | None = None) -> Iterator[None]:
    """Hold the store's writer lock (across processes) for the duration of the block.

    Waits for another writer as long as it takes, or at most ``wait_s`` seconds.

    Raises:
        WriterBusy: the lock was still held after ``wait_s`` seconds.
    """
    root.mkdir(parents=True, exist_ok=True)
    with open(root / LOCK, "a+b") as handle:
        _lock(handle, wait_s)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _lock(handle: IO[bytes], wait_s: float | None) -> None:
    if wait_s is None:
        fcntl.flock(handle, fcntl.LOCK_EX)
        return
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise WriterBusy(wait_s) from None
            time.sleep(LOCK_POLL_S)


def try_prune(root: Path, also: Callable[[Path], object] | None = None) -> bool:
    """:func:`prune`, then ``also(root)``, if no writer holds the lock now (never waits);
    whether it ran."""
    try:
        handle = open(root / LOCK, "a+b")  # noqa: SIM115 (closed below; the lock goes with it)
    except OSError:
        return False
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        prune(root)
        if also is not None:
            also(root)
    return True


def new_tmp(root: Path) -> Path:
    """A fresh, empty folder for a snapshot to be written in (the caller holds the lock)."""
    root.mkdir(parents=True, exist_ok=True)
    path = root / f"{TMP_PREFIX}{time.time_ns():x}-{uuid.uuid4().hex[:8]}"
    path.mkdir()
    return path


def final_path(tmp: Path) -> Path:
    """The name a snapshot written in ``tmp`` gets when :func:`publish` swaps it in."""
    return tmp.with_name(PREFIX + tmp.name.removeprefix(TMP_PREFIX))


def checkpoint(root: Path, source: Path) -> Path:
    """A new ``.tmp-*`` folder holding the same data as the published snapshot ``source``.

    ``source`` is closed and never written, so copying its files gives a consistent RocksDB
    folder; the files RocksDB never changes in place are hard links (about 2 ms for the
    article's store, whatever its size), and the lock and info logs are left out.
    """
    tmp = new_tmp(root)
    for entry in os.scandir(source):
        name = entry.name
        if not entry.is_file(follow_symlinks=False):
            continue
        if name.startswith(LINKED) or name.endswith(LINKED):
            os.link(entry.path, tmp / name)
        elif name.startswith(COPIED) or name.endswith(COPIED):
            shutil.copyfile(entry.path, tmp / name)
    return tmp


def publish(root: Path, tmp: Path) -> str:
    """Make the snapshot written in ``tmp`` (flushed and closed) the live one, durably; its
    version. The caller holds :func:`write_lock`.

    RocksDB fsyncs what a flush writes (the ``.sst`` files, the ``MANIFEST``, ``CURRENT`` and
    their folder); the linked files were fsynced when the snapshot they come from was
    written. So what is left is the folder (its links) and, after the rename and the new
    link, the store folder: once this returns, a crash cannot lose the write. (Every fsync
    costs about 4 ms on the test machine's disk, so it does only these two.)
    """
    _fsync(tmp)
    final = final_path(tmp)
    os.rename(tmp, final)
    link = root / f".current.{os.getpid()}"
    if link.is_symlink():
        link.unlink()
    link.symlink_to(final.name)
    os.replace(link, root / CURRENT)
    _fsync(root)  # before it, a crash keeps the old link (the journal commits in order)
    return version_of(final)


def prune(root: Path) -> list[Path]:
    """Delete leftovers and every snapshot but the live one that no process holds.

    The caller holds :func:`write_lock` (or :func:`try_prune` takes it), so any ``.tmp-*``
    folder or ``.current.*`` link is a dead writer's. Returns what was deleted.
    """
    live = live_dir(root).name if exists(root) else None  # by name: ``root`` may be relative
    gone: list[Path] = []
    for path in sorted(root.iterdir()) if root.is_dir() else []:
        name = path.name
        if name.startswith((TMP_PREFIX, ".current.")):
            _remove(path)
        elif name == OLD_VERSION_FILE:
            path.unlink()
        elif not (name.startswith(PREFIX) and name != live and _remove_if_unheld(path)):
            continue
        gone.append(path)
    return gone


def _remove_if_unheld(snapshot: Path) -> bool:
    """Delete ``snapshot`` if no reader holds it (see :func:`hold_current`).

    It is renamed ``.tmp-*`` first, so a kill part-way through the deletion cannot leave a
    ``data-*`` folder that is not whole.
    """
    try:
        fd = os.open(snapshot, os.O_RDONLY | os.O_DIRECTORY)
    except (FileNotFoundError, NotADirectoryError):
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return False
    try:  # a reader waiting for the lock finds it gone from ``current`` and moves on
        doomed = snapshot.with_name(TMP_PREFIX + "gone-" + snapshot.name)
        os.rename(snapshot, doomed)
        _remove(doomed)
    finally:
        os.close(fd)
    return True


@dataclass
class Hold:
    """A snapshot held open for reading: no :func:`prune` deletes it until :meth:`release`."""

    path: Path
    version: str
    fd: int

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)  # the flock goes with the last descriptor
            self.fd = -1

    def __del__(self) -> None:  # a reader dropped with its holds (a command, a test)
        self.release()


def hold_current(root: Path) -> Hold:
    """Hold the live snapshot (a shared flock on its folder) and say which one it is.

    The snapshot was live after the lock was taken, and :func:`prune` never deletes the live
    one, so it is whole; one pruned before the lock was taken is no longer live, and the
    loop takes the one that is.

    Raises:
        StoreMissing: no store was built.
    """
    while True:
        path = live_dir(root)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        except FileNotFoundError:  # pruned between the readlink and the open?
            if live_dir(root) == path:
                raise StoreMissing(f"{root / CURRENT} points at {path.name}, which is missing: "
                                   f"run `k2d3 build --store {root}`") from None
            continue
        fcntl.flock(fd, fcntl.LOCK_SH)
        if live_dir(root) == path:
            return Hold(path, version_of(path), fd)
        os.close(fd)


def disk_bytes(folder: Path) -> int:
    """Bytes of the files in ``folder`` (hard links shared with other snapshots included).

    RocksDB may delete files meanwhile if it has the folder open: those are not counted.
    """
    total = 0
    for entry in os.scandir(folder):
        try:
            total += entry.stat(follow_symlinks=False).st_size
        except FileNotFoundError:
            continue
    return total


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
