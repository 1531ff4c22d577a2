"""A real ``k2d3 serve`` whose new workers cannot start, or must start after a build: the
server keeps serving (``server.serving.boot``), and its workers exit cleanly
(``server.build.apart``).

Each server runs with its own temporary folder, so the test can do to its metrics folder what a
cleaner of ``/tmp`` would.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests
from conftest import free_port, stop_server, wait_up
from endpoint_fixtures import ROOT, fresh_store


@contextmanager
def served(store: Path, tmp: Path, command: bool = False
           ) -> Iterator[tuple[str, subprocess.Popen[bytes], Path]]:
    """The server over ``store`` with ``TMPDIR`` ``tmp``: its URL, process and log file.
    ``command``: run ``k2d3 serve`` as a user does (it builds the store if it is not the
    shipped one's), else ``server.serving.serve.run`` over the store as it is."""
    tmp.mkdir(exist_ok=True)
    port = free_port()
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("K2D3_")}
    child_env.update(TMPDIR=str(tmp), K2D3_WORKERS="2", K2D3_STORE=str(store))
    argv = (["-m", "server.cli", "serve", "--port", str(port)] if command else
            ["-c", "from server.config import load_settings; from server.serving import serve; "
                   f"serve.run(load_settings(), '127.0.0.1', {port})"])
    log_path = tmp.parent / f"serve-{port}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen([sys.executable, *argv], env=child_env, cwd=ROOT,
                                stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_up(proc, url, seconds=180)
            yield url, proc, log_path
        finally:
            stop_server(proc)


def workers(arbiter: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(arbiter)], capture_output=True,
                         text=True, check=False).stdout
    return [int(pid) for pid in out.split()]


def answering_pids(log: Path) -> set[int]:
    """The processes that have answered a request, from the JSON access log."""
    pids = set()
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith('{"ts"'):
            with contextlib.suppress(ValueError, KeyError):  # a line another process cut
                pids.add(json.loads(line)["pid"])
    return pids


def ask(url: str) -> int:
    return requests.get(url + "/sparql", params={"query": "ASK {}"}, timeout=10).status_code


def all_serving(url: str, proc: subprocess.Popen[bytes], log: Path) -> set[int]:
    """Ask until every worker has answered (each has started): their pids."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert ask(url) == 200
        pids = set(workers(proc.pid))
        if len(pids) == 2 and pids <= answering_pids(log):
            return pids
    raise AssertionError("the workers did not all answer within 20 s")


def answered_by_another(url: str, log: Path, before: set[int], seconds: float) -> bool:
    """Whether, within ``seconds``, some process not in ``before`` answers a request."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert ask(url) == 200
        if answering_pids(log) - before:
            return True
        time.sleep(0.05)
    return False


def retire_with_metrics_unusable(url: str, proc: subprocess.Popen[bytes], log: Path
                                 ) -> tuple[Path, set[int]]:
    """Once both workers serve, make their metrics folder a file (no new worker can start)
    and stop one worker: the folder's path, and the workers there were."""
    before = all_serving(url, proc, log)
    (metrics_dir,) = (log.parent / "tmp").glob("k2d3-metrics-*")
    shutil.rmtree(metrics_dir)
    metrics_dir.write_text("not a folder")
    os.kill(min(before), signal.SIGTERM)
    return metrics_dir, before


def test_a_worker_starts_after_its_metrics_folder_was_removed(tmp_path: Path) -> None:
    """A cleaner of /tmp removes the folder the workers share their metrics in: the next new
    worker makes it again and serves, instead of failing to start (which made gunicorn stop
    the whole server)."""
    with served(fresh_store(tmp_path), tmp_path / "tmp") as (url, proc, log):
        before = all_serving(url, proc, log)
        (metrics_dir,) = (tmp_path / "tmp").glob("k2d3-metrics-*")
        shutil.rmtree(metrics_dir)
        os.kill(min(before), signal.SIGTERM)
        assert answered_by_another(url, log, before, 20), log.read_text()
        assert proc.poll() is None
        assert metrics_dir.is_dir()
        text = log.read_text()
        assert "could not start" not in text and "Worker failed to boot" not in text, text


