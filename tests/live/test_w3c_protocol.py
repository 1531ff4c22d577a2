"""The W3C SPARQL 1.1 Protocol tests (w3c/rdf-tests, sparql/sparql11/protocol/manifest.ttl),
each manifest entry encoded as a case against a live server and named after it.

The manifest's data (``ut:graphData`` data1-3.nt) is in tests/data/w3c/protocol and loaded by
the fixture store; ``/sparql/`` of the manifest is this server's ``/sparql``. Update tests run
last (they DROP ALL) on this module's own server.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from endpoint_fixtures import TOKEN, fresh_store, serve

D = "http://kasei.us/2009/09/sparql/data/"
PQ = {"Content-Type": "application/sparql-query"}
PU = {"Content-Type": "application/sparql-update", "Authorization": f"Bearer {TOKEN}"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
JSON = "application/sparql-results+json"
RESULT_TYPES = (JSON, "application/sparql-results+xml", "text/csv", "text/tab-separated-values")
RDF_TYPES = ("text/turtle", "application/rdf+xml", "application/n-triples")
BOTH = f"ASK {{ <{D}data1.rdf> a ?type . <{D}data2.rdf> a ?type . }}"
NAMED = (f"ASK {{ GRAPH ?g1 {{ <{D}data1.rdf> a ?type }} GRAPH ?g2 {{ <{D}data2.rdf> a ?type }} }}")
LOAD3 = f"""PREFIX dc: <http://purl.org/dc/terms/>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>
DROP ALL ;
INSERT DATA {{
    GRAPH <{D}data1.rdf> {{ <{D}data1.rdf> a foaf:Document }}
    GRAPH <{D}data2.rdf> {{ <{D}data2.rdf> a foaf:Document }}
    GRAPH <{D}data3.rdf> {{ <{D}data3.rdf> a foaf:Document }}
}} ;
"""


@pytest.fixture(scope="module")
def ep(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve(fresh_store(tmp_path_factory.mktemp("w3c"))) as (url, _):
        yield url + "/sparql"


def ask(resp: requests.Response) -> bool:
    assert 200 <= resp.status_code < 400, resp.text
    assert resp.headers["Content-Type"].startswith(JSON)
    return bool(resp.json()["boolean"])


def q(ep: str, text: str, **params: object) -> requests.Response:
    return requests.post(ep, params=params, data=text.encode(), headers={**PQ, "Accept": JSON})


# name -> (method, params, body, headers); every one answers true.
POSITIVE_ASKS = {
    "query_post_form": ("POST", {"default-graph-uri": D + "data0.rdf"}, "query=ASK%20%7B%7D",
                        FORM),
    "query_dataset_default_graphs_get": ("GET", {"query": BOTH, "default-graph-uri": [
        D + "data1.rdf", D + "data2.rdf"]}, None, {}),
    "query_dataset_default_graphs_post": ("POST", {"default-graph-uri": [
        D + "data1.rdf", D + "data2.rdf"]}, BOTH, PQ),
    "query_dataset_named_graphs_post": ("POST", {"named-graph-uri": [
        D + "data1.rdf", D + "data2.rdf"]}, NAMED, PQ),
    "query_dataset_named_graphs_get": ("GET", {"query": NAMED, "named-graph-uri": [
        D + "data1.rdf", D + "data2.rdf"]}, None, {}),
    "query_dataset_full": ("POST", {"default-graph-uri": D + "data3.rdf", "named-graph-uri": [
        D + "data1.rdf", D + "data2.rdf"]}, f"ASK {{ <{D}data3.rdf> a ?type "
        f"GRAPH ?g1 {{ <{D}data1.rdf> a ?type }} GRAPH ?g2 {{ <{D}data2.rdf> a ?type }} }}", PQ),
    "query_multiple_dataset": ("POST", {"named-graph-uri": [D + "data1.rdf", D + "data2.rdf"]},
                               f"ASK FROM <{D}data3.rdf> {{ GRAPH ?g1 {{ <{D}data1.rdf> a ?type "
                               f"}} GRAPH ?g2 {{ <{D}data2.rdf> a ?type }} }}", PQ),
    "query_get": ("GET", {"query": "ASK {}", "default-graph-uri": D + "data0.rdf"}, None, {}),
    "query_post_direct": ("POST", {}, "ASK {}", PQ),
}


@pytest.mark.parametrize("name", list(POSITIVE_ASKS))
def test_positive_query(ep: str, name: str) -> None:
    method, params, body, headers = POSITIVE_ASKS[name]
    resp = requests.request(method, ep, params=params, data=body,
                            headers={**headers, "Accept": JSON})
    assert ask(resp) is True


@pytest.mark.parametrize(("name", "text", "types"), [
    ("query_content_type_select", "SELECT (1 AS ?value) {}", RESULT_TYPES),
    ("query_content_type_ask", "ASK {}", RESULT_TYPES[:2]),
    ("query_content_type_describe", "DESCRIBE <http://example.org/>", RDF_TYPES),
    ("query_content_type_construct", "CONSTRUCT { <s> <p> 1 } WHERE {}", RDF_TYPES),
])
def test_content_type(ep: str, name: str, text: str, types: tuple[str, ...]) -> None:
    resp = requests.post(ep, params={"default-graph-uri": D + "data0.rdf"}, data=text,
                         headers=PQ)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].split(";")[0] in types


@pytest.mark.parametrize(("name", "method", "params", "body", "headers"), [
    ("bad_query_method", "PUT", {}, "ASK {}", PQ),
    ("bad_multiple_queries", "GET", {"query": ["ASK {}", "SELECT * {}"]}, None, {}),
    ("bad_query_wrong_media_type", "POST", {}, "ASK {}", {"Content-Type": "text/plain"}),
    ("bad_query_missing_form_type", "POST", {}, "query=ASK%20%7B%7D", {}),
    ("bad_query_missing_direct_type", "POST", {}, "ASK {}", {}),
    ("bad_query_non_utf8", "POST", {}, "ASK { <http://example/ÿ> ?p ?o }".encode("latin-1"),
     {"Content-Type": "application/sparql-query; charset=UTF-8"}),
    ("bad_query_syntax", "GET", {"query": "ASK {"}, None, {}),
    ("bad_update_get", "GET", {"update": "CLEAR ALL"}, None, {}),
    ("bad_multiple_updates", "POST", {},
     "update=CLEAR%20NAMED&update=CLEAR%20DEFAULT", {**PU, **FORM}),
    ("bad_update_wrong_media_type", "POST", {}, "CLEAR NAMED",
     {"Content-Type": "text/plain", "Authorization": PU["Authorization"]}),
    ("bad_update_missing_form_type", "POST", {}, "update=CLEAR%20NAMED",
     {"Authorization": PU["Authorization"]}),
    ("bad_update_non_utf8", "POST", {}, "CLEAR GRAPH <http://example/ÿ>".encode("latin-1"),
     {**PU, "Content-Type": "application/sparql-update; charset=UTF-8"}),
    ("bad_update_syntax", "POST", {}, "CLEAR XYZ", PU),
    ("bad_update_dataset_conflict", "POST", {"using-graph-uri": "http://example/people"},
     "PREFIX foaf: <http://xmlns.com/foaf/0.1/> WITH <http://example/addresses> "
     "DELETE { ?person foaf:givenName 'Bill' } INSERT { ?person foaf:givenName 'William' } "
     "WHERE { ?person foaf:givenName 'Bill' }", PU),
])
def test_negative(ep: str, name: str, method: str, params: dict, body: object,
                  headers: dict) -> None:
    resp = requests.request(method, ep, params=params, data=body, headers=headers)
    assert 400 <= resp.status_code < 500, (name, resp.status_code, resp.text)
    assert resp.text.strip()                                # says what is wrong


def _update(ep: str, text: str, **params: object) -> None:
    resp = requests.post(ep, params=params, data=text.encode(), headers=PU)
    assert 200 <= resp.status_code < 400, resp.text


def test_update_dataset_default_graph(ep: str) -> None:
    _update(ep, LOAD3.replace("DROP ALL", "CLEAR ALL") +
            "INSERT { GRAPH <http://example.org/protocol-update-dataset-test/> { ?s a "
            "dc:BibliographicResource } } WHERE { ?s a foaf:Document }",
            **{"using-graph-uri": D + "data1.rdf"})
    assert ask(q(ep, "ASK { GRAPH <http://example.org/protocol-update-dataset-test/> { "
                     f"<{D}data1.rdf> a <http://purl.org/dc/terms/BibliographicResource> }} }}"))


def test_update_dataset_default_graphs(ep: str) -> None:
    g = "http://example.org/protocol-update-dataset-graphs-test/"
    _update(ep, LOAD3 + f"INSERT {{ GRAPH <{g}> {{ ?s a dc:BibliographicResource }} }} "
            "WHERE { ?s a foaf:Document }",
            **{"using-graph-uri": [D + "data1.rdf", D + "data2.rdf"]})
    bib = "<http://purl.org/dc/terms/BibliographicResource>"
    assert ask(q(ep, f"ASK {{ GRAPH <{g}> {{ <{D}data1.rdf> a {bib} . <{D}data2.rdf> a {bib} }}"
                     f" FILTER NOT EXISTS {{ GRAPH <{g}> {{ <{D}data3.rdf> a {bib} }} }} }}"))


def test_update_dataset_named_graphs(ep: str) -> None:
    g = "http://example.org/protocol-update-dataset-named-graphs-test/"
    _update(ep, LOAD3 + f"INSERT {{ GRAPH <{g}> {{ ?s a dc:BibliographicResource }} }} "
            "WHERE { GRAPH ?g { ?s a foaf:Document } }",
            **{"using-named-graph-uri": [D + "data1.rdf", D + "data2.rdf"]})
    bib = "<http://purl.org/dc/terms/BibliographicResource>"
    assert ask(q(ep, f"ASK {{ GRAPH <{g}> {{ <{D}data1.rdf> a {bib} . <{D}data2.rdf> a {bib} }}"
                     f" FILTER NOT EXISTS {{ GRAPH <{g}> {{ <{D}data3.rdf> a {bib} }} }} }}"))


def test_update_dataset_full(ep: str) -> None:
    g = "http://example.org/protocol-update-dataset-full-test/"
    _update(ep, LOAD3 + f"INSERT {{ GRAPH <{g}> {{ ?s <http://example.org/in> ?in }} }} WHERE {{ "
            "{ GRAPH ?g { ?s a foaf:Document } BIND(?g AS ?in) } UNION "
            "{ ?s a foaf:Document . BIND(\"default\" AS ?in) } }",
            **{"using-graph-uri": D + "data1.rdf", "using-named-graph-uri": D + "data2.rdf"})
    assert ask(q(ep, f'ASK {{ GRAPH <{g}> {{ <{D}data1.rdf> <http://example.org/in> "default" .'
                     f" <{D}data2.rdf> <http://example.org/in> <{D}data2.rdf> . }}"
                     f" FILTER NOT EXISTS {{ GRAPH <{g}> {{ <{D}data3.rdf> ?p ?o }} }} }}"))


def test_update_post_form(ep: str) -> None:
    resp = requests.post(ep, data="update=CLEAR+ALL", headers={**PU, **FORM})
    assert resp.status_code in (200, 204)


def test_update_post_direct(ep: str) -> None:
    _update(ep, "CLEAR ALL")


def test_update_base_uri(ep: str) -> None:
    g = "http://example.org/protocol-base-test/"
    _update(ep, f"CLEAR GRAPH <{g}> ; INSERT DATA {{ GRAPH <{g}> {{ <http://example.org/s> "
                "<http://example.org/p> <test> } }")
    rows = q(ep, f"SELECT ?o WHERE {{ GRAPH <{g}> {{ <http://example.org/s> "
                 "<http://example.org/p> ?o } }").json()["results"]["bindings"]
    assert len(rows) == 1 and rows[0]["o"]["type"] == "uri"
    assert rows[0]["o"]["value"] != "test" and rows[0]["o"]["value"].endswith("test")
