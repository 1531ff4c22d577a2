"""The reader's pages in Debian's Chromium at a desktop and a phone width, in both languages.

Against the real server (``live_server``): the answer is visible on the first screen, no page
scrolls sideways at 390 px, Chinese text is drawn with a CJK font (not boxes), badges and their
legend show, long answers page, quotations carry their translation on English pages only.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
PAGES = ["/", "/queries/verdict", "/queries/author-positions", "/queries/d3-k2-evidence",
         "/id/claim-d3-k2-fractures", "/source", "/search?q=fracture", "/queries",
         "/queries/evidence-map", "/openapi"]


@pytest.fixture(params=[(v, lang) for v in VIEWPORTS for lang in ("en", "zh")],
                ids=lambda p: f"{p[0]}-{p[1]}")
def page(request, chromium):  # type: ignore[no-untyped-def]
    viewport, lang = request.param
    context = chromium.new_context(viewport=VIEWPORTS[viewport],
                                   locale="zh-CN" if lang == "zh" else "en-GB")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.k2d3 = {"viewport": viewport, "lang": lang}  # type: ignore[attr-defined]
    yield page
    context.close()
    assert not errors, errors


def _url(base: str, path: str, lang: str) -> str:
    return base + path + (("&" if "?" in path else "?") + "lang=zh" if lang == "zh" else "")


@pytest.mark.parametrize("path", PAGES)
def test_no_page_scrolls_sideways(page, live_server: str, path: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(_url(live_server, path, page.k2d3["lang"]))
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"{path} is {overflow} px wider than the window"


def test_the_answer_is_on_the_first_screen(page, live_server: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(_url(live_server, "/", page.k2d3["lang"]))
    first = page.locator("ul.answer li").first
    box = first.bounding_box()
    assert box is not None and box["y"] + box["height"] <= page.viewport_size["height"]
    expected = "骨" if page.k2d3["lang"] == "zh" else "Bone"
    assert expected in page.locator("ul.answer").inner_text()


def test_badges_have_a_legend(page, live_server: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(_url(live_server, "/queries/verdict", page.k2d3["lang"]))
    badge = page.locator("table.results a.badge-verdict-uncertain").first
    assert badge.is_visible()
    colour = badge.evaluate("e => getComputedStyle(e).backgroundColor")
    assert colour not in ("rgba(0, 0, 0, 0)", "transparent")
    legend = page.locator("section.legend")
    assert legend.locator(".badge-verdict-uncertain").count() == 1
    assert legend.locator(".badge-certainty-very-low").count() == 1


def test_long_answers_page(page, live_server: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(_url(live_server, "/queries/author-positions?size=20", page.k2d3["lang"]))
    assert page.locator("table.results tbody tr").count() == 20
    page.locator("nav.pages a[rel=next]").click()
    page.wait_for_url("**page=2**")
    assert page.locator("table.results tbody tr").count() == 20


def test_quotations_carry_a_translation_only_in_english(page, live_server: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(_url(live_server, "/queries/evidence-gaps", page.k2d3["lang"]))
    quote = page.locator("blockquote.quote").first
    assert quote.is_visible()
    glosses = page.locator("blockquote.quote .gloss")
    if page.k2d3["lang"] == "en":
        assert glosses.count() >= 1 and glosses.first.is_visible()
    else:
        assert glosses.count() == 0


def test_chinese_is_drawn_with_a_cjk_font(chromium, live_server: str) -> None:  # type: ignore[no-untyped-def]
    """Chromium reports the fonts it used for a node (CDP CSS.getPlatformFontsForNode)."""
    context = chromium.new_context(locale="zh-CN")
    page = context.new_page()
    page.goto(live_server + "/?lang=zh")
    cdp = context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "h1"})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    context.close()
    cjk = [f for f in fonts if "CJK" in f["familyName"] or "CJK" in f.get("postScriptName", "")]
    assert cjk and sum(f["glyphCount"] for f in cjk) >= 10, fonts


def test_the_verdict_page_opens_with_the_answer(page, live_server: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(_url(live_server, "/queries/verdict", page.k2d3["lang"]))
    first = page.locator("ul.answer li").first.bounding_box()
    assert first is not None and first["y"] < page.viewport_size["height"]


#: The rendered boxes of the mechanism's edge labels and nodes, as drawn by the browser.
_DRAWN_BOXES = """() => {
  const svg = document.querySelector('svg[aria-labelledby=mech-title]');
  const box = e => { const r = e.getBoundingClientRect();
                     return [r.left, r.top, r.right, r.bottom, e.textContent.trim()]; };
  return {labels: [...svg.querySelectorAll('g.edge-label text')].map(box),
          nodes: [...svg.querySelectorAll('rect[rx="6"]')].map(box)};
}"""


def test_evidence_map_text_stays_readable_and_apart(page, live_server: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(_url(live_server, "/queries/evidence-map", page.k2d3["lang"]))
    size = page.locator("figure.svg svg text").first.evaluate(
        "e => e.getBoundingClientRect().height")
    assert size >= 10, f"map text is {size} px high: too small to read"
    drawn = page.evaluate(_DRAWN_BOXES)
    assert len(drawn["labels"]) >= 5

    def overlap(a: list, b: list) -> bool:  # type: ignore[type-arg]
        return a[0] < b[2] - 1 and b[0] < a[2] - 1 and a[1] < b[3] - 1 and b[1] < a[3] - 1

    for i, label in enumerate(drawn["labels"]):
        assert not any(overlap(label, node) for node in drawn["nodes"]), label[4]
        assert not any(overlap(label, other) for other in drawn["labels"][i + 1:]), label[4]


def test_search_finds_entities_claims_and_queries(page, live_server: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(_url(live_server, "/", page.k2d3["lang"]))
    page.locator("nav a[href*='/search']").first.click()
    box = page.locator("form.search input[name=q]")
    box.fill("fracture" if page.k2d3["lang"] == "en" else "骨折")
    box.press("Enter")
    page.wait_for_url("**/search?q=*")
    links = page.locator("main a").evaluate_all("as => as.map(a => a.getAttribute('href'))")
    assert any(h.startswith("/id/fractures") for h in links), links
    assert any(h.startswith("/id/claim-d3-k2-fractures") for h in links), links
    assert any(h.startswith("/queries/verdict") for h in links), links