def test_a_worker_that_cannot_start_leaves_the_others_serving(tmp_path: Path) -> None:
    """New workers fail to start (their metrics folder cannot be made): the other worker
    answers every request meanwhile, the failures are logged with the cause and tried again
    later and later, and once the cause is gone a new worker starts and serves."""
    with served(fresh_store(tmp_path), tmp_path / "tmp") as (url, proc, log):
        metrics_dir, before = retire_with_metrics_unusable(url, proc, log)
        deadline = time.monotonic() + 30
        while "keep serving; another is tried in 2.0 s" not in log.read_text():  # 3 failures
            assert time.monotonic() < deadline, log.read_text()
            assert ask(url) == 200  # the other worker answers meanwhile
            time.sleep(0.05)
        assert proc.poll() is None, log.read_text()
        text = log.read_text()
        assert text.count("could not start (FileExistsError") >= 3, text
        assert "1 other worker(s) keep serving; another is tried in 1.0 s" in text, text
        lines = text.splitlines()  # the cause's traceback the first time, not each time
        assert sum("could not start" in line and after.startswith("Traceback")
                   for line, after in zip(lines, lines[1:], strict=False)) == 1, text
        metrics_dir.unlink()
        assert answered_by_another(url, log, before, 30), log.read_text()
        assert proc.poll() is None
        assert "Worker failed to boot" not in log.read_text()


def test_the_server_stops_promptly_while_a_worker_waits_to_be_tried_again(
        tmp_path: Path) -> None:
    with served(fresh_store(tmp_path), tmp_path / "tmp") as (url, proc, log):
        metrics_dir, before = retire_with_metrics_unusable(url, proc, log)
        deadline = time.monotonic() + 20
        while "another is tried in 4.0 s" not in log.read_text():
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        proc.terminate()
        proc.wait(timeout=20)
        # not cut short, the waiting worker would outlast gunicorn's 3 s of grace and be killed
        assert "SIGKILL" not in log.read_text(), log.read_text()
        assert proc.returncode == 0, log.read_text()


def test_a_server_that_fails_to_start_at_all_stops_at_once(tmp_path: Path) -> None:
    """No worker has ever started (a wrong setting, here an unusable temporary folder): the
    server stops as gunicorn would, instead of trying for ever."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("K2D3_")}
    script = tmp_path / "serve_without_metrics.py"  # the metrics folder is made a file
    script.write_text(f"""
import pathlib, tempfile
from server.config import load_settings
from server.serving import serve

made_by_tempfile = tempfile.mkdtemp

def mkdtemp(prefix=""):
    made = made_by_tempfile(prefix=prefix)
    if prefix.startswith("k2d3-metrics"):
        pathlib.Path(made).rmdir()
        pathlib.Path(made).write_text("not a folder")
    return made

tempfile.mkdtemp = mkdtemp
serve.run(load_settings(), "127.0.0.1", {port})
""")
    env.update(TMPDIR=str(tmp), K2D3_STORE=str(fresh_store(tmp_path)), K2D3_WORKERS="2")
    started = time.monotonic()
    done = subprocess.run([sys.executable, str(script)], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode != 0
    assert time.monotonic() - started < 20
    assert "Worker failed to boot" in done.stderr, done.stderr
    assert "could not start" not in done.stderr


def test_workers_exit_cleanly_after_the_server_built_its_store(tmp_path: Path) -> None:
    """``k2d3 serve`` on a machine without a store builds it first (the README's `make serve`).
    The build's RocksDB threads must not be inherited by the workers: a worker that inherited
    them died of SIGSEGV when it exited."""
    store = tmp_path / "new-store"
    with served(store, tmp_path / "tmp", command=True) as (url, proc, log):
        assert "building the store" in log.read_text()
        before = all_serving(url, proc, log)
        os.kill(min(before), signal.SIGTERM)  # graceful: the worker exits normally
        assert answered_by_another(url, log, before, 20), log.read_text()
    text = log.read_text()
    assert "SIGSEGV" not in text, text  # gunicorn: "Worker (pid:N) was sent SIGSEGV!"
    assert "exited with code" not in text, text
