"""scripts/bench_http.py: its lean client reads what a full client reads, and the script runs.

The benchmark is a measurement, not a test; these only keep it working: the raw-socket client
must frame both kinds of answer (``Content-Length`` and chunked) exactly, over one keep-alive
connection, and a short run must print its table and its throughput checks.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests
from endpoint_fixtures import fresh_store, serve

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

from bench_http import LeanClient  # noqa: E402

NUMBERS = " ".join(str(n) for n in range(60))
BIG = f"SELECT * WHERE {{ VALUES ?a {{ {NUMBERS} }} VALUES ?b {{ {NUMBERS} }} }}"  # 3,600 rows


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fresh_store(tmp_path_factory.mktemp("bench"))


@pytest.fixture(scope="module")
def server(store: Path) -> Iterator[str]:
    with serve(store) as (url, _proc):
        yield url


@pytest.mark.parametrize("query", ["ASK {}", BIG, "SELECT * WHERE { ?s ?p ?o }"])
def test_the_lean_client_reads_the_same_bodies_as_requests(server: str, query: str) -> None:
    path = "/sparql?" + urlencode({"query": query})
    accept = "text/csv"
    expected = requests.get(server + path, headers={"Accept": accept}, timeout=10)
    client = LeanClient(int(server.rsplit(":", 1)[1]))
    try:
        answers = [client.get(path, accept) for _ in range(3)]  # one connection, kept alive
    finally:
        client.close()
    assert answers == [(200, expected.content)] * 3


def test_the_lean_client_reads_the_servers_engine_time(server: str) -> None:
    client = LeanClient(int(server.rsplit(":", 1)[1]))
    try:
        client.get("/sparql?" + urlencode({"query": "ASK {}"}), "text/csv")
        assert client.server_ms is not None and 0 <= client.server_ms < 10_000
        client.get("/sparql", "text/turtle")  # the service description: no query timed
        assert client.server_ms is None
    finally:
        client.close()


def test_chunked_answers_are_what_the_big_query_gets(server: str) -> None:
    path = "/sparql?" + urlencode({"query": BIG})
    resp = requests.get(server + path, headers={"Accept": "text/csv"}, timeout=10, stream=True)
    assert resp.headers.get("Transfer-Encoding") == "chunked"
    resp.close()


def test_a_short_run_prints_its_table_and_checks(store: Path) -> None:
    run = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench_http.py"), "--store",
                          str(store), "--runs", "2", "--rounds", "1", "--seconds", "1"],
                         capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert run.returncode in (0, 1), run.stderr  # 1: a target missed on a busy test machine
    for expected in ("ask-empty", "canned:", "server ms", "engine time (server ms)",
                     "throughput (wrk", "no drop 8 -> 32"):
        assert expected in run.stdout
