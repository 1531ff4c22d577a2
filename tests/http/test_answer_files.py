"""The answer cache's shared folder (``server.http.answer_files``): whole files or none, the
least recently used out first, and anything it cannot read or write is only a miss."""

from __future__ import annotations

import os
import pickle
import time
from pathlib import Path

from server.http.answer_files import SUFFIX, AnswerFiles, name_of


def test_an_answer_written_by_one_reader_is_read_by_another(tmp_path: Path) -> None:
    AnswerFiles(tmp_path, 10_000).write("k", {"rows": [1, 2]})
    assert AnswerFiles(tmp_path, 10_000).read("k") is not None
    value, size = AnswerFiles(tmp_path, 10_000).read("k")  # type: ignore[misc]
    assert value == {"rows": [1, 2]} and size == (tmp_path / (name_of("k") + SUFFIX)).stat().st_size
    assert AnswerFiles(tmp_path, 10_000).read("other") is None
    assert [p.name for p in tmp_path.iterdir()] == [name_of("k") + SUFFIX]  # no temporary left


def test_the_least_recently_used_go_when_the_folder_is_over_its_bytes(tmp_path: Path) -> None:
    files = AnswerFiles(tmp_path, 2_000)
    for i, key in enumerate(("a", "b", "c")):
        files.write(key, b"x" * 400)
        os.utime(tmp_path / (name_of(key) + SUFFIX), ns=(i * 10**9, i * 10**9))
    assert files.read("a") is not None   # read: now the most recent
    files.write("d", b"x" * 400)
    files.write("e", b"x" * 400)          # five of ~450 bytes > 2,000: "b", the oldest, goes
    assert files.read("b") is None
    assert all(files.read(k) is not None for k in "acde")
    assert sum(p.stat().st_size for p in tmp_path.iterdir()) <= 2_000
    files.write("huge", b"x" * 600)        # over a quarter of the folder: not kept
    assert files.read("huge") is None


def test_a_file_it_cannot_read_or_another_keys_file_is_a_miss(tmp_path: Path) -> None:
    files = AnswerFiles(tmp_path, 10_000)
    (tmp_path / (name_of("torn") + SUFFIX)).write_bytes(b"\x80\x05not a pickle")
    assert files.read("torn") is None
    (tmp_path / (name_of("mine") + SUFFIX)).write_bytes(pickle.dumps(("theirs", 1)))
    assert files.read("mine") is None  # the key is stored with the value and compared


def test_a_folder_that_is_gone_only_means_nothing_is_shared(tmp_path: Path) -> None:
    files = AnswerFiles(tmp_path / "gone", 10_000)
    files.write("k", 1)
    assert files.read("k") is None
    started = time.monotonic()
    files.trim()
    assert time.monotonic() - started < 1
