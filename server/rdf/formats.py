"""Every answer format k2d3 speaks, in one table: media types, ``?format=`` names, and the
pyoxigraph formats behind them.

HTTP negotiation (``server.http.negotiation``), the linked-data pages, the SPARQL executor and
``k2d3 query`` all read their formats here. Media types map to pyoxigraph formats through
pyoxigraph's own ``from_media_type``.
"""

from __future__ import annotations

from functools import lru_cache

from pyoxigraph import QueryResultsFormat, RdfFormat

#: SELECT / ASK results, in the server's order of preference (the first is the default).
SELECT_TYPES = [
    "application/sparql-results+json",
    "application/sparql-results+xml",
    "text/csv",
    "text/tab-separated-values",
    "application/json",
    "application/xml",
]

#: CONSTRUCT / DESCRIBE results and Graph Store documents, in order of preference.
GRAPH_TYPES = [
    "text/turtle",
    "application/n-triples",
    "application/rdf+xml",
    "application/ld+json",
    "application/n-quads",
    "application/trig",
    "text/plain",
]

HTML = "text/html"

#: ``?format=`` short names; a name may stand for several types (``json`` is SPARQL JSON for a
#: SELECT and JSON-LD for a CONSTRUCT), the first one offered wins.
FORMAT_NAMES: dict[str, tuple[str, ...]] = {
    "json": ("application/sparql-results+json", "application/ld+json", "application/json"),
    "srj": ("application/sparql-results+json",),
    "xml": ("application/sparql-results+xml", "application/rdf+xml"),
    "srx": ("application/sparql-results+xml",),
    "csv": ("text/csv",),
    "tsv": ("text/tab-separated-values",),
    "ttl": ("text/turtle",),
    "turtle": ("text/turtle",),
    "nt": ("application/n-triples",),
    "ntriples": ("application/n-triples",),
    "n-triples": ("application/n-triples",),
    "rdf": ("application/rdf+xml",),
    "rdf/xml": ("application/rdf+xml",),
    "rdfxml": ("application/rdf+xml",),
    "jsonld": ("application/ld+json",),
    "json-ld": ("application/ld+json",),
    "nq": ("application/n-quads",),
    "nquads": ("application/n-quads",),
    "trig": ("application/trig",),
    "html": (HTML,),
}

#: One short name per media type, where a single name is wanted: the ``Link`` headers and file
#: extensions of the linked-data pages, and the names ``k2d3 query --format`` lists first.
SHORT_NAMES: dict[str, str] = {
    "text/turtle": "ttl", "application/ld+json": "jsonld", "application/rdf+xml": "rdf",
    "application/n-triples": "nt", "application/n-quads": "nq", "application/trig": "trig",
    "application/sparql-results+json": "srj", "application/sparql-results+xml": "srx",
    "text/csv": "csv", "text/tab-separated-values": "tsv", HTML: "html",
}


def query_format(name: str, *, graph: bool) -> QueryResultsFormat | RdfFormat | None:
    """The format a ``?format=``-style ``name`` stands for, for a graph (CONSTRUCT / DESCRIBE)
    or a results (SELECT / ASK) answer; ``None`` when the name has no format of that kind."""
    for media_type in FORMAT_NAMES.get(name, ()):
        fmt = rdf_format(media_type) if graph else results_format(media_type)
        if fmt is not None:
            return fmt
    return None


def results_format(media_type: str) -> QueryResultsFormat | None:
    """The pyoxigraph results format for a media type (``None`` when it is not one)."""
    return QueryResultsFormat.from_media_type(media_type)


def rdf_format(media_type: str) -> RdfFormat | None:
    """The pyoxigraph RDF format for a media type (``None`` when it is not one)."""
    return RdfFormat.from_media_type(media_type)


@lru_cache(maxsize=64)
def content_type(media_type: str, *, graph: bool = False) -> str:
    """The ``Content-Type`` to send for a negotiated type (canonical, with charset for text).

    ``graph`` says the answer is RDF (``application/json`` is then JSON-LD, not SPARQL JSON).
    """
    fmt = rdf_format(media_type) if graph else results_format(media_type)
    canonical = fmt.media_type if fmt is not None else media_type
    if canonical.startswith("text/") and "charset" not in canonical:
        canonical += "; charset=utf-8"
    return canonical
