"""``/search?q=``: find entities, claims and canned queries by their names, in both languages.

The store is searched over ``rdfs:label``, ``skos:altLabel`` and ``skos:hiddenLabel`` in every
language (so "抗凝药" finds vitamin K antagonists and "fracture" finds fractures), case-folded,
every word of the text in one label; the words are passed to the query as values
(``substitutions``, which pyoxigraph needs projected), never spliced into its text. Canned
queries are searched with the catalogue's own search (titles, descriptions, keywords). Results
are ranked: an exact label first, then labels that start with the text, then the rest, by label.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyoxigraph import Literal, Store

from server.catalogue import canned
from server.rdf import labels
from server.rdf.namespaces import Namespaces
from server.sparql.execute import Limits, run_query

#: The most matches a search returns, and the longest text it accepts.
MAX_RESULTS = 100
MAX_TEXT = 200

LABELS = """
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX oa: <http://www.w3.org/ns/oa#>
SELECT DISTINCT ?resource ?label ?kind ?text ?base ?vocab WHERE {
  VALUES ?p { rdfs:label skos:altLabel skos:hiddenLabel }
  ?resource ?p ?label .
  FILTER(isIRI(?resource) && STRSTARTS(STR(?resource), STR(?base)))
  FILTER(CONTAINS(LCASE(STR(?label)), LCASE(?text)))
  FILTER NOT EXISTS { ?resource a ?part
                      VALUES ?part { oa:SpecificResource oa:TextQuoteSelector } }
  OPTIONAL { ?resource a ?kind FILTER(STRSTARTS(STR(?kind), STR(?vocab))) }
}"""


@dataclass(frozen=True)
class Hit:
    iri: str
    label: str
    """The resource's label in the page's language."""
    matched: str
    """The label (of any language or kind) the text was found in."""
    kind: str | None


def entities(store: Store, ns: Namespaces, text: str, lang: str) -> list[Hit]:
    """Resources under the base whose labels contain ``text`` (every word, case-folded)."""
    words = [w for w in text.casefold().split() if w][:8]
    if not words:
        return []
    found: dict[str, tuple[str, str | None]] = {}
    for word in words:
        result = run_query(store, LABELS, Limits(timeout_s=5, max_rows=5000), substitutions={
            "text": Literal(word), "base": Literal(ns.base), "vocab": Literal(ns.vocab)})
        hits: dict[str, tuple[str, str | None]] = {}
        for row in result.rows:
            iri, label = row["resource"].value, row["label"].value
            kind = row["kind"].value if row.get("kind") is not None else None
            if iri not in hits or (kind and not hits[iri][1]):
                hits[iri] = (label, kind)
        found = hits if not found and word == words[0] else {
            iri: found[iri] for iri in found if iri in hits}
    names = labels.labels(store, sorted(found), lang)
    needle = text.casefold().strip()

    def rank(hit: Hit) -> tuple[int, str]:
        label = hit.matched.casefold()
        return (0 if label == needle else 1 if label.startswith(needle) else 2,
                hit.label.casefold())

    ranked = [Hit(iri, names.get(iri, iri), matched, kind)
              for iri, (matched, kind) in found.items()]
    return sorted(ranked, key=rank)[:MAX_RESULTS]


def queries(text: str, base: str) -> list[canned.CannedQuery]:
    """Canned queries whose name, titles, descriptions or keywords contain every word."""
    return canned.search(canned.catalogue(base=base), text)
