"""``k2d3 serve --backend``: the whole front end over a remote SPARQL 1.1 engine.

The engine here is another k2d3 (a SPARQL 1.1 Protocol endpoint like any other) over the
article's store; the front server has no store of its own. Every canned query, a sample of
linked-data pages and the endpoint must give the embedded store's answers, compared as
multisets. Virtuoso as the engine is tested beside ``k2d3 push`` (tests/live/ Virtuoso tests).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from conftest import UPDATE_TOKEN, copy_store, free_port, start_server, stop_server

from server.catalogue import canned

JSON = {"Accept": "application/sparql-results+json"}
NT = {"Accept": "application/n-triples"}
ROOT = Path(__file__).resolve().parents[2]
PAGES = ("/id/vitamin-k2", "/id/scott-gavura", "/ontology", "/.well-known/void",
         "/queries/verdict")


@pytest.fixture(scope="module")
def pair(built_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str,
                                                                                       str]]:
    """(the engine's URL, the front server's URL)."""
    engine, engine_url = start_server(copy_store(built_store, tmp_path_factory.mktemp("e") / "s"))
    empty = tmp_path_factory.mktemp("front") / "no-store"
    front, front_url = start_server(empty, {"K2D3_BACKEND": engine_url + "/sparql"})
    yield engine_url, front_url
    stop_server(front)
    stop_server(engine)


def answer(url: str, path: str, kind: str) -> Counter[str]:
    resp = requests.get(url + path, headers=NT if kind in {"construct", "describe"} else JSON,
                        timeout=60)
    assert resp.status_code == 200, (path, resp.status_code, resp.text[:300])
    if kind in {"construct", "describe"}:
        return Counter(line for line in resp.text.splitlines() if line.strip())
    body = resp.json()
    if "boolean" in body:
        return Counter([str(body["boolean"])])
    return Counter(repr(sorted(row.items())) for row in body["results"]["bindings"])


def test_every_canned_query_answers_as_on_the_embedded_store(pair: tuple[str, str]) -> None:
    engine, front = pair
    differ = []
    for query in canned.catalogue():
        path = f"/queries/{query.name}"
        if answer(front, path, query.kind) != answer(engine, path, query.kind):
            differ.append(query.name)
    assert differ == []


def test_linked_data_pages_and_the_endpoint(pair: tuple[str, str]) -> None:
    engine, front = pair
    for path in PAGES:
        got = requests.get(front + path, headers=NT, timeout=30)
        want = requests.get(engine + path, headers=NT, timeout=30)
        assert got.status_code == want.status_code == 200, path
        assert Counter(got.text.splitlines()) == Counter(want.text.splitlines()), path
    html = requests.get(front + "/id/vitamin-k2", headers={"Accept": "text/html"}, timeout=30)
    assert html.status_code == 200 and "K2" in html.text
    query = "SELECT ?claim WHERE { ?claim <https://w3id.org/k2d3/ontology#verdict> ?v }"
    assert answer(front, "/sparql?query=" + requests.utils.quote(query), "select") == answer(
        engine, "/sparql?query=" + requests.utils.quote(query), "select")
    health = requests.get(front + "/healthz", timeout=10).json()
    assert (health["status"], health["reading"]) == ("ok", "remote")


def test_writes_without_an_update_url_are_refused_in_words(pair: tuple[str, str]) -> None:
    _, front = pair
    resp = requests.post(front + "/sparql", data={"update": "INSERT DATA { <x:a> <x:b> 1 }"},
                         headers={"Authorization": f"Bearer {UPDATE_TOKEN}"}, timeout=10)
    assert resp.status_code == 405 and "--backend-update" in resp.text


def test_an_engine_that_cannot_be_reached_is_a_502_naming_it(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    gone = f"http://127.0.0.1:{free_port()}/sparql"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("K2D3_")}
    proc = subprocess.Popen([sys.executable, "-m", "server.cli", "serve", "--store",
                             str(tmp_path_factory.mktemp("gone") / "s"), "--port", str(port),
                             "--backend", gone], env=env, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # up when it answers at all (the engine is gone)
            with contextlib.suppress(requests.ConnectionError):
                if requests.get(url + "/healthz", timeout=5).status_code:
                    break
            time.sleep(0.1)
        resp = requests.get(url + "/sparql", params={"query": "ASK {}"}, timeout=10)
        assert resp.status_code == 502 and gone in resp.text and "cannot be reached" in resp.text
        assert requests.get(url + "/healthz", timeout=10).status_code == 503
        assert requests.get(url + "/id/vitamin-k2", timeout=10).status_code == 502
    finally:
        stop_server(proc)
