"""A query's answer (:class:`QueryResult`) and its serialisation by pyoxigraph (:func:`serialize`).

``server.sparql.execute`` makes results; the views, the Graph Store and the pages serialise
them. Small answers are written in one piece (so the response has a ``Content-Length``), large
ones streamed from a producer thread (``server.sparql.streaming``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

from pyoxigraph import QueryResultsFormat, QuerySolutions, Triple, parse_query_results
from pyoxigraph import serialize as rdf_serialize

from server.rdf.formats import rdf_format, results_format
from server.rdf.triple_terms import check_writable
from server.sparql.streaming import stream_writes

#: Results up to this many rows are serialised in one piece; larger ones are streamed.
STREAM_ABOVE = 2000


@dataclass
class QueryResult:
    """A query's answer, cut at the row limit."""

    kind: str
    """``select``, ``ask`` or ``graph`` (CONSTRUCT and DESCRIBE)."""
    variables: list[str] = field(default_factory=list)
    boolean: bool | None = None
    triples: list[Triple] = field(default_factory=list)
    truncated: bool = False
    elapsed_ms: float = 0.0
    tsv: bytes = b""
    """SELECT solutions as SPARQL TSV, written by pyoxigraph (header line, one line a row)."""
    row_count: int = 0
    prefixes: dict[str, str] = field(default_factory=dict)
    """For CONSTRUCT and DESCRIBE: prefix -> namespace to declare in Turtle-like output."""
    body: bytes | None = None
    """The answer already serialised as ``body_type`` (see ``execute.run_query``); then ``tsv``,
    ``rows``, ``row_count`` and ``triples`` are empty."""
    body_type: str = ""

    @cached_property
    def rows(self) -> list[dict[str, Any]]:
        """SELECT solutions: variable name -> pyoxigraph term (unbound variables absent)."""
        if self.kind != "select":
            return []
        solutions = parse_query_results(self.tsv, QueryResultsFormat.TSV)
        assert isinstance(solutions, QuerySolutions)
        names = [v.value for v in solutions.variables]
        return [{n: t for n, t in zip(names, row, strict=True) if t is not None}
                for row in solutions]



def _results_object(result: QueryResult) -> Any:
    """A pyoxigraph QuerySolutions holding ``result``'s solutions, for its serializers."""
    return parse_query_results(result.tsv, QueryResultsFormat.TSV)


@lru_cache(maxsize=32)
def _boolean_body(value: bool, rfmt: QueryResultsFormat) -> bytes:
    """An ASK answer as pyoxigraph writes it: two values, a few formats, so made once each."""
    body = json.dumps({"head": {}, "boolean": value}).encode()
    answer = parse_query_results(body, QueryResultsFormat.JSON)
    return answer.serialize(format=rfmt) or b""


def serialize(result: QueryResult, media_type: str) -> Iterable[bytes]:
    """Serialise ``result`` as ``media_type`` with pyoxigraph's serializers, as byte chunks.

    A small answer is a one-item list, so the response gets a ``Content-Length`` (WSGI servers
    send an iterator chunked, which costs extra writes and packets per response). Large answers
    are written by a producer thread into a bounded queue and streamed.

    Raises:
        ValueError: ``media_type`` does not fit the result's kind.
    """
    if result.body is not None:
        if result.body_type != media_type:
            raise ValueError(f"this answer was serialised as {result.body_type} already")
        return [result.body]
    if result.kind == "graph":
        fmt = rdf_format(media_type)
        if fmt is None:
            raise ValueError(f"{media_type} is not an RDF format")
        triples: Iterable[Triple] = result.triples
        check_writable(result.triples, fmt)
        prefixes = result.prefixes or None
        if len(result.triples) <= STREAM_ABOVE:
            return [rdf_serialize(triples, format=fmt, prefixes=prefixes) or b""]
        return stream_writes(lambda out: rdf_serialize(triples, out, format=fmt,
                                                       prefixes=prefixes))
    rfmt = results_format(media_type)
    if rfmt is None:
        raise ValueError(f"{media_type} is not a query results format")
    if result.kind == "ask":
        return [_boolean_body(bool(result.boolean), rfmt)]
    if result.kind == "select" and rfmt == QueryResultsFormat.TSV:
        return [result.tsv]
    if result.row_count <= STREAM_ABOVE:
        return [_results_object(result).serialize(format=rfmt) or b""]
    # pyoxigraph's results objects are bound to the thread that made them: build it there.
    return stream_writes(lambda out: _results_object(result).serialize(out, format=rfmt))
