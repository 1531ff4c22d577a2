"""server/build/apart.py: ``k2d3 serve``'s build runs in a child process, and what the user is
told when it fails or is killed. ``tests/live/test_worker_boot.py`` shows why (the workers of a
server whose own process had built the store died of SIGSEGV on exit)."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest

from server.build import apart
from server.build.pipeline import BuildError
from server.config import Settings


def test_the_build_runs_in_another_process(tmp_path: Path, monkeypatch: Any) -> None:
    marker = tmp_path / "built-by"
    monkeypatch.setattr(apart, "build", lambda _s: marker.write_text(str(os.getpid())))
    assert apart.build_apart(Settings(store=tmp_path / "store")) == 0
    assert int(marker.read_text()) != os.getpid()


def test_sources_that_do_not_validate_are_said_and_exit_1(
        tmp_path: Path, monkeypatch: Any, capfd: pytest.CaptureFixture[str]) -> None:
    def refuse(_settings: Settings) -> None:
        raise BuildError("the sources do not validate:\n  graph_data/x.ttl: line 3")

    monkeypatch.setattr(apart, "build", refuse)
    assert apart.build_apart(Settings(store=tmp_path / "store")) == 1
    err = capfd.readouterr().err
    assert err == "k2d3 serve: the sources do not validate:\n  graph_data/x.ttl: line 3\n"


def test_a_killed_build_is_said_and_exits_as_a_shell_would(
        tmp_path: Path, monkeypatch: Any, capfd: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(apart, "build", lambda _s: os.kill(os.getpid(), signal.SIGKILL))
    assert apart.build_apart(Settings(store=tmp_path / "store")) == 128 + signal.SIGKILL
    assert capfd.readouterr().err == ("k2d3 serve: the build was stopped by SIGKILL; the store "
                                      "is as it was\n")


def test_an_interrupted_build_exits_quietly(tmp_path: Path, monkeypatch: Any,
                                            capfd: pytest.CaptureFixture[str]) -> None:
    def interrupted(_settings: Settings) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(apart, "build", interrupted)
    assert apart.build_apart(Settings(store=tmp_path / "store")) == apart.INTERRUPTED
    assert capfd.readouterr().err == ""
