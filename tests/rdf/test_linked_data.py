"""Every kind of k2d3 IRI dereferences by content negotiation, from a real server.

rdflib fetches each IRI's local URL the way a linked-data client does and must get exactly the
triples that the store gives for it with a query (DESCRIBE + incoming CONSTRUCT, or the whole
named graph for graph-like IRIs), computed here independently of ``server/http/linked_data.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import rdflib
import requests
from pyoxigraph import RdfFormat, Store, serialize
from rdflib.compare import isomorphic

from server.rdf import store
from server.rdf.dereference import iri_for_path, local_path
from server.rdf.namespaces import Namespaces

NS = Namespaces()
K2D3, OA, SH = NS.vocab, "http://www.w3.org/ns/oa#", "http://www.w3.org/ns/shacl#"
#: rdflib format name -> the media type the server must answer with.
FORMATS = {"turtle": "text/turtle", "json-ld": "application/ld+json",
           "xml": "application/rdf+xml", "nt": "application/n-triples"}


@pytest.mark.parametrize(("iri", "path"), [
    (NS.resource + "vitamin-d3", "/id/vitamin-d3"),
    (NS.vocab + "Claim", "/ontology#Claim"),
    (NS.ontology, "/ontology"),
    (NS.queries + "claims-by-verdict", "/queries/claims-by-verdict"),
    (NS.graph("data"), "/graph/data"),
    (NS.dataset, "/dataset"),
    (NS.resource + "维生素 d", "/id/%E7%BB%B4%E7%94%9F%E7%B4%A0%20d"),
])
def test_local_path_round_trip(iri: str, path: str) -> None:
    assert local_path(iri, NS) == path
    assert iri_for_path(path.partition("#")[0], NS) == iri.partition("#")[0]


def test_iris_outside_the_base_have_no_local_path() -> None:
    assert local_path("http://purl.obolibrary.org/obo/CHEBI_28940", NS) is None
    assert local_path("https://w3id.org/k2d3x/id/a", NS) is None


@pytest.fixture(scope="module")
def oxstore(built_store: Path) -> Store:
    return Store.read_only(str(store.live_dir(built_store)))


def _first(oxstore: Store, where: str) -> str:
    rows = list(oxstore.query(f"SELECT ?s WHERE {{ {where} FILTER(isIRI(?s)) }} ORDER BY ?s "
                              "LIMIT 1", use_default_graph_as_union=True))
    assert rows, f"the built store has no match for {where}"
    return rows[0]["s"].value  # type: ignore[index]


#: How to find one IRI of each kind in the built store.
KINDS = {
    "entity": f"GRAPH <{NS.graph('data')}> {{ ?s a ?c }} "
              f"FILTER(STRSTARTS(STR(?s), '{NS.resource}')) "
              f"FILTER NOT EXISTS {{ ?s a <{K2D3}Claim> }}",
    "claim": f"?s a <{K2D3}Claim>",
    "evidence line": f"?s a <{K2D3}EvidenceLine>",
    "quotation": f"?s a <{OA}Annotation>",
    "canned query": f"?s a <{SH}SPARQLExecutable>",
    "ontology": f"BIND(<{NS.ontology}> AS ?s)",
    "ontology term": f"BIND(<{NS.vocab}Claim> AS ?s)",
    "graph": f"BIND(<{NS.graph('data')}> AS ?s)",
    "dataset": f"BIND(<{NS.dataset}> AS ?s)",
}


@pytest.fixture(scope="module")
def samples(oxstore: Store) -> dict[str, str]:
    """One IRI of each kind, picked from the built store (lazily: a test fails alone)."""

    class Samples(dict):  # type: ignore[type-arg]
        def __missing__(self, kind: str) -> str:
            self[kind] = _first(oxstore, KINDS[kind])
            return str(self[kind])

    return Samples()


def expected_triples(oxstore: Store, iri: str) -> rdflib.Graph:
    """What the store says about ``iri``, by SPARQL (the documented rule, not the code)."""
    document = iri.partition("#")[0]
    graphs = {NS.ontology: NS.graph("ontology"), NS.dataset: NS.graph("void")}
    graph = graphs.get(document, document if document.startswith(NS.base + "graph/") else None)
    if graph is not None:
        triples = list(oxstore.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> "
                                     "{ ?s ?p ?o } }"))
    else:
        triples = list(oxstore.query(f"DESCRIBE <{iri}>", use_default_graph_as_union=True))
        triples += list(oxstore.query(
            f"CONSTRUCT {{ ?s ?p <{iri}> }} WHERE {{ ?s ?p <{iri}> FILTER(isIRI(?s)) }}",
            use_default_graph_as_union=True))
    data = serialize(triples, format=RdfFormat.N_TRIPLES) or b""  # type: ignore[arg-type]
    return rdflib.Graph().parse(data=data.decode("utf-8"), format="nt")


@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fmt", [*FORMATS, None])
def test_rdflib_parses_each_kind_of_iri(live_server: str, oxstore: Store,
                                        samples: dict[str, str], kind: str,
                                        fmt: str | None) -> None:
    iri = samples[kind]
    url = live_server + local_path(iri, NS)  # type: ignore[operator]
    got = rdflib.Graph().parse(url, format=fmt) if fmt else rdflib.Graph().parse(url)
    expected = expected_triples(oxstore, iri)
    assert len(expected) > 0
    assert isomorphic(got, expected), f"{kind} {iri} as {fmt}: {len(got)} != {len(expected)}"


@pytest.mark.parametrize("kind", KINDS)
def test_negotiation_headers_and_alternates(live_server: str, samples: dict[str, str],
                                            kind: str) -> None:
    url = live_server + local_path(samples[kind], NS).partition("#")[0]  # type: ignore[union-attr]
    for accept in ("text/html", "text/turtle"):
        response = requests.get(url, headers={"Accept": accept}, timeout=30)
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith(accept)
        assert "accept" in response.headers["Vary"].lower()
        assert response.headers["Content-Location"].startswith(live_server)
    alternates = {link["type"]: link["url"] for link in response.links.values()} | {
        part.split(";")[2].split('"')[1]: part.split(";")[0].strip(" <>")
        for part in response.headers["Link"].split(",")}
    assert set(FORMATS.values()) | {"text/html"} <= set(alternates)
    for media_type, href in alternates.items():
        got = requests.get(href, timeout=30)  # no Accept: the URL alone names the format
        assert got.status_code == 200, href
        assert got.headers["Content-Type"].split(";")[0] == media_type


def test_browser_accept_gets_html_and_star_gets_turtle(live_server: str) -> None:
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    page = requests.get(live_server + "/ontology", headers={"Accept": browser}, timeout=30)
    assert page.headers["Content-Type"].startswith("text/html")
    assert 'id="Claim"' in page.text
    data = requests.get(live_server + "/ontology", headers={"Accept": "*/*"}, timeout=30)
    assert data.headers["Content-Type"].startswith("text/turtle")


def test_extension_names_the_format(live_server: str, samples: dict[str, str]) -> None:
    path = local_path(samples["entity"], NS)
    response = requests.get(f"{live_server}{path}.ttl", headers={"Accept": "text/html"},
                            timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/turtle")
    assert samples["entity"] in response.text or path.rsplit("/", 1)[-1] in response.text  # type: ignore[union-attr]


@pytest.mark.parametrize("accept", ["text/html", "text/turtle"])
def test_unknown_iri_is_404(live_server: str, accept: str) -> None:
    response = requests.get(live_server + "/id/no-such-thing-anywhere",
                            headers={"Accept": accept}, timeout=30)
    assert response.status_code == 404
    assert "no-such-thing-anywhere" in response.text


def test_no_acceptable_format_is_406(live_server: str) -> None:
    response = requests.get(live_server + "/ontology", headers={"Accept": "image/png"},
                            timeout=30)
    assert response.status_code == 406


def test_healthz(live_server: str) -> None:
    response = requests.get(live_server + "/healthz", timeout=30)
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_healthz_without_a_store_is_503(tmp_path: Path) -> None:
    from server import create_app
    from server.config import load_settings

    client = create_app(load_settings(env={}, store=tmp_path / "nothing")).test_client()
    assert client.get("/healthz").status_code == 503


def test_well_known_void_is_the_void_graph(live_server: str, oxstore: Store) -> None:
    got = rdflib.Graph().parse(live_server + "/.well-known/void", format="turtle")
    assert isomorphic(got, expected_triples(oxstore, NS.dataset))
    assert (rdflib.URIRef(NS.dataset), rdflib.RDF.type,
            rdflib.URIRef("http://rdfs.org/ns/void#Dataset")) in got
