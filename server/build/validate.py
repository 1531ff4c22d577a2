"""Validation of k2d3's sources: SHACL, quotations, external identifiers and check queries.

Every check is a pure function over rdflib graphs (plus the article text or the identifiers
table), so the tests can run each one on the real data and on a deliberately broken copy.
``validate_all`` runs them all for ``k2d3 validate``. OWL consistency and classification with
HermiT live in ``server.build.reason``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph
import pyshacl
from rdflib import Dataset, Graph, URIRef
from rdflib.namespace import RDF, SH

from server import paths
from server.build.identifiers import K2D3, identifier_errors
from server.rdf import coverage
from server.rdf.vocab import OA


@dataclass(frozen=True)
class Violation:
    """One SHACL validation result."""

    focus: str
    path: str | None
    component: str
    message: str
    severity: str
    value: str | None = None

    @property
    def component_name(self) -> str:
        """The constraint component's local name, e.g. ``MinCountConstraintComponent``."""
        return self.component.rsplit("#", 1)[-1]

    def __str__(self) -> str:
        return f"{self.component_name} at {self.focus} {self.path or '-'}: {self.message}"


@dataclass
class Report:
    """Everything ``validate_all`` found; ``ok`` when nothing."""

    shacl: list[Violation] = field(default_factory=list)
    quotations: list[str] = field(default_factory=list)
    coverage: list[str] = field(default_factory=list)
    identifiers: list[str] = field(default_factory=list)
    checks: dict[str, list[tuple]] = field(default_factory=dict)
    catalogue: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.shacl or self.quotations or self.coverage or self.identifiers
                    or self.checks or self.catalogue)

    def lines(self) -> list[str]:
        """Human-readable lines, one per problem."""
        out = [f"SHACL: {v}" for v in self.shacl]
        out += [f"quotation: {e}" for e in self.quotations]
        out += [f"coverage: {e}" for e in self.coverage]
        out += [f"identifier: {e}" for e in self.identifiers]
        for name, rows in self.checks.items():
            out += [f"check {name}: {' '.join(map(str, row))}" for row in rows]
        out += [f"canned-query catalogue: {e}" for e in self.catalogue]
        return out


# --- loading -------------------------------------------------------------------------------


def load_turtle(files: Iterable[Path]) -> Graph:
    """Parse Turtle files into one graph."""
    graph = Graph()
    for path in files:
        graph.parse(path, format="turtle")
    return graph


def load_ontology() -> Graph:
    return load_turtle([paths.ontology_dir() / "k2d3.ttl"])


def load_shapes() -> Graph:
    return load_turtle([paths.ontology_dir() / "shapes.ttl"])


def load_graph_data(directory: Path | None = None) -> Graph:
    """All ``*.ttl`` files of ``graph_data/`` (not its subfolders) in one graph."""
    directory = directory or paths.graph_data_dir()
    return load_turtle(sorted(directory.glob("*.ttl")))


def read_article(path: Path | None = None) -> str:
    """The source article's text, NFC-normalised."""
    text = (path or paths.source_article()).read_text(encoding="utf-8")
    return unicodedata.normalize("NFC", text)


def _as_graph(data: Dataset | Graph) -> Graph:
    """A plain graph holding every triple of ``data`` (a Dataset's graphs merged)."""
    if isinstance(data, Dataset):
        merged = Graph()
        for s, p, o, _ in data.quads((None, None, None, None)):
            merged.add((s, p, o))
        return merged
    return data


# --- SHACL ---------------------------------------------------------------------------------


def shacl_violations(
    data_graph: Graph, shapes_graph: Graph, ontology_graph: Graph
) -> list[Violation]:
    """Validate ``data_graph`` against the shapes, with the ontology mixed in for class targets.

    Uses pyshacl without inference: the ontology supplies ``rdfs:subClassOf`` for
    ``sh:targetClass`` and ``sh:class``; nothing is entailed beyond that.
    """
    _, results, _ = pyshacl.validate(
        data_graph,
        shacl_graph=shapes_graph,
        ont_graph=ontology_graph,
        inference="none",
        advanced=True,
        allow_warnings=False,
    )
    out = []
    for result in results.subjects(RDF.type, SH.ValidationResult):
        path = results.value(result, SH.resultPath)
        value = results.value(result, SH.value)
        out.append(Violation(
            focus=str(results.value(result, SH.focusNode)),
            path=str(path) if isinstance(path, URIRef) else None,
            component=str(results.value(result, SH.sourceConstraintComponent)),
            message=str(results.value(result, SH.resultMessage) or ""),
            severity=str(results.value(result, SH.resultSeverity)).rsplit("#", 1)[-1],
            value=None if value is None else str(value),
        ))
    return sorted(out, key=lambda v: (v.focus, v.path or "", v.component))


# --- quotations ----------------------------------------------------------------------------


