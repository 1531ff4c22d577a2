"""server/rdf/store.py and server/rdf/snapshots.py: copy-on-write snapshots, the writer transaction,
the version token, the writer lock, readers that follow and hold snapshots, pruning, vacuum."""

from __future__ import annotations

import fcntl
import multiprocessing
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from pyoxigraph import Literal, NamedNode, Quad, Store

from server.rdf import snapshots, store

EX = "http://example.org/"
ROOT = Path(__file__).resolve().parents[2]


def _quad(value: str, graph: str = "g") -> Quad:
    return Quad(NamedNode(EX + "s"), NamedNode(EX + "p"), Literal(value), NamedNode(EX + graph))


def _make(root: Path, value: str) -> str:
    with store.write_lock(root):
        data = store.new_data_dir(root)
        db = Store(str(data))
        db.add(_quad(value))
        db.flush()
        del db
        return store.swap_in(root, data)


def _values(db: Store) -> set[str]:
    return {q.object.value for q in db.quads_for_pattern(None, None, None, None)}


def _on_disk(root: Path) -> set[str]:
    return _values(Store.read_only(str(store.live_dir(root))))


def _files(folder: Path) -> dict[str, tuple[int, int, int]]:
    return {e.name: (e.stat().st_ino, e.stat().st_size, e.stat().st_mtime_ns)
            for e in os.scandir(folder) if e.is_file()}


def test_missing_store_says_how_to_build(tmp_path: Path) -> None:
    with pytest.raises(store.StoreMissing, match="k2d3 build"):
        store.live_dir(tmp_path / "nowhere")
    assert not store.exists(tmp_path / "nowhere")
    assert store.read_version(tmp_path / "nowhere") == ""


def test_every_write_publishes_a_snapshot_and_unread_ones_go(tmp_path: Path) -> None:
    versions = [_make(tmp_path, "0")]
    for i in range(1, 4):
        with store.writer(tmp_path) as db:
            db.add(_quad(str(i)))
        versions.append(store.read_version(tmp_path))
    assert len(set(versions)) == 4
    live = store.live_dir(tmp_path)
    assert live.name == "data-" + versions[-1], "the token names the live snapshot"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["current", "data-" + versions[-1],
                                                          "lock"]
    assert _on_disk(tmp_path) == {"0", "1", "2", "3"}


@pytest.mark.parametrize("copy_max_quads", [0, 10], ids=["disk", "in-memory copy"])
def test_reader_follows_writes_and_builds(tmp_path: Path, copy_max_quads: int) -> None:
    _make(tmp_path, "first")
    reader = store.StoreReader(tmp_path, copy_max_quads)
    before = reader.get()
    assert reader.get() is before, "no change, no reopen"
    assert reader.copied is (copy_max_quads > 0)
    with store.writer(tmp_path) as db:
        db.add(_quad("written"))
    assert reader.version() != ""
    assert _values(reader.get()) == {"first", "written"}
    _make(tmp_path, "rebuilt")
    assert _values(reader.get()) == {"rebuilt"}
    assert reader.copied is (copy_max_quads > 0)


def test_a_store_over_the_copy_limit_is_read_from_disk(tmp_path: Path) -> None:
    _make(tmp_path, "one")
    reader = store.StoreReader(tmp_path, 1)
    assert reader.get() is not None and reader.copied
    with store.writer(tmp_path) as db:
        db.add(_quad("two"))
    assert _values(reader.get()) == {"one", "two"}
    assert not reader.copied, "two quads: over the limit of one"


