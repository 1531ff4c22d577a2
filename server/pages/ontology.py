"""The ontology's documentation (pyLODE/Widoco-style), computed from the ontology graph.

The page opens with the namespaces the ontology uses (prefix, IRI) and its metadata (the
licence named, not only linked). Every class and property declared in the ontology graph gets a
section whose anchor is its fragment (``ontology#Claim`` -> ``#Claim``; external terms the
ontology declares get ``#x-...``): labels in English and Chinese, the definition in the page's
language (else the English one, marked as English), super/sub terms, equivalent classes and
restrictions written in Manchester-like syntax, domain and range, "in domain of"/"in range of",
instances (from the whole store) and alignments to external vocabularies. The class tree places
defined classes under their parents (see ``class_tree``).
"""

from __future__ import annotations

import re
from typing import Any

from pyoxigraph import BlankNode, Literal, NamedNode, Store

from server.pages import class_tree, i18n
from server.pages.resource import MATCH_PROPERTIES, Terms
from server.rdf import labels
from server.rdf.namespaces import Namespaces
from server.rdf.vocab import OWL, RDF

RDFS = labels.RDFS
DCTERMS = labels.DCTERMS
CLASS_TYPES = (OWL + "Class", RDFS + "Class")
PROPERTY_KINDS = {"object_properties": OWL + "ObjectProperty",
                  "datatype_properties": OWL + "DatatypeProperty",
                  "annotation_properties": OWL + "AnnotationProperty",
                  "other_properties": RDF + "Property"}
CHARACTERISTICS = ("FunctionalProperty", "InverseFunctionalProperty", "TransitiveProperty",
                   "SymmetricProperty", "AsymmetricProperty", "ReflexiveProperty",
                   "IrreflexiveProperty")
RESTRICTION_WORDS = {"someValuesFrom": "some", "allValuesFrom": "only", "hasValue": "value",
                     "minCardinality": "min", "maxCardinality": "max", "cardinality": "exactly",
                     "minQualifiedCardinality": "min", "maxQualifiedCardinality": "max",
                     "qualifiedCardinality": "exactly", "hasSelf": "Self"}
MAX_INSTANCES = 100
_CC_LICENCE = re.compile(r"^https?://creativecommons\.org/(licenses|publicdomain)/([a-z-]+)/"
                         r"([0-9.]+)/?$")


def licence_name(iri: str) -> str | None:
    """The short name of a Creative Commons licence IRI (``CC BY 4.0``, ``CC0 1.0``), else None."""
    match = _CC_LICENCE.match(iri)
    if not match:
        return None
    kind, code, version = match.groups()
    if kind == "publicdomain":
        return f"CC0 {version}" if code == "zero" else f"Public Domain Mark {version}"
    return f"CC {code.upper()} {version}"


def anchor(iri: str, ns: Namespaces) -> str:
    """The id of a term's section: its fragment for k2d3 terms, ``x-<curie>`` for others."""
    if iri.startswith(ns.vocab):
        return iri[len(ns.vocab):]
    return "x-" + re.sub(r"[^A-Za-z0-9_-]+", "-", labels.short_name(iri)).strip("-")


def _join(parts: list[list[dict[str, Any]]], separator: str) -> list[dict[str, Any]]:
    return [tok for i, part in enumerate(parts)
            for tok in ([{"text": separator}] if i else []) + part]


class OntologyTerms(Terms):
    """Terms whose documented IRIs link to their section of this page."""

    def __init__(self, store: Store, ns: Namespaces, lang: str, documented: set[str]) -> None:
        super().__init__(store, ns, lang)
        self.documented = documented

    def iri(self, iri: str) -> dict[str, Any]:
        view = super().iri(iri)
        if iri in self.documented:
            view["href"], view["external"] = "#" + anchor(iri, self.ns), False
        return view


