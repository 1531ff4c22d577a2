"""server/rdf/labels.py: labels in the wanted language, with fallbacks; checked against the
sources."""

from __future__ import annotations

from pathlib import Path

import pytest
import rdflib
from pyoxigraph import Literal, Store
from rdflib.namespace import OWL, RDF, RDFS

from server.build.sources import ontology_file
from server.rdf import labels, store


def test_pick_literal_prefers_language_then_english_then_untagged() -> None:
    zh, en, plain, fr = (Literal("维生素", language="zh-Hans"), Literal("vitamin", language="en"),
                         Literal("vit"), Literal("vitamine", language="fr"))
    assert labels.pick_literal([fr, plain, en, zh], "zh") == zh
    assert labels.pick_literal([fr, plain, en], "zh") == en
    assert labels.pick_literal([fr, plain], "zh") == plain
    assert labels.pick_literal([fr], "zh") == fr
    assert labels.pick_literal([], "zh") is None


@pytest.mark.parametrize(("iri", "expected"), [
    ("http://purl.obolibrary.org/obo/CHEBI_28940", "CHEBI:28940"),
    ("http://www.w3.org/2004/02/skos/core#exactMatch", "skos:exactMatch"),
    ("https://example.org/a/b%20c", "b c"),
    ("https://example.org/things#thing", "thing"),
])
def test_short_name(iri: str, expected: str) -> None:
    assert labels.short_name(iri) == expected


@pytest.fixture(scope="module")
def oxstore(built_store: Path) -> Store:
    return Store.read_only(str(store.live_dir(built_store)))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_ontology_terms_get_their_label_in_each_language(oxstore: Store, lang: str) -> None:
    """Expected labels read with rdflib from ontology/k2d3.ttl, not from the store."""
    graph = rdflib.Graph().parse(ontology_file())
    terms = {s for t in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty)
             for s in graph.subjects(RDF.type, t) if isinstance(s, rdflib.URIRef)}
    expected = {}
    for term in terms:
        by_lang = {lit.language: str(lit) for lit in graph.objects(term, RDFS.label)}
        if lang in by_lang:
            expected[str(term)] = by_lang[lang]
    assert expected, "the ontology has labels"
    assert labels.labels(oxstore, expected, lang) == expected


def test_unlabelled_iri_falls_back_to_its_local_name(oxstore: Store) -> None:
    iri = "https://w3id.org/k2d3/id/no-such-thing-here"
    assert labels.labels(oxstore, [iri], "zh") == {iri: "no-such-thing-here"}
    assert not labels.has_label(oxstore, iri)
