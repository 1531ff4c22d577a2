"""server/pages/highlight.py and the regular expressions of server/catalogue/canned.py: linear in
the text.

Both read only the repository's own query files, but a regular expression that re-reads a run
from each of its characters has no place in a server: the former ones took quadratic time
(20,000 letters, or 20,000 blank lines in a query file, took seconds). The canned queries
must come out as they did with the former expressions (kept below as the reference).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest

from server import paths
from server.catalogue import canned
from server.pages.highlight import KEYWORDS, highlight

_FORMER = re.compile(
    r"(?P<c>#[^\n]*)"
    r"|(?P<s>\"\"\"[\s\S]*?\"\"\"|'''[\s\S]*?'''|\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*')"
    r"|(?P<i><[^<>\"{}|^`\\\s]*>)"
    r"|(?P<v>[?$][A-Za-z_][\w]*)"
    r"|(?P<p>[A-Za-z][\w.-]*:[\w.:%-]*|:[\w.:%-]+)"
    r"|(?P<k>\b(?:" + "|".join(KEYWORDS) + r")\b)"
    r"|(?P<n>\b\d+(?:\.\d+)?\b)",
    re.IGNORECASE,
)
_FORMER_PREFIX = re.compile(r"^\s*PREFIX\s+([\w.-]*):\s*<([^>]*)>", re.IGNORECASE | re.MULTILINE)


def _spans(pattern: re.Pattern[str], text: str) -> list[tuple[str | None, str]]:
    return [(m.lastgroup, m.group()) for m in pattern.finditer(text)]


QUERY_FILES = sorted(paths.queries_dir().glob("*.rq"))


@pytest.mark.parametrize("path", QUERY_FILES, ids=[p.stem for p in QUERY_FILES])
def test_canned_queries_read_as_before(path) -> None:  # type: ignore[no-untyped-def]
    text = path.read_text(encoding="utf-8")
    html = str(highlight(text))
    for kind, value in _spans(_FORMER, text):
        assert f'<span class="hl-{kind}">' in html, (kind, value)
    assert html.count("<span") == len(_spans(_FORMER, text))
    assert canned._PREFIX.findall(text) == _FORMER_PREFIX.findall(text)


def _seconds(work: Callable[[str], object], text: str) -> float:
    best = float("inf")
    for _ in range(3):
        started = time.thread_time()
        work(text)
        best = min(best, time.thread_time() - started)
    return best


@pytest.mark.parametrize(("work", "unit"), [
    (highlight, "a"), (highlight, "a."), (highlight, "'\\"), (highlight, '"\\'),
    (highlight, '"""\\'), (highlight, "<a"), (highlight, "1."),
    (lambda text: canned._PREFIX.findall(text), "\n"),
    (lambda text: canned._PREFIX.findall(text), " "),
    (lambda text: canned.query_kind("SELECT * {}" + text), "'\\"),
], ids=["letters", "dotted", "quote", "dquote", "long", "iri", "digits", "blank-lines",
        "spaces", "kind-quote"])
def test_time_grows_linearly(work: Callable[[str], object], unit: str) -> None:
    small, large = (_seconds(work, unit * (size // len(unit))) for size in (10_000, 100_000))
    assert large <= 15 * small + 0.005, (small, large)
