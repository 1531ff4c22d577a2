"""What dereferencing an IRI returns, and IRIs under the base <-> paths on this server.

Pure functions over a store and the namespaces (no HTTP); ``server.http.linked_data`` answers
requests with them and pages link with :func:`local_path`. The design is described in
``server.http.linked_data``'s docstring and the README's "Linked data" section.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from urllib.parse import quote, unquote

from pyoxigraph import BlankNode, NamedNode, Quad, Store, Triple

from server.rdf.iris import InvalidIri, to_iri
from server.rdf.namespaces import Namespaces

_SAFE = "/:@!$&'()*+,;=-._~%"
OWL_VERSION_IRI = NamedNode("http://www.w3.org/2002/07/owl#versionIRI")


def local_path(iri: str, ns: Namespaces) -> str | None:
    """The path on this server that serves ``iri``, or ``None`` for an IRI outside the base.

    ``https://w3id.org/k2d3/id/X`` -> ``/id/X``; ``…/ontology#Claim`` -> ``/ontology#Claim``;
    non-ASCII characters are percent-encoded so the path is a valid URL.
    """
    if not iri.startswith(ns.base):
        return None
    rest, hash_, fragment = iri[len(ns.base):].partition("#")
    path = "/" + quote(rest, safe=_SAFE)
    return path + hash_ + quote(fragment, safe=_SAFE) if hash_ else path


def iri_for_path(path: str, ns: Namespaces) -> str:
    """The IRI that the local ``path`` (as Flask sees it, or percent-encoded) stands for."""
    return ns.base + unquote(path).lstrip("/")


def graph_for_iri(iri: str, ns: Namespaces, store: Store | None = None) -> str | None:
    """The named graph whose contents ``iri`` returns, if it is a document-like IRI.

    The ontology IRI and (given ``store``) its ``owl:versionIRI`` return the ontology graph;
    ``<base>shapes`` (the namespace of the SHACL shapes, ``shapes#X``) the shapes graph.
    """
    if iri == ns.ontology:
        return ns.graph("ontology")
    if iri == ns.dataset:
        return ns.graph("void")
    if iri == ns.base + "shapes":
        return ns.graph("shapes")
    if iri.startswith(ns.base + "graph/"):
        return iri
    if store is not None and iri.startswith(ns.ontology + "/"):
        node = _node(iri)
        if node is not None and any(True for _ in store.quads_for_pattern(
                NamedNode(ns.ontology), OWL_VERSION_IRI, node, None)):
            return ns.graph("ontology")
    return None


def _node(iri: str) -> NamedNode | None:
    """``iri`` as a ``NamedNode``, or ``None`` when it is not an IRI (so not in the store)."""
    try:
        return to_iri(iri, "IRI")
    except InvalidIri:
        return None


def _cbd(store: Store, subject: NamedNode | BlankNode, seen: set[BlankNode]) -> Iterator[Triple]:
    for quad in store.quads_for_pattern(subject, None, None, None):
        yield quad.triple
        obj = quad.object
        if isinstance(obj, BlankNode) and obj not in seen:
            seen.add(obj)
            yield from _cbd(store, obj, seen)


def describe(store: Store, iri: str) -> list[Triple]:
    """The description of ``iri``: its CBD plus incoming triples from IRIs, over all graphs."""
    node = _node(iri)
    if node is None:
        return []
    triples = dict.fromkeys(_cbd(store, node, set()))
    for quad in store.quads_for_pattern(None, None, node, None):
        if isinstance(quad.subject, NamedNode):
            triples[quad.triple] = None
    return list(triples)


def graph_triples(store: Store, graph: str) -> list[Triple]:
    """Every triple of the named graph ``graph``."""
    node = _node(graph)
    if node is None:
        return []
    quads: Iterable[Quad] = store.quads_for_pattern(None, None, None, node)
    return [q.triple for q in quads]


def rdf_for_iri(store: Store, iri: str, ns: Namespaces) -> list[Triple]:
    """What dereferencing ``iri`` returns as RDF (empty when the graph does not know it)."""
    graph = graph_for_iri(iri, ns, store)
    if graph is not None:
        return graph_triples(store, graph)
    return describe(store, iri)


def is_known(store: Store, iri: str, ns: Namespaces) -> bool:
    """True when ``iri`` appears in the store (as subject, object or graph name)."""
    graph = graph_for_iri(iri, ns, store)
    graph_node = _node(graph) if graph is not None else None
    if graph_node is not None and store.contains_named_graph(graph_node):
        return True
    node = _node(iri)
    if node is None:
        return False
    return any(True for _ in store.quads_for_pattern(node, None, None, None)) or any(
        True for _ in store.quads_for_pattern(None, None, node, None))
