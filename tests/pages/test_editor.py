"""server/pages/editor.py: what the query editor page gets from the store.

Expected values come from the sources (queries/*.rq through ``server.catalogue.canned``, the
ontology through rdflib), not from the editor's own code. The page itself is tested in Chromium in
tests/live/test_yasgui_browser.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import rdflib
from rdflib.namespace import OWL, RDF, RDFS

from server.build.sources import ontology_file
from server.catalogue import canned
from server.config import Settings, load_settings
from server.pages import editor, i18n
from server.rdf import labels
from server.rdf.store import StoreReader


@pytest.fixture(scope="module")
def store(built_store: Path) -> Any:
    return StoreReader(built_store).get()


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Settings]:
    """The endpoint tests' small store: two canned queries with English titles only."""
    from endpoint_fixtures import fresh_store

    root = fresh_store(tmp_path_factory.mktemp("editor"))
    return StoreReader(root).get(), load_settings(env={}, store=root)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_examples_are_the_canned_queries_in_catalogue_order(store, settings: Settings,  # type: ignore[no-untyped-def]
                                                            lang: str) -> None:
    found = editor.examples(store, settings, lang)
    catalogue = {q.name: q for q in canned.catalogue()}
    assert [ex["name"] for ex in found if ex["name"] not in catalogue] == []
    assert sorted(ex["name"] for ex in found) == sorted(catalogue)
    for ex in found:
        query = catalogue[ex["name"]]
        assert ex["title"] == query.title(lang)
        assert ex["description"] == query.description(lang)
        assert ex["query"].strip() == query.text.strip()
        assert all(k.casefold() in ex["search"] for k in query.keywords)
        assert query.titles["en"].casefold() in ex["search"]
    orders = [catalogue[ex["name"]].order for ex in found]
    assert orders == sorted(orders)


def test_examples_fall_back_to_english_and_need_no_position(small) -> None:  # type: ignore[no-untyped-def]
    store, settings = small
    found = editor.examples(store, settings, "zh")
    assert [ex["title"] for ex in found] == ["Count the types", "Is there a document?"]
    assert [ex["name"] for ex in found] == ["count-types", "any-document"]


def test_prefixes_are_the_one_table(store, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    table = editor.prefixes(store, settings)
    assert labels.prefixes(settings.ns).items() <= table.items()
    assert table["schema"] == "https://schema.org/"  # as the graph and the catalogue write it


def test_the_starting_query_declares_the_vocabularies_the_graph_uses(store, settings: Settings  # type: ignore[no-untyped-def]
                                                                     ) -> None:
    table = editor.prefixes(store, settings)
    declared = editor.used_prefixes(store, settings, table)
    assert {"k2d3", "k2di", "rdf", "rdfs", "owl", "skos", "dcterms", "prov", "oa", "sh",
            "schema", "void"} <= set(declared)
    # Vocabularies named only in objects (alignments to MeSH, UniProt) are not predeclared.
    assert not {"mesh", "uniprot", "k2dq"} & set(declared)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_terms_are_the_ontologys_classes_and_properties(store, settings: Settings,  # type: ignore[no-untyped-def]
                                                        lang: str) -> None:
    graph = rdflib.Graph().parse(ontology_file())
    kinds = {"class": (OWL.Class, RDFS.Class),
             "property": (OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty,
                          RDF.Property)}
    expected = {(str(s), kind) for kind, types in kinds.items() for t in types
                for s in graph.subjects(RDF.type, t) if isinstance(s, rdflib.URIRef)}
    found = editor.terms(store, settings, lang)
    assert {(t["iri"], t["kind"]) for t in found} == expected
    claim = next(t for t in found if t["iri"] == settings.ns.vocab + "Claim")
    assert claim["label"] == next(str(v) for v in graph.objects(
        rdflib.URIRef(claim["iri"]), RDFS.label) if v.language == lang)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_page_configuration_is_json_with_every_script_string(store, settings: Settings,  # type: ignore[no-untyped-def]
                                                                lang: str) -> None:
    context = editor.context(store, settings, "http://127.0.0.1:1/sparql", lang, "/k2d3")
    config = json.loads(json.dumps(context["config"]))
    wanted = {k[len("editor.js."):] for k in i18n.MESSAGES["en"] if k.startswith("editor.js.")}
    assert set(config["messages"]) == wanted
    assert config["messages"]["term_suggest"] == i18n.MESSAGES[lang]["editor.js.term_suggest"]
    assert config["root"] == "/k2d3" and config["base"] == settings.ns.base
    assert config["lang"] == lang
    assert [ex["title"] for ex in config["examples"]] == [ex["title"] for ex in
                                                         context["examples"]]


def test_the_editor_page_is_in_the_page_language(client) -> None:  # type: ignore[no-untyped-def]
    for lang in ("en", "zh"):
        page = client.get(f"/sparql?lang={lang}", headers={"Accept": "text/html"})
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        assert f"<h1>{i18n.MESSAGES[lang]['editor.title']}</h1>" in text
        assert "Accept-Language" in page.headers["Vary"]
        for query in canned.catalogue():
            assert f">{query.title(lang)}</button>" in text.replace("&#39;", "'")
        assert "#param-" not in text  # no helper query that lists a parameter's values
