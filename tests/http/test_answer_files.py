"""The answer cache's shared folder (``server.http.answer_files``): whole files or none, the
least recently used out first, large bodies sent from their file, and anything it cannot read
or write is only a miss."""

from __future__ import annotations

import os
import pickle
import time
from pathlib import Path

from server.http.answer_files import HEAD, SUFFIX, TAG, AnswerFiles, Entry, FileEntry, name_of


def test_an_answer_written_by_one_reader_is_read_by_another(tmp_path: Path) -> None:
    AnswerFiles(tmp_path, 10_000, 1_000).write("k", {"rows": [1, 2]})
    AnswerFiles(tmp_path, 10_000, 1_000).write("e", Entry((("A", "b"),), b"body"))
    read = AnswerFiles(tmp_path, 10_000, 1_000).read("k")
    assert read is not None and read[0] == {"rows": [1, 2]}
    read = AnswerFiles(tmp_path, 10_000, 1_000).read("e")
    assert read == (Entry((("A", "b"),), b"body"), 4)
    assert AnswerFiles(tmp_path, 10_000, 1_000).read("other") is None
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        name_of(k) + SUFFIX for k in "ke")  # no temporary file left


def test_a_body_too_large_for_memory_is_sent_from_its_file(tmp_path: Path) -> None:
    body = bytes(range(256)) * 10_000                  # 2.5 MB, over in_memory_max
    files = AnswerFiles(tmp_path, 100_000_000, 1_000)
    files.write("big", Entry((), body))
    read = files.read("big")
    assert read is not None and isinstance(read[0], FileEntry) and read[1] == len(body)
    for path in tmp_path.iterdir():
        path.unlink()                                  # trimmed meanwhile: the open file stays
    assert b"".join(read[0].chunks()) == body


def test_the_least_recently_used_go_when_the_folder_is_over_its_bytes(tmp_path: Path) -> None:
    files = AnswerFiles(tmp_path, 2_000, 10_000)
    for i, key in enumerate(("a", "b", "c")):
        files.write(key, Entry((), b"x" * 400))
        os.utime(tmp_path / (name_of(key) + SUFFIX), ns=(i * 10**9, i * 10**9))
    assert files.read("a") is not None   # read: now the most recent
    files.write("d", Entry((), b"x" * 400))
    files.write("e", Entry((), b"x" * 400))   # five of ~460 bytes > 2,000: "b", the oldest, goes
    assert files.read("b") is None
    assert all(files.read(k) is not None for k in "acde")
    assert sum(p.stat().st_size for p in tmp_path.iterdir()) <= 2_000
    files.write("huge", Entry((), b"x" * 500))   # over a quarter of the folder: not kept
    assert files.read("huge") is None


def test_a_file_it_cannot_read_or_another_keys_file_is_a_miss(tmp_path: Path) -> None:
    files = AnswerFiles(tmp_path, 10_000, 1_000)
    (tmp_path / (name_of("torn") + SUFFIX)).write_bytes(HEAD.pack(TAG, 99) + b"\x80\x05no")
    assert files.read("torn") is None
    head = pickle.dumps(("theirs", "value", 1))
    (tmp_path / (name_of("mine") + SUFFIX)).write_bytes(HEAD.pack(TAG, len(head)) + head)
    assert files.read("mine") is None  # the key is stored with the value and compared


def test_a_folder_that_is_gone_only_means_nothing_is_shared(tmp_path: Path) -> None:
    files = AnswerFiles(tmp_path / "gone", 10_000, 1_000)
    files.write("k", 1)
    assert files.read("k") is None
    started = time.monotonic()
    files.trim()
    assert time.monotonic() - started < 1


def test_a_temporary_file_left_by_a_dead_writer_is_trimmed(tmp_path: Path) -> None:
    files = AnswerFiles(tmp_path, 10_000, 1_000)
    left = tmp_path / ".k2d3-dead.tmp"   # what a writer killed mid-answer leaves
    left.write_bytes(b"half an answer")
    os.utime(left, (time.time() - 3600, time.time() - 3600))
    files.write("other", Entry((), b"x"))   # a write trims
    assert not left.exists()
