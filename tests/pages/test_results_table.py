"""server/pages/results_table.py and the query pages: headers in words, pages, quotations
translated."""

from __future__ import annotations

import html
import re

import pytest
from pyoxigraph import Literal

from server.catalogue import canned
from server.pages import results_table as rt


@pytest.mark.parametrize("total, number, size, expected", [
    (0, None, None, (1, 50, 1, 0, 0)),
    (120, None, None, (1, 50, 3, 0, 50)),
    (120, "3", None, (3, 50, 3, 100, 120)),
    (120, "9", "50", (3, 50, 3, 100, 120)),  # past the end: the last page
    (120, "2", "5000", (1, 1000, 1, 0, 120)),  # the size is capped
])
def test_page(total: int, number: str | None, size: str | None,
              expected: tuple[int, int, int, int, int]) -> None:
    p = rt.page(total, number, size)
    assert (p.number, p.size, p.pages, p.first, p.last) == expected


@pytest.mark.parametrize("number, size", [("0", None), ("x", None), (None, "-1"), (None, "1.5")])
def test_page_refuses_what_is_not_a_page(number: str | None, size: str | None) -> None:
    with pytest.raises(ValueError):
        rt.page(10, number, size)


def test_a_list_of_iris_is_read_as_iris_and_nothing_else_is() -> None:
    assert rt._iri_list(Literal("https://a.org/x http://b.org/y")) == [
        "https://a.org/x", "http://b.org/y"]
    assert rt._iri_list(Literal("see https://a.org/x")) == []
    assert rt._iri_list(Literal("")) == []


def test_every_column_of_every_canned_query_has_words_in_both_languages(store) -> None:  # type: ignore[no-untyped-def]
    from server.catalogue import params as canned_params
    from server.sparql.execute import Limits, run_query
    for query in canned.catalogue():
        subs = canned_params.bind(query, {}, store)
        result = run_query(store, query.text, Limits(timeout_s=10, max_rows=10), substitutions=subs)
        names = result.variables if result.kind == "select" else (
            ["subject", "predicate", "object"] if result.kind == "graph" else [])
        for name in names:
            for lang in ("en", "zh"):
                assert canned.column_label(name, lang) != name, (query.name, name, lang)


@pytest.fixture(scope="module")
def store(built_store):  # type: ignore[no-untyped-def]
    from server.rdf.store import StoreReader
    return StoreReader(built_store).get()


def test_long_answers_are_paged_with_their_total(client) -> None:  # type: ignore[no-untyped-def]
    first = client.get("/queries/author-positions?size=20").get_data(as_text=True)
    total = int(re.search(r"(\d+) results in", first).group(1))  # type: ignore[union-attr]
    assert total > 40
    assert first.count("<tr><td") == 20 and f"rows 1 to 20 of {total}" in first
    assert 'rel="next" href="?size=20&amp;page=2"' in first and 'rel="prev"' not in first
    last = client.get(f"/queries/author-positions?size=20&page={-(-total // 20)}")
    text = last.get_data(as_text=True)
    assert text.count("<tr><td") == total - 20 * (total // 20 if total % 20 else total // 20 - 1)
    assert 'rel="next"' not in text and 'rel="prev"' in text


def test_a_page_that_is_not_a_number_is_a_400(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/queries/author-positions?page=two")
    assert page.status_code == 400 and b"whole numbers" in page.data


def test_english_pages_translate_quotations_and_say_so(client) -> None:  # type: ignore[no-untyped-def]
    text = html.unescape(client.get("/queries/evidence-gaps").get_data(as_text=True))
    assert '<blockquote class="quote" lang="zh">然而,迄今为止,尚无高质量的 RCT' in text
    assert "Translation (k2d3 curators):" in text
    assert "However, to date no high-quality RCT has shown" in text
    chinese = html.unescape(client.get("/queries/evidence-gaps?lang=zh").get_data(as_text=True))
    assert "然而,迄今为止" in chinese and "However, to date" not in chinese


def test_headers_are_words_not_variables(client) -> None:  # type: ignore[no-untyped-def]
    en = client.get("/queries/verdict").get_data(as_text=True)
    zh = client.get("/queries/verdict?lang=zh").get_data(as_text=True)
    assert '<th scope="col" title="?limitedTo">Limited to</th>' in en or "Limited to" in en
    assert '<th scope="col" title="?verdict">Verdict</th>' in en
    assert '<th scope="col" title="?verdict">结论</th>' in zh


def test_verdict_opens_with_the_answer_and_explains_its_badges(client) -> None:  # type: ignore[no-untyped-def]
    text = html.unescape(client.get("/queries/verdict").get_data(as_text=True))
    answer = text[text.index('<section class="answer"'):text.index('aria-labelledby="results"')]
    # from the article: fractures unclear, a large high-quality RCT missing; routine use not
    # supported
    assert "Fractures: uncertain" in answer
    assert "large, high-quality randomized controlled trial" in answer
    assert "Routine use in the general population: unsupported marketing claim" in answer
    assert "especially in postmenopausal women and older adults" in answer
    assert "limited to postmenopausal women with osteoporosis or low bone mass" in answer
    assert text.index('<section class="answer"') < text.index("<table")
    legend = text[text.index('<section class="legend"'):]
    assert "badge-verdict-uncertain" in legend and "badge-certainty-very-low" in legend
    assert "neither shown nor ruled out" in legend


def test_the_home_page_answers_first_in_both_languages(client) -> None:  # type: ignore[no-untyped-def]
    en = html.unescape(client.get("/").get_data(as_text=True))
    zh = html.unescape(client.get("/?lang=zh").get_data(as_text=True))
    assert "Fractures: uncertain" in en and 'href="/queries/verdict"' in en
    assert "骨折:尚不明确" in zh and "在普通人群中常规使用:缺乏证据的营销说法" in zh
