"""The source article with its quoted passages: where each ``oa:exact`` sits in the text.

Quotations are read from the store (W3C Web Annotation: a node with ``oa:exact``, reached from
its annotation through ``oa:hasTarget`` / ``oa:hasSelector``; the annotation's ``oa:hasBody``
and any IRI pointing at it are the resources that cite it). Each is located in the NFC text of
the article (``oa:prefix`` / ``oa:suffix`` pick among repeated passages), and the text is cut
into paragraphs of plain and highlighted segments for ``source.html`` and the claim pages.
Passages the graph marks as carrying no claim (annotations ``oa:motivatedBy oa:classifying``)
are shown apart from quotations, and clauses nothing accounts for (``server.rdf.coverage``) are
marked, so a curator sees at once what is left to model.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from pyoxigraph import NamedNode, Store

from server import paths
from server.rdf import coverage
from server.rdf.vocab import OA

QUOTATIONS = f"""
PREFIX oa: <{OA}>
SELECT DISTINCT ?q ?exact ?prefix ?suffix ?citer ?classifies WHERE {{
  ?sel oa:exact ?exact .
  BIND(EXISTS {{ ?by oa:motivatedBy oa:classifying ; oa:hasTarget/oa:hasSelector ?sel }}
       AS ?classifies)
  ?q (oa:hasTarget|oa:hasSelector|oa:refinedBy)* ?sel .
  FILTER NOT EXISTS {{ ?up (oa:hasTarget|oa:hasSelector|oa:refinedBy) ?q }}
  OPTIONAL {{ ?sel oa:prefix ?prefix }}
  OPTIONAL {{ ?sel oa:suffix ?suffix }}
  OPTIONAL {{
    {{ ?q oa:hasBody ?citer }}
    UNION
    {{ ?citer ?p ?q FILTER(isIRI(?citer) && ?p NOT IN (oa:hasTarget, oa:hasSelector)) }}
  }}
}}"""
WRAPPER_LINES = {"<markdown>", "</markdown>", "<markdown> </markdown>"}


@dataclass
class Quote:
    """One quoted passage: its node, text, context, citing resources and place in the text."""

    node: str
    exact: str
    prefix: str = ""
    suffix: str = ""
    citers: list[str] = field(default_factory=list)
    start: int = -1
    anchor: str = ""
    kind: str = "quotation"
    """``quotation`` (of a claim), ``no-claim`` (a passage carrying none) or ``uncovered``."""

    @property
    def end(self) -> int:
        return self.start + len(self.exact) if self.start >= 0 else -1


@lru_cache(maxsize=1)
def article() -> str:
    """The article text in NFC (the form quotations are compared in)."""
    return unicodedata.normalize("NFC", paths.source_article().read_text(encoding="utf-8"))


def locate(text: str, exact: str, prefix: str = "", suffix: str = "") -> int:
    """Offset of ``exact`` in ``text``, preferring the occurrence its prefix/suffix fit; -1."""
    starts, at = [], text.find(exact)
    while at >= 0:
        starts.append(at)
        at = text.find(exact, at + 1)
    for start in starts:
        end = start + len(exact)
        if text[:start].endswith(prefix) and text[end:].startswith(suffix):
            return start
    return starts[0] if starts else -1


def quotations(store: Store, text: str | None = None) -> list[Quote]:
    """Every quotation in the store, located in the article, in text order."""
    text = article() if text is None else text
    found: dict[str, Quote] = {}
    for row in store.query(QUOTATIONS, use_default_graph_as_union=True):  # type: ignore[union-attr]
        key = str(row["q"]) + "\x00" + row["exact"].value
        quote = found.get(key)
        if quote is None:
            nfc = unicodedata.normalize("NFC", row["exact"].value)
            prefix = row["prefix"].value if row["prefix"] else ""
            suffix = row["suffix"].value if row["suffix"] else ""
            node = row["q"]
            quote = Quote(node.value if isinstance(node, NamedNode) else str(node), nfc,
                          unicodedata.normalize("NFC", prefix),
                          unicodedata.normalize("NFC", suffix))
            quote.start = locate(text, quote.exact, quote.prefix, quote.suffix)
            if row["classifies"] is not None and row["classifies"].value == "true":
                quote.kind = "no-claim"
            found[key] = quote
        citer = row["citer"]
        if isinstance(citer, NamedNode) and citer.value not in quote.citers:
            quote.citers.append(citer.value)
    quotes = sorted(found.values(), key=lambda q: (q.start, q.node))
    for number, quote in enumerate(quotes, 1):
        quote.anchor = f"q{number}"
        quote.citers.sort()
    return quotes


def uncovered(text: str, quotes: list[Quote]) -> list[Quote]:
    """The clauses of the article that no quotation or no-claim passage accounts for."""
    spans = [(q.start, q.end) for q in quotes if q.start >= 0]
    missing = coverage.uncovered(coverage.sentences(text), spans)
    return [Quote("", c.text, start=c.start, anchor=f"u{number}", kind="uncovered")
            for number, c in enumerate(missing, 1)]


def documents(store: Store) -> list[str]:
    """The documents the quotations are cut from (``oa:hasSource`` of their targets)."""
    return sorted({q.object.value for q in store.quads_for_pattern(
        None, NamedNode(OA + "hasSource"), None, None) if isinstance(q.object, NamedNode)})


def _blocks(text: str) -> list[tuple[int, int]]:
    """(start, end) of each non-empty paragraph (blocks separated by blank lines)."""
    blocks, start = [], 0
    for part in text.split("\n\n"):
        stripped = part.strip()
        if stripped and stripped not in WRAPPER_LINES:
            lead = part.index(stripped[0])
            blocks.append((start + lead, start + lead + len(stripped)))
        start += len(part) + 2
    return blocks


def _segments(text: str, start: int, end: int, quotes: list[Quote]) -> list[dict[str, Any]]:
    """Cut text[start:end] at every quotation boundary; each piece lists the quotes over it."""
    inside = [q for q in quotes if q.start >= 0 and q.start < end and q.end > start]
    cuts = sorted({start, end} | {max(start, min(end, x)) for q in inside
                                  for x in (q.start, q.end)})
    pieces = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        over = [q for q in inside if q.start <= a and q.end >= b]
        kinds = {q.kind for q in over}
        kind = next((k for k in ("quotation", "uncovered", "no-claim") if k in kinds), "")
        pieces.append({"text": text[a:b], "quotes": [q for q in over if q.kind == kind],
                       "kind": kind, "first": [q for q in over if q.start == a and q.kind == kind]})
    return pieces


def paragraphs(text: str, quotes: list[Quote]) -> list[dict[str, Any]]:
    """The article as paragraphs (``**bold**`` lines become headings) of segments."""
    out = []
    for start, end in _blocks(text):
        block = text[start:end]
        heading = block.startswith("**") and block.endswith("**") and "\n" not in block
        if heading:
            start, end = start + 2, end - 2
        out.append({"heading": heading, "segments": _segments(text, start, end, quotes),
                    "quoted": any(q.start < end and q.end > start for q in quotes)})
    return out


def paragraph_of(text: str, quote: Quote) -> dict[str, Any] | None:
    """The paragraph holding ``quote``, with only that quote highlighted (for a claim page)."""
    for start, end in _blocks(text):
        if start <= quote.start < end:
            return {"heading": False, "segments": _segments(text, start, end, [quote])}
    return None
