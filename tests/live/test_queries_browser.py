"""The /queries pages in headless Chromium against the real server (``live_server``).

Load the catalogue, search it, open a query, fill a parameter, submit, see the right rows,
follow a result link, download CSV; the evidence map shows as SVG without JavaScript.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ID = "https://w3id.org/k2d3/id/"


@pytest.fixture()
def page(chromium):  # type: ignore[no-untyped-def]
    context = chromium.new_context(accept_downloads=True, locale="en-GB")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, errors


def test_search_then_open_a_query(page, live_server: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(live_server + "/queries")
    assert page.locator("h1").inner_text() == "Canned queries"
    page.get_by_label("Search the queries").fill("warfarin")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**/queries?q=warfarin")
    links = page.locator("ul.catalogue a")
    assert links.count() >= 1
    page.get_by_role("link", name="Which drugs interact with vitamin K").click()
    page.wait_for_url("**/queries/drug-interactions")
    table = page.locator("table.results")
    assert "warfarin" in table.inner_text()
    assert "blood clots (thrombosis)" in table.inner_text()


def test_fill_a_parameter_submit_and_follow_a_result(page, live_server: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(live_server + "/queries/claims-about")
    page.get_by_label("Outcome or object").select_option(label="fractures")
    page.get_by_role("button", name="Run").click()
    page.wait_for_url("**/queries/claims-about?*outcome=*fractures*")
    assert "1 results in" in page.locator("p.count").inner_text()
    rows = page.locator("table.results tbody tr")
    assert rows.count() == 1
    assert "combined vitamin D3 and K2 supplementation" in rows.first.inner_text()
    assert page.get_by_label("Outcome or object").input_value() == ID + "fractures"
    page.locator("table.results tbody tr").first.get_by_role(
        "link", name="combined vitamin D3 and K2 supplementation").click()
    page.wait_for_url("**/id/d3-k2-combination")
    assert "combined vitamin D3 and K2 supplementation" in page.locator("h1").inner_text()


def test_download_csv(page, live_server: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(live_server + "/queries/deficiency-symptoms-diagnosis")
    with page.expect_download() as info:
        page.get_by_role("link", name="CSV").click()
    text = Path(info.value.path()).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {r["item"] for r in rows} >= {ID + "easy-bruising", ID + "prothrombin-time"}


def test_evidence_map_shows_without_javascript(chromium, live_server: str) -> None:  # type: ignore[no-untyped-def]
    context = chromium.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server + "/queries/evidence-map")
    svg = page.locator("figure.svg svg").first
    assert svg.is_visible()
    box = svg.bounding_box()
    assert box is not None and box["width"] > 400 and box["height"] > 200
    page.get_by_label("Population").select_option(label="postmenopausal women")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**population=*postmenopausal-women*")
    assert "fractures" not in (page.locator("figure.svg svg").first.text_content() or "")
    assert "bone mineral density" in (page.locator("figure.svg svg").first.text_content() or "")
    context.close()


def test_chinese_page(page, live_server: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(live_server + "/queries/vitamin-k-proteins?lang=zh")
    assert "维生素 K 激活哪些蛋白质" in page.locator("h1").inner_text()
    assert "骨钙素" in page.locator("table.results").inner_text()


def test_open_in_the_editor_opens_the_editor_with_the_query(page, live_server: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(live_server + "/queries/verdict")
    page.get_by_role("link", name="Open in the query editor").click()
    page.wait_for_url("**/sparql#query=*")
    page.wait_for_function("() => document.querySelector('.CodeMirror') !== null")
    text = page.evaluate("() => document.querySelector('.CodeMirror').CodeMirror.getValue()")
    assert "?routineUseFor" in text  # the verdict query, loaded from the link
