"""The HTML pages: ontology documentation, source highlights, claims, escaping, pagination.

Expected content is computed from the Turtle sources with rdflib and from the article text,
never from the pages' own code.
"""

from __future__ import annotations

import html
import unicodedata
from pathlib import Path

import pytest
import rdflib
from pyoxigraph import Literal, NamedNode, Quad
from rdflib.namespace import OWL, RDF, RDFS

from server import create_app
from server.build.sources import data_files, ontology_file
from server.config import load_settings
from server.pages.resource import PAGE_SIZE
from server.paths import source_article
from server.rdf import store
from server.rdf.namespaces import Namespaces

NS = Namespaces()
OA = rdflib.Namespace("http://www.w3.org/ns/oa#")
K2D3 = rdflib.Namespace(NS.vocab)
TERM_TYPES = (OWL.Class, RDFS.Class, OWL.ObjectProperty, OWL.DatatypeProperty,
              OWL.AnnotationProperty, RDF.Property)


@pytest.fixture(scope="module")
def ontology() -> rdflib.Graph:
    return rdflib.Graph().parse(ontology_file())


@pytest.fixture(scope="module")
def data() -> rdflib.Graph:
    graph = rdflib.Graph()
    for file in data_files():
        graph.parse(file)
    return graph


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_ontology_page_lists_every_class_and_property(client, ontology: rdflib.Graph,
                                                      lang: str) -> None:
    page = client.get(f"/ontology?lang={lang}", headers={"Accept": "text/html"})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    terms = {s for t in TERM_TYPES for s in ontology.subjects(RDF.type, t)
             if isinstance(s, rdflib.URIRef)}
    assert len(terms) > 20
    for term in terms:
        assert f'about="{html.escape(str(term))}"' in text, term
        if str(term).startswith(NS.vocab):
            assert f'id="{str(term)[len(NS.vocab):]}"' in text, term
        for label in ontology.objects(term, RDFS.label):
            assert str(label) in html.unescape(text), (term, label)


def test_ontology_page_renders_restrictions_readably(client, ontology: rdflib.Graph) -> None:
    text = client.get("/ontology", headers={"Accept": "text/html"}).get_data(as_text=True)
    restricted = [r for r in ontology.subjects(RDF.type, OWL.Restriction)
                  if (r, OWL.someValuesFrom, None) in ontology]
    assert restricted
    assert " some " in text and "[…]" not in text


def _quotations(data: rdflib.Graph) -> dict[str, set[str]]:
    """exact text -> IRIs of the resources that cite its annotation (from the sources)."""
    out: dict[str, set[str]] = {}
    for selector, exact in data.subject_objects(OA.exact):
        annotations = {a for t in data.subjects(OA.hasSelector, selector)
                       for a in data.subjects(OA.hasTarget, t)} or {selector}
        if any((a, OA.motivatedBy, OA.classifying) in data for a in annotations):
            continue  # a passage that carries no claim: shown apart, not highlighted
        citers = {str(c) for a in annotations for c in data.subjects(None, a)
                  if isinstance(c, rdflib.URIRef)}
        citers |= {str(b) for a in annotations for b in data.objects(a, OA.hasBody)}
        out.setdefault(unicodedata.normalize("NFC", str(exact)), set()).update(citers)
    return out


def test_source_page_highlights_every_quotation(client, data: rdflib.Graph) -> None:
    quotes = _quotations(data)
    assert quotes, "the graph data has quotations"
    text = client.get("/source").get_data(as_text=True)
    marked = html.unescape("".join(part.split(">", 1)[1].split("</mark>", 1)[0]
                                   for part in text.split("<mark")[1:]))
    for exact, citers in quotes.items():
        assert exact in marked or all(piece in marked for piece in exact.split("\n")), exact
        for citer in citers:
            if citer.startswith(NS.resource):
                assert f'href="{citer[len(NS.base) - 1:]}"' in text, citer


def test_claim_page_shows_quotation_in_its_paragraph(client, data: rdflib.Graph) -> None:
    article = unicodedata.normalize("NFC", source_article().read_text(encoding="utf-8"))
    claims = sorted(data.subjects(RDF.type, K2D3.Claim))
    assert claims
    for claim in claims[:5]:
        quotes = [q for q, citers in _quotations(data).items() if str(claim) in citers]
        page = client.get(str(claim)[len(NS.base) - 1:], headers={"Accept": "text/html"})
        text = html.unescape(page.get_data(as_text=True))
        for quote in quotes:
            at = article.find(quote)
            assert at >= 0
            start = article.rfind("\n\n", 0, at) + 2
            end = article.find("\n\n", at)
            paragraph = article[start:end].strip()
            assert paragraph.replace("**", "") in text.replace("<mark>", "").replace(
                "</mark>", ""), claim
            assert "/source#q" in text


#: From the article: who asserts each claim and whether its author affirms it (issue 11).
CLAIM_TOPS = [
    # the fracture benefit is the promoters', tested and left unclear by the author
    ("claim-d3-k2-fractures", "en", "does not assert it",
     ["uncertain", "Scott Gavura", "makers of the related products", "large, high-quality RCT"]),
    ("claim-d3-k2-cardiovascular", "zh", "并非文章本身的主张",
     ["证据不支持", "Scott Gavura", "健康界"]),
    ("claim-d3-k2-bmd", "en", "author affirms", ["weakly supported", "Scott Gavura"]),
    ("claim-vitamin-k-activates-clotting-factors", "en", "curators",
     ["the k2d3 curators"]),
    ("claim-k2-more-readily-absorbed-than-k1", "en", "author affirms", ["appears"]),
]