def test_in_memory_copies_quads_and_empty_graphs_up_to_the_limit(tmp_path: Path) -> None:
    disk = Store(str(tmp_path / "db"))
    quads = [_quad(str(i)) for i in range(3)]
    disk.extend(quads)
    disk.add_graph(NamedNode(EX + "empty"))
    copy = store.in_memory(disk, 3)
    assert copy is not disk
    assert set(copy.quads_for_pattern(None, None, None, None)) == set(quads)
    assert set(copy.named_graphs()) == {NamedNode(EX + "g"), NamedNode(EX + "empty")}
    disk.add(_quad("later"))
    assert _values(copy) == {"0", "1", "2"}, "a copy is a snapshot of what was opened"
    assert store.in_memory(disk, 3) is disk, "over the limit: read from disk"
    assert store.in_memory(disk, 0) is disk, "0: never copy"


def test_a_write_refused_before_it_starts_moves_nothing(tmp_path: Path) -> None:
    version = _make(tmp_path, "kept")
    seen: list[str] = []

    def refuse(db: Store, current: str) -> None:
        seen.append(current)
        raise LookupError("refused")

    with pytest.raises(LookupError), store.writer(tmp_path, refuse) as db:
        db.add(_quad("never"))
    assert seen == [version], "the check sees the version as it stands"
    assert store.read_version(tmp_path) == version
    assert not list(tmp_path.glob(".tmp-*"))
    with store.writer(tmp_path, lambda db, current: None) as db:  # a check that lets it go
        db.add(_quad("added"))
    assert store.read_version(tmp_path) != version
    assert _values(store.StoreReader(tmp_path).get()) == {"kept", "added"}


def test_a_write_that_fails_half_way_changes_nothing(tmp_path: Path) -> None:
    """pyoxigraph applies each ``add`` at once: the block works on a copy, so a block that
    fails half-way leaves neither its data nor a new version behind."""
    version = _make(tmp_path, "kept")
    reader = store.StoreReader(tmp_path)
    assert _values(reader.get()) == {"kept"}
    with pytest.raises(RuntimeError), store.writer(tmp_path) as db:
        db.remove_graph(NamedNode(EX + "g"))
        db.add(_quad("half-way"))
        db.flush()
        raise RuntimeError("boom")
    assert store.read_version(tmp_path) == version
    assert _on_disk(tmp_path) == {"kept"}
    assert reader.snapshot() == (reader.get(), version)
    assert not list(tmp_path.glob(".tmp-*")), "the copy is deleted"


@pytest.mark.parametrize("copy_max_quads", [0, 10], ids=["disk", "in-memory copy"])
def test_a_reader_sees_the_old_state_until_the_write_is_published(
        tmp_path: Path, copy_max_quads: int) -> None:
    before = _make(tmp_path, "first")
    with store.writer(tmp_path) as db:
        db.remove_graph(NamedNode(EX + "g"))  # a PUT's first step: the graph empty in between
        db.add(_quad("second"))
        db.flush()
        fresh = store.StoreReader(tmp_path, copy_max_quads)
        during, tag = fresh.snapshot()
        assert (_values(during), tag) == ({"first"}, before)
    seen, after = fresh.snapshot()
    assert after == store.read_version(tmp_path) != before
    assert _values(seen) == {"second"}
    assert _values(during) == {"first"}, "a store once read keeps its snapshot's data"


def test_a_published_snapshot_is_never_written_again(tmp_path: Path) -> None:
    _make(tmp_path, "first")
    reader = store.StoreReader(tmp_path)  # on disk: it holds the snapshot it reads
    old, _ = reader.snapshot()
    folder = store.live_dir(tmp_path)
    files = _files(folder)
    for i in range(3):
        with store.writer(tmp_path) as db:
            db.update(f'INSERT DATA {{ GRAPH <{EX}g> {{ <{EX}s> <{EX}p> "{i}" }} }}')
        _values(Store.read_only(str(store.live_dir(tmp_path))))
    assert folder.is_dir(), "held by the reader"
    assert _files(folder) == files
    assert _values(old) == {"first"}


