"""server/serving/gthread_check.py: the gthread internals K2D3Worker builds on, on the installed
gunicorn and on the newest release on the package index; and the stock worker standing in when
they are missing (server.serving.serve.worker_class).
"""

from __future__ import annotations

import logging
import subprocess
import sys
import venv
from collections.abc import Iterator
from pathlib import Path

import pytest
from gunicorn.http.unreader import Unreader
from gunicorn.workers import gthread

from server.config import load_settings
from server.serving import gthread_check, serve

CHECK = Path(gthread_check.__file__)


def test_the_installed_gunicorn_has_what_the_worker_needs() -> None:
    assert gthread_check.missing() == []
    assert serve.gunicorn_options(load_settings(env={}), "127.0.0.1", 0)["worker_class"] == \
        serve.K2D3_WORKER


def test_a_changed_internal_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gthread.ThreadWorker, "murder_pending", lambda self, now: None)
    monkeypatch.setattr(gthread.ThreadWorker, "finish_request", lambda self, conn, fs: None)
    monkeypatch.delattr(Unreader, "take_buffered")
    found = gthread_check.missing()
    assert "ThreadWorker.murder_pending(self)" in found
    assert any(f.startswith("ThreadWorker.finish_request: finish_request re-enqueues")
               for f in found)
    assert "Unreader.take_buffered" in found
    assert len(found) == 3


@pytest.fixture()
def changed_gunicorn(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(gthread_check, "missing", lambda: ["ThreadWorker.handle(self, conn)"])
    serve.worker_class.cache_clear()
    yield
    serve.worker_class.cache_clear()


@pytest.mark.usefixtures("changed_gunicorn")
def test_the_stock_worker_stands_in_and_says_so_once(caplog: pytest.LogCaptureFixture) -> None:
    settings = load_settings(env={})
    with caplog.at_level(logging.WARNING, logger="k2d3.serve"):
        for _ in range(2):
            assert serve.gunicorn_options(settings, "127.0.0.1", 0)["worker_class"] == "gthread"
    said = [r.getMessage() for r in caplog.records if r.name == "k2d3.serve"]
    assert len(said) == 1 and "ThreadWorker.handle(self, conn)" in said[0]


def test_the_newest_gunicorn_on_the_index_has_them(tmp_path: Path) -> None:
    """The check, run on its own in a throwaway environment with the newest gunicorn the
    package index offers: a release that breaks the worker fails here before the pin moves."""
    env = tmp_path / "venv"
    venv.create(env, with_pip=True)
    python = env / "bin" / "python"
    install = subprocess.run([python, "-m", "pip", "install", "-q", "--upgrade", "gunicorn"],
                             capture_output=True, text=True, timeout=300, check=False)
    if install.returncode != 0:
        pytest.skip(f"the package index cannot be reached: {install.stderr[-300:]}")
    ran = subprocess.run([python, CHECK], capture_output=True, text=True, timeout=60,
                         check=False)
    print(ran.stdout, file=sys.stderr)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert ran.stdout.startswith("gunicorn ") and ran.stdout.rstrip().endswith("all there")
