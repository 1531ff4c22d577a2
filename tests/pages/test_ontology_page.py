"""The ontology page (/ontology): namespaces, licence, class tree, definitions by language.

Expected content comes from the Turtle source (rdflib, and its own ``@prefix`` lines), never
from the page's code. The browser checks (phone width, both languages) are in
tests/live/test_ontology_browser.py.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import rdflib
from pyoxigraph import Literal, NamedNode, Quad
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS

from server import create_app
from server.build.sources import ontology_file
from server.config import load_settings
from server.pages.ontology import licence_name
from server.rdf import store
from server.rdf.namespaces import Namespaces

NS = Namespaces()
K2D3 = rdflib.Namespace(NS.vocab)
HTML = {"Accept": "text/html"}
ENGLISH_ONLY = 40


@pytest.fixture(scope="module")
def ontology() -> rdflib.Graph:
    return rdflib.Graph().parse(ontology_file())


def _page(client: Any, lang: str = "en") -> str:
    response = client.get(f"/ontology?lang={lang}", headers=HTML)
    assert response.status_code == 200
    return str(response.get_data(as_text=True))


def _section(page: str, ident: str) -> str:
    match = re.search(rf'<section [^>]*id="{re.escape(ident)}"', page)
    assert match, ident
    return page[match.start():page.index("</section>", match.start())]


class _Tree(HTMLParser):
    """The class tree's nested lists as (curie, defined, [children]) nodes."""

    def __init__(self) -> None:
        super().__init__()
        self.roots: list[dict[str, Any]] = []
        self.stack: list[dict[str, Any]] = []
        self.in_curie = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if tag == "li":
            node = {"curie": "", "defined": False, "children": []}
            (self.stack[-1]["children"] if self.stack else self.roots).append(node)
            self.stack.append(node)
        elif tag == "code" and "curie" in classes:
            self.in_curie = True
        elif "defined" in classes and self.stack:
            self.stack[-1]["defined"] = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "li":
            self.stack.pop()
        elif tag == "code":
            self.in_curie = False

    def handle_data(self, data: str) -> None:
        if self.in_curie and self.stack:
            self.stack[-1]["curie"] += data


def _tree(page: str) -> list[dict[str, Any]]:
    parser = _Tree()
    parser.feed(_section(page, "hierarchy"))
    return parser.roots


def _paths(nodes: list[dict[str, Any]], above: tuple[str, ...] = ()) -> dict[str, list[tuple]]:
    """curie -> the list of its ancestors' curies, one tuple per place it appears."""
    out: dict[str, list[tuple[str, ...]]] = {}
    for node in nodes:
        out.setdefault(node["curie"], []).append(above)
        for curie, paths in _paths(node["children"], above + (node["curie"],)).items():
            out.setdefault(curie, []).extend(paths)
    return out


def _curie(iri: rdflib.term.Node) -> str:
    return "k2d3:" + str(iri)[len(NS.vocab):]


@pytest.mark.parametrize(("iri", "name"), [
    ("https://creativecommons.org/licenses/by/4.0/", "CC BY 4.0"),
    ("http://creativecommons.org/licenses/by-sa/4.0", "CC BY-SA 4.0"),
    ("https://creativecommons.org/publicdomain/zero/1.0/", "CC0 1.0"),
    ("https://opensource.org/licenses/MIT", None),
])
def test_licence_name(iri: str, name: str | None) -> None:
    assert licence_name(iri) == name


def test_the_licence_link_names_the_licence(client, ontology: rdflib.Graph) -> None:  # type: ignore[no-untyped-def]
    licence = str(ontology.value(rdflib.URIRef(NS.ontology), DCTERMS.license))
    assert licence == "https://creativecommons.org/licenses/by/4.0/"
    for lang in ("en", "zh"):
        page = _page(client, lang)
        links = re.findall(rf'<a href="{re.escape(licence)}"[^>]*>([^<]*)</a>', page)
        assert links and set(links) == {"CC BY 4.0"}, links
        assert page.index('class="licence"') < page.index('id="namespaces"')


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_namespace_table_comes_first_with_every_prefix_of_the_source(client, lang: str) -> None:  # type: ignore[no-untyped-def]
    declared = dict(re.findall(r"^@prefix\s+([\w-]*):\s*<([^>]+)>", ontology_file().read_text(
        encoding="utf-8"), re.MULTILINE))
    page = _page(client, lang)
    rows = re.findall(r"<tr><td><code>([\w-]*):</code></td><td><code>([^<]+)</code></td></tr>",
                      _section(page, "namespaces"))
    assert rows[0] == ("k2d3", NS.vocab)
    assert declared.items() <= dict(rows).items(), set(declared.items()) - set(rows)
    assert len(rows) == len(dict(rows))
    assert page.index('id="namespaces"') < page.index('id="metadata"') < page.index(
        'id="hierarchy"')


