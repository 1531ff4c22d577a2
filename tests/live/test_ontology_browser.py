"""The ontology page in headless Chromium against the real server, at 1280 px and 390 px, in
English and Chinese: namespaces on top, the licence named, k2d3: names in the class tree,
definitions marked with their language, metadata readable on a phone (no sideways scroll)."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.browser

VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


@pytest.fixture()
def ontology_page(chromium):  # type: ignore[no-untyped-def]
    contexts = []

    def opener(url: str, viewport: str) -> Any:
        context = chromium.new_context(viewport=VIEWPORTS[viewport])
        contexts.append(context)
        page = context.new_page()
        page.problems = []
        page.on("console", lambda m: page.problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: page.problems.append(str(e)))
        page.goto(url)
        return page

    yield opener
    for context in contexts:
        context.close()


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_ontology_page_reads_on_desktop_and_phone(ontology_page, live_server: str,  # type: ignore[no-untyped-def]
                                                      viewport: str, lang: str) -> None:
    page = ontology_page(f"{live_server}/ontology?lang={lang}", viewport)
    width = VIEWPORTS[viewport]["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    # Namespaces come before the metadata and the tree, with k2d3's own first.
    first_row = page.locator("table.namespaces tbody tr").first.locator("td").all_inner_texts()
    assert first_row == ["k2d3:", "https://w3id.org/k2d3/ontology#"]
    tops = [page.locator(f"#{s}").bounding_box()["y"] for s in ("namespaces", "metadata",
                                                                 "hierarchy")]
    assert tops == sorted(tops)
    table = page.locator("table.namespaces").bounding_box()
    assert table["x"] + table["width"] <= width
    licence = page.locator("p.licence a")
    assert licence.inner_text().strip() == "CC BY 4.0"
    assert licence.get_attribute("href") == "https://creativecommons.org/licenses/by/4.0/"
    # Every class in the tree shows its CURIE beside its label.
    claim = page.locator("#hierarchy li", has=page.locator("code.curie", has_text="k2d3:Claim"))
    assert claim.first.locator("code.curie").first.is_visible()
    # Metadata: label and value side by side on a desktop, stacked on a phone.
    term = page.locator("dl.metadata dt").first.bounding_box()
    value = page.locator("dl.metadata dd").first.bounding_box()
    if viewport == "phone":
        assert value["y"] >= term["y"] + term["height"] - 1 and value["x"] == term["x"]
    else:
        assert value["x"] > term["x"] + term["width"]
    for dd in page.locator("dl.metadata dd").all():
        box = dd.bounding_box()
        assert box["x"] + box["width"] <= width
    # Every term has a definition in both languages: each page shows its own, unmarked.
    definition = page.locator("section#Claim dd.definition")
    assert definition.get_attribute("lang") == lang
    assert definition.locator("small.tag").count() == 0
    assert page.locator("dd.definition small.tag").count() == 0
    assert not page.problems, page.problems
