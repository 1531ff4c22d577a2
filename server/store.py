"""The on-disk Oxigraph store: the only module that opens a pyoxigraph ``Store``.

Layout of the store folder (``K2D3_STORE``)::

    current -> data-<stamp>   symlink to the live RocksDB folder, swapped atomically by a build
    data-<stamp>/             RocksDB folders; the newest two are kept
    version                   a token that changes with every write (the HTTP ETag), rewritten
                              in place at a fixed size so readers can keep it open
    lock                      writers (build, SPARQL Update, Graph Store writes) hold it with flock

Readers open the live folder read-only, so any number of server processes can query at once;
a reader reopens when the version token has changed, and may answer from an in-memory copy of
what it opened (:class:`StoreReader`). A server reads the token on every request,
from the file kept open (:class:`VersionFile`): one system call. Writers take the lock, open
the live folder read-write, flush, close and bump the version, so a write is durable once
acknowledged.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from pyoxigraph import Store

KEEP_DATA_DIRS = 2


class StoreMissing(FileNotFoundError):
    """The store folder holds no built store yet (run ``k2d3 build``)."""


def live_dir(root: Path) -> Path:
    """The RocksDB folder the ``current`` symlink points at."""
    link = root / "current"
    if not link.is_symlink() and not link.is_dir():
        raise StoreMissing(f"no store at {root}: run `k2d3 build --store {root}`")
    return link.resolve()


def exists(root: Path) -> bool:
    try:
        live_dir(root)
    except StoreMissing:
        return False
    return True


#: Size of the version file: the token, padded with spaces.
VERSION_BYTES = 64
#: How often a :class:`VersionFile` checks that the file it maps is still the store's.
RECHECK_S = 1.0


def read_version(root: Path) -> str:
    """The store's version token ("" when it was never built)."""
    try:
        fd = os.open(root / "version", os.O_RDONLY)
    except FileNotFoundError:
        return ""
    try:
        return os.read(fd, 256).decode("ascii").strip()
    finally:
        os.close(fd)


def _write_version(root: Path) -> str:
    """Write a new token over the old one, in place (see :class:`VersionFile`)."""
    token = f"{time.time_ns():x}-{uuid.uuid4().hex[:8]}"
    fd = os.open(root / "version", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        os.pwrite(fd, token.encode("ascii").ljust(VERSION_BYTES), 0)
        os.ftruncate(fd, VERSION_BYTES)  # a file written before tokens were padded was shorter
    finally:
        os.close(fd)
    return token


class _OpenFile:
    """A read-only file descriptor, closed when the last reference goes (threads may still be
    reading from one that :class:`VersionFile` has replaced)."""

    fd = -1

    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_RDONLY)

    def __del__(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)


class VersionFile:
    """The version file kept open, so reading the token is one ``pread``.

    Writers overwrite the token in place with one ``pwrite``, so the open file sees every new
    token. A read that races a write could see a mix of the two: a value never current, which
    makes :class:`StoreReader` reopen and read again until the token and the store agree, so
    it can never label data. The path is looked at again every ``RECHECK_S``, and whenever the
    reader reopens the store, in case the file was replaced (a store deleted and built anew in
    the same folder). Not a memory map: a file truncated in place (``cp`` over it) would make
    reading the map kill the process.
    """

    def __init__(self, root: Path) -> None:
        self.path = str(root / "version")
        self._file: _OpenFile | None = None
        self._inode = -1
        self._checked = 0.0

    def read(self, recheck: bool = False) -> str:
        """The token ("" when the store was never built); ``recheck`` the path first."""
        handle, now = self._file, time.monotonic()
        if handle is None or recheck or now - self._checked > RECHECK_S:
            self._checked = now
            handle = self._reopen()
            if handle is None:
                return ""
        return os.pread(handle.fd, VERSION_BYTES, 0).decode("ascii", "replace").strip()

    def _reopen(self) -> _OpenFile | None:
        """The open file, opened anew if the path now names another one. Threads may race
        here; a file another thread still reads from is closed when the last one lets go."""
        try:
            inode = os.stat(self.path).st_ino
        except FileNotFoundError:
            self._file = None
            return None
        if self._file is None or inode != self._inode:
            try:
                self._file = _OpenFile(self.path)
            except FileNotFoundError:
                self._file = None
                return None
            self._inode = os.fstat(self._file.fd).st_ino
        return self._file


