"""server/rdf/triple_terms.py: a graph holding an RDF 1.2 triple term, asked for as JSON-LD, is a
406 that names the formats that can carry it, not a 500 (pyoxigraph cannot write it as JSON-LD;
found by benchmarks/fuzz.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from server import create_app
from server.config import load_settings

TOKEN = "t"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
GRAPH = "http://e/terms"
ENTITY = "https://w3id.org/k2d3/id/osteocalcin"
DATA = (f"<{ENTITY}> <http://e/said> <<( <http://e/a> <http://e/b> \"1\" )>> .\n"
        f"<{ENTITY}> <http://e/plain> \"x\" .\n")


@pytest.fixture(scope="module")
def client(built_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    from conftest import copy_store

    store = copy_store(built_store, tmp_path_factory.mktemp("terms") / "store")
    app: Flask = create_app(load_settings(env={}, store=store, update_token=TOKEN))
    client = app.test_client()
    resp = client.put("/store", query_string={"graph": GRAPH}, data=DATA,
                      headers={"Content-Type": "text/turtle", **AUTH})
    assert resp.status_code == 201, resp.get_data(as_text=True)
    return client


@pytest.mark.parametrize(("path", "args"), [
    ("/store", {"graph": GRAPH}),
    ("/sparql", {"query": f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{GRAPH}> {{ ?s ?p ?o }} }}"}),
    ("/id/osteocalcin", {}),
])
def test_json_ld_of_a_triple_term_is_a_406_naming_other_formats(client: Any, path: str,
                                                                 args: dict[str, str]) -> None:
    resp = client.get(path, query_string=args, headers={"Accept": "application/ld+json"})
    assert resp.status_code == 406, resp.get_data(as_text=True)[:300]
    assert "Turtle" in resp.get_data(as_text=True)
    turtle = client.get(path, query_string=args, headers={"Accept": "text/turtle"})
    assert turtle.status_code == 200 and b"<<(" in turtle.data


def test_the_page_of_a_resource_with_a_triple_term_still_shows(client: Any) -> None:
    resp = client.get("/id/osteocalcin", headers={"Accept": "text/html"})
    assert resp.status_code == 200
    assert "application/ld+json" in resp.get_data(as_text=True)
