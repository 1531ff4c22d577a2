"""An RDF payload (a Graph Store body) -> quads, with its bombs refused before parsing.

pyoxigraph (0.5.13) parses whatever it is given, and some payloads cost far more than their
size (measured): its RDF/XML parser expands DTD entities without bound (a 654-byte body
became a 300 MB literal) and takes time quadratic in the nesting of elements (10,000 levels:
3.4 s); its JSON-LD parser takes memory quadratic in the nesting (2,000 levels: 780 MB) and
recurses (4,000 levels: a segfault), and does all its work before it yields the first quad
(10 MB nested 64 deep: 12 s); Turtle's ``<<( )>>`` recurses (20,000 levels: a segfault).

So a linear pre-scan (regular expressions and ``itertools``, C speed: 10 MB in well under a
second) measures the payload first, without parsing it:

- RDF/XML: the size its entities expand to, declared and referenced, at most the body limit
  (``K2D3_MAX_BODY_BYTES``), else 413; the nesting of elements;
- JSON-LD: the nesting of objects and arrays, at most :data:`MAX_JSON_LD_NESTING` (at which
  10 MB parse in about 12 s);
- Turtle, TriG, N-Triples, N-Quads, N3: the nesting of ``( [ { <<``;

each outside strings, IRIs, comments and escapes, as the parsers read them; a nesting past
its limit is a 400. Then :func:`parse_quads`
parses with a deadline, checked between quads (a 413 when it passes). pyoxigraph reads
UTF-8 only, so the scans read bytes.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from itertools import accumulate, repeat
from operator import sub

from pyoxigraph import DefaultGraph, NamedNode, Quad, RdfFormat, parse

from .errors import BadRequest, PayloadTooLarge

#: Deepest nesting accepted in a payload (RDF/XML elements; Turtle-family brackets).
MAX_NESTING = 256
#: Deepest nesting of JSON objects and arrays accepted in JSON-LD (see the module docstring).
MAX_JSON_LD_NESTING = 64
#: Quads parsed between two looks at the deadline.
CHECK_EVERY = 1024

Graph = NamedNode | DefaultGraph

_OPEN, _CLOSE = b"\x01", b"\x02"
#: \x01 -> +1, \x02 -> -1 (as 2 and 0, less 1), everything else deleted.
_STEPS = bytes.maketrans(_OPEN + _CLOSE, b"\x02\x00")
_NOT_STEPS = bytes(b for b in range(256) if b not in (1, 2))

# Turtle family: strings (long forms first; one not closed runs to its line's or the text's
# end), IRIs, comments and the escapes of local names hide brackets.
_TURTLE_HIDDEN = re.compile(
    rb'"""(?:[^"\\]++|\\.|"(?!""))*+(?:"""|\Z)|\'\'\'(?:[^\'\\]++|\\.|\'(?!\'\'))*+(?:\'\'\'|\Z)'
    rb'|"(?:[^"\\\n\r]++|\\.)*+"?|\'(?:[^\'\\\n\r]++|\\.)*+\'?'
    rb'|<[^<>"{}|^`\\\x00-\x20]*+>|\#[^\n\r]*+|\\.', re.DOTALL)
_JSON_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"?', re.DOTALL)
# RDF/XML: comments, CDATA, processing instructions and the DOCTYPE hold no elements.
_XML_HIDDEN = re.compile(
    rb"<!--(?:[^-]++|-(?!->))*+(?:-->|\Z)|<!\[CDATA\[(?:[^\]]++|\](?!\]>))*+(?:\]\]>|\Z)"
    rb"|<\?(?:[^?]++|\?(?!>))*+(?:\?>|\Z)|<!DOCTYPE[^\[>]*+(?:\[[^\]]*+\]?)?[^>]*+>?")
_XML_ATTRIBUTES = rb"""(?:[^<>"']++|"[^"]*+"|'[^']*+')*+"""
_XML_EMPTY = re.compile(rb"<[^/!?]" + _XML_ATTRIBUTES.replace(rb"[^<>", rb"[^/<>") + rb"/>")
_XML_START = re.compile(rb"<[^/!?]" + _XML_ATTRIBUTES + rb">")
_XML_END = re.compile(rb"</[^>]*+>")
# oxrdfxml's entity declarations (``<!ENTITY [%] name "value">``) and references.
_ENTITY = re.compile(rb'<!ENTITY\s++(?:%\s++)?([^\s"<>]++)\s++"([^"]*+)"')
_REFERENCE = re.compile(rb"&([^\s&;#<>\"']++);")


def check(data: bytes, fmt: RdfFormat, max_bytes: int) -> None:
    """Refuse a payload that would cost far more to parse than its size (module docstring).

    Raises:
        PayloadTooLarge: RDF/XML whose entities expand past ``max_bytes``.
        BadRequest: nesting past its limit.
    """
    if fmt == RdfFormat.RDF_XML:
        _check_entities(data, max_bytes)
        marks, what, limit = _xml_marks(data), "elements", MAX_NESTING
    elif fmt == RdfFormat.JSON_LD:
        marks, what, limit = _json_marks(data), "objects and arrays", MAX_JSON_LD_NESTING
    else:
        marks, what, limit = _turtle_marks(data), "brackets ( [ { <<", MAX_NESTING
    if _deeper(marks, limit):
        raise BadRequest(f"the {fmt.name} payload nests {what} more than {limit} deep, the "
                         "limit")


def parse_quads(data: bytes, fmt: RdfFormat, graph: Graph, base_iri: str,
                deadline: float) -> list[Quad]:
    """The payload's triples (or quads) as quads in ``graph``, parsed before ``deadline``
    (``time.monotonic()``).

    Raises:
        BadRequest: the payload does not parse (quoting the parser, with the position).
        PayloadTooLarge: still parsing at the deadline.
    """
    out: list[Quad] = []
    try:
        for found in parse(data, format=fmt, base_iri=base_iri):
            if len(out) % CHECK_EVERY == 0 and time.monotonic() > deadline:
                raise PayloadTooLarge(
                    f"the {fmt.name} payload was still being parsed at the time limit "
                    f"({len(out)} triples read); send it in smaller parts")
            out.append(Quad(found.subject, found.predicate, found.object, graph))
    except SyntaxError as exc:
        raise BadRequest(f"the {fmt.name} payload does not parse: {exc}") from None
    return out


def _deeper(marks: bytes, limit: int) -> bool:
    """Whether a sequence of opens and closes nests deeper than ``limit``, or may.

    The depth is the highest running depth less the lowest below zero (a close of nothing
    opened, in a payload that then fails to parse, cannot hide the depth of what follows it),
    all at C speed: each pass that drops the innermost pairs takes one level off a balanced
    sequence (whose deepest points are innermost pairs) and shrinks a wide one; a run of opens
    answers at once; what is left is summed (0.4 s a pass for 10 MB of brackets).
    """
    steps = marks.translate(_STEPS, _NOT_STEPS)
    removed = 0
    while removed < 4 and b"\x02\x00" in steps:
        steps, removed = steps.replace(b"\x02\x00", b""), removed + 1
    if not steps:
        return removed > limit
    if b"\x02" * (limit + 1 - removed) in steps:
        return True
    highest = max(accumulate(map(sub, steps, repeat(1))))
    lowest = min(0, min(accumulate(map(sub, steps, repeat(1)))))
    return highest - lowest + removed > limit


def _turtle_marks(data: bytes) -> bytes:
    text = _TURTLE_HIDDEN.sub(b" ", data.translate(None, _OPEN + _CLOSE))
    text = text.replace(b"<<", _OPEN).replace(b">>", _CLOSE)
    return text.translate(bytes.maketrans(b"([{)]}", _OPEN * 3 + _CLOSE * 3))


def _json_marks(data: bytes) -> bytes:
    text = _JSON_STRING.sub(b" ", data.translate(None, _OPEN + _CLOSE))
    return text.translate(bytes.maketrans(b"[{]}", _OPEN * 2 + _CLOSE * 2))


def _xml_marks(data: bytes) -> bytes:
    text = _XML_HIDDEN.sub(b" ", data.translate(None, _OPEN + _CLOSE))
    text = _XML_EMPTY.sub(b" ", text)
    return _XML_START.sub(_OPEN, _XML_END.sub(_CLOSE, text))


def _check_entities(data: bytes, max_bytes: int) -> None:
    """Refuse RDF/XML whose entities expand past ``max_bytes``: oxrdfxml expands each
    declaration when it reads it (its value's references included) and each reference where
    it stands, without bound (a billion laughs)."""
    if b"<!ENTITY" not in data:
        return
    sizes: dict[bytes, int] = {}
    declared = 0
    for name, value in _ENTITY.findall(data):
        size = len(value) + sum(sizes.get(ref, 1) - len(ref) - 2
                                for ref in _REFERENCE.findall(value))
        sizes[name] = max(size, sizes.get(name, 0))
        declared += size
        if declared > max_bytes:
            raise PayloadTooLarge(_expands(declared, max_bytes, "the entities it declares"))
    if len(sizes) <= 64:  # str.count needs no list of every reference
        counts = {name: data.count(b"&" + name + b";") for name in sizes}
    else:
        counts = Counter(_REFERENCE.findall(data))
    expanded = len(data) + sum(sizes.get(name, 0) * n for name, n in counts.items())
    if expanded > max_bytes:
        raise PayloadTooLarge(_expands(expanded, max_bytes, "the entities it references"))


def _expands(size: int, limit: int, what: str) -> str:
    return (f"the RDF/XML payload expands to {size:,} bytes with {what}; the limit is "
            f"{limit:,} (K2D3_MAX_BODY_BYTES): write the values out instead of using entities")
