"""SPARQL syntax highlighting on the server: query text -> escaped HTML with ``<span>`` classes.

The tokens are the endpoint's own (:func:`server.sparql.lexer.spans`, the lexer of the
pre-check, linear in the text), so a query page shows a query as the server reads it; this
module only names their classes: comments, strings, IRIs, variables, prefixed names, keywords
and numbers get ``c``, ``s``, ``i``, ``v``, ``p``, ``k``, ``n``; other names and punctuation
stay plain. Everything is HTML-escaped, so a query can never inject markup.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from server.sparql.lexer import spans

_KEYWORD_TEXT = (
    "ASK BASE BIND BY CONSTRUCT DESCRIBE DISTINCT FILTER FROM GRAPH GROUP HAVING IN LIMIT MINUS "
    "NAMED NOT OFFSET OPTIONAL ORDER PREFIX REDUCED SELECT SERVICE UNION VALUES WHERE AS ASC DESC "
    "EXISTS COUNT SUM MIN MAX AVG SAMPLE GROUP_CONCAT SEPARATOR STR LANG LANGMATCHES COALESCE IF "
    "BOUND CONCAT CONTAINS STRSTARTS LCASE UCASE REGEX isIRI isLiteral isBlank a"
)
#: The words shown as keywords (any case): the query forms, clauses and the functions the
#: canned queries use.
KEYWORDS = tuple(_KEYWORD_TEXT.split())
_KEYWORDS_UPPER = frozenset(k.upper() for k in KEYWORDS)
#: The class of each kind of token the lexer gives, words aside.
_CLASSES = {"comment": "c", "string": "s", "iri": "i", "var": "v", "number": "n"}


def _class(kind: str, value: str) -> str | None:
    """The highlighting class of a token, or None to leave it plain."""
    if kind == "word":
        if ":" in value:
            return "p"
        return "k" if value.upper() in _KEYWORDS_UPPER else None
    return _CLASSES.get(kind)


def highlight(text: str) -> Markup:
    """The query ``text`` as safe HTML: escaped, with tokens wrapped in ``<span class=...>``."""
    out: list[str] = []
    pos = 0
    for kind, start, end in spans(text):
        value = text[start:end]
        name = _class(kind, value)
        if name is None:
            continue
        out.append(str(escape(text[pos:start])))
        out.append(f'<span class="hl-{name}">{escape(value)}</span>')
        pos = end
    out.append(str(escape(text[pos:])))
    return Markup("".join(out))
