"""The query editor in headless Chromium: YASGUI loads from this server (no CDN, under the
page's CSP), lists the canned queries, and runs a query against the endpoint."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from endpoint_fixtures import fresh_store, serve

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def editor_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve(fresh_store(tmp_path_factory.mktemp("yasgui"))) as (url, _):
        yield url


def test_yasgui_runs_a_query(chromium, editor_server: str) -> None:  # type: ignore[no-untyped-def]
    page = chromium.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url)
            if not r.url.startswith(editor_server) and not r.url.startswith("data:") else None)
    page.goto(editor_server + "/sparql")
    page.wait_for_selector(".yasgui .CodeMirror", timeout=15000)
    assert page.locator("button.k2d3-example").count() == 2
    page.locator("button.k2d3-example", has_text="Count the types").click()
    page.wait_for_function("() => window.k2d3Yasgui.getTab().getQuery().includes('COUNT')")
    page.locator(".yasqe_queryButton").last.click()
    page.wait_for_selector(".yasr table.dataTable td", timeout=15000)
    cells = page.locator(".yasr table.dataTable td").all_inner_texts()
    assert any("Document" in c for c in cells), cells
    assert not outside, outside
    assert not [p for p in problems if "Content Security Policy" in p], problems
    page.close()
