"""The SPARQL 1.1 Service Description of the endpoint, as RDF triples.

https://www.w3.org/TR/sparql11-service-description/ : an ``sd:Service`` with its
``sd:endpoint``, supported languages, result formats, features (``sd:UnionDefaultGraph`` when
the default graph is the union of the named graphs, ``sd:BasicFederatedQuery`` only when
federation is allowed), and the default dataset: its default graph and named graphs with their
``void:triples``, plus the VoID description the build stored in the VoID graph. The limits
(query time, result rows) are announced with k2d3 vocabulary terms.
"""

from __future__ import annotations

from typing import Any

from pyoxigraph import BlankNode, Literal, NamedNode, Store, Triple

from server.config import Settings
from server.rdf.vocab import FORMATS, SD, VOID, XSD

RDF_TYPE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")

#: Result formats announced (IRIs of http://www.w3.org/ns/formats/).
RESULT_FORMATS = ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV",
                  "SPARQL_Results_TSV", "Turtle", "N-Triples", "RDF_XML", "JSON-LD", "N-Quads",
                  "TriG")


def _sd(local: str) -> NamedNode:
    return NamedNode(SD + local)


def _int(n: int) -> Literal:
    return Literal(str(n), datatype=NamedNode(XSD + "integer"))


def _service(service: NamedNode, endpoint: str, settings: Settings) -> list[Triple]:
    vocab = settings.ns.vocab
    out = [
        Triple(service, RDF_TYPE, _sd("Service")),
        Triple(service, _sd("endpoint"), NamedNode(endpoint)),
        Triple(service, _sd("supportedLanguage"), _sd("SPARQL11Query")),
        Triple(service, NamedNode(vocab + "maxResultRows"), _int(settings.max_rows)),
        Triple(service, NamedNode(vocab + "queryTimeoutSeconds"),
               Literal(f"{settings.query_timeout:g}", datatype=NamedNode(XSD + "decimal"))),
        Triple(service, NamedNode(vocab + "maxQueryTimeoutSeconds"),
               Literal(f"{settings.max_query_timeout:g}", datatype=NamedNode(XSD + "decimal"))),
    ]
    if settings.update_token:
        out.append(Triple(service, _sd("supportedLanguage"), _sd("SPARQL11Update")))
    out += [Triple(service, _sd("resultFormat"), NamedNode(FORMATS + f)) for f in RESULT_FORMATS]
    if settings.union_default_graph:
        out.append(Triple(service, _sd("feature"), _sd("UnionDefaultGraph")))
    if settings.federation_allow:
        out.append(Triple(service, _sd("feature"), _sd("BasicFederatedQuery")))
    out.append(Triple(service, _sd("feature"), _sd("EmptyGraphs")))
    return out


def _graph_sizes(store: Store, void_graph: str) -> dict[str, int]:
    """``void:triples`` of each named graph, from the VoID graph the build stored."""
    rows: Any = store.query(
        f"SELECT ?g ?n {{ GRAPH <{void_graph}> {{ ?g <{VOID}triples> ?n }} }}")
    return {row["g"].value: int(row["n"].value) for row in rows}


def _dataset(store: Store, service: NamedNode, settings: Settings) -> list[Triple]:
    ns = settings.ns
    dataset = NamedNode(ns.dataset)
    default = BlankNode()
    sizes = _graph_sizes(store, ns.graph("void"))
    out = [
        Triple(service, _sd("defaultDataset"), dataset),
        Triple(dataset, RDF_TYPE, _sd("Dataset")),
        Triple(dataset, _sd("defaultGraph"), default),
        Triple(default, RDF_TYPE, _sd("Graph")),
    ]
    if ns.dataset in sizes:
        out.append(Triple(default, NamedNode(VOID + "triples"), _int(sizes[ns.dataset])))
    for graph in sorted(store.named_graphs(), key=lambda g: g.value):
        if not isinstance(graph, NamedNode):
            continue
        named, desc = BlankNode(), BlankNode()
        out += [Triple(dataset, _sd("namedGraph"), named),
                Triple(named, RDF_TYPE, _sd("NamedGraph")),
                Triple(named, _sd("name"), graph),
                Triple(named, _sd("graph"), desc),
                Triple(desc, RDF_TYPE, _sd("Graph"))]
        if graph.value in sizes:
            out.append(Triple(desc, NamedNode(VOID + "triples"), _int(sizes[graph.value])))
    void_triples: Any = store.query(
        f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{ns.graph('void')}> {{ ?s ?p ?o }} }}")
    out += list(void_triples)
    return out


def describe(store: Store, endpoint: str, settings: Settings) -> list[Triple]:
    """The service description of the endpoint at ``endpoint`` (its absolute URL)."""
    service = NamedNode(endpoint + "#service")
    return _service(service, endpoint, settings) + _dataset(store, service, settings)
