"""Content negotiation: ``Accept`` (or ``?format=``) -> the media type to answer with.

A pure function over strings, table-tested in ``tests/test_negotiation.py``. It follows
RFC 9110 section 12.5.1 (https://www.rfc-editor.org/rfc/rfc9110#section-12.5.1): q-values,
``type/*`` and ``*/*`` wildcards, the most specific matching range decides a type's quality, and
``q=0`` refuses a type. Among equally acceptable types the server's order (``offered``) wins.
Media types map to pyoxigraph formats through pyoxigraph's own ``from_media_type``.
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


def _ranges(accept: str) -> list[tuple[str, str, float]]:
    """Parse an Accept header into (type, subtype, q); malformed members are skipped."""
    out = []
    for member in accept.split(","):
        parts = [p.strip() for p in member.split(";")]
        if "/" not in parts[0]:
            continue
        main, _, sub = parts[0].lower().partition("/")
        q = 1.0
        for param in parts[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = max(0.0, min(1.0, float(value.strip())))
                except ValueError:
                    q = 0.0
        out.append((main.strip(), sub.strip(), q))
    return out


def _quality(media_type: str, ranges: list[tuple[str, str, float]]) -> float:
    """The q of the most specific range matching ``media_type`` (0 when none does)."""
    main, _, sub = media_type.lower().partition("/")
    best, best_rank = 0.0, -1
    for r_main, r_sub, q in ranges:
        if r_main == main and r_sub == sub:
            rank = 2
        elif r_main == main and r_sub == "*":
            rank = 1
        elif r_main == "*" and r_sub == "*":
            rank = 0
        else:
            continue
        if rank > best_rank:
            best, best_rank = q, rank
    return best


#: A client sends the same ``Accept`` with every request, so answers are cached for headers
#: up to this long (longer ones are worked out each time, so the cache stays small).
CACHE_ACCEPT_LIMIT = 1024


def negotiate(accept: str | None, format_param: str | None, offered: list[str]) -> str | None:
    """Choose one of ``offered`` for this request, or ``None`` (answer 406 Not Acceptable).

    ``format_param`` (the ``?format=`` query parameter: a short name from :data:`FORMAT_NAMES`
    or a media type) overrides ``Accept``. A missing or empty ``Accept`` means ``*/*``.
    """
    if len(accept or "") + len(format_param or "") > CACHE_ACCEPT_LIMIT:
        return _negotiate(accept, format_param, tuple(offered))
    return _cached_negotiate(accept, format_param, tuple(offered))


@lru_cache(maxsize=256)
def _cached_negotiate(accept: str | None, format_param: str | None,
                      offered: tuple[str, ...]) -> str | None:
    return _negotiate(accept, format_param, offered)


def _negotiate(accept: str | None, format_param: str | None,
               offered: tuple[str, ...]) -> str | None:
    if format_param:
        wanted = FORMAT_NAMES.get(format_param.strip().lower(), (format_param.strip().lower(),))
        offered_lower = [o.lower() for o in offered]
        for candidate in wanted:
            if candidate.split(";")[0].strip() in offered_lower:
                return offered[offered_lower.index(candidate.split(";")[0].strip())]
        return None
    if not accept or not accept.strip():
        return offered[0] if offered else None
    ranges = _ranges(accept)
    best, best_q = None, 0.0
    for media_type in offered:
        q = _quality(media_type, ranges)
        if q > best_q:
            best, best_q = media_type, q
    return best


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
