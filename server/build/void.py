"""The VoID dataset description, with statistics computed from the built store.

Nothing here is written by hand but the dataset's title, licence and creator: counts, class
and property partitions and the per-graph subsets are queried from the store the build just
filled, so they cannot drift from the data.
"""

from __future__ import annotations

from pyoxigraph import Literal, NamedNode, Quad, Store

from server.rdf.namespaces import Namespaces
from server.rdf.vocab import DCTERMS, VOID

RDF_TYPE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
XSD_INTEGER = NamedNode("http://www.w3.org/2001/XMLSchema#integer")
SOURCE_URL = "https://sciencebasedmedicine.org/should-you-take-vitamin-k-with-your-vitamin-d/"
LICENSE = "https://creativecommons.org/licenses/by/4.0/"

#: External namespaces the graph maps to (``void:Linkset`` targets), by prefix.
LINKED_DATASETS = {
    "chebi": "http://purl.obolibrary.org/obo/CHEBI_",
    "mondo": "http://purl.obolibrary.org/obo/MONDO_",
    "hp": "http://purl.obolibrary.org/obo/HP_",
    "maxo": "http://purl.obolibrary.org/obo/MAXO_",
    "obi": "http://purl.obolibrary.org/obo/OBI_",
    "mesh": "http://id.nlm.nih.gov/mesh/",
    "uniprot": "http://purl.uniprot.org/uniprot/",
}


def _count(store: Store, query: str, graphs: list[NamedNode]) -> int:
    rows = list(store.query(query, default_graph=graphs))  # type: ignore[arg-type]
    return int(rows[0]["n"].value) if rows else 0


def _int(n: int) -> Literal:
    return Literal(str(n), datatype=XSD_INTEGER)


def _stats(store: Store, subject: NamedNode, graphs: list[NamedNode], out: list[Quad],
           graph: NamedNode) -> None:
    def v(local: str) -> NamedNode:
        return NamedNode(VOID + local)

    counts = {
        "triples": "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }",
        "distinctSubjects": "SELECT (COUNT(DISTINCT ?s) AS ?n) { ?s ?p ?o }",
        "distinctObjects": "SELECT (COUNT(DISTINCT ?o) AS ?n) { ?s ?p ?o }",
        "properties": "SELECT (COUNT(DISTINCT ?p) AS ?n) { ?s ?p ?o }",
        "classes": "SELECT (COUNT(DISTINCT ?c) AS ?n) { ?s a ?c }",
        "entities": "SELECT (COUNT(DISTINCT ?s) AS ?n) { ?s ?p ?o FILTER(isIRI(?s)) }",
    }
    for local, query in counts.items():
        out.append(Quad(subject, v(local), _int(_count(store, query, graphs)), graph))


#: (kind, the partition's key property, its count property, the query that lists them).
PARTITIONS = (
    ("class", "entities",
     "SELECT ?key (COUNT(DISTINCT ?s) AS ?n) { ?s a ?key FILTER(isIRI(?key)) } "
     "GROUP BY ?key ORDER BY ?key"),
    ("property", "triples",
     "SELECT ?key (COUNT(*) AS ?n) { ?s ?key ?o } GROUP BY ?key ORDER BY ?key"),
)


def _partitions(store: Store, ds: NamedNode, graphs: list[NamedNode], out: list[Quad],
                graph: NamedNode) -> None:
    """``void:classPartition`` and ``void:propertyPartition``, counted from the store."""
    for kind, count, query in PARTITIONS:
        rows = store.query(query, default_graph=graphs)  # type: ignore[arg-type]
        for i, row in enumerate(rows):  # type: ignore[arg-type]
            part = NamedNode(f"{ds.value}/{kind}-partition/{i + 1}")
            out += [
                Quad(ds, NamedNode(f"{VOID}{kind}Partition"), part, graph),
                Quad(part, NamedNode(VOID + kind), row["key"], graph),
                Quad(part, NamedNode(VOID + count), _int(int(row["n"].value)), graph),
            ]


def void_quads(store: Store, ns: Namespaces) -> list[Quad]:
    """Describe the build's graphs (all but the VoID graph itself) as a ``void:Dataset``."""
    graph = NamedNode(ns.graph("void"))
    ds = NamedNode(ns.dataset)
    owned = [NamedNode(iri) for name, iri in ns.build_graphs().items() if name != "void"]
    present = [g for g in owned if store.contains_named_graph(g)]
    out: list[Quad] = [
        Quad(ds, RDF_TYPE, NamedNode(VOID + "Dataset"), graph),
        Quad(ds, NamedNode(DCTERMS + "title"), Literal("k2d3: vitamin K2 with vitamin D3?",
                                                      language="en"), graph),
        Quad(ds, NamedNode(DCTERMS + "title"), Literal("k2d3:维生素 K2 与维生素 D3", language="zh"),
             graph),
        Quad(ds, NamedNode(DCTERMS + "description"), Literal(
            "The claims, evidence and quotations of Scott Gavura's article 'Should you take "
            "vitamin K with your vitamin D?' (Science-Based Medicine, 2025-06-05) as a "
            "knowledge graph.", language="en"), graph),
        Quad(ds, NamedNode(DCTERMS + "license"), NamedNode(LICENSE), graph),
        Quad(ds, NamedNode(DCTERMS + "creator"), Literal("k2d3 contributors"), graph),
        Quad(ds, NamedNode(DCTERMS + "source"), NamedNode(SOURCE_URL), graph),
        Quad(ds, NamedNode(VOID + "sparqlEndpoint"), NamedNode(ns.base + "sparql"), graph),
        Quad(ds, NamedNode(VOID + "uriSpace"), Literal(ns.base), graph),
        Quad(ds, NamedNode(VOID + "vocabulary"), NamedNode(ns.vocab), graph),
    ]
    _stats(store, ds, present, out, graph)
    _partitions(store, ds, present, out, graph)
    for g in present:
        sub = NamedNode(g.value)
        out += [
            Quad(ds, NamedNode(VOID + "subset"), sub, graph),
            Quad(sub, RDF_TYPE, NamedNode(VOID + "Dataset"), graph),
        ]
        _stats(store, sub, [g], out, graph)
    for name, prefix in LINKED_DATASETS.items():
        n = _count(store, f'SELECT (COUNT(*) AS ?n) {{ ?s ?p ?o FILTER(isIRI(?o) && '
                          f'STRSTARTS(STR(?o), "{prefix}")) }}', present)
        if n:
            link = NamedNode(f"{ns.dataset}/linkset/{name}")
            out += [
                Quad(ds, NamedNode(VOID + "subset"), link, graph),
                Quad(link, RDF_TYPE, NamedNode(VOID + "Linkset"), graph),
                Quad(link, NamedNode(VOID + "target"), ds, graph),
                Quad(link, NamedNode(VOID + "target"), NamedNode(prefix), graph),
                Quad(link, NamedNode(VOID + "triples"), _int(n), graph),
            ]
    return out
