"""Content negotiation as a table: q-values, wildcards, ?format=, 406 (server.http.negotiation)."""

from __future__ import annotations

import pytest

from server.http.negotiation import negotiate
from server.rdf.formats import GRAPH_TYPES, SELECT_TYPES, content_type, rdf_format

SRJ, SRX = "application/sparql-results+json", "application/sparql-results+xml"
CSV, TSV = "text/csv", "text/tab-separated-values"


@pytest.mark.parametrize(("accept", "fmt", "offered", "expected"), [
    (None, None, SELECT_TYPES, SRJ),                       # no Accept: the server's first
    ("", None, SELECT_TYPES, SRJ),
    ("*/*", None, SELECT_TYPES, SRJ),
    (SRX, None, SELECT_TYPES, SRX),
    ("text/*", None, SELECT_TYPES, CSV),                   # type wildcard, server order
    (f"{SRJ};q=0.5, {SRX}", None, SELECT_TYPES, SRX),       # q-values
    (f"{SRJ};q=0.9, {TSV};q=0.95", None, SELECT_TYPES, TSV),
    ("text/csv; charset=utf-8", None, SELECT_TYPES, CSV),  # parameters other than q ignored
    ("text/*;q=0.1, text/tab-separated-values", None, SELECT_TYPES, TSV),
    ("*/*;q=0.1, text/csv;q=0", None, SELECT_TYPES, SRJ),   # q=0 refuses that type
    ("text/csv;q=0", None, [CSV], None),
    ("image/png", None, SELECT_TYPES, None),               # nothing fits: 406
    ("image/png", None, GRAPH_TYPES, None),
    ("application/json", None, SELECT_TYPES, "application/json"),
    ("text/turtle", None, SELECT_TYPES, None),
    ("text/turtle;q=0.5, application/rdf+xml", None, GRAPH_TYPES, "application/rdf+xml"),
    ("application/n-triples", None, GRAPH_TYPES, "application/n-triples"),
    ("TEXT/TURTLE", None, GRAPH_TYPES, "text/turtle"),     # case-insensitive
    ("garbage, text/turtle", None, GRAPH_TYPES, "text/turtle"),  # malformed member skipped
    ("text/turtle;q=abc, application/trig", None, GRAPH_TYPES, "application/trig"),
    # ?format= overrides Accept
    ("text/csv", "json", SELECT_TYPES, SRJ),
    (None, "json", GRAPH_TYPES, "application/ld+json"),
    (None, "xml", SELECT_TYPES, SRX),
    (None, "xml", GRAPH_TYPES, "application/rdf+xml"),
    (None, "csv", SELECT_TYPES, CSV),
    (None, "tsv", SELECT_TYPES, TSV),
    (None, "ttl", GRAPH_TYPES, "text/turtle"),
    (None, "turtle", GRAPH_TYPES, "text/turtle"),
    (None, "nt", GRAPH_TYPES, "application/n-triples"),
    (None, "rdf/xml", GRAPH_TYPES, "application/rdf+xml"),
    (None, "jsonld", GRAPH_TYPES, "application/ld+json"),
    (None, "nq", GRAPH_TYPES, "application/n-quads"),
    (None, "trig", GRAPH_TYPES, "application/trig"),
    (None, "html", ["text/turtle", "text/html"], "text/html"),
    (None, "text/turtle", GRAPH_TYPES, "text/turtle"),      # a media type as ?format=
    (None, "ttl", SELECT_TYPES, None),                      # a format that does not fit: 406
    (None, "nonsense", SELECT_TYPES, None),
])
def test_negotiate(accept: str | None, fmt: str | None, offered: list[str],
                   expected: str | None) -> None:
    assert negotiate(accept, fmt, offered) == expected


def test_every_offered_type_has_a_pyoxigraph_format() -> None:
    from server.rdf.formats import results_format

    assert all(results_format(t) is not None for t in SELECT_TYPES)
    assert all(rdf_format(t) is not None for t in GRAPH_TYPES)


@pytest.mark.parametrize(("media_type", "graph", "expected"), [
    ("application/json", False, "application/sparql-results+json"),
    ("application/json", True, "application/ld+json"),
    ("text/csv", False, "text/csv; charset=utf-8"),
    ("text/turtle", True, "text/turtle; charset=utf-8"),
    ("text/plain", True, "application/n-triples"),
])
def test_content_type(media_type: str, graph: bool, expected: str) -> None:
    assert content_type(media_type, graph=graph) == expected
