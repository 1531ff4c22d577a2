"""server/store.py: the live-folder swap, the version token, the writer lock, reader reopening."""

from __future__ import annotations

import multiprocessing
import threading
import time
from pathlib import Path

import pytest
from pyoxigraph import Literal, NamedNode, Quad, Store

from server import store

EX = "http://example.org/"


def _make(root: Path, value: str) -> str:
    with store.write_lock(root):
        data = store.new_data_dir(root)
        db = Store(str(data))
        db.add(Quad(NamedNode(EX + "s"), NamedNode(EX + "p"), Literal(value), NamedNode(EX + "g")))
        db.flush()
        del db
        return store.swap_in(root, data)


def _values(db: Store) -> set[str]:
    return {q.object.value for q in db.quads_for_pattern(None, None, None, None)}


def test_missing_store_says_how_to_build(tmp_path: Path) -> None:
    with pytest.raises(store.StoreMissing, match="k2d3 build"):
        store.live_dir(tmp_path / "nowhere")
    assert not store.exists(tmp_path / "nowhere")
    assert store.read_version(tmp_path / "nowhere") == ""


def test_swap_changes_version_and_keeps_two_folders(tmp_path: Path) -> None:
    versions = [_make(tmp_path, str(i)) for i in range(4)]
    assert len(set(versions)) == 4
    assert store.read_version(tmp_path) == versions[-1]
    assert len(list(tmp_path.glob("data-*"))) == store.KEEP_DATA_DIRS
    assert _values(store.StoreReader(tmp_path).get()) == {"3"}


@pytest.mark.parametrize("copy_max_quads", [0, 10], ids=["disk", "in-memory copy"])
def test_reader_follows_writes_and_builds(tmp_path: Path, copy_max_quads: int) -> None:
    _make(tmp_path, "first")
    reader = store.StoreReader(tmp_path, copy_max_quads)
    before = reader.get()
    assert reader.get() is before, "no change, no reopen"
    assert reader.copied is (copy_max_quads > 0)
    with store.writer(tmp_path) as db:
        db.add(Quad(NamedNode(EX + "s"), NamedNode(EX + "p"), Literal("written"),
                    NamedNode(EX + "g")))
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
        db.add(Quad(NamedNode(EX + "s"), NamedNode(EX + "p"), Literal("two"), NamedNode(EX + "g")))
    assert _values(reader.get()) == {"one", "two"}
    assert not reader.copied, "two quads: over the limit of one"


def test_in_memory_copies_quads_and_empty_graphs_up_to_the_limit(tmp_path: Path) -> None:
    disk = Store(str(tmp_path / "db"))
    quads = [Quad(NamedNode(EX + "s"), NamedNode(EX + "p"), Literal(str(i)), NamedNode(EX + "g"))
             for i in range(3)]
    disk.extend(quads)
    disk.add_graph(NamedNode(EX + "empty"))
    copy = store.in_memory(disk, 3)
    assert copy is not disk
    assert set(copy.quads_for_pattern(None, None, None, None)) == set(quads)
    assert set(copy.named_graphs()) == {NamedNode(EX + "g"), NamedNode(EX + "empty")}
    disk.add(Quad(NamedNode(EX + "s"), NamedNode(EX + "p"), Literal("later"), NamedNode(EX + "g")))
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
        db.add(Quad(NamedNode(EX + "s"), NamedNode(EX + "p"), Literal("never"),
                    NamedNode(EX + "g")))
    assert seen == [version], "the check sees the version as it stands"
    assert store.read_version(tmp_path) == version
    with store.writer(tmp_path, lambda db, current: None) as db:  # a check that lets it go
        db.add(Quad(NamedNode(EX + "s"), NamedNode(EX + "p"), Literal("added"),
                    NamedNode(EX + "g")))
    assert store.read_version(tmp_path) != version
    assert _values(store.StoreReader(tmp_path).get()) == {"kept", "added"}


