"""The query editor in headless Chromium, against the real server (``k2d3 serve``).

YASGUI loads from this server (no CDN, under the page's CSP) and runs queries; the examples are
the canned queries in the page's language, in a closed, filterable list that never pushes the
editor below the fold; k2d3's classes and properties complete; a failed query is explained
(undeclared prefix with the line to add, misspelt keyword pointed at) in text that wraps; a
``k2d3:`` name the ontology lacks gets a warning; result IRIs link to this server's pages.
Desktop (1280x800) and phone (390x844) viewports, English and Chinese. Expected titles and terms
come from the sources (queries/*.rq through ``server.catalogue.canned``, the ontology through
rdflib).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
import rdflib
import requests
from endpoint_fixtures import fresh_store, serve
from rdflib.namespace import OWL, RDF, RDFS

from server.build.sources import ontology_file
from server.catalogue import canned

pytestmark = pytest.mark.browser

VOCAB = "https://w3id.org/k2d3/ontology#"
K2D3_PREFIX = f"PREFIX k2d3: <{VOCAB}>"
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
#: The console line Chromium writes for any 4xx answer; a query meant to fail causes one.
FAILED_LOAD = "Failed to load resource: the server responded with a status of 400"


@pytest.fixture(scope="module")
def editor_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server over the small fixture store (two canned queries, no ontology)."""
    with serve(fresh_store(tmp_path_factory.mktemp("yasgui"))) as (url, _):
        yield url


@pytest.fixture()
def open_page(chromium):  # type: ignore[no-untyped-def]
    """``open_page(url, viewport="desktop")``: a fresh context (empty localStorage), the page
    loaded and YASGUI drawn; console errors and requests leaving the server are recorded."""
    contexts = []

    def opener(url: str, viewport: str = "desktop") -> Any:
        context = chromium.new_context(viewport=VIEWPORTS[viewport])
        contexts.append(context)
        page = context.new_page()
        origin = url.split("/sparql")[0]
        page.problems = []
        page.on("console", lambda m: page.problems.append(m.text) if m.type == "error"
                and FAILED_LOAD not in m.text else None)
        page.on("pageerror", lambda e: page.problems.append(str(e)))
        page.outside = []
        page.on("request", lambda r: page.outside.append(r.url) if not r.url.startswith(
            origin) and not r.url.startswith("data:") else None)
        page.goto(url)
        page.wait_for_selector(".yasgui .CodeMirror", timeout=20000)
        return page

    yield opener
    for context in contexts:
        context.close()


def _clean(page: Any) -> None:
    assert not page.problems, page.problems
    assert not page.outside, page.outside


def _run(page: Any, query: str) -> None:
    """Put ``query`` in the editor, run it and wait until the answer or the error is drawn."""
    page.evaluate("q => { window.k2d3Yasgui.getTab().setQuery(q); }", query)
    page.locator(".yasqe_queryButton").last.click()
    page.wait_for_selector(".yasr .errorResult, .yasr table.dataTable", timeout=20000)
    page.wait_for_timeout(200)  # the warning is added right after the answer


