"""server/pages/highlight.py, and the prefixes of server/catalogue/canned.py: the endpoint's
lexer read as before, in time linear in the text.

Both used to have a regular expression of their own; now both read the tokens of
``server.sparql.lexer``. The canned queries must come out as they did with the former
expressions (kept below as the reference), and the time must grow linearly: the first
expressions took quadratic time (20,000 letters, or 20,000 blank lines in a query file, took
seconds).
"""

from __future__ import annotations

import gc
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
    assert canned.parse(path.stem, text).prefixes == dict(_FORMER_PREFIX.findall(text))


@pytest.mark.parametrize(("text", "expected"), [
    ("SELECT ?x # ?y\n{ ?x a ex:C ; ex:n 12, 3.5 } LIMIT 7",
     '<span class="hl-k">SELECT</span> <span class="hl-v">?x</span> <span class="hl-c"># ?y'
     '</span>\n{ <span class="hl-v">?x</span> <span class="hl-k">a</span> <span class="hl-p">'
     'ex:C</span> ; <span class="hl-p">ex:n</span> <span class="hl-n">12</span>, <span '
     'class="hl-n">3.5</span> } <span class="hl-k">LIMIT</span> <span class="hl-n">7</span>'),
    ('ASK { <a#b> ?p "x # <y>"@en }',
     '<span class="hl-k">ASK</span> { <span class="hl-i">&lt;a#b&gt;</span> <span class="hl-v">'
     '?p</span> <span class="hl-s">&#34;x # &lt;y&gt;&#34;</span>@en }'),
    ("</script><b>&", '<span class="hl-i">&lt;/script&gt;</span><span class="hl-i">&lt;b&gt;'
     '</span>&amp;'),
])
def test_tokens_get_their_class_and_everything_is_escaped(text: str, expected: str) -> None:
    assert str(highlight(text)) == expected


def _seconds(work: Callable[[str], object], text: str, runs: int = 3) -> float:
    """The least CPU time of this thread over ``runs`` calls, the garbage collector off (a
    collection of earlier garbage would count as this thread's time)."""
    best = float("inf")
    gc.collect()
    gc.disable()
    try:
        for _ in range(runs):
            started = time.thread_time()
            work(text)
            best = min(best, time.thread_time() - started)
    finally:
        gc.enable()
    return best


@pytest.mark.parametrize("unit", ["a", "a.", "'\\", '"""\\', "<a", "1.", "# c\n"],
                         ids=["letters", "names", "quote", "long", "iri", "numbers", "comments"])
def test_highlighting_takes_time_linear_in_the_text(unit: str) -> None:
    """From 10^4 to 10^6 characters, ten times the text takes at most ~20 times as long (a
    quadratic highlighter takes 100 times as long)."""
    times = {size: _seconds(highlight, unit * (size // len(unit)), 5 if size < 10**6 else 1)
             for size in (10_000, 100_000, 1_000_000)}
    for small, large in ((10_000, 100_000), (100_000, 1_000_000)):
        # 20x and 10 ms of slack: under CI's load a thread's own CPU time still varies (CI once
        # measured 15.6x for IRIs that take 10-12x run alone)
        assert times[large] <= 20 * times[small] + 0.01, (repr(unit), times)


@pytest.mark.parametrize(("work", "unit"), [
    (lambda text: canned.parse("q", "#+ title: q\nPREFIX a: <x>" + text + "ASK {}"), "\n"),
    (lambda text: canned.parse("q", "#+ title: q\nPREFIX a: <x>" + text + "ASK {}"), " "),
    (lambda text: canned.query_kind("SELECT * {}" + text), "'\\"),
], ids=["blank-lines", "spaces", "kind-quote"])
def test_time_grows_linearly(work: Callable[[str], object], unit: str) -> None:
    small, large = (_seconds(work, unit * (size // len(unit)), 5) for size in (10_000, 100_000))
    assert large <= 20 * small + 0.01, (small, large)
