"""Which parts of the article the graph accounts for: every clause quoted, or marked as no claim.

The article is cut into sentences (at 。 ? ! and line ends) and each sentence into clauses (at
the commas, enumeration commas, colons, semicolons and dashes between them). A clause is
*covered* when one span contains it whole: the text of a quotation (``oa:exact``, placed with
``oa:prefix`` / ``oa:suffix``) or of a passage the graph marks as carrying no claim (a heading,
a question to the reader, the byline...). ``k2d3 validate`` fails unless every clause is
covered, and ``/source`` shows the sentences that are not.

Quotations must also be *whole clauses*: a span starts where a clause starts and ends where one
ends, so a quotation cannot cut a sentence in a way that changes its sense (dropping
"但真的那么简单吗?" from "提出的协同作用听起来很有道理,但真的那么简单吗?" turns a doubt into an
endorsement).

Pure functions over the article's text and the spans; ``server.build.validate`` reads the spans from
the graph.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rdflib import Graph, URIRef
from rdflib.namespace import RDF

from server.rdf.vocab import OA

#: Characters that end a sentence, and characters that separate clauses within one.
SENTENCE_END = "。?!？！"
CLAUSE_BREAK = ",,、;;::—"
#: Characters that never belong to a clause's edges: spaces and Markdown emphasis.
EDGE = " \t\u00a0\u3000*"
#: Lines that hold only markup, not text of the article.
_MARKUP_ONLY = re.compile(r"^(?:\s|</?markdown>)*$")


@dataclass(frozen=True)
class Clause:
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    text: str
    clauses: tuple[Clause, ...]


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    """``start, end`` moved inwards past edge characters and punctuation."""
    strip = EDGE + SENTENCE_END + CLAUSE_BREAK
    while start < end and text[start] in strip:
        start += 1
    while end > start and text[end - 1] in strip:
        end -= 1
    return start, end


def _pieces(text: str, start: int, end: int, breaks: str) -> Iterable[tuple[int, int]]:
    """The non-empty pieces of ``text[start:end]`` between ``breaks``, trimmed."""
    piece = start
    for i in range(start, end + 1):
        if i == end or text[i] in breaks:
            a, b = _trimmed(text, piece, i)
            if a < b:
                yield a, b
            piece = i + 1


def sentences(text: str) -> list[Sentence]:
    """The article's sentences with their clauses, in order (markup-only lines left out)."""
    out: list[Sentence] = []
    offset = 0
    for line in text.splitlines(keepends=True):
        body_end = offset + len(line.rstrip("\r\n"))
        if not _MARKUP_ONLY.match(line):
            for s, e in _pieces(text, offset, body_end, SENTENCE_END):
                clauses = tuple(Clause(a, b, text[a:b])
                                for a, b in _pieces(text, s, e, CLAUSE_BREAK))
                out.append(Sentence(s, e, text[s:e], clauses))
        offset += len(line)
    return out


def locate(text: str, exact: str, prefix: str | None = None,
           suffix: str | None = None) -> list[int]:
    """Every offset where ``exact`` occurs with ``prefix`` before it and ``suffix`` after it."""
    hits, i = [], text.find(exact)
    while i >= 0:
        if ((prefix is None or text[:i].endswith(prefix))
                and (suffix is None or text[i + len(exact):].startswith(suffix))):
            hits.append(i)
        i = text.find(exact, i + 1)
    return hits


def uncovered(sentence_list: Sequence[Sentence], spans: Iterable[tuple[int, int]]) -> list[Clause]:
    """The clauses that no span contains whole."""
    ordered = sorted(spans)
    return [c for s in sentence_list for c in s.clauses
            if not any(a <= c.start and c.end <= b for a, b in ordered)]


def coverage(sentence_list: Sequence[Sentence], spans: Iterable[tuple[int, int]]) -> float:
    """The share of clauses covered, from 0.0 to 1.0 (1.0 for an article with no clauses)."""
    total = sum(len(s.clauses) for s in sentence_list)
    if not total:
        return 1.0
    return 1 - len(uncovered(sentence_list, spans)) / total


def cut_clauses(text: str, sentence_list: Sequence[Sentence], start: int, end: int) -> list[str]:
    """Problems with a quotation spanning ``text[start:end]``: it must start where a clause
    starts and end where one ends (once its spaces and punctuation are trimmed)."""
    a, b = _trimmed(text, start, end)
    clauses = [c for s in sentence_list for c in s.clauses]
    problems = []
    if not any(c.start == a for c in clauses):
        problems.append(f"starts inside a clause: …{text[max(0, a - 8):a]}|{text[a:a + 8]}…")
    if not any(c.end == b for c in clauses):
        problems.append(f"ends inside a clause: …{text[max(0, b - 8):b]}|{text[b:b + 8]}…")
    return problems


# --- reading the spans from the graph -----------------------------------------------------



def selector_spans(graph: Graph, text: str) -> dict[str, tuple[int, int]]:
    """Each ``oa:TextQuoteSelector`` of ``graph`` that places exactly once in ``text``, by IRI.

    Selectors that place nowhere or ambiguously are reported by the quotation check
    (``server.build.validate.quotation_errors``), not here.
    """
    exact_p, prefix_p, suffix_p = (URIRef(OA + n) for n in ("exact", "prefix", "suffix"))
    spans = {}
    for sel in graph.subjects(RDF.type, URIRef(OA + "TextQuoteSelector")):
        exact, prefix, suffix = (graph.value(sel, p) for p in (exact_p, prefix_p, suffix_p))
        if exact is None:
            continue
        hits = locate(text, str(exact), None if prefix is None else str(prefix),
                      None if suffix is None else str(suffix))
        if len(hits) == 1:
            spans[str(sel)] = (hits[0], hits[0] + len(str(exact)))
    return spans


def coverage_errors(graph: Graph, text: str) -> list[str]:
    """What ``k2d3 validate`` reports about coverage: each clause no quotation or no-claim
    passage holds, and each quotation that cuts a clause (empty when all is accounted for)."""
    sentence_list = sentences(text)
    spans = selector_spans(graph, text)
    errors = [f"{sel}: {problem}" for sel, (a, b) in sorted(spans.items())
              for problem in cut_clauses(text, sentence_list, a, b)]
    missing = uncovered(sentence_list, spans.values())
    if missing:
        share = coverage(sentence_list, spans.values())
        errors.append(f"{share:.1%} of the article's clauses are accounted for; quote these in a "
                      "claim or mark them as carrying no claim (graph_data/coverage.ttl):")
        errors += [f"  uncovered clause at {c.start}: {c.text!r}" for c in missing]
    return errors


def summary(graph: Graph, text: str) -> str:
    """One line for ``k2d3 validate``: how many of the article's clauses are accounted for."""
    sentence_list = sentences(text)
    spans = selector_spans(graph, text).values()
    total = sum(len(s.clauses) for s in sentence_list)
    covered = total - len(uncovered(sentence_list, spans))
    return (f"coverage: {covered} of {total} clauses of the article "
            f"({coverage(sentence_list, spans):.1%}) are quoted for a claim or marked as no claim")
