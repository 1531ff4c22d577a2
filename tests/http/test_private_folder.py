"""server/http/private_folder.py: the folders the workers share (metrics; kept answers, which
are pickles) are made if missing, and refused when another user could have put files there."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from server.http.private_folder import NotPrivate, private_folder


def test_a_missing_folder_is_made_for_this_user_alone(tmp_path: Path) -> None:
    made = private_folder(tmp_path / "a" / "b")
    assert stat.S_IMODE(made.stat().st_mode) == 0o700 and made.stat().st_uid == os.geteuid()


def test_an_own_folder_others_may_read_is_kept(tmp_path: Path) -> None:
    folder = tmp_path / "answers"
    folder.mkdir(mode=0o755)
    (folder / "kept").write_text("x")
    assert private_folder(folder) == folder and (folder / "kept").exists()


@pytest.mark.parametrize("mode", [0o777, 0o775, 0o757])
def test_a_folder_others_may_write_is_refused(tmp_path: Path, mode: int) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(mode)
    with pytest.raises(NotPrivate, match=f"may be written by others \\(mode {mode:o}\\)"):
        private_folder(folder)


def test_a_file_in_its_place_is_refused(tmp_path: Path) -> None:
    (tmp_path / "metrics").write_text("not a folder")
    with pytest.raises(OSError):
        private_folder(tmp_path / "metrics")


@pytest.mark.skipif(os.geteuid() != 0, reason="making another user's folder needs root")
def test_another_users_folder_or_a_link_to_it_is_refused(tmp_path: Path) -> None:
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o700)
    os.chown(theirs, 65534, 65534)
    link = tmp_path / "k2d3-metrics-abc"
    link.symlink_to(theirs)
    for path in (theirs, link):
        with pytest.raises(NotPrivate, match="belongs to user 65534"):
            private_folder(path)
