"""Every graph of a store with its triple count and where it came from (``k2d3 graphs``).

Origins:

- ``k2d3``: the graphs ``k2d3 build`` owns and replaces (``namespaces.BUILD_GRAPHS``);
- ``k2d3 (load records)``: :data:`LOADS`, the record that ``k2d3 load`` keeps;
- ``loaded``: a graph that the record names, i.e. that ``k2d3 load`` filled;
- ``written``: any other named graph (SPARQL Update or the Graph Store protocol made it);
- ``default``: the default graph (``loaded`` too when ``k2d3 load`` put triples in it).

Where the origin is recorded, and why: ``k2d3 load`` writes one small named graph,
``<base>graph/loads``, in the same snapshot as the data it loads, so the record and the data
are published together (a crash or a failed load leaves neither), it travels with the store
(dumps, copies), and a user can query it. For each graph loaded it says which files filled it
(``dcterms:source <file:///...>``) and when (``dcterms:modified``); the default graph's entry
has the subject ``<base>graph/default``. The build keeps it as it keeps every graph it does
not own. A graph dropped later by a user simply no longer appears in the listing.

Counting reads each graph's index range with a SPARQL ``COUNT`` (no Python object per quad,
no memory that grows with the data): about one pass over the store in all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from pyoxigraph import Literal, NamedNode, Quad, QuerySolutions, Store

from server.rdf.namespaces import Namespaces
from server.rdf.vocab import DCTERMS, XSD

#: The name (under ``<base>graph/``) of the graph where ``k2d3 load`` records what it loaded.
LOADS = "loads"
#: The name that stands for the default graph in the load record.
DEFAULT = "default"
SOURCE = NamedNode(DCTERMS + "source")
MODIFIED = NamedNode(DCTERMS + "modified")


@dataclass(frozen=True)
class GraphInfo:
    """One graph: its IRI (``None`` for the default graph), triples, origin, files loaded."""

    iri: str | None
    triples: int
    origin: str
    sources: tuple[str, ...] = ()


def record_quads(ns: Namespaces, graph: str | None, source: str, when: str) -> list[Quad]:
    """The load record's statements for one graph (``None``: the default graph) filled from
    the file IRI ``source`` at ``when`` (an ``xsd:dateTime``)."""
    subject = NamedNode(ns.graph(DEFAULT) if graph is None else graph)
    where = NamedNode(ns.graph(LOADS))
    return [Quad(subject, SOURCE, NamedNode(source), where),
            Quad(subject, MODIFIED, Literal(when, datatype=NamedNode(XSD + "dateTime")), where)]


def loaded_sources(store: Store, ns: Namespaces) -> dict[str, tuple[str, ...]]:
    """``{graph IRI (or <base>graph/default): (file IRIs, sorted)}`` from the load record."""
    out: dict[str, list[str]] = {}
    for quad in store.quads_for_pattern(None, SOURCE, None, NamedNode(ns.graph(LOADS))):
        if isinstance(quad.subject, NamedNode) and isinstance(quad.object, NamedNode):
            out.setdefault(quad.subject.value, []).append(quad.object.value)
    return {graph: tuple(sorted(files)) for graph, files in out.items()}


def count(store: Store, graph: NamedNode | None) -> int:
    """Triples in one named graph, or (``None``) in the default graph alone."""
    if graph is None:  # a store's default graph is its own, not the union, in a query here
        query = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    else:
        query = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph.value}> {{ ?s ?p ?o }} }}"
    rows = store.query(query)
    return int(next(iter(cast(QuerySolutions, rows)))[0].value)


def origin(iri: str, ns: Namespaces, loaded: dict[str, tuple[str, ...]]) -> str:
    """Where the named graph ``iri`` came from (see the module's docstring)."""
    if iri in ns.build_graphs().values():
        return "k2d3"
    if iri == ns.graph(LOADS):
        return "k2d3 (load records)"
    return "loaded" if iri in loaded else "written"


def list_graphs(store: Store, ns: Namespaces) -> list[GraphInfo]:
    """The default graph, then every named graph (sorted by IRI), with counts and origins.

    Blank-node graph names (a quads file may use them) are listed as ``_:id``.
    """
    loaded = loaded_sources(store, ns)
    default_sources = loaded.get(ns.graph(DEFAULT), ())
    out = [GraphInfo(None, count(store, None), "default, loaded" if default_sources
                     else "default", default_sources)]
    named = sorted(store.named_graphs(), key=lambda g: str(g))
    for graph in named:
        iri = graph.value if isinstance(graph, NamedNode) else f"_:{graph.value}"
        triples = count(store, graph) if isinstance(graph, NamedNode) else _count_blank(
            store, graph)
        out.append(GraphInfo(iri, triples, origin(iri, ns, loaded), loaded.get(iri, ())))
    return out


def _count_blank(store: Store, graph: object) -> int:
    """Triples in a graph named by a blank node (SPARQL cannot name it: counted by iterating)."""
    quads = store.quads_for_pattern(None, None, None, graph)  # type: ignore[arg-type]
    return sum(1 for _ in quads)
