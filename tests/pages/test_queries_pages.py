"""The /queries pages: catalogue, query pages, formats, parameters, escaping, the evidence map.

Flask's test client over the store built from the real sources, and a crawl over the real
server (``live_server``) for the links.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import deque
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import rdflib
import requests
from conftest import copy_store
from pyoxigraph import Literal, NamedNode, Quad, RdfFormat, parse

from server import create_app
from server.catalogue import canned
from server.config import load_settings
from server.rdf import store

ID = "https://w3id.org/k2d3/id/"


def test_catalogue_lists_every_query_grouped_by_topic(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/queries")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<h1>Canned queries</h1>" in html
    for query in canned.catalogue():
        assert f'href="/queries/{query.name}"' in html
        assert str(_escaped(query.title("en"))) in html
    assert re.search(r'<h2 id="topic-verdict">The verdict</h2>', html)
    assert html.index('id="topic-verdict"') < html.index('id="topic-explore"')
    assert 'href="/queries/evidence-map"' in html


def _escaped(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))


def test_catalogue_search_filters_on_the_server(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/queries?q=warfarin").get_data(as_text=True)
    assert 'href="/queries/drug-interactions"' in html
    assert 'href="/queries/vitamin-d-role"' not in html
    assert 'value="warfarin"' in html  # the box keeps the search
    none = client.get("/queries?q=<b>zzz</b>").get_data(as_text=True)
    assert "No query matches" in none and "&lt;b&gt;zzz&lt;/b&gt;" in none
    assert "<b>zzz</b>" not in none


@pytest.mark.parametrize("how", [{"query_string": {"lang": "zh"}},
                                 {"headers": {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}}])
def test_catalogue_in_chinese(client, how) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/queries", **how).get_data(as_text=True)
    assert "<h1>预设查询</h1>" in html and 'lang="zh-Hans"' in html
    assert _escaped(canned.find("verdict").title("zh")) in html  # type: ignore[union-attr]
    assert 'href="/queries/verdict?lang=zh"' in html


def test_query_page_runs_with_its_defaults(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/queries/vitamin-k-proteins").get_data(as_text=True)
    assert "<h1>Which proteins does vitamin K activate" in html
    assert '<th scope="col" title="?protein">Protein</th>' in html  # queries/columns.tsv
    assert re.search(r"4 results in [\d.]+ ms", html)
    assert '<a href="/id/osteocalcin" title="https://w3id.org/k2d3/id/osteocalcin">' \
        'osteocalcin</a>' in html
    assert '<span class="hl-k">SELECT</span>' in html  # highlighted query text
    assert 'href="/sparql#query=PREFIX' in html  # a fragment: no request line grows with it
    for fmt in ("json", "csv", "tsv"):
        assert f'href="/queries/vitamin-k-proteins?format={fmt}"' in html


def test_query_page_in_chinese_shows_chinese_labels(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/queries/vitamin-k-proteins?lang=zh").get_data(as_text=True)
    assert "骨钙素" in html and "条结果" in html
    assert 'href="/id/osteocalcin?lang=zh"' in html


def test_parameters_are_prefilled_from_the_url(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get(f"/queries/claims-about?outcome={ID}fractures").get_data(as_text=True)
    assert f'<option value="{ID}fractures" selected>fractures</option>' in html
    assert '<label for="param-outcome">Outcome or object</label>' in html
    assert re.search(r"1 results in", html)
    assert f'href="/queries/claims-about?outcome={ID.replace(":", "%3A").replace("/", "%2F")}' \
           f'fractures" rel="bookmark"' in html


def test_curie_parameter_values_are_accepted(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/queries/claims-about?outcome=k2di:fractures&format=json")
    assert page.status_code == 200
    rows = page.get_json()["results"]["bindings"]
    assert {r["outcome"]["value"] for r in rows} == {ID + "fractures"}


@pytest.mark.parametrize("value", ["not an iri", ID + "osteocalcin", "<script>"])
def test_a_bad_parameter_is_a_400_naming_it(client, value) -> None:  # type: ignore[no-untyped-def]
    html_page = client.get("/queries/claims-about", query_string={"outcome": value})
    assert html_page.status_code == 400
    text = html_page.get_data(as_text=True)
    assert "parameter &#39;outcome&#39;" in text and 'role="alert"' in text
    assert "<script>" not in text.split("<main", 1)[1]
    as_json = client.get("/queries/claims-about", query_string={"outcome": value},
                         headers={"Accept": "application/sparql-results+json"})
    assert as_json.status_code == 400
    assert "'outcome'" in as_json.get_data(as_text=True)


def test_results_by_format_parameter_and_accept(client) -> None:  # type: ignore[no-untyped-def]
    as_csv = client.get("/queries/deficiency-symptoms-diagnosis?format=csv")
    assert as_csv.status_code == 200 and as_csv.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(as_csv.get_data(as_text=True))))
    assert {r["item"] for r in rows} >= {ID + "petechiae", ID + "inr"}
    as_tsv = client.get("/queries/deficiency-symptoms-diagnosis?format=tsv")
    assert as_tsv.mimetype == "text/tab-separated-values"
    assert as_tsv.get_data(as_text=True).startswith("?relation\t?item")
    as_json = client.get("/queries/deficiency-symptoms-diagnosis",
                         headers={"Accept": "application/sparql-results+json"})
    assert as_json.mimetype == "application/sparql-results+json"
    assert json.loads(as_json.data)["head"]["vars"][:2] == ["relation", "item"]
    assert "Accept" in as_json.headers.get("Vary", "")
    assert client.get("/queries/verdict", headers={"Accept": "image/png"}).status_code == 406


def test_construct_query_offers_rdf_downloads(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/queries/evidence-graph").get_data(as_text=True)
    assert 'href="/queries/evidence-graph?format=ttl"' in html
    assert 'href="/queries/evidence-graph?format=jsonld"' in html
    ttl = client.get("/queries/evidence-graph?format=ttl&outcome=k2di:fractures")
    assert ttl.mimetype == "text/turtle"
    text = ttl.get_data(as_text=True)
    assert "@prefix k2di: <https://w3id.org/k2d3/id/> ." in text  # the query's own prefixes
    graph = rdflib.Graph().parse(data=text, format="turtle")
    assert (None, None, rdflib.URIRef(f"{ID}verdict-uncertain")) in graph
    jsonld = client.get("/queries/evidence-graph", headers={"Accept": "application/ld+json"})
    assert jsonld.mimetype == "application/ld+json" and json.loads(jsonld.data)


def test_unknown_query_is_404(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/queries/no-such-query").status_code == 404


def test_evidence_map_is_server_side_svg(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/queries/evidence-map").get_data(as_text=True)
    svg = html[html.index("<svg"):html.index("</svg>")]
    assert 'role="img"' in svg and "<title" in svg
    assert "fractures" in svg and "bone mineral density (BMD)" in svg
    assert f"/queries/claims-about?outcome={ID.replace(':', '%3A').replace('/', '%2F')}" in svg
    assert '<label for="population">Population</label>' in html


def test_evidence_map_filters_by_population(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get(f"/queries/evidence-map?population={ID}pop-postmenopausal-women") \
        .get_data(as_text=True)
    svg = html[html.index("<svg"):html.index("</svg>")]
    assert "bone mineral density (BMD)" in svg
    assert ">fractures<" not in svg  # the fracture claim is about the general population
    assert client.get("/queries/evidence-map?population=nobody").status_code == 400


def test_evidence_map_as_json_and_csv(client) -> None:  # type: ignore[no-untyped-def]
    population = f"{ID}pop-postmenopausal-women"
    doc = client.get("/queries/evidence-map", query_string={"population": population},
                     headers={"Accept": "application/json"})
    assert doc.status_code == 200 and doc.mimetype == "application/json"
    assert "Accept" in doc.headers["Vary"]
    body = doc.get_json()
    assert body["population"] == population
    assert {c["outcome"] for c in body["cells"]} == {
        ID + "bmd", ID + "bone-indices", ID + "bone-turnover-markers"}
    table = client.get("/queries/evidence-map?format=csv&lang=zh")
    assert table.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(table.get_data(as_text=True))))
    fractures = [r for r in rows if r["outcome"] == ID + "fractures"]
    assert len(fractures) == 1 and fractures[0]["outcomeLabel"] == "骨折"
    assert fractures[0]["populationLabels"] == "普通人群"


@pytest.mark.parametrize(("query", "accept"), [
    ("?format=ttl", "*/*"), ("", "image/png"), ("?format=xml", "text/html")])
def test_evidence_map_in_a_format_it_is_not_offered_in_is_406(client, query: str,  # type: ignore[no-untyped-def]
                                                             accept: str) -> None:
    resp = client.get("/queries/evidence-map" + query, headers={"Accept": accept})
    assert resp.status_code == 406
    assert "text/csv" in resp.get_data(as_text=True)


def test_the_cells_are_listed_as_a_table_that_names_populations(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/queries/evidence-map").get_data(as_text=True)
    table = html[html.index('<table class="results map-cells">'):]
    table = table[:table.index("</table>")]
    rows = table.split("<tr>")[2:]  # after the header row
    expected = (Path(__file__).parents[1] / "data" / "evidence-map-cells.tsv").read_text(
        encoding="utf-8")
    assert len(rows) == len([line for line in expected.splitlines()
                             if line and not line.startswith(("#", "outcome\t"))])
    clots = next(r for r in rows if "blood clots" in r)
    assert "people taking vitamin K antagonists such as warfarin" in clots
    assert 'data-label="Population"' in clots


def test_the_page_links_its_data(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get(f"/queries/evidence-map?population={ID}pop-older-adults").get_data(
        as_text=True)
    assert 'href="/queries/evidence-map?format=csv&amp;population=https%3A' in html


def test_mechanism_diagram_links_vitamin_protein_calcium_tissue(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/queries/evidence-map").get_data(as_text=True)
    mech = html[html.index('aria-labelledby="mech-title"'):]
    mech = mech[:mech.index("</svg>")]
    for label in ("osteocalcin", "matrix Gla protein (MGP)", "calcium", "bone", "blood vessels"):
        assert f">{label}</text>" in mech, label
    assert 'href="/id/osteocalcin"' in mech and "directs calcium to" in mech


@pytest.fixture(scope="module")
def marked_client(built_store: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """An app over a private store copy in which a label holds markup."""
    root = copy_store(built_store, tmp_path_factory.mktemp("marked") / "store")
    with store.writer(root) as st:
        st.add(Quad(NamedNode(ID + "osteocalcin"),
                    NamedNode("http://www.w3.org/2000/01/rdf-schema#label"),
                    Literal("<script>alert(1)</script><b>bold</b>", language="en"),
                    NamedNode("https://w3id.org/k2d3/graph/test-markup")))
    return create_app(load_settings(env={}, store=root)).test_client()


def test_a_literal_containing_markup_shows_as_text(marked_client) -> None:  # type: ignore[no-untyped-def]
    for path in ("/queries/vitamin-k-proteins", f"/queries/entity-profile?entity={ID}osteocalcin",
                 "/queries/evidence-map"):
        html = marked_client.get(path).get_data(as_text=True)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, path  # long labels wrap in SVG
        assert "<script>alert(1)" not in html and "<b>bold</b>" not in html, path


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value and name in ("href", "src") and tag in ("a", "link", "script", "img"):
                self.links.append(value)


def _links(base: str, html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    return [urljoin(base, link).split("#")[0] for link in parser.links]


def test_crawl_from_queries_finds_no_broken_link(live_server: str) -> None:
    """Every /queries page reachable from /queries, and every link on them, answers < 400."""
    seen: dict[str, int] = {}
    todo = deque([live_server + "/queries"])
    session = requests.Session()
    while todo and len(seen) < 1500:
        url = todo.popleft()
        if url in seen:
            continue
        resp = session.get(url, timeout=30)
        seen[url] = resp.status_code
        path = urlsplit(url).path
        if not (path == "/queries" or path.startswith("/queries/")) or "format=" in url:
            continue
        if "text/html" in resp.headers.get("Content-Type", ""):
            for link in _links(url, resp.text):
                if link.startswith(live_server) and link not in seen:
                    todo.append(link)
    broken = {u: s for u, s in seen.items() if s >= 400}
    assert not broken, broken
    assert len(seen) > 40


def test_the_query_iri_is_linked_data(client) -> None:  # type: ignore[no-untyped-def]
    """Asked for RDF, a SELECT query's IRI answers its catalogue entry (SIB vocabulary)."""
    ttl = client.get("/queries/verdict", headers={"Accept": "text/turtle"})
    assert ttl.status_code == 200 and ttl.mimetype == "text/turtle"
    triples = {(t.subject.value, t.predicate.value) for t in parse(
        ttl.get_data(), format=RdfFormat.TURTLE)}
    verdict = "https://w3id.org/k2d3/queries/verdict"
    assert (verdict, "https://schema.org/target") in triples
    assert "SPARQLSelectExecutable" in ttl.get_data(as_text=True)
    html = client.get("/queries/verdict")
    assert 'rel="alternate"; type="text/turtle"' in html.headers["Link"]


