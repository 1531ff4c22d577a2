"""The endpoint over HTTP: a real gunicorn server, real clients, every protocol error case.

Servers run ``server.serving.serve.run`` over a small store of known contents (see
``tests/endpoint_fixtures.py``); a test that needs another setting starts its own server.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph
import pytest
import rdflib
import rdflib.compare
import requests
from endpoint_fixtures import KASEI, TOKEN, fresh_store, serve
from metrics_samples import samples, value
from rdflib.plugins.stores.sparqlstore import SPARQLStore, SPARQLUpdateStore
from SPARQLWrapper import JSON, TURTLE, XML, SPARQLWrapper

AUTH = {"Authorization": f"Bearer {TOKEN}"}
SD = "http://www.w3.org/ns/sparql-service-description#"
DOC_TYPES = "SELECT ?type (COUNT(*) AS ?n) WHERE { ?s a ?type } GROUP BY ?type"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    root = fresh_store(tmp_path_factory.mktemp("live"))
    with serve(root, max_rows="5", max_body_bytes="20000", query_timeout="10",
               max_query_timeout="20") as (url, _proc):
        yield url, root


@pytest.fixture(scope="module")
def server(live: tuple[str, Path]) -> str:
    return live[0]


def sparql(url: str) -> str:
    return url + "/sparql"


def test_sparqlwrapper_select_json_and_xml(server: str) -> None:
    for method in ("GET", "POST"):
        client = SPARQLWrapper(sparql(server))
        client.setMethod(method)
        client.setQuery(DOC_TYPES)
        client.setReturnFormat(JSON)
        rows = client.query().convert()["results"]["bindings"]  # type: ignore[index]
        counts = {r["type"]["value"]: int(r["n"]["value"]) for r in rows}
        assert counts["http://xmlns.com/foaf/0.1/Document"] == 3
        client.setReturnFormat(XML)
        assert client.query().convert().getElementsByTagName("result")  # type: ignore[union-attr]


def test_sparqlwrapper_ask_and_construct(server: str) -> None:
    client = SPARQLWrapper(sparql(server))
    client.setQuery(f"ASK {{ <{KASEI}data1.rdf> a ?t }}")
    client.setReturnFormat(JSON)
    assert client.query().convert()["boolean"] is True  # type: ignore[index]
    client.setQuery(f"CONSTRUCT {{ ?s a ?t }} WHERE {{ GRAPH <{KASEI}data2.rdf> {{ ?s a ?t }} }}")
    client.setReturnFormat(TURTLE)
    graph = rdflib.Graph().parse(data=client.query().convert(), format="turtle")
    assert (rdflib.URIRef(KASEI + "data2.rdf"), rdflib.RDF.type, None) in graph


def test_construct_turtle_declares_the_querys_prefixes(server: str) -> None:
    query = ("PREFIX foaf: <http://xmlns.com/foaf/0.1/> CONSTRUCT { ?s a foaf:Document } "
             f"WHERE {{ GRAPH <{KASEI}data2.rdf> {{ ?s a ?t }} }}")
    turtle = requests.get(sparql(server), params={"query": query},
                          headers={"Accept": "text/turtle"}, timeout=10)
    ntriples = requests.get(sparql(server), params={"query": query},
                            headers={"Accept": "application/n-triples"}, timeout=10)
    assert "@prefix foaf: <http://xmlns.com/foaf/0.1/> ." in turtle.text
    assert "foaf:Document" in turtle.text
    assert rdflib.compare.isomorphic(rdflib.Graph().parse(data=turtle.text, format="turtle"),
                                     rdflib.Graph().parse(data=ntriples.text, format="nt"))


def test_graph_store_turtle_declares_the_known_prefixes(server: str) -> None:
    resp = requests.get(server + "/store", params={"graph": KASEI + "data2.rdf"},
                        headers={"Accept": "text/turtle"}, timeout=10)
    assert resp.status_code == 200
    assert "@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> ." in resp.text
    graph = rdflib.Graph().parse(data=resp.text, format="turtle")
    assert (rdflib.URIRef(KASEI + "data2.rdf"), rdflib.RDF.type, None) in graph


def test_rdflib_sparqlstore_reads(server: str) -> None:
    store = SPARQLStore(sparql(server))
    graph = rdflib.Graph(store)
    rows = list(graph.query(f"SELECT ?t WHERE {{ <{KASEI}data3.rdf> a ?t }}"))
    assert [str(r[0]) for r in rows] == ["http://xmlns.com/foaf/0.1/Document"]


def test_rdflib_sparqlupdatestore_writes_with_the_token(server: str) -> None:
    ep = sparql(server)
    store = SPARQLUpdateStore(ep, ep, headers=dict(AUTH))
    store.update('INSERT DATA { GRAPH <http://example.org/rdflib> '
                 '{ <http://example.org/x> <http://example.org/p> "written" } }')
    answer = requests.get(ep, params={"query": "ASK { GRAPH <http://example.org/rdflib> "
                                               '{ ?s ?p "written" } }'},
                          headers={"Accept": "application/sparql-results+json"}).json()
    assert answer["boolean"] is True


@pytest.mark.parametrize(("method", "kwargs", "status", "words"), [
    ("PUT", {"data": "ASK {}", "headers": {"Content-Type": "application/sparql-query"}}, 405,
     ""),
    ("GET", {"params": [("query", "ASK {}"), ("query", "ASK {}")]}, 400, "2 times"),
    ("POST", {"data": "ASK {}", "headers": {"Content-Type": "text/plain"}}, 415, "text/plain"),
    ("POST", {"data": b"ASK {}"}, 415, "Content-Type"),
    ("POST", {"data": b'ASK { ?s ?p "\xff" }',
              "headers": {"Content-Type": "application/sparql-query"}}, 400, "UTF-8"),
    ("GET", {"params": {"query": "SELECT * WHERE { ?s ?p }"}}, 400, "error at 1:"),
    ("GET", {"params": {"query": "ASK {}"}, "headers": {"Accept": "image/png"}}, 406, ""),
    ("GET", {"params": {"update": "CLEAR ALL"}}, 405, "POST"),
    ("POST", {"data": "CLEAR ALL", "headers": {"Content-Type": "application/sparql-update"}},
     401, "Bearer"),
    ("POST", {"data": "CLEAR ALL", "headers": {"Content-Type": "application/sparql-update",
                                               "Authorization": "Bearer nope"}}, 403, "token"),
    ("POST", {"data": "ASK {} #" + "x" * 30000,
              "headers": {"Content-Type": "application/sparql-query"}}, 413, "20000"),
    ("GET", {"params": {"query": "SELECT * { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }"}},
     403, "not allowed"),
])
def test_errors_are_4xx_with_a_message_and_cors(server: str, method: str, kwargs: dict,
                                                status: int, words: str) -> None:
    resp = requests.request(method, sparql(server), **kwargs)
    assert resp.status_code == status, resp.text
    assert words in resp.text
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert "Traceback" not in resp.text


def test_error_body_follows_accept(server: str) -> None:
    resp = requests.get(sparql(server), params={"query": "SELECT"},
                        headers={"Accept": "application/json"})
    assert resp.status_code == 400 and "syntax error" in resp.json()["message"]


def test_preflight_and_cors(server: str) -> None:
    resp = requests.options(sparql(server), headers={
        "Origin": "https://elsewhere.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Content-Type, Authorization"})
    assert resp.status_code in (200, 204)
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in resp.headers["Access-Control-Allow-Methods"]
    assert "authorization" in resp.headers["Access-Control-Allow-Headers"].lower()
    missing = requests.get(server + "/no-such-page")
    assert missing.headers["Access-Control-Allow-Origin"] == "*"
    # on an actual response, what a script may read; the preflight-only headers are left out
    answer = requests.get(sparql(server), params={"query": "ASK {}"},
                          headers={"Origin": "https://elsewhere.example"})
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert "K2D3-Truncated" in answer.headers["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Methods" not in answer.headers


def test_html_gets_the_editor_with_csp(server: str) -> None:
    resp = requests.get(sparql(server), headers={"Accept": "text/html,*/*;q=0.8"})
    assert resp.status_code == 200 and "yasgui.min.js" in resp.text
    assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
    assert "Count the types" in resp.text      # a canned query from the catalogue graph
    assert requests.get(server + "/static/yasgui/yasgui.min.js").status_code == 200


def test_etag_and_304_until_the_data_changes(server: str) -> None:
    params = {"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 1"}
    first = requests.get(sparql(server), params=params)
    etag = first.headers["ETag"]
    assert etag.startswith('W/"'), "answers are equivalent, not always byte-equal: weak"
    again = requests.get(sparql(server), params=params, headers={"If-None-Match": etag})
    assert again.status_code == 304
    strong = requests.get(sparql(server), params=params, headers={"If-None-Match": etag[2:]})
    assert strong.status_code == 304, "If-None-Match compares weakly"
    other = requests.get(sparql(server), params=params,
                         headers={"If-None-Match": etag, "Accept": "text/csv"})
    assert other.status_code == 200                      # another representation
    requests.post(sparql(server), data="INSERT DATA { <http://e/x> <http://e/p> 1 }",
                  headers={"Content-Type": "application/sparql-update", **AUTH}).raise_for_status()
    after = requests.get(sparql(server), params=params, headers={"If-None-Match": etag})
    assert after.status_code == 200 and after.headers["ETag"] != etag


def test_max_rows_truncates_and_says_so(server: str) -> None:
    resp = requests.get(sparql(server), params={"query": "SELECT * { ?s ?p ?o }"},
                        headers={"Accept": "application/sparql-results+json"})
    assert len(resp.json()["results"]["bindings"]) == 5
    assert resp.headers["K2D3-Truncated"] == "true" == resp.headers["X-Result-Truncated"]
    # a LIMIT above the cap does not let more through; one within it is written at once
    over = requests.get(sparql(server), params={"query": "SELECT * { ?s ?p ?o } LIMIT 9"},
                        headers={"Accept": "application/sparql-results+json"})
    assert len(over.json()["results"]["bindings"]) == 5
    assert over.headers["K2D3-Truncated"] == "true"
    small = requests.get(sparql(server), params={"query": "SELECT * { ?s ?p ?o } LIMIT 2"},
                         headers={"Accept": "application/sparql-results+json"})
    assert len(small.json()["results"]["bindings"]) == 2
    assert "K2D3-Truncated" not in small.headers
    assert re.fullmatch(r"query;dur=\d+\.\d+", small.headers["Server-Timing"])
    for accept in ("application/n-triples", "text/turtle"):  # capped as written, and in Python
        graph = requests.get(sparql(server), params={"query": "CONSTRUCT WHERE { ?s ?p ?o }"},
                             headers={"Accept": accept})
        assert graph.headers["K2D3-Truncated"] == "true"
        assert len(rdflib.Graph().parse(data=graph.text, format="nt" if "n-" in accept
                                        else "turtle")) == 5


def service_description(url: str, accept: str = "text/turtle") -> rdflib.Graph:
    resp = requests.get(sparql(url), headers={"Accept": accept})
    assert resp.status_code == 200
    if accept == "application/ld+json":   # rdflib's JSON-LD parser warns (deprecation)
        nt = pyoxigraph.serialize(pyoxigraph.parse(resp.content, pyoxigraph.RdfFormat.JSON_LD),
                                  format=pyoxigraph.RdfFormat.N_QUADS)
        return rdflib.Graph().parse(data=nt, format="nt")
    fmt = {"text/turtle": "turtle", "application/rdf+xml": "xml",
           "application/n-triples": "nt"}[accept]
    return rdflib.Graph().parse(data=resp.text, format=fmt)


@pytest.mark.parametrize("accept", ["text/turtle", "application/rdf+xml", "application/ld+json",
                                    "application/n-triples"])
def test_service_description(server: str, accept: str) -> None:
    g = service_description(server, accept)
    sd = rdflib.Namespace(SD)
    service = g.value(predicate=rdflib.RDF.type, object=sd.Service)
    assert g.value(service, sd.endpoint) == rdflib.URIRef(sparql(server))
    assert sd.SPARQL11Query in set(g.objects(service, sd.supportedLanguage))
    assert sd.SPARQL11Update in set(g.objects(service, sd.supportedLanguage))
    assert sd.UnionDefaultGraph in set(g.objects(service, sd.feature))
    assert rdflib.URIRef("http://www.w3.org/ns/formats/SPARQL_Results_JSON") in set(
        g.objects(service, sd.resultFormat))
    assert int(g.value(service, rdflib.URIRef("https://w3id.org/k2d3/ontology#maxResultRows"))) == 5
    names = {str(n) for n in g.objects(None, sd.name)}
    assert {KASEI + "data1.rdf", KASEI + "data2.rdf", KASEI + "data3.rdf"} <= names
    void_triples = rdflib.URIRef("http://rdfs.org/ns/void#triples")
    assert int(g.value(rdflib.URIRef("https://w3id.org/k2d3/dataset"), void_triples)) == 4


def test_timeout_parameter_is_capped_and_lower_allowed(server: str) -> None:
    heavy = "SELECT (COUNT(*) AS ?n) { " + " ".join(f"?a{i} ?b{i} ?c{i} ." for i in range(9)) + "}"
    started = time.monotonic()
    resp = requests.get(sparql(server), params={"query": heavy, "timeout": "1"})  # the minimum
    assert resp.status_code == 503 and "timed out after 1 s" in resp.text
    assert time.monotonic() - started < 3
    assert requests.get(sparql(server), params={"query": "ASK {}"}).status_code == 200


def test_metrics_and_access_log(live: tuple[str, Path]) -> None:
    server, root = live
    requests.get(sparql(server), params={"query": "ASK {}"})
    requests.get(sparql(server), params={"query": "SELECT"})
    time.sleep(1.2)                       # the access log is written twice a second
    found = samples(requests.get(server + "/metrics").text)
    assert value(found, "k2d3_http_requests_total",
                 route="/sparql", method="GET", status="200") >= 1
    assert value(found, "k2d3_http_errors_total", route="/sparql", status="400") >= 1
    assert value(found, "k2d3_http_request_duration_seconds_bucket",
                 route="/sparql", le="+Inf") >= 2
    assert value(found, "k2d3_query_timeouts_total", route="/sparql") >= 1  # the timeout test
    log = root.parent / f"server-{server.rsplit(':', 1)[1]}.log"
    records = [json.loads(line) for line in log.read_text().splitlines()
               if line.startswith("{")]
    assert {"method", "route", "status", "duration_ms"} <= set(records[-1])
    assert any("query_hash" in r for r in records)
    assert TOKEN not in log.read_text()
