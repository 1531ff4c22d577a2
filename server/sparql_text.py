"""A SPARQL lexer, enough to see the keywords that change what a request may do.

pyoxigraph parses and runs a query in one call and exposes no algebra, yet the server must know
before running it whether the text uses ``SERVICE`` or ``LOAD`` (which make pyoxigraph fetch a
URL), names a dataset with ``FROM`` / ``FROM NAMED`` (pyoxigraph's union-default-graph flag
would override it) or ``USING`` / ``WITH`` (which conflict with ``using-graph-uri``). Tokenising
per the SPARQL 1.1 grammar's terminals (https://www.w3.org/TR/sparql11-query/#grammar) is
exact for that: a keyword inside a string literal, an IRI, a comment, a variable or a prefixed
name is not a keyword token. Codepoint escapes are undone first, as the grammar prescribes
(https://www.w3.org/TR/sparql11-query/#codepointEscape).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\n\r]*)
  | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
               |'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*")
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<var>[?$][\w\u00B7\u0300-\u036F\u203F-\u2040]+)
  | (?P<word>(?:[^\W\d]|_)?[\w\-.\u00B7]*:(?:\\.|[\w\-.:%\u00B7])*|[^\W\d][\w\-]*)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True)
class Token:
    kind: str
    """``string``, ``iri``, ``var``, ``word`` (keywords and prefixed names) or ``other``."""
    text: str
    depth: int
    """How many ``{`` are open before this token."""
    start: int


def unescape(text: str) -> str:
    """Undo ``\\uHHHH`` and ``\\UHHHHHHHH`` codepoint escapes."""
    return _ESCAPE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), text)


#: Texts up to this many characters are cached (by text) with what is read from them; a cache
#: of longer ones would let a client fill the memory with a few hundred large requests.
CACHE_TEXT_LIMIT = 64 * 1024


@lru_cache(maxsize=512)
def _cached_scan(text: str) -> tuple[Token, ...]:
    return tuple(_scan(text))


def tokens(text: str) -> list[Token]:
    """Split SPARQL text into tokens (whitespace and comments dropped); cached by text."""
    return list(_cached_scan(text) if len(text) <= CACHE_TEXT_LIMIT else _scan(text))


def _scan(text: str) -> list[Token]:
    out: list[Token] = []
    depth = 0
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup or "other"
        if kind in {"ws", "comment"}:
            continue
        value = m.group()
        if value == "}":
            depth = max(0, depth - 1)
        out.append(Token(kind, value, depth, m.start()))
        if value == "{":
            depth += 1
    return out


@dataclass(frozen=True)
class Outline:
    """What the server reads from a query's or update's text before running it."""

    form: str | None
    """:func:`query_form`."""
    keywords: frozenset[str]
    """:func:`keywords`."""
    problem: str | None
    """:func:`too_complex`."""
    fetched: tuple[str | None, ...]
    """:func:`fetched_iris`."""
    prefixes: tuple[tuple[str, str], ...]
    """:func:`output_prefixes`, as pairs."""
    limit: int | None = None
    """:func:`top_limit`."""


def outline(text: str) -> Outline:
    """The :class:`Outline` of a request's text (codepoint escapes undone); cached by text."""
    return _cached_outline(text) if len(text) <= CACHE_TEXT_LIMIT else _outline(text)


@lru_cache(maxsize=512)
def _cached_outline(text: str) -> Outline:
    return _outline(text)


def _outline(text: str) -> Outline:
    plain = unescape(text)
    toks = tokens(plain)
    words = frozenset(keywords(toks))
    fetched = tuple(fetched_iris(toks)) if {"SERVICE", "LOAD"} & words else ()
    return Outline(query_form(toks), words, too_complex(toks), fetched,
                   tuple(output_prefixes(toks).items()), top_limit(plain, toks))


_INTEGER = re.compile(r"\s*([0-9]+)")


def top_limit(text: str, toks: list[Token]) -> int | None:
    """The query's own ``LIMIT`` (outside any braces, so not a subquery's), if it has one.

    The most solutions the query can give: in SPARQL the final ``LIMIT`` applies after
    everything else, a trailing ``VALUES`` included
    (https://www.w3.org/TR/sparql11-query/#convertSolMod).
    """
    for tok in reversed(toks):
        if tok.kind == "word" and tok.depth == 0 and tok.text.upper() == "LIMIT":
            found = _INTEGER.match(text, tok.start + len(tok.text))
            return int(found.group(1)) if found else None
    return None


def keywords(toks: list[Token]) -> set[str]:
    """The upper-cased bare words (keywords) among ``toks``."""
    return {t.text.upper() for t in toks if t.kind == "word" and ":" not in t.text}


def prefixes(toks: list[Token]) -> dict[str, str]:
    """``PREFIX p: <iri>`` declarations, by prefix (without the colon)."""
    out = {}
    for i, tok in enumerate(toks[:-2]):
        if tok.kind == "word" and tok.text.upper() == "PREFIX" and toks[i + 2].kind == "iri":
            out[toks[i + 1].text.rstrip(":")] = toks[i + 2].text[1:-1]
    return out


#: SPARQL's PN_PREFIX, near enough to keep a declared prefix out of RDF output when it is not one.
_PN_PREFIX = re.compile(r"(?:[^\W\d_](?:[\w\-.\u00B7]*[\w\-\u00B7])?)?")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")


def output_prefixes(toks: list[Token]) -> dict[str, str]:
    """The query's own prefixes that a Turtle or RDF/XML writer can declare as they stand.

    A relative namespace (resolved against ``BASE`` by the query parser) or a prefix name the
    lexer let through but the grammar does not allow is left out: it would only make the
    output unreadable.
    """
    return {name: iri for name, iri in prefixes(toks).items()
            if _PN_PREFIX.fullmatch(name) and _SCHEME.match(iri)}


def fetched_iris(toks: list[Token]) -> list[str | None]:
    """The addresses ``SERVICE`` and ``LOAD`` would fetch (``None``: not known before running).

    A variable after ``SERVICE``, a relative IRI or an unknown prefix gives ``None``.
    """
    known = prefixes(toks)
    out: list[str | None] = []
    for i, tok in enumerate(toks):
        if tok.kind != "word" or tok.text.upper() not in {"SERVICE", "LOAD"}:
            continue
        j = i + 1
        if j < len(toks) and toks[j].text.upper() == "SILENT":
            j += 1
        target = toks[j] if j < len(toks) else None
        out.append(_resolve(target, known))
    return out


def _resolve(tok: Token | None, known: dict[str, str]) -> str | None:
    if tok is None:
        return None
    if tok.kind == "iri":
        iri = tok.text[1:-1]
        return iri if re.match(r"[A-Za-z][A-Za-z0-9+.\-]*:", iri) else None
    if tok.kind == "word" and ":" in tok.text:
        prefix, _, local = tok.text.partition(":")
        return known[prefix] + local if prefix in known else None
    return None


def insert_before_where(text: str, toks: list[Token], clause: str) -> str:
    """Insert ``clause`` before the ``WHERE`` of every DELETE/INSERT ... WHERE operation.

    Used for the protocol's ``using-graph-uri``: a modify operation's ``WHERE`` is the top-level
    ``WHERE`` that follows a template's closing brace (``DELETE WHERE`` has no template).
    """
    spots = [t.start for i, t in enumerate(toks)
             if t.kind == "word" and t.text.upper() == "WHERE" and t.depth == 0
             and i > 0 and toks[i - 1].text == "}"]
    for start in reversed(spots):
        text = text[:start] + clause + " " + text[start:]
    return text


def query_form(toks: list[Token]) -> str | None:
    """The query form: the first top-level SELECT, ASK, CONSTRUCT or DESCRIBE."""
    for tok in toks:
        if tok.kind == "word" and tok.depth == 0:
            word = tok.text.upper()
            if word in {"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"}:
                return word
    return None


#: Deepest nesting of ``{``, ``(`` and ``[`` accepted, and most operators in one request.
#: pyoxigraph's parser and planner recurse: about 2,500 nested braces or 10,000 chained
#: ``||`` / ``UNION`` / ``!`` overflow an 8 MiB thread stack and kill the process (measured
#: with pyoxigraph 0.5.13), so requests past these limits are refused before they reach it.
MAX_NESTING = 256
MAX_OPERATORS = 4_000
#: Single characters as the lexer gives them (``||`` counts twice), and the keyword operators.
_OPERATORS = {"|", "&", "!", "/", "^", "UNION", "MINUS", "OPTIONAL"}
_OPEN, _CLOSE = "{([", "})]"


def too_complex(toks: list[Token]) -> str | None:
    """Why the request is too deeply nested or too long a chain to evaluate safely, if it is."""
    depth = deepest = operators = 0
    for tok in toks:
        if tok.text in _OPEN:
            depth += 1
            deepest = max(deepest, depth)
        elif tok.text in _CLOSE:
            depth = max(0, depth - 1)
        elif tok.text.upper() in _OPERATORS:
            operators += 1
    if deepest > MAX_NESTING:
        return f"the request nests brackets {deepest} deep; the limit is {MAX_NESTING}"
    if operators > MAX_OPERATORS:
        return f"the request chains {operators} operators; the limit is {MAX_OPERATORS}"
    return None