def test_highlighting_escapes_the_query_text() -> None:
    from server.pages.highlight import highlight

    html = str(highlight('SELECT ?x WHERE { ?x ?p "</code><script>x</script>" } # <i>'))
    assert "<script>" not in html and "<i>" not in html
    assert '<span class="hl-s">&#34;&lt;/code&gt;&lt;script&gt;x&lt;/script&gt;&#34;</span>' in html
    assert '<span class="hl-c"># &lt;i&gt;</span>' in html
    assert '<span class="hl-v">?x</span>' in html


def test_canned_queries_follow_a_deployment_base_iri(tmp_path: Path) -> None:
    from server.build.pipeline import build

    base = "https://example.org/k/"
    settings = load_settings(env={}, store=tmp_path / "store", base_iri=base)
    build(settings, validate=False)
    client = create_app(settings).test_client()
    answer = client.get("/queries/vitamin-k-proteins?format=json")
    assert answer.status_code == 200
    iris = {b["value"] for row in answer.get_json()["results"]["bindings"] for b in row.values()
            if b["type"] == "uri"}
    assert base + "id/osteocalcin" in iris
    assert not [iri for iri in iris if iri.startswith("https://w3id.org/k2d3/")]
    page = client.get(f"/queries/entity-profile?entity={base}id/osteocalcin")
    assert page.status_code == 200, page.get_data(as_text=True)[:500]


def test_a_cut_answer_says_so_as_the_endpoint_does(built_store: Path) -> None:
    client = create_app(load_settings(env={}, store=built_store, max_rows=2)).test_client()
    cut = client.get("/queries/vitamin-k-sources?format=json")
    assert len(cut.get_json()["results"]["bindings"]) == 2
    assert cut.headers["K2D3-Truncated"] == "true" == cut.headers["X-Result-Truncated"]
    whole = create_app(load_settings(env={}, store=built_store)).test_client().get(
        "/queries/vitamin-k-sources?format=json")
    assert len(whole.get_json()["results"]["bindings"]) > 2
    assert "K2D3-Truncated" not in whole.headers and "X-Result-Truncated" not in whole.headers