def _no_page_scroll(page: Any) -> None:
    widths = page.evaluate("[document.documentElement.scrollWidth, "
                           "document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], widths


def test_yasgui_runs_a_query(open_page, editor_server: str) -> None:  # type: ignore[no-untyped-def]
    page = open_page(editor_server + "/sparql")
    page.locator("details.k2d3-examples > summary").click()
    assert page.locator("button.k2d3-example").count() == 2
    page.locator("button.k2d3-example", has_text="Count the types").click()
    page.wait_for_function("() => window.k2d3Yasgui.getTab().getQuery().includes('COUNT')")
    assert not page.locator("details.k2d3-examples").evaluate("d => d.open")
    page.locator(".yasqe_queryButton").last.click()
    page.wait_for_selector(".yasr table.dataTable td", timeout=15000)
    cells = page.locator(".yasr table.dataTable td").all_inner_texts()
    assert any("Document" in c for c in cells), cells
    _clean(page)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_examples_are_the_canned_queries_in_the_page_language(open_page, live_server: str,  # type: ignore[no-untyped-def]
                                                              lang: str) -> None:
    page = open_page(f"{live_server}/sparql?lang={lang}")
    page.locator("details.k2d3-examples > summary").click()
    shown = page.locator("button.k2d3-example").all_inner_texts()
    expected = [q.title(lang) for q in canned.catalogue()]
    assert sorted(shown) == sorted(expected)
    assert not [t for t in shown if "#param" in t or "-values" in t]
    name = page.locator("button.k2d3-example").first.get_attribute("data-name")
    query = canned.find(name)
    assert query is not None
    page.locator("button.k2d3-example").first.click()
    page.wait_for_function("t => window.k2d3Yasgui.getTab().getQuery() === t", arg=query.text)
    assert page.locator(".tabsList .tab.active").inner_text().split("\n")[0] == query.title(lang)
    _clean(page)


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_examples_do_not_push_the_editor_below_the_fold(open_page, live_server: str,  # type: ignore[no-untyped-def]
                                                         viewport: str, lang: str) -> None:
    page = open_page(f"{live_server}/sparql?lang={lang}", viewport)
    height = VIEWPORTS[viewport]["height"]
    editor = page.locator(".yasqe .CodeMirror").first
    top = editor.bounding_box()["y"]
    assert top + 150 < height, top  # the editor's first lines are on the first screen
    run = page.locator(".yasqe_queryButton").last.bounding_box()
    assert run["y"] + run["height"] < height
    page.locator("details.k2d3-examples > summary").click()
    panel = page.locator(".k2d3-examples-panel")
    assert panel.is_visible()
    assert editor.bounding_box()["y"] == top  # the list opens over the editor
    box = panel.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= VIEWPORTS[viewport]["width"]
    _no_page_scroll(page)
    page.keyboard.press("Escape")
    assert not panel.is_visible()
    _clean(page)


@pytest.mark.parametrize(("viewport", "lang"), [("desktop", "en"), ("phone", "zh")])
def test_the_starting_query_lists_claims_in_the_page_language(  # type: ignore[no-untyped-def]
        open_page, live_server: str, viewport: str, lang: str) -> None:
    graph = rdflib.Graph().parse(ontology_file())
    assert graph.value(rdflib.URIRef(VOCAB + "Claim"), RDF.type) == OWL.Class
    page = open_page(f"{live_server}/sparql?lang={lang}", viewport)
    query = page.evaluate("() => window.k2d3Yasgui.getTab().getQuery()")
    assert query.startswith(K2D3_PREFIX) and f'"{lang}"' in query
    page.locator(".yasqe_queryButton").last.click()
    page.wait_for_selector(".yasr table.dataTable td a", timeout=20000)
    rows = page.evaluate("() => window.k2d3Yasgui.getTab().getYasr().results.getBindings()")
    assert len(rows) == 10
    assert all(r["label"]["xml:lang"].startswith(lang) for r in rows)
    _clean(page)


def _haystack(query: canned.CannedQuery) -> str:
    return " ".join([query.name, *query.titles.values(), *query.descriptions.values(),
                     *query.all_keywords()]).casefold()


@pytest.mark.parametrize(("lang", "words"), [("en", "Warfarin"), ("zh", "华法林"),
                                             ("en", "bone density"), ("zh", "维生素 结论")])
def test_the_example_filter_finds_by_title_description_and_keywords(  # type: ignore[no-untyped-def]
        open_page, live_server: str, lang: str, words: str) -> None:
    page = open_page(f"{live_server}/sparql?lang={lang}", "phone")
    page.locator("details.k2d3-examples > summary").click()
    page.locator(".k2d3-examples-filter").fill(words)
    shown = page.locator("button.k2d3-example:visible").all_inner_texts()
    wanted = [q.title(lang) for q in canned.catalogue()
              if all(w in _haystack(q) for w in words.casefold().split())]
    assert wanted and sorted(shown) == sorted(wanted)
    assert page.locator(".k2d3-examples-none").is_hidden()
    page.locator(".k2d3-examples-filter").fill("zzzz-no-such-query")
    assert page.locator("button.k2d3-example:visible").count() == 0
    assert page.locator(".k2d3-examples-none").is_visible()
    _clean(page)


def _ontology_terms(lang: str, *types: rdflib.URIRef) -> dict[str, str]:
    """k2d3 IRIs of the given types -> label in ``lang``, from the Turtle source."""
    graph = rdflib.Graph().parse(ontology_file())
    return {str(s): next(str(v) for v in graph.objects(s, RDFS.label) if v.language == lang)
            for t in types for s in graph.subjects(RDF.type, t) if str(s).startswith(VOCAB)}


def _hints(page: Any) -> list[str]:
    page.wait_for_selector(".CodeMirror-hints li", timeout=5000)
    return list(page.locator(".CodeMirror-hints li").all_inner_texts())


@pytest.mark.parametrize(("viewport", "lang"), [("desktop", "en"), ("phone", "zh")])
def test_autocompletion_offers_the_ontologys_classes_and_properties(  # type: ignore[no-untyped-def]
        open_page, live_server: str, viewport: str, lang: str) -> None:
    classes = _ontology_terms(lang, OWL.Class)
    properties = _ontology_terms(lang, OWL.ObjectProperty, OWL.DatatypeProperty)
    page = open_page(f"{live_server}/sparql?lang={lang}", viewport)
    page.evaluate("p => { const y = window.k2d3Yasgui.getTab().getYasqe(); "
                  "y.setValue(p + '\\nSELECT * WHERE { ?c a '); y.focus(); "
                  "y.setCursor(y.lineCount(), 0); }", K2D3_PREFIX)
    page.keyboard.type("k2d3:EvidenceL", delay=30)
    hints = _hints(page)
    wanted = {"k2d3:" + i[len(VOCAB):] for i in classes if "evidencel" in i.lower()}
    assert {h.split(" — ")[0] for h in hints} == wanted
    assert f"k2d3:EvidenceLine — {classes[VOCAB + 'EvidenceLine']}" in hints
    page.keyboard.press("Enter")
    page.keyboard.type(" ; k2d3:certain", delay=30)
    hints = _hints(page)
    assert f"k2d3:certainty — {properties[VOCAB + 'certainty']}" in hints
    assert not {h.split(" — ")[0] for h in hints} & {"k2d3:" + i[len(VOCAB):] for i in classes}
    page.keyboard.press("Enter")
    page.keyboard.type(" ?c . ?c skos:", delay=30)
    query = page.evaluate("() => window.k2d3Yasgui.getTab().getQuery()")
    assert "?c a k2d3:EvidenceLine ; k2d3:certainty ?c" in query
    # Typing an undeclared prefix the graph uses declares it.
    assert "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>" in query
    _clean(page)


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
@pytest.mark.parametrize(("lang", "says"), [
    ("en", "The prefix k2d3: is used but not declared (line 2, column 23)"),
    ("zh", "前缀 k2d3: 已使用但未声明（第 2 行第 23 列）"),
])
def test_an_undeclared_prefix_names_the_prefix_and_the_line_to_add(  # type: ignore[no-untyped-def]
        open_page, live_server: str, viewport: str, lang: str, says: str) -> None:
    page = open_page(f"{live_server}/sparql?lang={lang}", viewport)
    _run(page, "# which claims?\nSELECT * WHERE { ?s a k2d3:Claim } LIMIT 1")
    error = page.locator(".yasr .k2d3-error")
    assert says in error.inner_text()
    assert error.locator("code").all_inner_texts() == [K2D3_PREFIX]
    assert page.locator(".k2d3-error-mark").all_inner_texts() == ["k2d3:Claim"]
    _no_page_scroll(page)
    error.locator("button.k2d3-add-prefix").click()
    query = page.evaluate("() => window.k2d3Yasgui.getTab().getQuery()")
    assert query.startswith(K2D3_PREFIX)
    page.locator(".yasqe_queryButton").last.click()
    page.wait_for_selector(".yasr table.dataTable td a", timeout=20000)
    _clean(page)


@pytest.mark.parametrize(("query", "says", "marked"), [
    (f"{K2D3_PREFIX}\nSELECT * WHERE {{\n  ?s a k2d3:Claim .\n  OPTINAL {{ ?s k2d3:verdict ?v }}"
     "\n}", "OPTINAL (line 4, column 3) is not a SPARQL keyword; did you mean OPTIONAL?",
     "OPTINAL"),
    ("SELEC ?s WHERE { ?s ?p ?o }", "did you mean SELECT?", "SELEC"),
    ("SELECT ?s WHERE { ?s ?p ?o } LIMT 5", "LIMT (line 1, column 30)", "LIMT"),
    ('SELECT ?s WHERE { ?s ?p "open }',
     "The string that starts at line 1, column 25 is not closed", '"'),
    ("SELECT ?s WHERE { ?s ?p ?o } LIMIT 5 }",
     "The query has a syntax error at line 1, column", None),
])
def test_a_syntax_error_is_pointed_at(open_page, live_server: str, query: str, says: str,  # type: ignore[no-untyped-def]
                                      marked: str | None) -> None:
    page = open_page(live_server + "/sparql", "phone")
    _run(page, query)
    text = page.locator(".yasr .k2d3-error").inner_text()
    assert says in text, text
    if marked:
        assert page.locator(".k2d3-error-mark").first.inner_text() == marked
    assert page.locator(".k2d3-error-mark").count() >= 1
    _no_page_scroll(page)
    _clean(page)


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_the_endpoints_message_wraps_and_never_widens_the_page(open_page, live_server: str,  # type: ignore[no-untyped-def]
                                                                viewport: str) -> None:
    page = open_page(live_server + "/sparql", viewport)
    # The parser's answer to an undeclared prefix lists character classes on long lines, and
    # the help repeats the prefix, here one word of 3000 letters.
    prefix = "p" * 3000
    _run(page, f"SELECT * WHERE {{ ?s a {prefix}:x }}")
    page.locator(".k2d3-endpoint-said > summary").click()
    said = page.locator(".k2d3-error-text")
    assert len(said.inner_text()) > 300
    assert prefix in page.locator(".k2d3-error code").inner_text()
    for part in (said, page.locator(".k2d3-error code"), page.locator(".k2d3-error").first):
        assert part.evaluate("e => e.scrollWidth <= e.clientWidth + 1")
    _no_page_scroll(page)
    _clean(page)


@pytest.mark.parametrize(("lang", "says"), [
    ("en", "k2d3:Claims is not a term of the ontology; did you mean k2d3:Claim? "
           "That may be why the answer is empty."),
    ("zh", "k2d3:Claims 不是本体中的术语；是不是想写 k2d3:Claim？这可能是结果为空的原因。"),
])
def test_an_unknown_ontology_term_gets_a_warning_beside_its_empty_answer(  # type: ignore[no-untyped-def]
        open_page, live_server: str, lang: str, says: str) -> None:
    page = open_page(f"{live_server}/sparql?lang={lang}", "phone")
    _run(page, f"{K2D3_PREFIX}\nSELECT * WHERE {{ ?s a k2d3:Claims }}")
    note = page.locator(".yasr .k2d3-notes")
    assert says in note.inner_text()
    assert note.locator("a").get_attribute("href").startswith("/ontology")
    assert "#Claim" in note.locator("a").get_attribute("href")
    assert page.evaluate("() => window.k2d3Yasgui.getTab().getYasr().results.getBindings()"
                         ".length") == 0
    _run(page, f"{K2D3_PREFIX}\nSELECT * WHERE {{ ?s a k2d3:Claim }} LIMIT 3")
    assert page.locator(".yasr .k2d3-notes").count() == 0
    _no_page_scroll(page)
    _clean(page)


def test_the_editor_opens_a_query_from_its_url(open_page, live_server: str) -> None:  # type: ignore[no-untyped-def]
    query = "ASK { ?s ?p 'a # and & in it' }"
    page = open_page(live_server + "/sparql?lang=zh#" + urlencode({"query": query}))
    assert page.evaluate("() => window.k2d3Yasgui.getTab().getQuery()") == query
    _clean(page)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_result_iris_link_to_this_servers_pages(open_page, live_server: str, lang: str) -> None:  # type: ignore[no-untyped-def]
    page = open_page(f"{live_server}/sparql?lang={lang}", "phone")
    _run(page, f"{K2D3_PREFIX}\nSELECT ?claim ?type WHERE {{ ?claim a k2d3:Claim, ?type }} "
               "LIMIT 20")
    links = page.eval_on_selector_all(".yasr table.dataTable td a",
                                      "as => as.map(a => [a.getAttribute('href'), a.title])")
    assert links
    suffix = "?lang=zh" if lang == "zh" else ""
    for href, iri in links:
        assert not href.startswith("https://w3id.org/k2d3/"), href
        if iri.startswith("https://w3id.org/k2d3/id/"):
            assert href == "/id/" + iri.rsplit("/", 1)[1] + suffix
        elif iri.startswith(VOCAB):
            assert href == "/ontology" + suffix + "#" + iri[len(VOCAB):]
    local = next(href for href, iri in links if href.startswith("/id/"))
    assert requests.get(live_server + local, headers={"Accept": "text/html"},
                        timeout=10).status_code == 200
    _no_page_scroll(page)
    _clean(page)


# ---- The checks behind the help (k2d3-query-check.js), as pure functions -----------------

def _at(text: str, needle: str, nth: int = 0) -> dict[str, int]:
    """Where the ``nth`` occurrence of ``needle`` is in ``text``: line and column from 1."""
    index = -1
    for _ in range(nth + 1):
        index = text.index(needle, index + 1)
    line = text.count("\n", 0, index) + 1
    return {"line": line, "column": index - (text.rfind("\n", 0, index) + 1) + 1, "index": index}


Q_PREFIXES = ("SELECT * { ?s a k2d3:X ; rdfs:label 'k2d3:no' . # owl:no\n"
              " ?s k2d3:y <http://x/#a:b> }")
Q_DECLARED = "PREFIX : <http://x/>\nPREFIX a-b.c: <http://y/>\nASK { :s a-b.c:p ?o ; ex:q _:b }"
Q_WORDS = "SELECT ?o WHERE { ?s ?p ?o FILTR(isIRI(?o)) } ORDR BY ?o"
Q_FUNCTION = "SELECT (BLAH(?x) AS ?y) { VALUES ?x { true UNDEF } } # FILTR"
Q_TERMS = ("PREFIX k: <https://w3id.org/k2d3/ontology#>\nASK { ?s a k:Claims, k:Claim ; "
           "k:VERDICT ?v . ?v a <https://w3id.org/k2d3/ontology#Claimm>, k:Zzzzzz }")
Q_STRING = "ASK { ?s ?p 'ok' , \"open }\n}"

CHECKS = [
    ("undeclaredPrefixes", [Q_PREFIXES],
     [{"prefix": "k2d3", **_at(Q_PREFIXES, "k2d3:X"), "length": 6},
      {"prefix": "rdfs", **_at(Q_PREFIXES, "rdfs:label"), "length": 10}]),
    ("undeclaredPrefixes", [Q_DECLARED], [{"prefix": "ex", **_at(Q_DECLARED, "ex:q"),
                                           "length": 4}]),
    ("unknownWords", [Q_WORDS],
     [{"word": "FILTR", **_at(Q_WORDS, "FILTR"), "suggestion": "FILTER"},
      {"word": "ORDR", **_at(Q_WORDS, "ORDR"), "suggestion": "ORDER"}]),
    ("unknownWords", [Q_FUNCTION], [{"word": "BLAH", **_at(Q_FUNCTION, "BLAH"),
                                     "suggestion": None}]),
    ("unknownTerms", [Q_TERMS, VOCAB, [VOCAB + "Claim", VOCAB + "verdict"]],
     [{"term": "k:Claims", **_at(Q_TERMS, "k:Claims"), "suggestion": "k:Claim"},
      {"term": "k:VERDICT", **_at(Q_TERMS, "k:VERDICT"), "suggestion": "k:verdict"},
      {"term": f"<{VOCAB}Claimm>", **_at(Q_TERMS, f"<{VOCAB}Claimm>"),
       "suggestion": f"<{VOCAB}Claim>"},
      {"term": "k:Zzzzzz", **_at(Q_TERMS, "k:Zzzzzz"), "suggestion": None}]),
    ("unknownWords", [Q_WORDS, 1], [{"word": "FILTR", **_at(Q_WORDS, "FILTR"),
                                     "suggestion": "FILTER"}]),
    ("unknownTerms", [Q_TERMS, VOCAB, [VOCAB + "Claim"], 1],
     [{"term": "k:Claims", **_at(Q_TERMS, "k:Claims"), "suggestion": "k:Claim"}]),
    ("unclosedStrings", [Q_STRING], [{**_at(Q_STRING, '"open'), "quote": '"'}]),
    ("parseServerError", ["400 Bad Request: SPARQL query syntax error: error at 3:7: expected "
                          "one of Prefix not found, ['%'], ['-' | '0' ..= '9'], [':']\n"],
     {"line": 3, "column": 7, "expected": [], "nameChar": True, "prefixNotFound": True}),
    ("parseServerError", ['error at 1:30: expected one of "\\"", "{", HAVING, [_]'],
     {"line": 1, "column": 30, "expected": ['"', "{", "HAVING"], "nameChar": True,
      "prefixNotFound": False}),
    ("parseServerError", ["the store is busy"], None),
    ("splitList", ["A, [',', 'x'], \"a,b\", B"], ["A", "[',', 'x']", '"a,b"', "B"]),
    ("distance", ["OPTINAL", "OPTIONAL"], 1),
    ("distance", ["FILTRE", "FILTER"], 1),
    ("format", ["{a} and {b} but {c}", {"a": 1, "b": "x"}], "1 and x but {c}"),
]


def test_the_query_checks(open_page, editor_server: str) -> None:  # type: ignore[no-untyped-def]
    page = open_page(editor_server + "/sparql")
    for name, args, expected in CHECKS:
        got = page.evaluate("([name, args]) => window.k2d3QueryCheck[name](...args)",
                            [name, args])
        assert got == expected, (name, args, got)


def test_a_long_query_is_checked_in_linear_time(open_page, editor_server: str) -> None:  # type: ignore[no-untyped-def]
    page = open_page(editor_server + "/sparql")
    timing = page.evaluate("""() => {
        const check = window.k2d3QueryCheck;
        const time = n => {
          const q = 'SELECT * WHERE {' + ' ?s k2d3:p "x" .'.repeat(n) + ' }';
          const t0 = performance.now();
          check.undeclaredPrefixes(q); check.unknownWords(q);
          check.unknownTerms(q, 'https://w3id.org/k2d3/ontology#', []);
          return performance.now() - t0;
        };
        const garbage = n => 'SELECT * WHERE {' + ' blah k2d3:q <https://w3id.org/k2d3/ontology#r>'
          .repeat(n) + ' }';
        time(1000);
        const t0 = performance.now();
        check.unknownWords(garbage(20000), 5);
        check.unknownTerms(garbage(20000), 'https://w3id.org/k2d3/ontology#', [], 5);
        return [time(10000), time(100000), performance.now() - t0];
    }""")
    small, large, garbage = timing
    assert large < 5000 and garbage < 5000, timing
    assert large < max(small, 5) * 30, timing  # 10x the input, well under 100x the time
