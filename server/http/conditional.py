"""Conditional GET for generated pages and RDF: a strong ETag from the body, 304 on a match.

Resource pages, their RDF and the canned-query pages are rendered per request, and which store
version, format and language they reflect is spread over several inputs; the body itself is
the exact validator (as Werkzeug's ``add_etag`` computes it), and hashing a page costs far
less than rendering it. Crawlers and caches revalidate with ``If-None-Match`` and get a 304.
Responses that already carry an ETag (the SPARQL endpoint's, built from the store version) or
that stream keep theirs; their views test ``If-None-Match`` with :func:`etag_matches`.
Graph Store writes honour ``If-Match`` and ``If-None-Match`` through :func:`write_refusal`.
"""

from __future__ import annotations

from collections.abc import Collection

from flask import Response, request


def _tags(header: str | None) -> list[str]:
    """The entity tags (or ``*``) a conditional header lists, as written."""
    return [t.strip() for t in (header or "").split(",")]


def _weak(tags: list[str]) -> set[str]:
    """The tags with any ``W/`` taken off, for the weak comparison."""
    return {t.removeprefix("W/") for t in tags}


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an ``If-None-Match`` header names ``etag``, by the weak comparison RFC 9110
    (13.1.2) prescribes for it: ``W/"x"`` and ``"x"`` match each other."""
    return etag.removeprefix("W/") in _weak(_tags(if_none_match))


def write_refusal(if_match: str | None, if_none_match: str | None,
                  current: Collection[str] | None) -> str | None:
    """Why a write's preconditions fail, or ``None`` when they hold (RFC 9110 13.1.1-2).

    ``current`` holds the tags of the target's current representations, ``None`` when it does
    not exist. ``If-Match`` compares strongly (a ``W/`` tag never matches) and ``*`` asks that
    the target exist; ``If-None-Match`` compares weakly and ``*`` asks that it not exist.
    """
    if if_match:
        tags = _tags(if_match)
        if current is None:
            return "If-Match: the graph does not exist"
        if "*" not in tags and not set(tags) & set(current):
            return "If-Match: the graph has changed since that ETag was given (or it is not one)"
    if if_none_match and current is not None:
        tags = _tags(if_none_match)
        if "*" in tags:
            return "If-None-Match: *, and the graph exists"
        if _weak(tags) & _weak(list(current)):
            return "If-None-Match: the graph has not changed since that ETag was given"
    return None


def add_etag(response: Response) -> Response:
    """Give a whole 200 answer to GET or HEAD an ETag, and make it conditional on the request."""
    if (request.method not in {"GET", "HEAD"} or response.status_code != 200
            or response.is_streamed or "ETag" in response.headers):
        return response
    response.add_etag()
    response.make_conditional(request)  # updates the response in place (304, no body)
    return response
