"""The store under a real server: concurrent writes and reads, ``kill -9`` mid-write, full disk.

Short versions of ``benchmarks/concurrent_writes.py`` and ``benchmarks/faults.py`` (which run
for ten minutes and twenty kills), and a kill aimed at the middle of a large Graph Store PUT
and of a build. Servers run ``server.serving.serve.run`` (gunicorn) over a small store of known
contents (``tests/endpoint_fixtures.py``).
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from endpoint_fixtures import fresh_store

from server.rdf import store as store_mod

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import concurrent_writes  # noqa: E402
import faults  # noqa: E402
from writes_common import AUTH, Server, kill, running  # noqa: E402

NT = {**AUTH, "Content-Type": "application/n-triples"}
GRAPH = "http://example.org/live/graph"


@pytest.mark.parametrize("copy", ["50000", "0"], ids=["in-memory copy", "disk"])
def test_readers_never_fail_nor_see_a_graph_half_written(tmp_path: Path, copy: str) -> None:
    root = fresh_store(tmp_path)
    with running(root, tmp_path / "server.log", read_copy_max_quads=copy) as server:
        report = concurrent_writes.run(server.url, root, writers=2, readers=3, triples=2000,
                                       duration=6)
    print(concurrent_writes.describe(report))
    assert report.writes.ok >= 4 and sum(t.ok for t in report.reads.values()) >= 100
    assert report.reader_errors == 0
    assert report.partial.errors == 0, report.partial.samples
    assert report.writes.errors == 0 and report.lost == []


def test_kills_of_workers_master_and_builds_lose_nothing(tmp_path: Path) -> None:
    root = fresh_store(tmp_path)
    rounds = faults.run(root, rounds=3, seed=3, log=tmp_path / "server.log", triples=2000)
    assert {r.victim for r in rounds} == {"worker", "master", "build"}, "seed 3 aims at all"
    assert [r.problems for r in rounds] == [[], [], []]
    assert sum(r.writes for r in rounds) >= 6


def test_a_full_disk_is_a_507_and_the_store_stays_whole(tmp_path: Path) -> None:
    root = fresh_store(tmp_path)
    if subprocess.run(["mount", "--version"], capture_output=True).returncode != 0:
        pytest.skip("no mount command")
    problems = faults.disk_full(root, tmp_path / "server.log")
    assert problems == []


def _triples(value: str, n: int) -> bytes:
    return "".join(f'<http://example.org/s{i}> <http://example.org/p> "{value}" .\n'
                   for i in range(n)).encode()


def _graph_values(url: str) -> dict[str, int]:
    resp = requests.get(url + "/store", params={"graph": GRAPH}, timeout=30,
                        headers={"Accept": "application/n-triples"})
    resp.raise_for_status()
    counts: dict[str, int] = {}
    for line in resp.text.splitlines():
        counts[line.split('"')[1]] = counts.get(line.split('"')[1], 0) + 1
    return counts


def _wait_for_tmp(root: Path, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not list(root.glob(".tmp-*")):
        assert time.monotonic() < deadline, "the write never started"
        time.sleep(0.005)


def test_a_kill_mid_put_or_mid_build_leaves_the_old_content_served(tmp_path: Path) -> None:
    root = fresh_store(tmp_path)
    server = Server(root, tmp_path / "server.log", workers="1", max_body_bytes=str(64 << 20))
    try:
        server.wait_up()
        requests.put(server.url + "/store", params={"graph": GRAPH}, data=_triples("old", 3000),
                     headers=NT, timeout=60).raise_for_status()
        live = store_mod.live_dir(root)
        big = _triples("new", 150_000)
        thread = threading.Thread(target=lambda: _put_quietly(server.url, big))
        thread.start()
        _wait_for_tmp(root)
        time.sleep(0.3)  # into the writing
        [worker] = server.workers()
        kill(worker)
        thread.join()
        server.wait_up()
        assert _graph_values(server.url) == {"old": 3000}
        assert store_mod.live_dir(root) == live and list(root.glob("data-*")) == [live]

        build = subprocess.Popen([sys.executable, "-c", faults.BUILD.format(store=str(root))],
                                 cwd=ROOT)
        _wait_for_tmp(root)
        time.sleep(0.5)
        build.kill()
        assert build.wait() == -9
        assert store_mod.live_dir(root) == live, "the build was killed before it swapped"
        assert _graph_values(server.url) == {"old": 3000}
        assert requests.get(server.url + "/healthz", timeout=30).json()["status"] == "ok"
        assert list(root.glob(".tmp-*")), "what the kills left is named .tmp-*"
        requests.post(server.url + "/store", params={"graph": GRAPH}, data=_triples("old", 1),
                      headers=NT, timeout=60).raise_for_status()
        assert not list(root.glob(".tmp-*")), "the next write removes it"
        assert list(root.glob("data-*")) == [store_mod.live_dir(root)]
    finally:
        server.stop()


def _put_quietly(url: str, body: bytes) -> None:
    with contextlib.suppress(requests.RequestException):  # the worker answering it is killed
        requests.put(url + "/store", params={"graph": GRAPH}, data=body, headers=NT,
                     timeout=120)


def test_a_write_waiting_behind_a_long_load_is_refused_in_time_and_never_applied_late(
        tmp_path: Path) -> None:
    """While another writer (here the test, as a ``k2d3 load`` of minutes would) holds the
    store, a write waits half its time limit, then gets 503 saying why, with nothing changed;
    not the time limit's 503 with the write applied once the lock frees."""
    root = fresh_store(tmp_path)
    with running(root, tmp_path / "server.log", query_timeout="4",
                 max_query_timeout="4") as server:
        url = server.url
        insert_then_check(root, url)
    assert " retires: " not in (tmp_path / "server.log").read_text(errors="replace")


def insert_then_check(root: Path, url: str) -> None:
    from server.rdf import snapshots

    insert = f"INSERT DATA {{ GRAPH <{GRAPH}> {{ <http://e/late> <http://e/p> 1 }} }}"
    ask = f"ASK {{ GRAPH <{GRAPH}> {{ <http://e/late> ?p ?o }} }}"
    with snapshots.write_lock(root):
        started = time.monotonic()
        resp = requests.post(url + "/sparql", data={"update": insert}, headers=AUTH,
                             timeout=30)
        waited = time.monotonic() - started
        assert resp.status_code == 503 and resp.headers["Retry-After"] == "5"
        assert "another write to the store" in resp.text and "nothing was changed" in resp.text
        assert 1.8 < waited < 3.5   # half of the 4 s limit, not the limit itself
        put = requests.put(url + "/store", params={"graph": GRAPH}, data=b"", headers=NT,
                           timeout=30)
        assert put.status_code == 503
        assert requests.get(url + "/sparql", params={"query": "ASK {}"},
                            timeout=5).status_code == 200  # reads go on meanwhile
    time.sleep(1)
    answer = requests.get(url + "/sparql", params={"query": ask},
                          headers={"Accept": "application/sparql-results+json"}, timeout=5)
    assert answer.json()["boolean"] is False   # the refused write was not applied late
    assert requests.post(url + "/sparql", data={"update": insert}, headers=AUTH,
                         timeout=30).status_code == 204
