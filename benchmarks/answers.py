"""Query answers of any engine as multisets, so two engines' answers can be compared.

A SELECT answer becomes a ``Counter`` of rows, each row a sorted tuple of
``(variable, term)`` with the term in N-Triples form (an unbound variable is absent, so
``OPTIONAL`` misses show). A CONSTRUCT answer becomes a ``Counter`` of N-Triples lines; an
ASK answer a one-element ``Counter``. Blank nodes are all written ``_:b``: labels are local to
a document, so only their number of occurrences is compared.

``GROUP_CONCAT`` orders its values as the engine happens to meet them (SPARQL 1.1 §18.5.1.7
leaves it undefined), so :func:`loosen` sorts the pieces of every ``GROUP_CONCAT`` column: two
answers equal after it differ only in that order.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from pyoxigraph import (
    BlankNode,
    QueryBoolean,
    QueryResultsFormat,
    RdfFormat,
    parse,
    parse_query_results,
)

Row = tuple[tuple[str, str], ...]
_AS = re.compile(r"\bAS\s+\?(\w+)\s*\)", re.IGNORECASE)
_SEPARATOR = re.compile(r"separator\s*=\s*(\"[^\"]*\"|'[^']*')", re.IGNORECASE)


def term_text(term: Any) -> str:
    return "_:b" if isinstance(term, BlankNode) else str(term)


def from_solutions(solutions: Any) -> Counter[Row]:
    """pyoxigraph ``QuerySolutions`` (from a store or a parsed document) -> multiset of rows."""
    if isinstance(solutions, QueryBoolean):
        return Counter({(("ask", str(bool(solutions)).lower()),): 1})
    names = [v.value for v in solutions.variables]
    rows: Counter[Row] = Counter()
    for solution in solutions:
        row = tuple(sorted((name, term_text(solution[name])) for name in names
                           if solution[name] is not None))
        rows[row] += 1
    return rows


def from_triples(triples: Any) -> Counter[Row]:
    """Triples (pyoxigraph ``QueryTriples`` or parsed) -> multiset of one-cell rows."""
    return Counter((("triple", " ".join(term_text(t) for t in (tr.subject, tr.predicate,
                                                                tr.object))),)
                   for tr in triples)


def from_document(body: bytes, kind: str) -> Counter[Row]:
    """An HTTP answer: SPARQL XML results for SELECT/ASK, Turtle for CONSTRUCT/DESCRIBE."""
    if kind in ("construct", "describe"):
        return from_triples(parse(body, RdfFormat.TURTLE))
    # Virtuoso writes blank nodes as <bnode>nodeID://b1</bnode>, not a valid label
    body = body.replace(b"<bnode>nodeID://", b"<bnode>")
    return from_solutions(parse_query_results(body, QueryResultsFormat.XML))


def concat_columns(query: str) -> dict[str, str]:
    """Variables bound by an expression with ``GROUP_CONCAT`` -> its separator (default " "),
    and variables bound by an expression over such a variable (a subquery's concatenation
    passed on by ``IF(?count > 0, ?all, ?none) AS ?quote``), with the same separator."""
    out: dict[str, str] = {}
    passed_on: list[tuple[str, str]] = []
    for match in _AS.finditer(query):
        expression = _enclosing(query, match.start())
        if "GROUP_CONCAT" in expression.upper():
            sep = _SEPARATOR.search(expression)
            out[match.group(1)] = sep.group(1)[1:-1] if sep else " "
        else:
            passed_on.append((match.group(1), expression))
    for name, expression in passed_on:
        used = [v for v in re.findall(r"\?(\w+)", expression) if v in out]
        if used:
            out[name] = out[used[0]]
    return out


def _enclosing(text: str, end: int) -> str:
    """The text from the ``(`` that opens the expression ending at ``end`` up to ``end``."""
    depth = 0
    for i in range(end - 1, -1, -1):
        if text[i] == ")":
            depth += 1
        elif text[i] == "(":
            if depth == 0:
                return text[i:end]
            depth -= 1
    return ""


def loosen(rows: Counter[Row], columns: dict[str, str]) -> Counter[Row]:
    """Sort the pieces of each ``GROUP_CONCAT`` cell, so that their order does not count."""
    if not columns:
        return rows
    out: Counter[Row] = Counter()
    for row, count in rows.items():
        cells = []
        for name, text in row:
            if name in columns:
                text = _sorted_concat(text, columns[name])
            cells.append((name, text))
        out[tuple(cells)] += count
    return out


def _sorted_concat(cell: str, sep: str) -> str:
    lexical, quote, suffix = cell.rpartition('"')
    if not lexical.startswith('"') or not sep:
        return cell
    pieces = lexical[1:].split(sep)
    return '"' + sep.join(sorted(pieces)) + quote + suffix


def diff(left: Counter[Row], right: Counter[Row], limit: int = 3) -> dict[str, Any]:
    """Counts and a few example rows only in ``left`` / only in ``right``."""
    only_left, only_right = left - right, right - left
    return {
        "only_left": sum(only_left.values()), "only_right": sum(only_right.values()),
        "examples_left": [dict(r) for r in list(only_left)[:limit]],
        "examples_right": [dict(r) for r in list(only_right)[:limit]],
    }
