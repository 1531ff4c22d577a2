"""The short soak: ``benchmarks/soak.py`` for 30 seconds against the real server.

Mixed load at 16 connections with writers, a runaway query and slow clients: no error and no
reset in the normal load, the runaway answered 503, every slow client answered and closed.
Overload 503s (documented) and the store's 500s under concurrent writes (issue 12 §1, fixed in
the store itself) are counted apart and printed, not failed on here. The 10-minute run and its
numbers are in benchmarks/RESULTS.md.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_short_soak_has_no_error_and_no_reset(built_store: Path, tmp_path: Path) -> None:
    out = tmp_path / "soak.json"
    run = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "soak.py"), "--store", str(built_store),
         "--seconds", "30", "--connections", "16", "--slow-clients", "6",
         "--runaway-every", "12", "--warm-up", "10", "--json", str(out)],
        capture_output=True, text=True, timeout=240, check=False)
    print(run.stdout[-4000:], run.stderr[-2000:])
    found = json.loads(out.read_text())
    kinds = found["kinds"]
    assert kinds.get("error", 0) == 0 and kinds.get("reset", 0) == 0, found["samples"]
    assert kinds.get("ok", 0) > 200
    assert len(found["runaways"]) == 2
    assert set(found["runaways"]) <= {"503 timed out", "5xx-store?"}, found["runaways"]
    assert found["slow_clients"] and set(found["slow_clients"]) <= {"HTTP/1.1 408 ",
                                                                   "HTTP/1.1 503 "}
    assert found["routes"]["sparql get"]["ok"] > 0 and found["routes"]["id html"]["ok"] > 0
