"""Fixtures for the endpoint tests: a small store with known contents, and live servers.

The store is made with ``server.rdf.store``'s own functions (a fresh data folder swapped in, then
filled through the writer), so the servers open it exactly as they open a built store. It
holds the W3C protocol tests' graphs (tests/data/w3c/protocol), a triple in the default graph,
a VoID graph and a two-entry canned-query catalogue, so every answer below is known in advance.
Servers are ``server.serving.serve.run`` (gunicorn) in a child process on a free loopback port; a
test needing another setting starts its own with :func:`serve`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from conftest import free_port, stop_server, wait_up
from pyoxigraph import RdfFormat

from server.rdf import store as store_mod

ROOT = Path(__file__).resolve().parent.parent
W3C = Path(__file__).resolve().parent / "data" / "w3c" / "protocol"
TOKEN = "test-token"
KASEI = "http://kasei.us/2009/09/sparql/data/"
K2 = "https://w3id.org/k2d3/"

EXTRA = f"""
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix void: <http://rdfs.org/ns/void#> .
<http://example.org/default-s> <http://example.org/p> "in the default graph" .
<{K2}graph/queries> {{
  <{K2}queries/count-types> a sh:SPARQLSelectExecutable ; rdfs:label "Count the types"@en ;
      sh:select "SELECT ?type (COUNT(*) AS ?n) WHERE {{ ?s a ?type }} GROUP BY ?type" .
  <{K2}queries/any-document> a sh:SPARQLAskExecutable ; rdfs:label "Is there a document?"@en ;
      sh:ask "ASK {{ ?d a <http://xmlns.com/foaf/0.1/Document> }}" .
}}
<{K2}graph/void> {{
  <{K2}dataset> a void:Dataset ; void:triples 4 .
  <{KASEI}data1.rdf> void:triples 1 .
}}
"""


def make_store(root: Path) -> Path:
    """A fresh store at ``root`` with the known contents described in the module docstring."""
    with store_mod.write_lock(root):
        store_mod.swap_in(root, store_mod.new_data_dir(root))
    with store_mod.writer(root) as st:
        for i in (1, 2, 3):
            st.load(path=str(W3C / f"data{i}.nt"), format=RdfFormat.N_TRIPLES,
                    to_graph=_named(f"{KASEI}data{i}.rdf"))
        st.load(EXTRA.encode(), format=RdfFormat.TRIG)
    return root


def _named(iri: str):  # type: ignore[no-untyped-def]
    from pyoxigraph import NamedNode

    return NamedNode(iri)


@contextmanager
def serve(store: Path, **env: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Run ``server.serving.serve.run`` (gunicorn) over ``store`` with ``K2D3_*`` settings
    ``env``."""
    port = free_port()
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("K2D3_")}
    child_env.update({"K2D3_STORE": str(store), "K2D3_UPDATE_TOKEN": TOKEN})
    child_env.update({"K2D3_" + k.upper(): v for k, v in env.items()})
    child_env = {k: v for k, v in child_env.items() if v != ""}
    code = ("from server.config import load_settings; from server.serving.serve import run; "
            f"run(load_settings(), '127.0.0.1', {port})")
    log = open(store.parent / f"server-{port}.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-c", code], env=child_env, cwd=ROOT,
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_up(proc, url, seconds=30)
        yield url, proc
    finally:
        stop_server(proc)
        log.close()


def fresh_store(tmp: Path, name: str = "store") -> Path:
    target = tmp / name
    if target.exists():
        shutil.rmtree(target)
    return make_store(target)