def test_a_checkpoint_links_what_rocksdb_never_rewrites_and_copies_the_rest(
        tmp_path: Path) -> None:
    _make(tmp_path, "x")
    live = store.live_dir(tmp_path)
    with store.write_lock(tmp_path):
        copy = snapshots.checkpoint(tmp_path, live)
    source, copied = _files(live), _files(copy)
    linked = [n for n in copied if n.endswith(".sst") or n in {"CURRENT", "IDENTITY"}
              or n.startswith("OPTIONS-")]
    appended = [n for n in copied if n.startswith("MANIFEST-") or n.endswith(".log")]
    assert any(n.endswith(".sst") for n in linked) and "CURRENT" in linked
    assert all(copied[n][0] == source[n][0] for n in linked), "hard links"
    assert appended and all(copied[n][0] != source[n][0] for n in appended), "copies"
    assert set(copied) == set(linked) | set(appended), "no lock, no info log"
    assert _values(Store.read_only(str(copy))) == {"x"}
    db = Store(str(copy))  # a writer's session on the copy leaves the source as it was
    db.add(_quad("y"))
    db.flush()
    del db
    assert _files(live) == source


def test_a_snapshot_a_process_still_reads_is_kept_until_it_lets_go(tmp_path: Path) -> None:
    _make(tmp_path, "first")
    reader = store.StoreReader(tmp_path)
    kept = reader.get()
    first = store.live_dir(tmp_path)
    with store.writer(tmp_path) as db:
        db.add(_quad("second"))
    assert first.is_dir(), "the reader's current snapshot"
    assert _values(reader.get()) == {"first", "second"}
    with store.writer(tmp_path) as db:
        db.add(_quad("third"))
    assert first.is_dir(), "a caller still references the store read from it"
    assert _values(kept) == {"first"}
    del kept
    assert _values(reader.get()) == {"first", "second", "third"}
    assert not first.exists(), "let go, and pruned"
    assert len(list(tmp_path.glob("data-*"))) == 1


def test_prune_removes_leftovers_and_unheld_snapshots_only(tmp_path: Path) -> None:
    _make(tmp_path, "x")
    live = store.live_dir(tmp_path)
    (tmp_path / ".tmp-dead").mkdir()
    (tmp_path / ".current.123").symlink_to(live.name)
    (tmp_path / "version").write_text("an old token file")
    old = tmp_path / "data-0-old"
    old.mkdir()
    held = tmp_path / "data-1-held"
    held.mkdir()
    fd = os.open(held, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_SH)
    try:
        with store.write_lock(tmp_path):
            gone = snapshots.prune(tmp_path)
    finally:
        os.close(fd)
    assert {p.name for p in gone} == {".tmp-dead", ".current.123", "version", "data-0-old"}
    assert live.is_dir() and held.is_dir()
    assert snapshots.try_prune(tmp_path)
    assert not held.exists()