class Doc:
    """Reads the ontology graph and renders each term's section."""

    def __init__(self, store: Store, ns: Namespaces, lang: str) -> None:
        self.store, self.ns, self.lang = store, ns, lang
        self.graph = NamedNode(ns.graph("ontology"))
        self.classes = self._typed(CLASS_TYPES)
        self.properties = {kind: self._typed((t,)) for kind, t in PROPERTY_KINDS.items()}
        documented = set(self.classes).union(*self.properties.values())
        self.terms = OntologyTerms(store, ns, lang, documented)

    def _typed(self, types: tuple[str, ...]) -> list[str]:
        found = {q.subject.value for t in types for q in self.store.quads_for_pattern(
            None, NamedNode(RDF + "type"), NamedNode(t), self.graph)
            if isinstance(q.subject, NamedNode)}
        return sorted(found)

    def objects(self, subject: NamedNode | BlankNode, prop: str) -> list[Any]:
        return [q.object for q in self.store.quads_for_pattern(subject, NamedNode(prop), None,
                                                               self.graph)]

    def subjects(self, prop: str, obj: str) -> list[str]:
        return sorted({q.subject.value for q in self.store.quads_for_pattern(
            None, NamedNode(prop), NamedNode(obj), self.graph)
            if isinstance(q.subject, NamedNode)})

    def rdf_list(self, head: Any) -> list[Any]:
        items: list[Any] = []
        while isinstance(head, BlankNode) and len(items) < 1000:
            items += self.objects(head, RDF + "first")
            rest = self.objects(head, RDF + "rest")
            head = rest[0] if rest else None
        return items

    def expr(self, node: Any, nested: bool = False) -> list[dict[str, Any]]:
        """A class expression as tokens: ``{"text": ...}`` or ``{"term": <term view>}``."""
        if isinstance(node, NamedNode):
            return [{"term": self.terms.iri(node.value)}]
        if isinstance(node, Literal):
            return [{"text": node.value}]
        for word, prop in (("and", "intersectionOf"), ("or", "unionOf")):
            for head in self.objects(node, OWL + prop):
                joined = _join([self.expr(item, True) for item in self.rdf_list(head)],
                               f" {word} ")
                return [{"text": "("}, *joined, {"text": ")"}] if nested else joined
        for head in self.objects(node, OWL + "oneOf"):
            joined = _join([self.expr(item, True) for item in self.rdf_list(head)], ", ")
            return [{"text": "{"}, *joined, {"text": "}"}]
        for inner in self.objects(node, OWL + "complementOf"):
            return [{"text": "not "}, *self.expr(inner, True)]
        return self._restriction(node, nested)

    def _restriction(self, node: Any, nested: bool) -> list[dict[str, Any]]:
        on = self.objects(node, OWL + "onProperty")
        for local, word in RESTRICTION_WORDS.items():
            for value in self.objects(node, OWL + local):
                filler = self.objects(node, OWL + "onClass")
                tokens = [*(self.expr(on[0]) if on else []), {"text": f" {word} "}]
                tokens += self.expr(value, True) if not isinstance(value, Literal) or local in (
                    "hasValue",) else [{"text": value.value}]
                tokens += [{"text": " "}, *self.expr(filler[0], True)] if filler else []
                return [{"text": "("}, *tokens, {"text": ")"}] if nested else tokens
        return [{"text": "[…]"}]

    def labels_by_lang(self, iri: str) -> dict[str, str]:
        lits = labels.literals(self.store, iri, labels.LABEL_PROPERTIES)
        out = {}
        for lang in i18n.LANGS:
            best = labels.pick_literal([lit for lit in lits if lit.language and
                                        labels.lang_matches(lit.language, lang)], lang)
            if best is not None:
                out[lang] = best.value
        return out

    def alignments(self, iri: str) -> list[dict[str, Any]]:
        node = NamedNode(iri)
        props = (*MATCH_PROPERTIES, RDFS + "subClassOf", RDFS + "subPropertyOf")
        return [{"property": self.terms.iri(p), "value": self.terms.iri(o.value)}
                for p in props for o in self.objects(node, p)
                if isinstance(o, NamedNode) and not o.value.startswith(self.ns.base)]

    def _common(self, iri: str) -> dict[str, Any]:
        node = NamedNode(iri)
        return {"iri": iri, "anchor": anchor(iri, self.ns),
                "curie": labels.short_name(iri, labels.prefixes(self.ns)),
                "label": self.terms.label(iri), "labels": self.labels_by_lang(iri),
                "definition": self.definition(iri),
                "external": not iri.startswith(self.ns.vocab),
                "alignments": self.alignments(iri),
                "disjoint": [self.expr(o) for o in self.objects(node, OWL + "disjointWith")]}

    def class_section(self, iri: str) -> dict[str, Any]:
        node = NamedNode(iri)
        supers = self.objects(node, RDFS + "subClassOf")
        instances = sorted({q.subject.value for q in self.store.quads_for_pattern(
            None, NamedNode(RDF + "type"), node, None) if isinstance(q.subject, NamedNode)})
        return self._common(iri) | {
            "superclasses": [self.expr(o) for o in supers if isinstance(o, NamedNode)],
            "restrictions": [self.expr(o) for o in supers if isinstance(o, BlankNode)],
            "equivalent": [self.expr(o) for o in self.objects(node, OWL + "equivalentClass")],
            "subclasses": [self.terms.iri(s) for s in self.subjects(RDFS + "subClassOf", iri)],
            "in_domain_of": [self.terms.iri(s) for s in self.subjects(RDFS + "domain", iri)],
            "in_range_of": [self.terms.iri(s) for s in self.subjects(RDFS + "range", iri)],
            "instances": [self.terms.iri(i) for i in instances[:MAX_INSTANCES]],
            "instance_count": len(instances),
        }

    def property_section(self, iri: str) -> dict[str, Any]:
        node = NamedNode(iri)
        types = {o.value for o in self.objects(node, RDF + "type") if isinstance(o, NamedNode)}
        inverse = self.objects(node, OWL + "inverseOf") + [
            NamedNode(s) for s in self.subjects(OWL + "inverseOf", iri)]
        return self._common(iri) | {
            "characteristics": [c for c in CHARACTERISTICS if OWL + c in types],
            "domain": [self.expr(o) for o in self.objects(node, RDFS + "domain")],
            "range": [self.expr(o) for o in self.objects(node, RDFS + "range")],
            "superproperties": [self.expr(o) for o in self.objects(node, RDFS + "subPropertyOf")],
            "subproperties": [self.terms.iri(s) for s in self.subjects(RDFS + "subPropertyOf",
                                                                         iri)],
            "inverse": [self.expr(o) for o in inverse],
        }

    def parents(self) -> dict[str, set[str]]:
        """Named superclasses of each class: asserted, from the named members of an
        ``owl:equivalentClass`` intersection (a defined class), and inferred by the reasoner."""
        known, sub = set(self.classes), NamedNode(RDFS + "subClassOf")
        graphs = (self.graph, NamedNode(self.ns.graph("inferred")))
        found: dict[str, set[str]] = {}
        for iri in self.classes:
            node, ps = NamedNode(iri), set()
            for graph in graphs:
                ps |= {q.object.value for q in self.store.quads_for_pattern(node, sub, None, graph)
                       if isinstance(q.object, NamedNode)}
            for expression in self.objects(node, OWL + "equivalentClass"):
                if isinstance(expression, BlankNode):
                    for head in self.objects(expression, OWL + "intersectionOf"):
                        ps |= {m.value for m in self.rdf_list(head) if isinstance(m, NamedNode)}
            found[iri] = ps & known
        return found

    def defined(self) -> set[str]:
        """The defined classes: those equivalent to a class expression."""
        return {c for c in self.classes if any(isinstance(o, BlankNode) for o in self.objects(
            NamedNode(c), OWL + "equivalentClass"))}

    def hierarchy(self) -> list[dict[str, Any]]:
        """The named-class tree; each node shows its label, CURIE and whether it is defined."""
        defined, table = self.defined(), labels.prefixes(self.ns)

        def view(iri: str) -> dict[str, Any]:
            return self.terms.iri(iri) | {"curie": labels.short_name(iri, table),
                                          "defined": iri in defined}

        return class_tree.forest(self.classes, class_tree.direct_parents(self.parents()), view,
                                 lambda n: n["term"]["label"].lower())

    def namespaces(self) -> list[dict[str, str]]:
        """The prefixes (from the one table, ``labels.prefixes``) of the namespaces whose IRIs
        the ontology graph uses: k2d3's own first, then the others by prefix."""
        iris = {t.value for q in self.store.quads_for_pattern(None, None, None, self.graph)
                for t in (q.subject, q.predicate, q.object) if isinstance(t, NamedNode)}
        used = [(prefix, ns) for prefix, ns in labels.prefixes(self.ns).items()
                if any(i.startswith(ns) and len(i) > len(ns) for i in iris)]
        used.sort(key=lambda pair: (not pair[1].startswith(self.ns.base), pair[0]))
        return [{"prefix": prefix, "iri": ns} for prefix, ns in used]

    def definition(self, iri: str) -> dict[str, Any] | None:
        """The definition in the page's language, else the English one; ``lang`` is the
        literal's tag and ``fallback`` says it is not in the page's language."""
        best = labels.pick_literal(labels.literals(self.store, iri, labels.DEFINITION_PROPERTIES),
                                   self.lang)
        if best is None:
            return None
        tag = best.language or ""
        return {"text": best.value, "lang": tag,
                "fallback": bool(tag) and not labels.lang_matches(tag, self.lang)}

    def metadata(self) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """The ontology's own statements; a licence IRI without a label shows its name."""
        rows = []
        for q in self.store.quads_for_pattern(NamedNode(self.ns.ontology), None, None,
                                              self.graph):
            value = self.terms.term(q.object)
            if q.predicate.value == DCTERMS + "license" and isinstance(q.object, NamedNode) \
                    and not labels.has_label(self.store, q.object.value):
                value["label"] = licence_name(q.object.value) or value["label"]
            rows.append((self.terms.iri(q.predicate.value), value))
        return sorted(rows, key=lambda r: r[0]["label"].lower())


def build(store: Store, ns: Namespaces, lang: str) -> dict[str, Any]:
    """The page model of the ontology page."""
    doc = Doc(store, ns, lang)
    metadata = doc.metadata()
    by_label = lambda s: (s["external"], s["label"].lower())  # noqa: E731
    return {
        "iri": ns.ontology, "label": labels.label(store, ns.ontology, lang),
        "definition": doc.definition(ns.ontology),
        "namespaces": doc.namespaces(), "metadata": metadata,
        "licence": next((v for p, v in metadata if p["iri"] == DCTERMS + "license"), None),
        "classes": sorted((doc.class_section(c) for c in doc.classes), key=by_label),
        "properties": {kind: sorted((doc.property_section(p) for p in iris), key=by_label)
                       for kind, iris in doc.properties.items() if iris},
        "hierarchy": doc.hierarchy(),
    }
