"""The SHACL shapes' documentation page: one anchored section per shape.

A shape's IRI is ``<base>shapes#Name``; a browser dereferencing it asks for ``/shapes`` and
then looks for the fragment, so every ``sh:NodeShape`` in the shapes graph gets a section whose
id is its fragment, listing what it says (targets, messages, property shapes as nested tables)
the way the resource pages list a node's properties.
"""

from __future__ import annotations

from typing import Any

from pyoxigraph import NamedNode, Store

from server.pages.resource import Terms
from server.rdf import labels
from server.rdf.namespaces import Namespaces
from server.rdf.vocab import SH

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


def build(store: Store, ns: Namespaces, lang: str) -> dict[str, Any]:
    """The page's values: the shapes document's label and IRI, and one entry per node shape."""
    graph, document = ns.graph("shapes"), ns.base + "shapes"
    terms = Terms(store, ns, lang)
    shapes: list[dict[str, Any]] = []
    for quad in store.quads_for_pattern(None, NamedNode(RDF_TYPE), NamedNode(SH + "NodeShape"),
                                        NamedNode(graph)):
        if not isinstance(quad.subject, NamedNode):
            continue
        iri = quad.subject.value
        rows = [(terms.iri(q.predicate.value), terms.term(q.object))
                for q in store.quads_for_pattern(quad.subject, None, None, NamedNode(graph))
                if q.predicate.value != RDF_TYPE]
        shapes.append({"iri": iri, "anchor": iri.rpartition("#")[2] or iri,
                       "label": terms.label(iri),
                       "rows": sorted(rows, key=lambda r: (r[0]["curie"], str(r[1])))})
    return {"iri": document, "label": labels.label(store, document, lang),
            "shapes": sorted(shapes, key=lambda s: s["anchor"])}
