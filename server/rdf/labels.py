"""Human-readable names for IRIs, in English or Chinese, read from the store.

A label is the first of ``rdfs:label``, ``skos:prefLabel``, ``dcterms:title``, ``sh:name`` that
has a literal in the wanted language (``zh`` also matches ``zh-Hans`` etc.), then in English,
then without a language tag, then in any language; an IRI without one gets a short name (a CURIE
for well-known namespaces, else its local name). Every page and the crawler test rely on this.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import unquote

from pyoxigraph import Literal, NamedNode, Store

from server.rdf.namespaces import Namespaces
from server.rdf.vocab import DCTERMS, OBO, PREFIXES, RDFS, SH, SKOS

LABEL_PROPERTIES = (RDFS + "label", SKOS + "prefLabel", DCTERMS + "title", SH + "name")
DEFINITION_PROPERTIES = (SKOS + "definition", RDFS + "comment", DCTERMS + "description")



def prefixes(ns: Namespaces) -> dict[str, str]:
    """Prefixes for Turtle and RDF/XML output: k2d3's own, then well-known ones."""
    return {"k2d3": ns.vocab, "k2di": ns.resource, "k2dq": ns.queries,
            "k2dg": ns.base + "graph/", "obo": OBO, **PREFIXES}


def lang_matches(tag: str, lang: str) -> bool:
    """``zh-Hans`` matches ``zh``; ``en-GB`` matches ``en`` (RFC 4647 basic filtering)."""
    tag = tag.lower()
    return tag == lang or tag.startswith(lang + "-")


def pick_literal(literals: Iterable[Literal], lang: str) -> Literal | None:
    """The literal best suited to ``lang``: that language, English, untagged, then any."""
    ranked: dict[int, Literal] = {}
    for lit in literals:
        tag = lit.language or ""
        rank = 0 if tag and lang_matches(tag, lang) else 1 if tag and lang_matches(
            tag, "en") else 2 if not tag else 3
        if rank not in ranked or lit.value < ranked[rank].value:
            ranked[rank] = lit
    return ranked[min(ranked)] if ranked else None


def short_name(iri: str, prefixes: dict[str, str] | None = None) -> str:
    """A CURIE for a well-known namespace (``obo:CHEBI_1`` -> ``CHEBI:1``), else the local name."""
    if iri.startswith(OBO) and "_" in iri[len(OBO):]:
        return iri[len(OBO):].replace("_", ":", 1)
    for prefix, ns in (prefixes or PREFIXES).items():
        if iri.startswith(ns) and len(iri) > len(ns):
            return f"{prefix}:{iri[len(ns):]}"
    local = iri.rstrip("/#").rsplit("#", 1)[-1].rsplit("/", 1)[-1]
    return unquote(local) or iri


def literals(store: Store, iri: str, properties: Iterable[str]) -> list[Literal]:
    """All literal values of ``iri`` for the first of ``properties`` that has any (any graph)."""
    subject = NamedNode(iri)
    for prop in properties:
        found = [q.object for q in store.quads_for_pattern(subject, NamedNode(prop), None, None)
                 if isinstance(q.object, Literal)]
        if found:
            return found
    return []


def label(store: Store, iri: str, lang: str) -> str:
    """The label of one IRI in ``lang`` (see the module docstring for the fallbacks)."""
    best = pick_literal(literals(store, iri, LABEL_PROPERTIES), lang)
    return best.value if best is not None else short_name(iri)


def labels(store: Store, iris: Iterable[str], lang: str) -> dict[str, str]:
    """Labels for many IRIs at once: ``{iri: label}`` (every IRI gets one)."""
    return {iri: label(store, iri, lang) for iri in dict.fromkeys(iris)}


def has_label(store: Store, iri: str) -> bool:
    """True when the graph gives ``iri`` a label of its own (not a fallback short name)."""
    return bool(literals(store, iri, LABEL_PROPERTIES))


def definition(store: Store, iri: str, lang: str) -> str | None:
    """``skos:definition``, else ``rdfs:comment``, else ``dcterms:description``, in ``lang``."""
    best = pick_literal(literals(store, iri, DEFINITION_PROPERTIES), lang)
    return best.value if best is not None else None
