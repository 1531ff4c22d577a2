"""/search: names in both languages (labels, alternative and hidden labels) and the catalogue."""

from __future__ import annotations

import pytest

#: (text, a resource that must be found by its label, a canned query that must be found)
CASES = [
    ("fracture", "https://w3id.org/k2d3/id/fractures", "verdict"),
    ("骨折", "https://w3id.org/k2d3/id/fractures", None),
    ("抗凝药", "https://w3id.org/k2d3/id/vitamin-k-antagonists", None),  # a hidden label
    ("menaquinone", "https://w3id.org/k2d3/id/vitamin-k2", None),  # an alternative label
    ("华法林", "https://w3id.org/k2d3/id/warfarin", "vka-and-d3-k2-product"),
    ("Warfarin", "https://w3id.org/k2d3/id/warfarin", None),  # case folded
    ("postmenopausal women", "https://w3id.org/k2d3/id/pop-postmenopausal-women",
     "claims-by-population"),
    ("fractures general population", "https://w3id.org/k2d3/id/claim-d3-k2-fractures", None),
]


@pytest.mark.parametrize("text, resource, query", CASES, ids=[c[0] for c in CASES])
def test_search_finds_by_any_name(client, text: str, resource: str,  # type: ignore[no-untyped-def]
                                  query: str | None) -> None:
    found = client.get("/search", query_string={"q": text, "format": "json"}).get_json()
    assert resource in [r["iri"] for r in found["resources"]]
    if query:
        assert query in [q["name"] for q in found["queries"]]


def test_an_exact_name_comes_first(client) -> None:  # type: ignore[no-untyped-def]
    found = client.get("/search?q=fractures&format=json").get_json()
    assert found["resources"][0]["iri"] == "https://w3id.org/k2d3/id/fractures"
    assert found["resources"][0]["href"] == "/id/fractures"


def test_parts_of_quotations_are_not_results(client) -> None:  # type: ignore[no-untyped-def]
    found = client.get("/search?q=quotation&format=json").get_json()
    assert not [r for r in found["resources"] if r["iri"].endswith(("-target", "-selector"))]


def test_query_syntax_in_the_text_is_only_text(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/search", query_string={"q": '") } SELECT * { ?s ?p ?o', "format": "json"})
    assert page.status_code == 200 and page.get_json()["resources"] == []


def test_search_page_in_chinese_links_locally(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/search?q=骨折&lang=zh").get_data(as_text=True)
    assert "<h1>搜索图谱</h1>" in html and 'href="/id/fractures?lang=zh"' in html


def test_too_long_a_search_is_refused_with_the_limit(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/search", query_string={"q": "x" * 201})
    assert page.status_code == 400 and b"at most 200" in page.data


def test_the_catalogue_search_finds_the_verdict_from_fracture(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/queries?q=fracture").get_data(as_text=True)
    assert 'href="/queries/verdict"' in html
