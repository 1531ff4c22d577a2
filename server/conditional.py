"""Conditional GET for generated pages and RDF: a strong ETag from the body, 304 on a match.

Resource pages, their RDF and the canned-query pages are rendered per request, and which store
version, format and language they reflect is spread over several inputs; the body itself is
the exact validator (as Werkzeug's ``add_etag`` computes it), and hashing a page costs far
less than rendering it. Crawlers and caches revalidate with ``If-None-Match`` and get a 304.
Responses that already carry an ETag (the SPARQL endpoint's, built from the store version) or
that stream keep theirs; their views test ``If-None-Match`` with :func:`etag_matches`.
"""

from __future__ import annotations

from flask import Response, request


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an ``If-None-Match`` header names ``etag``, by the weak comparison RFC 9110
    (13.1.2) prescribes for it: ``W/"x"`` and ``"x"`` match each other, and ``*`` matches
    any tag (the representation exists)."""
    tags = [t.strip().removeprefix("W/") for t in (if_none_match or "").split(",")]
    return "*" in tags or etag.removeprefix("W/") in tags


def add_etag(response: Response) -> Response:
    """Give a whole 200 answer to GET or HEAD an ETag, and make it conditional on the request."""
    if (request.method not in {"GET", "HEAD"} or response.status_code != 200
            or response.is_streamed or "ETag" in response.headers):
        return response
    response.add_etag()
    response.make_conditional(request)  # updates the response in place (304, no body)
    return response