def test_the_tree_shows_names_and_puts_defined_classes_under_their_parents(  # type: ignore[no-untyped-def]
        client, ontology: rdflib.Graph) -> None:
    tree = _tree(_page(client))
    paths = _paths(tree)
    roots = {node["curie"] for node in tree}
    classes = {c for c in ontology.subjects(RDF.type, OWL.Class)
               if isinstance(c, rdflib.URIRef) and str(c).startswith(NS.vocab)}
    assert {_curie(c) for c in classes} <= set(paths)
    defined = {}
    for cls in classes:
        for expression in ontology.objects(cls, OWL.equivalentClass):
            for head in ontology.objects(expression, OWL.intersectionOf):
                defined[_curie(cls)] = {_curie(m) for m in rdflib.collection.Collection(
                    ontology, head) if isinstance(m, rdflib.URIRef) and str(m).startswith(NS.vocab)}
    assert len(defined) >= 10
    for curie, members in defined.items():
        assert curie not in roots, curie
        for above in paths[curie]:
            assert members & set(above), (curie, above)
    for cls in classes:
        for parent in ontology.objects(cls, RDFS.subClassOf):
            if parent in classes:
                assert any(_curie(parent) in above for above in paths[_curie(cls)]), cls
    # The reasoner places the high-quality class under the RCT-supported one, not beside it.
    assert {above[-1] for above in paths["k2d3:HighQualityRCTSupportedClaim"]} == {
        "k2d3:RCTSupportedClaim"}
    flags = {}
    stack = list(tree)
    while stack:
        node = stack.pop()
        flags[node["curie"]] = node["defined"]
        stack += node["children"]
    assert {c for c, flag in flags.items() if flag} == set(defined)


def _definition_tag(page: str, anchor: str) -> str:
    section = _section(page, anchor)
    match = re.search(r'<dd class="definition"[^>]*>.*?</dd>', section, re.DOTALL)
    assert match, anchor
    return match.group(0)


def _defined_terms(ontology: rdflib.Graph) -> list[rdflib.URIRef]:
    """k2d3's own terms with a definition, in a stable order."""
    return sorted({t for t in ontology.subjects(SKOS.definition, None)
                   if isinstance(t, rdflib.URIRef) and str(t).startswith(NS.vocab)})


def _definition(ontology: rdflib.Graph, term: rdflib.URIRef, lang: str) -> str:
    (text,) = [str(d) for d in ontology.objects(term, SKOS.definition)
               if isinstance(d, rdflib.Literal) and d.language == lang]
    return text


def _unescape(text: str) -> str:
    import html

    return html.unescape(text)


def test_definitions_are_shown_in_the_language_of_the_page(client, ontology: rdflib.Graph) -> None:  # type: ignore[no-untyped-def]
    terms = _defined_terms(ontology)
    assert len(terms) > 100
    pages = {lang: _page(client, lang) for lang in ("en", "zh")}
    for term in terms:
        anchor = str(term)[len(NS.vocab):]
        for lang, page in pages.items():
            tag = _definition_tag(page, anchor)
            text = _definition(ontology, term, lang)
            assert _unescape(tag) == f'<dd class="definition" lang="{lang}">{text}</dd>', tag


@pytest.fixture(scope="module")
def english_only_client(built_store: Path, ontology: rdflib.Graph,  # type: ignore[no-untyped-def]
                        tmp_path_factory: pytest.TempPathFactory):
    """An app over a copy of the store whose ontology lost the Chinese definitions of the first
    ENGLISH_ONLY k2d3 terms (the Turtle has them all; the fallback still has to work)."""
    from conftest import copy_store

    root = copy_store(built_store, tmp_path_factory.mktemp("endef") / "store")
    with store.writer(root) as writable:
        for term in _defined_terms(ontology)[:ENGLISH_ONLY]:
            writable.remove(Quad(NamedNode(str(term)), NamedNode(str(SKOS.definition)),
                                 Literal(_definition(ontology, term, "zh"), language="zh"),
                                 NamedNode(NS.graph("ontology"))))
    return create_app(load_settings(env={}, store=root)).test_client()


def test_definitions_fall_back_to_english_marked_as_english(english_only_client,  # type: ignore[no-untyped-def]
                                                            ontology: rdflib.Graph) -> None:
    zh_page, en_page = _page(english_only_client, "zh"), _page(english_only_client, "en")
    terms = _defined_terms(ontology)
    for term in terms[:ENGLISH_ONLY]:
        anchor = str(term)[len(NS.vocab):]
        tag = _definition_tag(zh_page, anchor)
        assert tag.startswith('<dd class="definition" lang="en">'), tag
        assert 'class="tag"' in tag and "@en" in tag
        assert _definition(ontology, term, "en") in _unescape(tag)
        assert "@en" not in _definition_tag(en_page, anchor)
    # The terms that kept their Chinese definition show it, unmarked.
    for term in terms[ENGLISH_ONLY:]:
        tag = _definition_tag(zh_page, str(term)[len(NS.vocab):])
        assert _unescape(tag) == (f'<dd class="definition" lang="zh">'
                                  f'{_definition(ontology, term, "zh")}</dd>'), tag
