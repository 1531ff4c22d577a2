"""The external-identifier check: every IRI from outside k2d3 must be in identifiers.tsv.

``graph_data/identifiers.tsv`` (a copy of ``shared/identifiers.tsv``) lists the identifiers
seen next to their labels in public files, each with a status: verified, nearest, probable or
unverified. Verified ones may be ``skos:exactMatch``; nearest and probable ones only close or
broad matches; unverified ones are never used.
"""

from __future__ import annotations

import csv
from pathlib import Path

from rdflib import Graph, URIRef
from rdflib.namespace import SKOS

from server.rdf import vocab

K2D3_BASE = "https://w3id.org/k2d3/"
K2D3 = K2D3_BASE + "ontology#"
SOURCE_ARTICLE_URL = "https://sciencebasedmedicine.org/should-you-take-vitamin-k-with-your-vitamin-d/"

#: Namespaces of standard vocabularies: their IRIs are not external identifiers.
STANDARD_NAMESPACES = (
    vocab.RDF, vocab.RDFS, vocab.OWL, vocab.XSD, vocab.SKOS, vocab.DCTERMS, vocab.DC,
    vocab.PROV, vocab.OA, vocab.SH, vocab.SCHEMA, "http://schema.org/", vocab.VOID, vocab.SD,
    vocab.DCAT, vocab.VANN, vocab.BIOLINK,
)

#: Single IRIs that are allowed although they are neither k2d3's nor a standard namespace's.
ALLOWED_IRIS = frozenset({
    "https://creativecommons.org/licenses/by/4.0/",
    SOURCE_ARTICLE_URL,
    "http://terminology.hl7.org/CodeSystem/certainty-rating",
})

#: Alignment terms that shared/MODELLING.md names for the ontology (SEPIO), outside the table.
ALIGNMENT_TERMS = frozenset(
    "http://purl.obolibrary.org/obo/SEPIO_" + n
    for n in ("0000000", "0000002", "0000007", "0000008", "0000009", "0000085", "0000132",
              "0000431")
)

_OBO_PREFIXES = {"CHEBI", "MONDO", "DOID", "NCIT", "HP", "OBI", "MAXO", "FOODON", "STATO", "SEPIO",
                 "ECO", "UBERON"}
_CURIE_BASES = {
    "MESH": "http://id.nlm.nih.gov/mesh/",
    "UNIPROT": "http://purl.uniprot.org/uniprot/",
    "DOI": "https://doi.org/",
    "PMID": "https://pubmed.ncbi.nlm.nih.gov/",
}


def curie_to_iri(curie: str) -> str:
    """``CHEBI:27300`` -> OBO PURL, ``MESH:D014807`` -> id.nlm.nih.gov, DOI/PMID -> resolvers."""
    prefix, _, local = curie.partition(":")
    if prefix in _OBO_PREFIXES:
        return f"http://purl.obolibrary.org/obo/{prefix}_{local}"
    if prefix in _CURIE_BASES:
        return _CURIE_BASES[prefix] + local
    raise ValueError(f"unknown identifier prefix in {curie!r}")


def read_identifiers(path: Path) -> dict[str, str]:
    """Map each identifier IRI in ``identifiers.tsv`` to its row's status."""
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if not ln.startswith("#")]
    statuses: dict[str, str] = {}
    for row in csv.DictReader(lines, delimiter="\t"):
        curies = [row["preferred"], *row["others"].split()] if row["preferred"] else []
        for curie in curies:
            statuses.setdefault(curie_to_iri(curie), row["status"])
    return statuses


def is_external(iri: str) -> bool:
    """True for an IRI that is neither k2d3's, nor a standard vocabulary's, nor allowed."""
    return not (
        iri.startswith(K2D3_BASE)
        or iri.startswith(STANDARD_NAMESPACES)
        or iri in ALLOWED_IRIS
        or iri in ALIGNMENT_TERMS
    )


def identifier_errors(graph: Graph, identifiers_tsv_path: Path) -> list[str]:
    """Every external IRI must be in identifiers.tsv and be used as its status allows.

    unverified identifiers are never used; nearest and probable ones never with
    ``skos:exactMatch``; a resource linked to a probable identifier says how it was identified
    (``k2d3:identificationBasis``).
    """
    statuses = read_identifiers(identifiers_tsv_path)
    errors = []
    iris = {t for triple in graph for t in triple if isinstance(t, URIRef)}
    for iri in sorted(str(i) for i in iris):
        if not is_external(iri):
            continue
        status = statuses.get(iri)
        if status is None:
            errors.append(f"{iri}: not in identifiers.tsv")
        elif status == "unverified":
            errors.append(f"{iri}: marked unverified in identifiers.tsv, must not be used")
    basis = URIRef(K2D3 + "identificationBasis")
    for s, o in graph.subject_objects(SKOS.exactMatch):
        status = statuses.get(str(o))
        if status in ("nearest", "probable", "unverified"):
            errors.append(f"{s} skos:exactMatch {o}: identifier is {status}, not verified")
    for s, _, o in graph:
        if statuses.get(str(o)) == "probable" and (s, basis, None) not in graph:
            errors.append(f"{s} links the probable identifier {o} without k2d3:identificationBasis")
    return errors
