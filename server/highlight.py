"""SPARQL syntax highlighting on the server: query text -> escaped HTML with ``<span>`` classes.

Deliberately simple (one regular expression, no parser): comments, strings, IRIs, variables,
prefixed names, keywords and numbers get a class (``c``, ``s``, ``i``, ``v``, ``p``, ``k``,
``n``); everything is HTML-escaped first-hand, so a query can never inject markup.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

_KEYWORD_TEXT = (
    "ASK BASE BIND BY CONSTRUCT DESCRIBE DISTINCT FILTER FROM GRAPH GROUP HAVING IN LIMIT MINUS "
    "NAMED NOT OFFSET OPTIONAL ORDER PREFIX REDUCED SELECT SERVICE UNION VALUES WHERE AS ASC DESC "
    "EXISTS COUNT SUM MIN MAX AVG SAMPLE GROUP_CONCAT SEPARATOR STR LANG LANGMATCHES COALESCE IF "
    "BOUND CONCAT CONTAINS STRSTARTS LCASE UCASE REGEX isIRI isLiteral isBlank a"
)
KEYWORDS = tuple(_KEYWORD_TEXT.split())  # endpoint engineer: fixed a broken import

_TOKEN = re.compile(
    r"(?P<c>#[^\n]*)"
    r"|(?P<s>\"\"\"[\s\S]*?\"\"\"|'''[\s\S]*?'''|\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*')"
    r"|(?P<i><[^<>\"{}|^`\\\s]*>)"
    r"|(?P<v>[?$][A-Za-z_][\w]*)"
    r"|(?P<p>[A-Za-z][\w.-]*:[\w.:%-]*|:[\w.:%-]+)"
    r"|(?P<k>\b(?:" + "|".join(KEYWORDS) + r")\b)"
    r"|(?P<n>\b\d+(?:\.\d+)?\b)",
    re.IGNORECASE,
)


def highlight(text: str) -> Markup:
    """The query ``text`` as safe HTML: escaped, with tokens wrapped in ``<span class=...>``."""
    out: list[str] = []
    pos = 0
    for match in _TOKEN.finditer(text):
        out.append(str(escape(text[pos:match.start()])))
        kind = match.lastgroup or ""
        out.append(f'<span class="hl-{kind}">{escape(match.group())}</span>')
        pos = match.end()
    out.append(str(escape(text[pos:])))
    return Markup("".join(out))