def test_a_failed_write_still_moves_the_version_on(tmp_path: Path) -> None:
    """pyoxigraph applies an ``add`` at once: after a block that fails half-way the data may
    have changed, so readers must reopen and their ETags change."""
    version = _make(tmp_path, "kept")
    reader = store.StoreReader(tmp_path)
    assert _values(reader.get()) == {"kept"}
    with pytest.raises(RuntimeError), store.writer(tmp_path) as db:
        db.add(Quad(NamedNode(EX + "s"), NamedNode(EX + "p"), Literal("half-way"),
                    NamedNode(EX + "g")))
        raise RuntimeError("boom")
    assert store.read_version(tmp_path) != version
    on_disk = _values(Store.read_only(str(store.live_dir(tmp_path))))
    assert _values(reader.get()) == on_disk


def test_what_is_read_during_a_write_is_tagged_with_a_version_of_its_own(tmp_path: Path) -> None:
    """An ETag made while a write is under way must match neither the data before nor after."""
    before = _make(tmp_path, "first")
    reader = store.StoreReader(tmp_path)
    with store.writer(tmp_path) as db:
        db.add(Quad(NamedNode(EX + "s"), NamedNode(EX + "p"), Literal("written"),
                    NamedNode(EX + "g")))
        db.flush()  # readers may see the new data from here on
        _, during = reader.snapshot()
    after = store.read_version(tmp_path)
    assert len({before, during, after}) == 3
    building = store.new_data_dir(tmp_path)
    Store(str(building)).flush()
    with store.write_lock(tmp_path):
        swapped = store.swap_in(tmp_path, building)
    assert swapped not in {before, during, after}


def _write_in_child(root: str) -> None:
    with store.writer(Path(root)) as db:
        db.add(Quad(NamedNode(EX + "s"), NamedNode(EX + "p"), Literal("child"),
                    NamedNode(EX + "g")))


def test_the_mapped_version_sees_another_process_write_at_once(tmp_path: Path) -> None:
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


def test_the_version_file_follows_a_file_replaced_or_written_the_old_way(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "RECHECK_S", 0.0)
    versions = store.VersionFile(tmp_path)
    assert versions.read() == ""
    (tmp_path / "version").write_text("short-old-token", encoding="ascii")  # unpadded
    assert versions.read() == "short-old-token"
    token = store._write_version(tmp_path)
    assert (tmp_path / "version").stat().st_size == store.VERSION_BYTES
    assert versions.read() == token
    (tmp_path / "version").write_text("copied-over", encoding="ascii")  # truncated in place
    assert versions.read() == "copied-over"
    (tmp_path / "version").unlink()  # the store deleted and built again in the same folder
    fresh = store._write_version(tmp_path)
    assert versions.read() == fresh != token


def test_a_store_built_anew_is_never_tagged_with_the_old_store_s_version(
        tmp_path: Path) -> None:
    """Within the once-a-second recheck, a reader that reopens must read the token afresh."""
    root = tmp_path / "store"
    root.mkdir()
    _make(root, "old")
    reader = store.StoreReader(root)
    reader.snapshot()
    with store.writer(root) as db:
        db.add(Quad(NamedNode(EX + "s"), NamedNode(EX + "p"), Literal("old-2"),
                    NamedNode(EX + "g")))
    old_token = store.read_version(root)
    for child in sorted(root.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        child.rmdir() if child.is_dir() and not child.is_symlink() else child.unlink()
    new_token = _make(root, "new")
    db, tag = reader.snapshot()
    assert _values(db) == {"new"}
    assert tag == new_token != old_token


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


@pytest.mark.parametrize("limit", [0, 5])
def test_the_app_reads_through_a_copy_as_its_setting_says(tmp_path: Path, limit: int) -> None:
    from server import create_app
    from server.config import Settings
    from server.context import STORE_KEY

    _make(tmp_path, "x")
    reader = create_app(Settings(store=tmp_path, read_copy_max_quads=limit)).extensions[STORE_KEY]
    assert _values(reader.get()) == {"x"}
    assert reader.copied is (limit > 0)
