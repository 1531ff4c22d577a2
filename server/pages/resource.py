"""What a resource page shows, computed from the store: a plain dict for ``resource.html``.

Outgoing and incoming statements are grouped by property (labelled, sorted by label); a group
longer than :data:`PAGE_SIZE` is cut, and the page links to the rest with
``?dir=out|in&prop=<property IRI>&page=N``. Blank-node values are shown nested (a restriction,
a selector) up to :data:`MAX_DEPTH`. IRIs under the base link to their local page; others link
out. Nothing here renders HTML: the template does, with autoescaping.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pyoxigraph import BlankNode, Literal, NamedNode, Quad, Store, Variable

from server.rdf import labels
from server.rdf.dereference import local_path
from server.rdf.labels import short_name
from server.rdf.namespaces import Namespaces
from server.rdf.vocab import OWL, PROV

PAGE_SIZE = 50
MAX_DEPTH = 3
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
SKOS = labels.SKOS
#: Properties whose IRI values outside the base are listed as "external matches".
MATCH_PROPERTIES = (SKOS + "exactMatch", SKOS + "closeMatch", SKOS + "broadMatch",
                    SKOS + "narrowMatch", SKOS + "relatedMatch", OWL + "sameAs",
                    OWL + "equivalentClass", OWL + "equivalentProperty",
                    labels.RDFS + "seeAlso", PROV + "wasDerivedFrom")
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"


class Terms:
    """Turns pyoxigraph terms into template values, labelling IRIs in one language."""

    def __init__(self, store: Store, ns: Namespaces, lang: str) -> None:
        self.store, self.ns, self.lang = store, ns, lang
        self._labels: dict[str, str] = {}

    def label(self, iri: str) -> str:
        if iri not in self._labels:
            self._labels[iri] = labels.label(self.store, iri, self.lang)
        return self._labels[iri]

    def iri(self, iri: str) -> dict[str, Any]:
        local = local_path(iri, self.ns)
        return {"kind": "iri", "iri": iri, "label": self.label(iri), "curie": short_name(iri),
                "href": local or iri, "external": local is None}

    def literal(self, lit: Literal) -> dict[str, Any]:
        datatype = lit.datatype.value if lit.datatype else XSD_STRING
        shown = None if datatype in (XSD_STRING, RDF_LANG_STRING) else short_name(datatype)
        return {"kind": "literal", "value": lit.value, "lang": lit.language, "datatype": shown}

    def term(self, term: Any, depth: int = 0) -> dict[str, Any]:
        if isinstance(term, NamedNode):
            return self.iri(term.value)
        if isinstance(term, Literal):
            return self.literal(term)
        if isinstance(term, BlankNode) and depth < MAX_DEPTH:
            rows = [(self.iri(q.predicate.value), self.term(q.object, depth + 1))
                    for q in self.store.quads_for_pattern(term, None, None, None)]
            return {"kind": "bnode", "rows": sorted(rows, key=lambda r: r[0]["label"])}
        return {"kind": "bnode", "rows": []}


def _group(terms: Terms, pairs: Iterable[tuple[str, Any]], wanted: tuple[str, str, int] | None,
           direction: str) -> list[dict[str, Any]]:
    """Group (property, value) pairs by property, cutting each group to one page."""
    grouped: dict[str, list[Any]] = {}
    for prop, value in pairs:
        grouped.setdefault(prop, []).append(value)
    out = []
    for prop, values in grouped.items():
        values = sorted(dict.fromkeys(values), key=_sort_key)
        page = wanted[2] if wanted and wanted[0] == direction and wanted[1] == prop else 1
        pages = max(1, -(-len(values) // PAGE_SIZE))
        page = min(max(page, 1), pages)
        shown = values[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
        out.append({"property": terms.iri(prop), "vals": [terms.term(v) for v in shown],
                    "total": len(values), "page": page, "pages": pages, "dir": direction})
    return sorted(out, key=lambda g: (g["property"]["label"].lower(), g["property"]["iri"]))


def _sort_key(term: Any) -> tuple[int, str]:
    if isinstance(term, NamedNode):
        return (0, term.value)
    if isinstance(term, Literal):
        return (1, (term.language or "") + term.value)
    return (2, str(term))


def _unique(quads: Iterable[Quad]) -> list[Quad]:
    seen: dict[Any, Quad] = {}
    for quad in quads:
        seen.setdefault(quad.triple, quad)
    return list(seen.values())


def build(store: Store, iri: str, ns: Namespaces, lang: str,
          wanted: tuple[str, str, int] | None = None) -> dict[str, Any]:
    """The page model for ``iri``; ``wanted`` = (dir, property IRI, page) for pagination."""
    terms = Terms(store, ns, lang)
    node = NamedNode(iri)
    out = _unique(store.quads_for_pattern(node, None, None, None))
    incoming = _unique(store.quads_for_pattern(None, None, node, None))
    types = sorted({q.object.value for q in out
                    if q.predicate.value == RDF_TYPE and isinstance(q.object, NamedNode)})
    matches = sorted({q.object.value for q in out if q.predicate.value in MATCH_PROPERTIES
                      and isinstance(q.object, NamedNode) and local_path(q.object.value, ns)
                      is None})
    graphs = sorted({q.graph_name.value for q in out + incoming
                     if isinstance(q.graph_name, NamedNode)})
    return {
        "iri": iri, "label": terms.label(iri), "curie": short_name(iri),
        "has_label": labels.has_label(store, iri),
        "types": [terms.iri(t) for t in types],
        "definition": labels.definition(store, iri, lang),
        "outgoing": _group(terms, ((q.predicate.value, q.object) for q in out), wanted, "out"),
        "incoming": _group(terms, ((q.predicate.value, q.subject) for q in incoming
                                   if not isinstance(q.subject, BlankNode)), wanted, "in"),
        "matches": [terms.iri(m) for m in matches],
        "graphs": [terms.iri(g) for g in graphs],
    }


EVIDENCE = """
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT DISTINCT ?e WHERE {
  { ?r ?p ?e } UNION { ?e ?p ?r }
  ?e a/rdfs:subClassOf* <http://purl.obolibrary.org/obo/SEPIO_0000002>
  FILTER(isIRI(?e))
} ORDER BY ?e"""


def evidence(store: Store, iri: str, terms: Terms) -> list[dict[str, Any]]:
    """The evidence lines linked to ``iri`` (anything typed as a SEPIO evidence line)."""
    query = EVIDENCE.replace("?r ", str(NamedNode(iri)) + " ")
    rows = store.query(query, use_default_graph_as_union=True)
    out = []
    for row in rows:  # type: ignore[union-attr]
        line = row["e"].value
        stmts = _unique(store.quads_for_pattern(NamedNode(line), None, None, None))
        facts = sorted(((terms.iri(q.predicate.value), terms.term(q.object)) for q in stmts
                        if q.predicate.value != RDF_TYPE), key=lambda r: r[0]["label"].lower())
        out.append({"term": terms.iri(line), "facts": facts})
    return out


def quotations(store: Store, iri: str, evidence_iris: set[str], terms: Terms,
               ) -> list[dict[str, Any]]:
    """The source passages that ``iri`` or its evidence lines cite, each in its paragraph."""
    from server.pages import source as source_page

    text = source_page.article()
    out = []
    for quote in source_page.quotations(store, text):
        if quote.node == iri or {iri, *evidence_iris} & set(quote.citers):
            out.append({"quote": quote, "paragraph": source_page.paragraph_of(text, quote),
                        "node": terms.iri(quote.node) if quote.node.startswith("http") else None})
    return out


K2D3_TERMS = "https://w3id.org/k2d3/ontology#"
CLAIM = """
PREFIX k2d3: <https://w3id.org/k2d3/ontology#>
SELECT ?claim ?verdict ?evaluator ?asserter ?hedge ?derivation ?gap WHERE {
  ?claim a k2d3:Claim .
  OPTIONAL { ?claim k2d3:verdict ?verdict }
  OPTIONAL { ?claim k2d3:evaluatedBy ?evaluator }
  OPTIONAL { ?claim k2d3:assertedBy ?asserter }
  OPTIONAL { ?claim k2d3:hedge ?hedge }
  OPTIONAL { ?claim k2d3:derivation ?derivation }
  OPTIONAL { ?claim k2d3:hasEvidenceGap ?gap }
}"""


def claim_status(store: Store, iri: str, terms: Terms) -> dict[str, Any] | None:
    """For a claim: its verdict, who evaluates it and who asserts it, its hedge and evidence
    gaps, for the top of its page, so that a title like "D3 + K2 reduces fractures" never reads
    as a finding. ``None`` for anything that is not a claim."""
    solutions = store.query(CLAIM, substitutions={Variable("claim"): NamedNode(iri)},
                            use_default_graph_as_union=True)
    rows = list(solutions)  # type: ignore[arg-type]
    if not rows:
        return None

    def values(name: str) -> list[dict[str, Any]]:
        found = sorted({row[name].value for row in rows if row[name] is not None})
        return [terms.iri(v) for v in found]

    evaluators, asserters = values("evaluator"), values("asserter")
    evaluator_iris = {e["iri"] for e in evaluators}
    derivations = {d["iri"] for d in values("derivation")}
    return {
        "verdict": next(iter(values("verdict")), None),
        "evaluators": evaluators,
        "asserters": asserters,
        "hedges": values("hedge"),
        "gaps": values("gap"),
        "affirmed": bool(evaluator_iris & {a["iri"] for a in asserters}),
        "inferred": any(d.endswith("derivation-curator-inference") for d in derivations),
    }
