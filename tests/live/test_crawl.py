"""Crawl the live server from its home page: no broken link, no page without a label.

Follows every same-origin link of every HTML page (breadth first); RDF alternates are fetched
but not parsed for links. Checks: status 200; every HTML page has a non-empty ``<title>`` and
``<h1>``; every resource page under ``/id/`` shows a label of its own from the graph; no link
leaves for the base IRI's host while the server runs elsewhere (the base is w3id.org here).
"""

from __future__ import annotations

from collections import deque
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlparse

import requests

from server.rdf.namespaces import Namespaces

MAX_PAGES = 3000
SKIP_PREFIXES = ("/sparql", "/static/")


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.title = ""
        self.h1 = ""
        self.labelled: str | None = None
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag in ("a", "link") and attributes.get("href"):
            self.links.append(attributes["href"])  # type: ignore[arg-type]
        if tag in ("title", "h1") and self._in is None:
            self._in = tag
        if tag == "h1" and "data-labelled" in attributes:
            self.labelled = attributes["data-labelled"]

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "title":
            self.title += data
        elif self._in == "h1":
            self.h1 += data


def test_crawl(live_server: str) -> None:
    origin = urlparse(live_server).netloc
    base = Namespaces().base
    queue, problems = deque([live_server + "/"]), []
    seen = {live_server + "/": "(start)"}  # url -> the page that first linked to it
    pages = 0
    while queue and pages < MAX_PAGES:
        url = queue.popleft()
        response = requests.get(url, headers={"Accept": "text/html"}, timeout=60)
        pages += 1
        if response.status_code != 200:
            problems.append(f"{response.status_code} {url} (linked from {seen[url]})")
            continue
        if not response.headers.get("Content-Type", "").startswith("text/html"):
            continue
        page = Page()
        page.feed(response.text)
        path = urlparse(url).path
        if not page.title.strip() or not page.h1.strip():
            problems.append(f"no title or h1: {url}")
        if path.startswith("/id/") and page.labelled != "yes":
            problems.append(f"no label in the graph: {url} ({page.h1.strip()})")
        for href in page.links:
            if href.startswith(base):
                problems.append(f"link to the base IRI instead of this server: {href} on {url}")
            target = urldefrag(urljoin(url, href))[0]
            parsed = urlparse(target)
            if parsed.netloc != origin or parsed.path.startswith(SKIP_PREFIXES):
                continue
            if "lang=zh" in parsed.query and "lang=zh" not in url and path != "/":
                continue  # the Chinese pages are crawled from the home page's switch only
            if target not in seen:
                seen[target] = url
                queue.append(target)
    assert pages > 20
    assert not problems, "\n".join(problems[:50])
