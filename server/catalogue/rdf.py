"""The canned-query catalogue as RDF, in the vocabulary of the SIB ``sparql-examples``.

Each query ``NAME`` is ``<https://w3id.org/k2d3/queries/NAME>``, a ``sh:SPARQLExecutable`` and
one of ``sh:SPARQLSelectExecutable`` / ``sh:SPARQLAskExecutable`` /
``sh:SPARQLConstructExecutable`` (SHACL Advanced Features 1.1, section 5.1,
https://www.w3.org/TR/shacl-af/#SPARQLExecutable), with its text in ``sh:select`` / ``sh:ask`` /
``sh:construct``, ``rdfs:label`` and ``rdfs:comment`` in English and Chinese, ``schema:keywords``,
``schema:target`` (the endpoint) and ``sh:prefixes`` (one shared declaration node). Parameters
are ``sh:parameter`` nodes with IRIs (``NAME#param-X``), never blank nodes, so that the graph
survives rebuilds unchanged and each node has a page. ``queries/catalogue-shapes.ttl`` checks it.
"""

from __future__ import annotations

from collections.abc import Iterable

from pyoxigraph import Literal, NamedNode, Triple

from server.catalogue.canned import CannedQuery, Param
from server.catalogue.params import coerce
from server.rdf.namespaces import DEFAULT_BASE, Namespaces
from server.rdf.vocab import DCTERMS, OWL, RDF, RDFS, SCHEMA, SH, XSD

KIND_CLASS = {
    "select": "SPARQLSelectExecutable",
    "ask": "SPARQLAskExecutable",
    "construct": "SPARQLConstructExecutable",
    "describe": "SPARQLDescribeExecutable",
}


def _n(iri: str) -> NamedNode:
    return NamedNode(iri)


def _lit(value: str, lang: str | None = None, datatype: str | None = None) -> Literal:
    if lang:
        return Literal(value, language=lang)
    return Literal(value, datatype=NamedNode(datatype or XSD + "string"))


def prefixes_node(ns: Namespaces) -> NamedNode:
    return _n(ns.base + "queries#prefixes")


def _prefix_triples(queries: Iterable[CannedQuery], ns: Namespaces) -> list[Triple]:
    node = prefixes_node(ns)
    out = [Triple(node, _n(RDF + "type"), _n(OWL + "Ontology")),
           Triple(node, _n(RDFS + "label"), _lit("Prefixes of the k2d3 canned queries", "en"))]
    seen: dict[str, str] = {}
    for query in queries:
        for prefix, iri in query.prefixes.items():
            seen.setdefault(prefix, iri)
    for prefix, iri in sorted(seen.items()):
        decl = _n(f"{ns.base}queries#prefix-{prefix or 'default'}")
        out += [
            Triple(node, _n(SH + "declare"), decl),
            Triple(decl, _n(SH + "prefix"), _lit(prefix)),
            Triple(decl, _n(SH + "namespace"), _lit(iri, datatype=XSD + "anyURI")),
        ]
    return out


def _list(head: str, items: list[NamedNode | Literal]) -> tuple[NamedNode, list[Triple]]:
    """An RDF list whose cells are IRIs ``head-1``, ``head-2``... (no blank nodes)."""
    if not items:
        return _n(RDF + "nil"), []
    out: list[Triple] = []
    cells = [_n(f"{head}-{i + 1}") for i in range(len(items))]
    for i, (cell, item) in enumerate(zip(cells, items, strict=True)):
        rest = cells[i + 1] if i + 1 < len(cells) else _n(RDF + "nil")
        out += [Triple(cell, _n(RDF + "first"), item), Triple(cell, _n(RDF + "rest"), rest)]
    return cells[0], out


def _param_triples(query: CannedQuery, iri: str, param: Param, ns: Namespaces
                   ) -> list[Triple]:
    node = _n(f"{iri}#param-{param.name}")
    out = [
        Triple(_n(iri), _n(SH + "parameter"), node),
        Triple(node, _n(RDF + "type"), _n(SH + "Parameter")),
        Triple(node, _n(SH + "path"), _n(f"{iri}#{param.name}")),
        Triple(node, _n(SH + "optional"), _lit(str(param.optional).lower(), None,
                                               XSD + "boolean")),
    ]
    out += [Triple(node, _n(SH + "name"), _lit(v, lang)) for lang, v in param.labels.items()]
    out += [Triple(node, _n(SH + "description"), _lit(v, lang))
            for lang, v in param.descriptions.items()]
    if param.type == "iri":
        out.append(Triple(node, _n(SH + "nodeKind"), _n(SH + "IRI")))
        if param.cls:
            out.append(Triple(node, _n(SH + "class"), _n(param.cls)))
    else:
        out.append(Triple(node, _n(SH + "datatype"), _n(param.datatype or XSD + "string")))
    if param.default:
        out.append(Triple(node, _n(SH + "defaultValue"),
                          coerce(param, param.default, query.prefixes)))
    if param.values:
        head, cells = _list(f"{iri}#param-{param.name}-in",
                            [coerce(param, v, query.prefixes) for v in param.values])
        out += [Triple(node, _n(SH + "in"), head), *cells]
    if param.values_query:
        values = _n(f"{iri}#param-{param.name}-values")
        out += [
            Triple(node, _n(RDFS + "seeAlso"), values),
            Triple(values, _n(RDF + "type"), _n(SH + "SPARQLExecutable")),
            Triple(values, _n(RDF + "type"), _n(SH + "SPARQLSelectExecutable")),
            Triple(values, _n(SH + "select"), _lit(param.values_query)),
            Triple(values, _n(SH + "prefixes"), prefixes_node(ns)),
        ]
    return out


def query_triples(query: CannedQuery, ns: Namespaces) -> list[Triple]:
    """One query's description: types, text, labels, comments, keywords, target, parameters."""
    iri = ns.queries + query.name
    s = _n(iri)
    out = [
        Triple(s, _n(RDF + "type"), _n(SH + "SPARQLExecutable")),
        Triple(s, _n(RDF + "type"), _n(SH + KIND_CLASS[query.kind])),
        Triple(s, _n(SH + query.kind), _lit(query.text)),
        Triple(s, _n(SH + "prefixes"), prefixes_node(ns)),
        Triple(s, _n(SCHEMA + "target"), _n(ns.base + "sparql")),
        Triple(s, _n(DCTERMS + "subject"), _lit(query.topic)),
        Triple(s, _n(SCHEMA + "position"), _lit(str(query.order), None, XSD + "integer")),
    ]
    out += [Triple(s, _n(RDFS + "label"), _lit(v, lang)) for lang, v in query.titles.items()]
    out += [Triple(s, _n(RDFS + "comment"), _lit(v, lang))
            for lang, v in query.descriptions.items()]
    out += [Triple(s, _n(SCHEMA + "keywords"), _lit(k, "en")) for k in query.keywords]
    out += [Triple(s, _n(SCHEMA + "keywords"), _lit(k, lang))
            for lang, words in query.translated_keywords.items() for k in words]
    for param in query.params:
        out += _param_triples(query, iri, param, ns)
    return out


def triples(queries: Iterable[CannedQuery], ns: Namespaces | None = None) -> list[Triple]:
    """The whole catalogue, written under the default base (the build rebases it)."""
    ns = ns or Namespaces(DEFAULT_BASE)
    queries = list(queries)
    out = _prefix_triples(queries, ns)
    for query in queries:
        out += query_triples(query, ns)
    return out
