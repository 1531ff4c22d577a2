"""A SPARQL lexer, enough to see the keywords that change what a request may do.

pyoxigraph parses and runs a query in one call and exposes no algebra, yet the server must know
before running it whether the text uses ``SERVICE`` or ``LOAD`` (which make pyoxigraph fetch a
URL), names a dataset with ``FROM`` / ``FROM NAMED`` (pyoxigraph's union-default-graph flag
would override it) or ``USING`` / ``WITH`` (which conflict with ``using-graph-uri``). Tokenising
per the SPARQL 1.1 grammar's terminals (https://www.w3.org/TR/sparql11-query/#grammar) is
nearly exact for that: a keyword inside a string literal, an IRI, a comment, a variable or a
prefixed name is not a keyword token.

Nearly: pyoxigraph (0.5) does not undo codepoint escapes outside strings, though the grammar
says to (https://www.w3.org/TR/sparql11-query/#codepointEscape), and after an operand it reads
``<`` as less-than where a lexer's longest match reads the start of an IRI (``?a<?b)#>`` is an
IRI to a lexer, a comparison and a comment to pyoxigraph). So the checks that guard the server
(what ``SERVICE`` and ``LOAD`` fetch, how deep a request nests) take every reading: the text as
sent and with escapes undone, each with and without ``<...>`` as IRIs. What only shapes the
answer (the form, ``FROM``, prefixes, ``LIMIT``) takes pyoxigraph's reading: the text as sent.

Even so a lexer is not pyoxigraph's parser (an adversarial review found texts that none of the
readings sees as pyoxigraph does), so the readings give clear answers for what clients write,
and the server does not rely on them alone: with federation off its workers cannot open a
network connection at all (``server.sandbox``), and with federation on a text may have the
letters ``service`` or ``load`` only where the lexer read the keywords (``Outline.mentions``).

The lexer itself is ``server.sparql_lexer`` (linear in the text); the readings stop at the
first that is refused, so the whole pre-check of a 10 MB body takes well under a second.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from .sparql_lexer import _IRI, Token, scan, unescape

_IRIREF = re.compile(_IRI)

#: Outlines of texts up to this many characters are cached (by text); a cache of longer ones
#: would let a client fill the memory with a few hundred large requests.
CACHE_TEXT_LIMIT = 64 * 1024


def tokens(text: str) -> list[Token]:
    """Split SPARQL text into tokens (whitespace and comments dropped).

    At most ``MAX_TOKENS + 1``: a text with more is refused (:func:`too_complex`) whatever the
    rest says, and reading it all would cost time in proportion to the body.
    """
    return scan(text, limit=MAX_TOKENS + 1)


def _scan(text: str, iris: bool = True) -> list[Token]:
    """One reading of ``text``, as far as :func:`too_complex` needs to refuse it."""
    return scan(text, iris, limit=(MAX_TOKENS if iris else MAX_TOKENS_NO_IRI) + 1)


@dataclass(frozen=True)
class Outline:
    """What the server reads from a query's or update's text before running it."""

    form: str | None
    """:func:`query_form`."""
    keywords: frozenset[str]
    """:func:`keywords`."""
    problem: str | None
    """:func:`too_complex`, in any reading."""
    fetched: tuple[str | None, ...]
    """:func:`fetched_iris`, in every reading; with ``None`` (not known) when there is a
    ``problem``, as then the readings stop early and the text may not be read to the end."""
    prefixes: tuple[tuple[str, str], ...]
    """:func:`output_prefixes`, as pairs."""
    limit: int | None = None
    """:func:`top_limit`."""
    mentions: int = 0
    """How often the letters ``service`` or ``load`` occur, in any case, anywhere in the text
    (or in it with escapes undone, if more): every ``SERVICE`` or ``LOAD`` pyoxigraph could
    read is one of them, whatever a lexer makes of the text around it."""
    fetch_words: int = 0
    """How many of them the text as sent has as ``SERVICE`` / ``LOAD`` keywords."""
    literal_targets: bool = True
    """Whether every one of those keywords is followed by an IRI written out (``<...>``), not
    a prefixed name or a variable."""


def outline(text: str) -> Outline:
    """The :class:`Outline` of a request's text (see the module docstring); cached by text.

    A request reads it up to five times (the answer's form, the federation check, the dataset,
    the direct format, the prefixes); a text longer than :data:`CACHE_TEXT_LIMIT` is cached by
    its SHA-256 instead, so the cache holds no large text (hashing 10 MB takes 20 ms, reading
    it up to a second).
    """
    if len(text) <= CACHE_TEXT_LIMIT:
        return _cached_outline(text)
    key = hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()
    with _LARGE_LOCK:
        found = _LARGE.get(key)
    if found is None:
        found = _outline(text)
        with _LARGE_LOCK:
            _LARGE[key] = found
            while len(_LARGE) > 64:
                _LARGE.pop(next(iter(_LARGE)))
    return found


#: Outlines of long texts by the SHA-256 of the text, oldest first.
_LARGE: dict[bytes, Outline] = {}
_LARGE_LOCK = threading.Lock()


@lru_cache(maxsize=512)
def _cached_outline(text: str) -> Outline:
    return _outline(text)


_FETCH_WORD = re.compile(r"service|load", re.IGNORECASE)
#: The letters that match an ASCII letter of ``service`` or ``load`` only when case is ignored
#: (as in :data:`_FETCH_WORD`): the long s and the dotted and dotless i.
_FOLDED = str.maketrans({"\u017f": "s", "\u0130": "i", "\u0131": "i"})


def fetch_mentions(text: str) -> int:
    """How often :data:`_FETCH_WORD` matches in ``text``, counted as fast as ``str.count``
    (the expression takes 0.4 s over 10 MB, this 0.03 s)."""
    if any(letter in text for letter in "\u017f\u0130\u0131"):
        text = text.translate(_FOLDED)
    lowered = text.lower()
    return lowered.count("service") + lowered.count("load")


def _outline(text: str) -> Outline:
    toks = _scan(text)
    readings, problem, plain = _readings(text, toks)
    mentions = max(fetch_mentions(text), fetch_mentions(plain) if plain != text else 0)
    fetched: list[str | None] = []
    if mentions:
        declared = {source: prefixes(reading) for source, reading, iris in readings if iris}
        for source, reading, iris in readings:
            fetched += fetched_iris(reading, source, known=None if iris else declared[source])
    if problem is not None:
        fetched.append(None)  # refused, and maybe not read to the end: not known
    fetch_words, literal_targets = _fetch_words(toks)
    return Outline(query_form(toks), frozenset(keywords(toks)), problem,
                   tuple(dict.fromkeys(fetched)),
                   tuple(output_prefixes(toks).items()), top_limit(text, toks), mentions,
                   fetch_words, literal_targets)


def _readings(text: str, toks: list[Token]
              ) -> tuple[list[tuple[str, list[Token], bool]], str | None, str]:
    """The readings of ``text`` (``toks`` is the first), in order, up to the first that is
    :func:`too_complex`; its problem; and the text with escapes undone (``text`` itself when
    the readings stopped before it was needed).

    Stopping there bounds the work: a text refused for its length is not read three more times.
    """
    readings: list[tuple[str, list[Token], bool]] = []
    plain = text
    for step in range(4):
        if step == 2:
            plain = unescape(text)
            if plain == text:
                break
        source, iris = (text if step < 2 else plain), step % 2 == 0
        reading = toks if step == 0 else _scan(source, iris)
        readings.append((source, reading, iris))
        if (problem := too_complex(reading, count_slashes=iris)) is not None:
            return readings, problem, plain
    return readings, None, plain


def _fetch_words(toks: list[Token]) -> tuple[int, bool]:
    """How many SERVICE / LOAD keywords ``toks`` has, and whether each names an IRI written
    out (after an optional SILENT)."""
    count, literal = 0, True
    for i, tok in enumerate(toks):
        if tok.kind == "word" and tok.text.upper() in {"SERVICE", "LOAD"}:
            count += 1
            target = _target(toks, i)
            literal &= target is not None and target.kind == "iri"
    return count, literal


def _target(toks: list[Token], i: int) -> Token | None:
    """The token after the SERVICE / LOAD keyword at ``i`` and an optional SILENT."""
    j = i + 1
    if j < len(toks) and toks[j].text.upper() == "SILENT":
        j += 1
    return toks[j] if j < len(toks) else None


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


def fetched_iris(toks: list[Token], text: str = "",
                 known: dict[str, str] | None = None) -> list[str | None]:
    """The addresses ``SERVICE`` and ``LOAD`` would fetch (``None``: not known before running).

    A variable after ``SERVICE``, a relative IRI or an unknown prefix gives ``None``. ``toks``
    may be a reading without IRIs (``<`` a single character; ``text`` is what it was read
    from, ``known`` the prefixes its IRI reading declares): there a ``<`` after the keyword
    starts the IRI, and a keyword followed by anything else that cannot start one was a word
    inside an IRI (``<http://example.org/service>``).
    """
    iris = known is None
    known = prefixes(toks) if known is None else known
    out: list[str | None] = []
    for i, tok in enumerate(toks):
        if tok.kind != "word" or tok.text.upper() not in {"SERVICE", "LOAD"}:
            continue
        target = _target(toks, i)
        if not iris and target is not None and target.kind == "other":
            if target.text == "<":
                found = _IRIREF.match(text, target.start)
                out.append(_resolve(Token("iri", found.group(), 0, target.start), known)
                           if found else None)
            continue
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
#: RDF-star's ``<< >>`` count as brackets (see :func:`_nesting_steps`).
MAX_NESTING = 256
MAX_OPERATORS = 4_000
#: Most tokens in one request. Long flat sequences overflow the stack too, even on the server's
#: 64 MiB request threads: 80,000 chained ``+1`` (160 KB) or 100,000 ``FILTER(true)`` crash
#: pyoxigraph 0.5.13; 20,000 ``+1`` and 60,000 ``FILTER(true)`` do not (measured). A ``VALUES``
#: block of some 45,000 terms still fits. In a reading without IRIs an IRI is a dozen tokens,
#: so there the limit is :data:`MAX_TOKENS_NO_IRI` (a ``VALUES`` of some 16,000 IRIs).
MAX_TOKENS = 50_000
MAX_TOKENS_NO_IRI = 200_000
#: Most ``+``, ``-`` and ``*`` in one request (a chain of 80,000 crashes, see above).
MAX_ARITHMETIC = 20_000
_OPERATORS = {"|", "&", "!", "/", "^", "UNION", "MINUS", "OPTIONAL"}
_ARITHMETIC = {"+", "-", "*"}
_OPEN, _CLOSE = "{([", "})]"


def too_complex(toks: list[Token], count_slashes: bool = True) -> str | None:
    """Why the request is too deeply nested, too long a chain or too long to evaluate safely,
    if it is.

    ``count_slashes`` False for a reading without IRIs, where the slashes of every IRI's path
    would count as operators and an IRI is many tokens.
    """
    most = MAX_TOKENS if count_slashes else MAX_TOKENS_NO_IRI
    if len(toks) > most:
        return f"the request has more than {most} tokens; the limit is {most}"
    depth = deepest = operators = arithmetic = 0
    for tok, step in zip(toks, _nesting_steps(toks), strict=True):
        if step:
            depth = max(0, depth + step)
            deepest = max(deepest, depth)
        elif tok.text in _ARITHMETIC:
            arithmetic += 1
        elif tok.text.upper() in _OPERATORS and (count_slashes or tok.text != "/"):
            operators += 1
    if arithmetic > MAX_ARITHMETIC:
        return f"the request chains {arithmetic} + - * operators; the limit is {MAX_ARITHMETIC}"
    if deepest > MAX_NESTING:
        return (f"the request nests brackets ({{ ( [ and <<) {deepest} deep; "
                f"the limit is {MAX_NESTING}")
    if operators > MAX_OPERATORS:
        return f"the request chains {operators} operators; the limit is {MAX_OPERATORS}"
    return None


def _nesting_steps(toks: list[Token]) -> Iterator[int]:
    """For each token, 1 if it opens a bracket, -1 if it closes one, else 0.

    Brackets are ``{ ( [`` and RDF-star's ``<< >>`` (quoted triples and reifiers, which
    pyoxigraph's parser recurses into like the others; a lexer reads each as two ``<`` or
    ``>``, and the second of the two counts 0). ``<<(`` and ``)>>`` count once, as the
    parenthesis.
    """
    second = False
    for i, tok in enumerate(toks):
        if second:
            second = False
            yield 0
        elif tok.text in _OPEN:
            yield 1
        elif tok.text in _CLOSE:
            yield -1
        elif tok.kind == "other" and tok.text in {"<", ">"} and _adjacent(toks, i, tok.text):
            second = True
            if tok.text == "<":
                yield 0 if _adjacent(toks, i + 1, "(") else 1
            else:
                yield 0 if i and toks[i - 1].text == ")" and _adjacent(toks, i - 1, ">") else -1
        else:
            yield 0


def _adjacent(toks: list[Token], i: int, text: str) -> bool:
    """Whether the single-character token after ``toks[i]`` is ``text`` and follows it with no
    space between."""
    if i + 1 >= len(toks):
        return False
    after = toks[i + 1]
    return after.kind == "other" and after.text == text and after.start == toks[i].start + 1
