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
KEYWORDS = tuple(_KEYWORD_TEXT.split())

#: One alternative per class, each matching in time linear in what it consumes: the quantifiers
#: are possessive, a string not closed runs to the end of its line, and a run of name
#: characters that is no prefixed name, keyword or number is consumed whole (``w``, left plain)
#: rather than tried again from each of its characters (which took quadratic time).
_TOKEN = re.compile(
    r"(?P<c>#[^\n]*+)"
    r"|(?P<s>\"\"\"(?:[^\"]++|\"(?!\"\"))*+\"\"\"|'''(?:[^']++|'(?!''))*+'''"
    r"|\"(?:[^\"\\\n]++|\\.?)*+(?:\"|$)|'(?:[^'\\\n]++|\\.?)*+(?:'|$))"
    r"|(?P<i><[^<>\"{}|^`\\\s]*+>)"
    r"|(?P<v>[?$][A-Za-z_]\w*+)"
    r"|(?P<p>[A-Za-z][\w.-]*+:[\w.:%-]*+|:[\w.:%-]++)"
    r"|(?P<k>\b(?:" + "|".join(KEYWORDS) + r")\b)"
    r"|(?P<n>\b\d++(?:\.\d++)?\b)"
    r"|(?P<w>[\w.-]++)",
    re.IGNORECASE | re.MULTILINE,
)


def highlight(text: str) -> Markup:
    """The query ``text`` as safe HTML: escaped, with tokens wrapped in ``<span class=...>``."""
    out: list[str] = []
    pos = 0
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or ""
        if kind == "w":
            continue
        out.append(str(escape(text[pos:match.start()])))
        out.append(f'<span class="hl-{kind}">{escape(match.group())}</span>')
        pos = match.end()
    out.append(str(escape(text[pos:])))
    return Markup("".join(out))