@contextmanager
def write_lock(root: Path) -> Iterator[None]:
    """Hold the store's writer lock (across processes) for the duration of the block."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / "lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class _Writing:
    """The read-write store, lent for one ``with writer(...)`` block and taken back after it.

    pyoxigraph closes a Store only when the last reference goes, and the caller's ``as`` name
    outlives the block; lending a stand-in that drops its reference at the end closes RocksDB
    before the lock is released, so the next writer can open it.
    """

    def __init__(self, store: Store) -> None:
        self._store: Store | None = store

    def __getattr__(self, name: str) -> Any:
        if self._store is None:
            raise RuntimeError("the store is closed: use it inside the `with writer()` block")
        return getattr(self._store, name)

    def close(self) -> None:
        self._store = None


@contextmanager
def writer(root: Path, before: Callable[[Store, str], None] | None = None) -> Iterator[Store]:
    """Open the live store read-write under the lock; flush, and bump the version.

    pyoxigraph applies each ``add`` / ``remove`` as it comes, so a block that fails half-way
    may still have changed the data: the version is bumped when the block ends either way, and
    readers reopen. It is bumped before the write too: a reader that opens the store while it
    is being written (and may see new data before the final bump) tags what it answers with a
    token that will never be current again, so no client can revalidate stale data as fresh.
    ``before(store, version)`` runs under the lock first, with the version as it stands: it may
    refuse the write by raising (a 404, a failed precondition), and then nothing is bumped, so
    a refused write leaves every client's cached answers valid.
    The store is closed when the block ends, before the lock is released.
    """
    with write_lock(root):
        lent = _Writing(Store(str(live_dir(root))))
        try:
            if before is not None:
                before(cast(Store, lent), read_version(root))
        except BaseException:
            lent.close()
            raise
        _write_version(root)
        try:
            yield cast(Store, lent)
            lent.flush()
        finally:
            lent.close()  # the last reference: RocksDB closes here
            _write_version(root)


def new_data_dir(root: Path) -> Path:
    """A fresh, empty RocksDB folder for a build to fill before :func:`swap_in`."""
    root.mkdir(parents=True, exist_ok=True)
    path = root / f"data-{time.time_ns():x}"
    path.mkdir()
    return path


def swap_in(root: Path, data: Path) -> str:
    """Point ``current`` at ``data`` atomically, bump the version and prune old folders.

    The caller holds :func:`write_lock`. Returns the new version token.
    """
    tmp_link = root / f".current.{os.getpid()}"
    if tmp_link.is_symlink():
        tmp_link.unlink()
    tmp_link.symlink_to(data.name)
    _write_version(root)  # for readers in between, as in writer()
    os.replace(tmp_link, root / "current")
    token = _write_version(root)
    olds = sorted(p for p in root.glob("data-*") if p.is_dir() and p != data)
    for old in olds[: max(0, len(olds) - (KEEP_DATA_DIRS - 1))]:
        _remove_tree(old)
    return token


def _remove_tree(path: Path) -> None:
    for child in sorted(path.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if child.is_dir() and not child.is_symlink():
            child.rmdir()
        else:
            child.unlink()
    path.rmdir()


class StoreReader:
    """A per-process, thread-safe read-only handle that follows the store's version.

    ``get()`` returns a ``Store`` opened read-only on the live folder, reopening it when another
    process (a build or a write) has changed the version since it was opened.

    With ``copy_max_quads`` above 0, a store of at most that many quads is copied into an
    in-memory ``Store`` when opened, and reads are answered from the copy: pyoxigraph evaluates
    the same query two to nine times faster there than on RocksDB (measured on the article's
    graph), and its time varies less from thread to thread. A larger store is read from disk.
    The copy is for reading only: writes go through :func:`writer`, to disk, and bump the
    version, which makes every reader copy again (about 10 µs a quad, while the process's
    other reads wait for it, as they wait for a reopen).
    """

    def __init__(self, root: Path, copy_max_quads: int = 0) -> None:
        self.root = root
        self.copy_max_quads = copy_max_quads
        self._version_file = VersionFile(root)
        self._lock = threading.Lock()
        # (store, version, copied), replaced as one so that a reader never pairs one version's
        # store with another's token
        self._current: tuple[Store, str, bool] | None = None

    def version(self) -> str:
        return self._version_file.read()

    @property
    def copied(self) -> bool:
        """Whether reads are answered from an in-memory copy (``/healthz`` reports it)."""
        current = self._current
        return current is not None and current[2]

    def get(self) -> Store:
        return self.snapshot()[0]

    def snapshot(self) -> tuple[Store, str]:
        """The store and the version it answers for, read together (one read of the token).

        Use the pair when the version labels what the store returns (an ETag), so that a write
        between two separate reads cannot tag new data with an old version.
        """
        version = self._version_file.read()
        current = self._current
        if current is not None and version == current[1]:
            return current[0], version
        with self._lock:
            version = self._version_file.read(recheck=True)
            while self._current is None or version != self._current[1]:
                opened = Store.read_only(str(live_dir(self.root)))
                # A write may land between reading the token and opening: then the store
                # holds newer data than the token says; read again until the two agree.
                now = self._version_file.read(recheck=True)
                if now == version:
                    store = in_memory(opened, self.copy_max_quads)
                    self._current = (store, version, store is not opened)
                version = now
            return self._current[0], version


def in_memory(store: Store, max_quads: int) -> Store:
    """An in-memory copy of ``store`` if it holds at most ``max_quads`` quads, else ``store``."""
    if max_quads <= 0 or len(store) > max_quads:  # pyoxigraph counts in Rust: 30 ms for 150k
        return store
    copy = Store()
    copy.bulk_extend(store.quads_for_pattern(None, None, None, None))
    for graph in store.named_graphs():  # named graphs without quads exist too
        copy.add_graph(graph)
    return copy
