"""The W3C SPARQL 1.1 service-description tests (w3c/rdf-tests sparql11/service-description).

The manifest has three entries, each encoded here against the live server:
``returns-rdf`` (GET on the endpoint returns RDF), ``has-endpoint-triple`` (the description
contains an ``sd:endpoint`` triple naming the endpoint that was asked) and ``conforms-to-schema``
(the description uses the SD vocabulary as its schema defines it: domains and ranges checked
below, https://www.w3.org/TR/sparql11-service-description/#vocab).
"""

from __future__ import annotations

import pytest
import rdflib
import requests
from rdflib import RDF, URIRef
from rdflib.namespace import Namespace

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
RDF_TYPES = ["text/turtle", "application/rdf+xml", "application/ld+json", "application/n-triples"]
LANGUAGES = {SD.SPARQL10Query, SD.SPARQL11Query, SD.SPARQL11Update}
FEATURES = {SD.DereferencesURIs, SD.UnionDefaultGraph, SD.RequiresDataset, SD.EmptyGraphs,
            SD.BasicFederatedQuery}


def description(url: str, media_type: str) -> rdflib.Graph:
    resp = requests.get(url, headers={"Accept": media_type}, timeout=30)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].split(";")[0] == media_type
    fmt = {"text/turtle": "turtle", "application/rdf+xml": "xml",
           "application/ld+json": "json-ld", "application/n-triples": "nt"}[media_type]
    return rdflib.Graph().parse(data=resp.content, format=fmt, publicID=url)


@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")
@pytest.mark.parametrize("media_type", RDF_TYPES)
def test_returns_rdf(live_server: str, media_type: str) -> None:
    assert len(description(live_server + "/sparql", media_type)) > 0


def test_has_endpoint_triple(live_server: str) -> None:
    graph = description(live_server + "/sparql", "text/turtle")
    services = set(graph.subjects(RDF.type, SD.Service))
    assert len(services) == 1
    assert (services.pop(), SD.endpoint, URIRef(live_server + "/sparql")) in graph


def test_conforms_to_schema(live_server: str) -> None:
    g = description(live_server + "/sparql", "text/turtle")
    (service,) = g.subjects(RDF.type, SD.Service)
    assert set(g.objects(service, SD.supportedLanguage)) <= LANGUAGES
    assert SD.SPARQL11Query in set(g.objects(service, SD.supportedLanguage))
    assert set(g.objects(service, SD.feature)) <= FEATURES
    assert all(isinstance(f, URIRef) for f in g.objects(service, SD.resultFormat))
    (dataset,) = g.objects(service, SD.defaultDataset)
    assert (dataset, RDF.type, SD.Dataset) in g
    for default in g.objects(dataset, SD.defaultGraph):
        assert (default, RDF.type, SD.Graph) in g
    named = list(g.objects(dataset, SD.namedGraph))
    assert named, "the built graphs are listed as named graphs"
    for node in named:
        assert (node, RDF.type, SD.NamedGraph) in g
        names = list(g.objects(node, SD.name))
        assert len(names) == 1 and isinstance(names[0], URIRef)
        for graph in g.objects(node, SD.graph):
            assert (graph, RDF.type, SD.Graph) in g


def test_union_default_graph_is_announced(live_server: str) -> None:
    g = description(live_server + "/sparql", "text/turtle")
    assert (None, SD.feature, SD.UnionDefaultGraph) in g


def test_description_etags_differ_by_format_and_answer_304(live_server: str) -> None:
    tags = {}
    for media_type in ("text/turtle", "application/n-triples"):
        first = requests.get(live_server + "/sparql", headers={"Accept": media_type})
        tags[media_type] = first.headers["ETag"]
        again = requests.get(live_server + "/sparql", headers={
            "Accept": media_type, "If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304
    assert tags["text/turtle"] != tags["application/n-triples"]