@pytest.mark.parametrize("local, lang, stance, facts", CLAIM_TOPS, ids=[c[0] for c in CLAIM_TOPS])
def test_claim_page_opens_with_who_asserts_and_the_verdict(client, local: str, lang: str,
                                                           stance: str, facts: list[str]) -> None:
    page = client.get(f"/id/{local}?lang={lang}", headers={"Accept": "text/html"})
    text = html.unescape(page.get_data(as_text=True))
    start = text.index('<section class="claim-status')
    box = text[start:text.index("</section>", start)]
    assert start < text.index('class="statements'), "the verdict comes before the statements"
    assert stance in box
    for fact in facts:
        assert fact in box, (local, fact)


def test_pages_that_are_not_claims_have_no_verdict_box(client) -> None:
    page = client.get("/id/bmd", headers={"Accept": "text/html"})
    assert "claim-status" not in page.get_data(as_text=True)


@pytest.fixture(scope="module")
def odd_client(built_store: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """An app over a copy of the store with a markup label and a hub with many links."""
    from conftest import copy_store

    root = copy_store(built_store, tmp_path_factory.mktemp("odd") / "store")
    graph = NamedNode(NS.graph("test"))
    hub = NamedNode(NS.resource + "test-hub")
    label = NamedNode(str(RDFS.label))
    with store.writer(root) as writable:
        writable.add(Quad(hub, label, Literal('<script>alert("x")</script><b>bold</b>',
                                              language="en"), graph))
        for i in range(PAGE_SIZE * 2 + 5):
            writable.add(Quad(hub, NamedNode(NS.vocab + "contains"),
                              NamedNode(f"{NS.resource}test-item-{i:03d}"), graph))
    return create_app(load_settings(env={}, store=root)).test_client()


def test_markup_in_a_literal_is_shown_as_text(odd_client) -> None:  # type: ignore[no-untyped-def]
    text = odd_client.get("/id/test-hub", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "&lt;script&gt;alert(" in text
    assert "<b>bold</b>" not in text
    head = text.split("</head>")[0]
    assert head.count("</script>") == 1  # only the JSON-LD block's own end tag


def test_long_lists_are_paginated(odd_client) -> None:  # type: ignore[no-untyped-def]
    first = odd_client.get("/id/test-hub", headers={"Accept": "text/html"}).get_data(
        as_text=True).split("<main")[1]
    assert first.count('href="/id/test-item-') == PAGE_SIZE
    assert "test-item-000" in first and f"test-item-{PAGE_SIZE:03d}" not in first
    assert 'rel="next"' in first
    third = odd_client.get("/id/test-hub", query_string={
        "dir": "out", "prop": NS.vocab + "contains", "page": 3},
        headers={"Accept": "text/html"}).get_data(as_text=True).split("<main")[1]
    assert third.count('href="/id/test-item-') == 5
    assert f"test-item-{PAGE_SIZE * 2 + 4:03d}" in third


def test_public_url_sets_absolute_links(settings) -> None:  # type: ignore[no-untyped-def]
    client = create_app(settings.with_overrides(public_url="https://k2d3.example.org")
                        ).test_client()
    response = client.get("/ontology", headers={"Accept": "text/html"})
    assert response.headers["Content-Location"].startswith("https://k2d3.example.org/ontology")
    assert "<https://k2d3.example.org/ontology?format=ttl>" in response.headers["Link"]


def test_home_links_everywhere(client) -> None:  # type: ignore[no-untyped-def]
    text = client.get("/").get_data(as_text=True)
    for path in ("/sparql", "/queries", "/ontology", "/source", "/.well-known/void", "/dumps/",
                 "/dataset"):
        assert f'href="{path}"' in text, path


def test_chinese_pages(client, ontology: rdflib.Graph) -> None:  # type: ignore[no-untyped-def]
    zh = {str(lit) for lit in ontology.objects(K2D3.Claim, RDFS.label) if lit.language == "zh"}
    text = client.get("/ontology", headers={"Accept": "text/html",
                                            "Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert '<html lang="zh-Hans">' in text
    assert all(label in text for label in zh)


def test_source_page_marks_passages_without_a_claim(client) -> None:
    text = html.unescape(client.get("/source", headers={"Accept": "text/html"})
                         .get_data(as_text=True))
    assert '<span class="no-claim"' in text
    assert "那么,让我们仔细看看相关证据。" in text
    assert 'class="uncovered"' not in text
    assert 'class="complete"' in text


def test_source_page_shows_what_no_claim_accounts_for(
        built_store: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    from conftest import copy_store

    root = copy_store(built_store, tmp_path_factory.mktemp("uncovered") / "store")
    selector = NamedNode(NS.resource + "no-claim-transition-evidence-selector")
    with store.writer(root) as writable:
        for quad in list(writable.quads_for_pattern(selector, None, None, None)):
            writable.remove(quad)
    client = create_app(load_settings(env={}, store=root)).test_client()
    text = html.unescape(client.get("/source").get_data(as_text=True))
    assert 'class="uncovered-list"' in text
    assert '<span class="uncovered" id="u1"' in text
    for clause in ("那么", "让我们仔细看看相关证据"):
        assert f">{clause}</a></li>" in text
