"""``k2d3 load`` with the real server: ``k2d3 serve`` on a store made only by ``k2d3 load``
builds k2d3's graphs beside the loaded ones (losing none), and a load while it serves is
answered at the next request, without a restart."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import requests
from conftest import start_server, stop_server

REPO = Path(__file__).resolve().parents[2]
EX = "http://example.org/"


def k2d3_load(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("K2D3_")}
    return subprocess.run([sys.executable, "-m", "server.cli", "load", *args], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=120)


def count(url: str, graph: str) -> int:
    query = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
    answer = requests.get(url + "/sparql", params={"query": query},
                          headers={"Accept": "application/sparql-results+json"}, timeout=30)
    answer.raise_for_status()
    return int(answer.json()["results"]["bindings"][0]["n"]["value"])


def test_serve_keeps_loaded_graphs_and_sees_a_load_without_restart(tmp_path: Path) -> None:
    store = tmp_path / "store"
    first = tmp_path / "first.nt"
    first.write_text("".join(f"<{EX}s{i}> <{EX}p> \"{i}\" .\n" for i in range(30)))
    done = k2d3_load(str(first), "--graph", EX + "first", "--store", str(store))
    assert done.returncode == 0, done.stderr
    proc, url = start_server(store)  # the store is stale (never built): serve builds it
    try:
        assert count(url, EX + "first") == 30
        assert count(url, "https://w3id.org/k2d3/graph/data") > 1000
        second = tmp_path / "second.nq"
        second.write_text("".join(f"<{EX}s{i}> <{EX}p> \"{i}\" <{EX}second> .\n"
                                  for i in range(12)))
        done = k2d3_load(str(second), "--store", str(store))
        assert done.returncode == 0, done.stderr
        assert count(url, EX + "second") == 12
        assert count(url, EX + "first") == 30
    finally:
        stop_server(proc)
