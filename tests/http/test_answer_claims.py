"""Claims on an answer being computed (``server.http.answer_claims``): one holder at a time,
between threads and between processes, given back when the holder is done or killed."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from server.http.answer_claims import Claims, FileClaims, ThreadClaims


@pytest.fixture(params=["threads", "files"])
def claims(request: pytest.FixtureRequest, tmp_path: Path) -> Claims:
    return ThreadClaims() if request.param == "threads" else FileClaims(tmp_path)


def test_one_holder_at_a_time_and_release_frees_it(claims: Claims) -> None:
    held = claims.try_claim("k")
    assert held is not None
    assert claims.try_claim("k") is None          # taken, whoever asks
    other = claims.try_claim("other")              # another key is free
    assert other is not None
    held.release()
    held.release()                                 # twice: nothing more
    again = claims.try_claim("k")
    assert again is not None
    again.release()
    other.release()


def test_a_waiter_returns_when_the_claim_is_given_back(claims: Claims) -> None:
    import threading

    held = claims.try_claim("k")
    assert held is not None
    threading.Timer(0.2, held.release).start()
    started = time.monotonic()
    while claims.try_claim("k") is None:
        claims.wait("k", 5)
        assert time.monotonic() - started < 3
    assert time.monotonic() - started > 0.15


def test_the_lock_file_is_gone_once_released(tmp_path: Path) -> None:
    claims = FileClaims(tmp_path)
    held = claims.try_claim("k")
    assert held is not None and (tmp_path / "k.lock").exists()
    held.release()
    assert list(tmp_path.iterdir()) == []


HOLD = """
import sys, time
from pathlib import Path
from server.http.answer_claims import FileClaims
held = FileClaims(Path(sys.argv[1])).try_claim("k")
print("held" if held else "busy", flush=True)
time.sleep(60)
"""


def test_a_claim_held_by_another_process_is_freed_by_its_kill_9(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], cwd=root,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        claims = FileClaims(tmp_path)
        assert claims.try_claim("k") is None   # the other process holds it
    finally:
        proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
    held = claims.try_claim("k")
    assert held is not None
    held.release()