def _kill_mid_write(root: Path, quads: int) -> int:
    """Start a process writing ``quads`` quads, kill -9 it once it has begun; its exit code."""
    code = (
        "import sys; from pathlib import Path; from pyoxigraph import *\n"
        "from server.rdf import store\n"
        "with store.writer(Path(sys.argv[1])) as db:\n"
        "    db.remove_graph(NamedNode('http://example.org/g'))\n"
        "    print('writing', flush=True)\n"
        "    db.extend(Quad(NamedNode(f'http://example.org/s{i}'), NamedNode('http://example.org/p'),"
        " Literal(str(i)), NamedNode('http://example.org/g')) for i in range(int(sys.argv[2])))\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(root), str(quads)], cwd=ROOT,
                            stdout=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdout.readline() == b"writing\n"
    time.sleep(0.2)
    proc.kill()
    proc.stdout.close()
    return proc.wait()


def test_a_writer_killed_mid_write_leaves_the_old_store_and_no_snapshot(tmp_path: Path) -> None:
    version = _make(tmp_path, "kept")
    assert _kill_mid_write(tmp_path, 200_000) == -9
    assert store.read_version(tmp_path) == version
    assert _values(store.StoreReader(tmp_path).get()) == {"kept"}
    assert [p.name for p in tmp_path.glob("data-*")] == ["data-" + version]
    assert list(tmp_path.glob(".tmp-*")), "the kill landed mid-write"
    with store.writer(tmp_path) as db:
        db.add(_quad("next"))
    assert not list(tmp_path.glob(".tmp-*")), "the next writer removes what was left"
    assert _on_disk(tmp_path) == {"kept", "next"}


def test_a_store_built_anew_is_never_tagged_with_the_old_store_s_version(
        tmp_path: Path) -> None:
    root = tmp_path / "store"
    root.mkdir()
    _make(root, "old")
    reader = store.StoreReader(root)
    reader.snapshot()
    with store.writer(root) as db:
        db.add(_quad("old-2"))
    old_token = store.read_version(root)
    reader = store.StoreReader(root)  # (the old one holds its snapshot's folder open)
    reader.snapshot()
    for child in sorted(root.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        child.rmdir() if child.is_dir() and not child.is_symlink() else child.unlink()
    new_token = _make(root, "new")
    db, tag = reader.snapshot()
    assert _values(db) == {"new"}
    assert tag == new_token != old_token


def _write_in_child(root: str) -> None:
    with store.writer(Path(root)) as db:
        db.add(_quad("child"))


def test_a_reader_sees_another_process_write_at_once(tmp_path: Path) -> None:
    _make(tmp_path, "first")
    reader = store.StoreReader(tmp_path)
    _, before = reader.snapshot()
    child = multiprocessing.get_context("spawn").Process(target=_write_in_child,
                                                         args=(str(tmp_path),))
    child.start()
    child.join(60)
    assert child.exitcode == 0
    db, after = reader.snapshot()
    assert after == store.read_version(tmp_path) != before
    assert _values(db) == {"first", "child"}


def _hold_lock(root: str, ready, release) -> None:  # type: ignore[no-untyped-def]
    with store.write_lock(Path(root)):
        ready.set()
        release.wait(10)


def test_write_lock_excludes_other_processes(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(str(tmp_path), ready, release))
    holder.start()
    assert ready.wait(30)
    started = time.monotonic()
    threading.Timer(0.5, release.set).start()
    assert not snapshots.try_prune(tmp_path), "a reader's prune never waits for a writer"
    with store.write_lock(tmp_path):
        waited = time.monotonic() - started
    holder.join(10)
    assert waited >= 0.4, "the second writer must wait for the first"


def test_concurrent_writers_all_succeed(tmp_path: Path) -> None:
    """Each writer closes the store before the next takes the lock (threads share a process)."""
    _make(tmp_path, "base")
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        for i in range(10):
            try:
                with store.writer(tmp_path) as db:
                    db.update(f'INSERT DATA {{ GRAPH <{EX}g> {{ <{EX}w{worker}> <{EX}p> {i} }} }}')
            except BaseException as exc:  # collected and asserted below
                errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(list(store.StoreReader(tmp_path).get().quads_for_pattern(None, None, None))) == 41


def test_the_lent_store_is_closed_after_its_block(tmp_path: Path) -> None:
    _make(tmp_path, "x")
    with store.writer(tmp_path) as db:
        pass
    with pytest.raises(RuntimeError, match="closed"):
        db.update("INSERT DATA { <http://e/a> <http://e/b> 1 }")


def _big_graph(db: Store, n: int) -> None:
    db.extend(Quad(NamedNode(f"{EX}s{i}"), NamedNode(EX + "p"), Literal(f"{i} " + "x" * 400),
                   NamedNode(EX + "big")) for i in range(n))


def test_dropping_most_of_the_store_gives_the_disk_back(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "VACUUM_MIN_BYTES", 1 << 20)
    _make(tmp_path, "kept")
    small = snapshots.disk_bytes(store.live_dir(tmp_path))
    with store.writer(tmp_path) as db:
        _big_graph(db, 20_000)
    big = snapshots.disk_bytes(store.live_dir(tmp_path))
    assert big > 4 * small + (2 << 20)
    with store.writer(tmp_path) as db:
        db.remove_graph(NamedNode(EX + "big"))
    assert snapshots.disk_bytes(store.live_dir(tmp_path)) < small + (big - small) // 4
    assert _on_disk(tmp_path) == {"kept"}
    assert set(Store.read_only(str(store.live_dir(tmp_path))).named_graphs()) == {
        NamedNode(EX + "g")}


def test_a_small_removal_is_not_rewritten(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "VACUUM_MIN_BYTES", 1 << 20)
    rewrites: list[int] = []
    monkeypatch.setattr(store, "copy_into", lambda *args: rewrites.append(1))
    _make(tmp_path, "kept")
    with store.writer(tmp_path) as db:
        _big_graph(db, 20_000)
        db.add_graph(NamedNode(EX + "empty"))
    with store.writer(tmp_path) as db:
        db.remove(Quad(NamedNode(f"{EX}s1"), NamedNode(EX + "p"), Literal("1 " + "x" * 400),
                       NamedNode(EX + "big")))
    assert rewrites == []


def test_a_full_disk_fails_the_write_cleanly(tmp_path: Path) -> None:
    disk = tmp_path / "small"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        version = _make(disk, "kept")
        with pytest.raises(store.StoreFull, match="full"), store.writer(disk) as db:
            _big_graph(db, 40_000)
        assert store.read_version(disk) == version
        assert _values(store.StoreReader(disk).get()) == {"kept"}
        assert not list(disk.glob(".tmp-*"))
        with store.writer(disk) as db:
            db.add(_quad("after"))
        assert _on_disk(disk) == {"kept", "after"}
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_disk_full_is_recognised_from_the_os_and_from_rocksdb() -> None:
    assert snapshots.is_disk_full(OSError(28, "No space left on device"))
    assert snapshots.is_disk_full(OSError("IO error: No space left on device: While appending"))
    assert not snapshots.is_disk_full(OSError(2, "No such file or directory"))
    assert not snapshots.is_disk_full(RuntimeError("No space left on device"))


@pytest.mark.parametrize("limit", [0, 5])
def test_the_app_reads_through_a_copy_as_its_setting_says(tmp_path: Path, limit: int) -> None:
    from server import create_app
    from server.config import Settings
    from server.http.context import STORE_KEY

    _make(tmp_path, "x")
    reader = create_app(Settings(store=tmp_path, read_copy_max_quads=limit)).extensions[STORE_KEY]
    assert _values(reader.get()) == {"x"}
    assert reader.copied is (limit > 0)


def test_count_quads_counts_every_graph_up_to_the_limit(tmp_path: Path) -> None:
    db = Store(str(tmp_path / "db"))
    db.add(Quad(NamedNode(EX + "s"), NamedNode(EX + "p"), Literal("default")))
    db.extend(_quad(str(i), graph=f"g{i % 3}") for i in range(9))
    assert store.count_quads(db, 100) == 10
    assert store.count_quads(db, 4) == 4
    assert store.count_quads(Store(), 5) == 0


def test_a_live_snapshot_deleted_by_hand_is_reported_not_waited_for(tmp_path: Path) -> None:
    _make(tmp_path, "x")
    shutil.rmtree(store.live_dir(tmp_path))
    with pytest.raises(store.StoreMissing, match="missing"):
        store.StoreReader(tmp_path).get()


def test_a_reader_that_moves_on_prunes_what_a_write_could_not(tmp_path: Path) -> None:
    _make(tmp_path, "first")
    reader = store.StoreReader(tmp_path, copy_max_quads=10)
    reader.get()
    busy = snapshots.hold_current(tmp_path)  # another process, copying the snapshot just then
    with store.writer(tmp_path) as db:
        db.add(_quad("second"))
    assert busy.path.is_dir(), "held while the write pruned"
    busy.release()
    assert _values(reader.get()) == {"first", "second"}
    assert not busy.path.exists()
