"""SPARQL text -> tokens, in time linear in the length of the text.

The terminals are those of the SPARQL 1.1 grammar (https://www.w3.org/TR/sparql11-query/#grammar)
as far as ``server.sparql.text`` needs them: strings, IRIs, variables, words (keywords and
prefixed names) and single characters. They used to be one regular expression with an
alternative per terminal; where an alternative fails at the end of a long stretch, the next
start position reads the same stretch again, so a run of 40,000 digits took 19 s (the
prefixed-name alternative looked for a ``:`` after the run from each digit). Here nothing is
read twice:

- a run of name characters that no ``:`` follows is matched whole, once, and split into the
  tokens the terminals give it (:data:`_PIECE`: a word from each letter, else one character);
- a string that is not closed is scanned once; a quote of the same kind inside the stretch
  scanned cannot close one either (it is escaped, so a scan from it takes the same path to the
  same end), and is not tried again (:func:`_string`);
- an IRI cannot contain ``<``, so no two IRI attempts read the same character;
- whitespace and comments are matched together with the token after them, a comment and the
  whitespace after it in one step (``\\s*+(?:#...\\s*+)*+``; as one alternation of the two,
  10 MB of ``#`` lines, read four times, took 1.6-2.2 s of CPU alone, and took 0.74-0.82 s
  this way; every shape is about a third faster: 10 MB of ``a.`` 0.36 to 0.23 s, 2026-12-08).

The tokens are exactly those of the former expression: ``tests/sparql/test_sparql_lexer.py``
compares
the two on generated text, and checks that the time grows linearly. Scanning stops after
``limit`` tokens, since a request with more is refused anyway (``sparql_text.too_complex``):
that bounds the Python work (a few µs a token) for a body of any size. Measured on the 2-core
CI machine under load, for 10 MB (``K2D3_MAX_BODY_BYTES``): 0.05-0.3 s of CPU for the whole
pre-check (``sparql_text.outline``) of most shapes, 0.8-0.95 s for the costliest found (10 MB
of ``\\u`` escapes in a string, or four readings each up to its token limit).

The same lexer draws the query pages' syntax highlighting (``server.pages.highlight``, through
:func:`spans`): with ``numbers`` it reads a number as one token and :func:`spans` gives the
comments too. That mode has patterns of its own (``_TOKEN_NUMBERS``, ``_PIECE_NUMBERS``), so
the pre-check's loop is the one it was: its CPU time before and after, best of 5, alternated
three times on the 2-core machine, 2026-12-07: 1 MB of digits 51-53 ms / 52-55 ms, 10 MB of
escapes 693-771 ms / 714-801 ms, the four readings 741-768 ms / 734-787 ms (within the noise).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import islice
from typing import NamedTuple

_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")

_IRI = r"""<[^<>"{}|^`\\\x00-\x20]*+>"""
#: One token, after any whitespace and comments. A quote is the start of a string, read by
#: :func:`_string`. A run of name characters that no ``:`` follows is a ``name`` (a word), a
#: single character (``one``), or else a ``run`` that :data:`_PIECE` splits.
_TERMINALS = r"""
    \s*+(?:\#[^\n\r]*+\s*+)*+
    (?:
        (?P<quote>['"])
      | (?P<iri>IRI)
      | (?P<var>[?$][\w\u00B7\u0300-\u036F\u203F-\u2040]++)
      | (?P<word>(?:[^\W\d]|_)?[\w\-.\u00B7]*+:(?:[\w\-.:%\u00B7]++|\\.)*+)
      | (?P<name>[^\W\d][\w\-]*+)(?![.\u00B7])
      | (?P<one>[\w\-.\u00B7])(?![\w\-.\u00B7])
      | (?P<run>[\w\-.\u00B7]++)
      | (?P<other>.)
    )
    """
_TOKEN = re.compile(_TERMINALS.replace("IRI", _IRI, 1), re.VERBOSE | re.DOTALL)
#: The same without IRIs: ``<`` and ``>`` are single characters, as after an operand.
_TOKEN_NO_IRI = re.compile(_TERMINALS.replace("| (?P<iri>IRI)", "", 1),
                           re.VERBOSE | re.DOTALL)
#: The same for display (:func:`scan` with ``numbers``): no ``one``, so a single name character
#: is a ``run`` too, which :data:`_PIECE_NUMBERS` reads (a digit is a number). A pattern of its
#: own, so the pre-check's loop does no more work than before.
_TOKEN_NUMBERS = re.compile(
    _TERMINALS.replace("IRI", _IRI, 1).replace(
        r"| (?P<one>[\w\-.\u00B7])(?![\w\-.\u00B7])", "", 1), re.VERBOSE | re.DOTALL)
_KINDS = {"name": "word", "one": "other"}
#: The tokens of a run of name characters that no ``:`` follows.
_PIECE = re.compile(r"(?P<word>[^\W\d][\w\-]*+)|(?P<other>.)", re.DOTALL)
#: The same for display (``numbers``): a number too, the grammar's INTEGER or DECIMAL
#: (``\d+(.\d+)?``) where no name character follows it; the optional part backtracks one step.
_PIECE_NUMBERS = re.compile(r"(?P<word>[^\W\d][\w\-]*+)|(?P<number>\d++(?:\.\d++)?(?!\w))"
                            r"|(?P<other>.)", re.DOTALL)
#: A comment, in the whitespace between two tokens (where a ``#`` can only start one).
_COMMENT = re.compile(r"\#[^\n\r]*+")
#: Strings by their first character, long forms first, each up to where its closing quotes
#: must be.
_STRINGS = {
    "'": (("'''", re.compile(r"'''(?:[^'\\]++|\\.|'(?!''))*+", re.DOTALL)),
          ("'", re.compile(r"'(?:[^'\\\n\r]++|\\.)*+", re.DOTALL))),
    '"': (('"""', re.compile(r'"""(?:[^"\\]++|\\.|"(?!""))*+', re.DOTALL)),
          ('"', re.compile(r'"(?:[^"\\\n\r]++|\\.)*+', re.DOTALL))),
}


class Token(NamedTuple):
    """One token: a tuple, as the fastest immutable object to make (a frozen dataclass takes
    three times as long, and a reading can have 200,000 tokens)."""

    kind: str
    """``string``, ``iri``, ``var``, ``word`` (keywords and prefixed names) or ``other``
    (and ``number`` when :func:`scan` is asked for numbers)."""
    text: str
    depth: int
    """How many ``{`` are open before this token."""
    start: int


def unescape(text: str) -> str:
    """Undo ``\\uHHHH`` and ``\\UHHHHHHHH`` codepoint escapes (one past U+10FFFF stays as
    written: it is no character, and the query parser refuses it)."""
    def char(found: re.Match[str]) -> str:
        code = int(found.group(1) or found.group(2), 16)
        return chr(code) if code <= 0x10FFFF else found.group()
    return _ESCAPE.sub(char, text)


def scan(text: str, iris: bool = True, limit: int | None = None,
         numbers: bool = False) -> list[Token]:
    """Split SPARQL text into tokens, whitespace and comments dropped.

    ``iris`` False reads ``<`` and ``>`` as single characters. At most ``limit`` tokens.
    ``numbers`` True (for display, :func:`spans`; IRIs are read) reads a number as one token
    of kind ``number``; the pre-check reads its digits one by one, as ``other``.
    """
    match = (_TOKEN_NUMBERS if numbers else _TOKEN if iris else _TOKEN_NO_IRI).match
    split = _PIECE_NUMBERS if numbers else _PIECE
    most = len(text) + 1 if limit is None else limit
    out: list[Token] = []
    failed: dict[str, int] = {}
    depth = pos = 0
    while len(out) < most and (found := match(text, pos)) is not None:
        kind = found.lastgroup or "other"
        start, pos = found.start(kind), found.end()
        if kind == "run":
            pieces = islice(split.finditer(text, start, pos), most - len(out))
            out += [Token(piece.lastgroup or "other", piece.group(), depth, piece.start())
                    for piece in pieces]
            continue
        if kind == "quote":
            kind, pos = _string(text, start, failed)
        value = text[start:pos]
        if value == "}":
            depth = max(0, depth - 1)
        out.append(Token(_KINDS.get(kind, kind), value, depth, start))
        if value == "{":
            depth += 1
    return out


def spans(text: str) -> Iterator[tuple[str, int, int]]:
    """Every token of ``text`` in order, for display (syntax highlighting), as
    ``(kind, start, end)``: the kinds of :func:`scan` with ``numbers``, and ``comment``; what
    lies between two spans is whitespace. Linear in the text, as :func:`scan` is: each stretch
    between two tokens is read once more, for its comments."""
    pos = 0
    for token in scan(text, numbers=True):
        yield from _comments(text, pos, token.start)
        pos = token.start + len(token.text)
        yield token.kind, token.start, pos
    yield from _comments(text, pos, len(text))


def _comments(text: str, start: int, end: int) -> Iterator[tuple[str, int, int]]:
    for found in _COMMENT.finditer(text, start, end):
        yield "comment", found.start(), found.end()


def _string(text: str, start: int, failed: dict[str, int]) -> tuple[str, int]:
    """The kind and end of the token at the quote at ``start``: a string if one is closed,
    else the quote alone.

    ``failed`` maps each opener to where its last unclosed scan stopped; a quote of that kind
    before there was inside that scan, escaped, and cannot start a closed string either.
    """
    for opener, body in _STRINGS[text[start]]:
        if start < failed.get(opener, -1) or not text.startswith(opener, start):
            continue
        end = body.match(text, start).end()  # type: ignore[union-attr]  # the opener is there
        if text.startswith(opener, end):
            return "string", end + len(opener)
        failed[opener] = end
    return "other", start + 1