def quotation_errors(graph: Graph, article_text: str) -> list[str]:
    """Check every ``oa:TextQuoteSelector`` against the article.

    ``oa:exact`` must be a verbatim substring of the NFC-normalised article; when it occurs more
    than once, ``oa:prefix`` and/or ``oa:suffix`` must be present, match the text around an
    occurrence and leave exactly one. Every annotation must reach a selector through
    ``oa:hasTarget``/``oa:hasSelector``. Returns one message per problem.
    """
    text = unicodedata.normalize("NFC", article_text)
    exact_p, prefix_p, suffix_p = (URIRef(OA + n) for n in ("exact", "prefix", "suffix"))
    errors = []
    for sel in sorted(set(graph.subjects(RDF.type, URIRef(OA + "TextQuoteSelector"))), key=str):
        exacts = list(graph.objects(sel, exact_p))
        if len(exacts) != 1:
            errors.append(f"{sel}: has {len(exacts)} oa:exact values, needs 1")
            continue
        exact = str(exacts[0])
        if unicodedata.normalize("NFC", exact) != exact:
            errors.append(f"{sel}: oa:exact is not in Unicode NFC")
        if not coverage.locate(text, unicodedata.normalize("NFC", exact)):
            errors.append(f"{sel}: oa:exact not found in the article: {exact[:40]!r}")
            continue
        prefix = graph.value(sel, prefix_p)
        suffix = graph.value(sel, suffix_p)
        matching = coverage.locate(text, exact, None if prefix is None else str(prefix),
                                   None if suffix is None else str(suffix))
        if not matching:
            errors.append(f"{sel}: oa:prefix/oa:suffix match no occurrence of oa:exact")
        elif len(matching) > 1:
            errors.append(f"{sel}: oa:exact occurs {len(matching)} times; "
                          "add oa:prefix/oa:suffix to pick one")
    target_p, selector_p = URIRef(OA + "hasTarget"), URIRef(OA + "hasSelector")
    for ann in sorted(set(graph.subjects(RDF.type, URIRef(OA + "Annotation"))), key=str):
        selectors = [s for t in graph.objects(ann, target_p) for s in graph.objects(t, selector_p)]
        if not any((s, exact_p, None) in graph for s in selectors):
            errors.append(f"{ann}: no oa:hasTarget/oa:hasSelector/oa:exact chain")
    errors += wording_errors(graph, text)
    return errors


def wording_errors(graph: Graph, article_text: str) -> list[str]:
    """Every ``k2d3:authorWording`` must be the article's words, verbatim (like a quotation)."""
    wording = URIRef(K2D3 + "authorWording")
    return [f"{line}: k2d3:authorWording not found in the article: {str(words)[:40]!r}"
            for line, words in sorted(graph.subject_objects(wording), key=str)
            if unicodedata.normalize("NFC", str(words)) not in article_text]


# --- check queries -------------------------------------------------------------------------


def check_queries(directory: Path | None = None) -> dict[str, str]:
    """The check queries by name (file stem), read from ``queries/checks/``."""
    directory = directory or paths.checks_dir()
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(directory.glob("*.rq"))}


def to_store(graph: Graph) -> pyoxigraph.Store:
    """An in-memory Oxigraph store holding ``graph`` (the engine the server queries with)."""
    store = pyoxigraph.Store()
    data = graph.serialize(format="nt", encoding="utf-8")
    store.load(data, format=pyoxigraph.RdfFormat.N_TRIPLES)
    return store


def run_checks(graph: Graph, directory: Path | None = None) -> dict[str, list[tuple]]:
    """Run every check query on ``graph`` (ontology + graph data) with Oxigraph; rows per check.

    Each row is a tuple of the bound values as N-Triples terms (``None`` when unbound).
    """
    store = to_store(graph)
    out: dict[str, list[tuple]] = {}
    for name, text in check_queries(directory).items():
        solutions = store.query(text)
        out[name] = [
            tuple(None if term is None else str(term) for term in solution)
            for solution in solutions  # type: ignore[union-attr]
        ]
    return out


def check_query_failures(graph: Graph, directory: Path | None = None) -> dict[str, list[tuple]]:
    """The check queries that return rows on ``graph``, with their rows (empty dict: all pass)."""
    return {name: rows for name, rows in run_checks(graph, directory).items() if rows}


# --- everything ----------------------------------------------------------------------------


def validate_all(
    data: Dataset | Graph | None = None,
    ontology: Graph | None = None,
    shapes: Graph | None = None,
    article_text: str | None = None,
    identifiers_tsv: Path | None = None,
) -> Report:
    """Run every validation on the graph data (default: the shipped sources)."""
    data_graph = load_graph_data() if data is None else _as_graph(data)
    ontology = load_ontology() if ontology is None else ontology
    shapes = load_shapes() if shapes is None else shapes
    article_text = read_article() if article_text is None else article_text
    identifiers_tsv = identifiers_tsv or paths.identifiers_table()
    union = data_graph + ontology
    return Report(
        shacl=shacl_violations(data_graph, shapes, ontology),
        quotations=quotation_errors(data_graph, article_text),
        coverage=coverage.coverage_errors(data_graph, article_text),
        identifiers=identifier_errors(union, identifiers_tsv),
        checks=check_query_failures(union),
        catalogue=catalogue_errors(),
    )


def catalogue_errors() -> list[str]:
    """The canned-query catalogue (as the build stores it) against ``catalogue-shapes.ttl``."""
    from server.catalogue import canned
    from server.catalogue.rdf import triples as catalogue_triples

    text = pyoxigraph.serialize(catalogue_triples(canned.catalogue()),
                                format=pyoxigraph.RdfFormat.N_TRIPLES)
    catalogue = Graph().parse(data=(text or b"").decode(), format="nt")
    shapes = load_turtle([paths.queries_dir() / "catalogue-shapes.ttl"])
    return [str(v) for v in shacl_violations(catalogue, shapes, Graph())]
