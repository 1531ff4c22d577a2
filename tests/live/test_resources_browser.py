"""The linked-data pages in headless Chromium: they render, CSP-clean, hash IRIs land."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


@pytest.fixture()
def page(chromium):  # type: ignore[no-untyped-def]
    context = chromium.new_context()
    page = context.new_page()
    page.errors = []  # type: ignore[attr-defined]
    page.on("console", lambda msg: msg.type == "error" and page.errors.append(msg.text))
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    yield page
    context.close()


def test_home_and_ontology_term_anchor(page, live_server: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(live_server + "/")
    assert page.locator("h1").inner_text().strip()
    page.click("text=Ontology")
    page.goto(live_server + "/ontology#Claim")
    section = page.locator("section#Claim")
    assert section.is_visible()
    assert page.evaluate("document.querySelector(':target').id") == "Claim"
    assert not page.errors, page.errors


def test_source_page_highlights_and_links_to_claims(page, live_server: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(live_server + "/source")
    marks = page.locator("mark")
    assert marks.count() > 0
    first = page.locator("sup.cite a").first
    href = first.get_attribute("href")
    first.click()
    page.wait_for_load_state()
    assert page.url.endswith(href.split("?")[0]) or href in page.url
    assert page.locator("h1").inner_text().strip()
    assert page.locator("blockquote mark").count() > 0
    data = page.evaluate("JSON.parse(document.querySelector("
                         "'script[type=\"application/ld+json\"]').textContent)")
    assert isinstance(data, list) and data
    assert not page.errors, page.errors


def test_chinese_dataset_page(page, live_server: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(live_server + "/dataset?lang=zh")
    assert page.evaluate("document.documentElement.lang") == "zh-Hans"
    assert page.locator("nav[aria-label='站点']").is_visible()
    assert not page.errors, page.errors
