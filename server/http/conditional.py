"""Conditional GET for generated pages and RDF: a strong ETag from the body, 304 on a match.

Resource pages, their RDF and the canned-query pages are rendered per request, and which store
version, format and language they reflect is spread over several inputs; the body itself is
the exact validator (as Werkzeug's ``add_etag`` computes it), and hashing a page costs far
less than rendering it. Crawlers and caches revalidate with ``If-None-Match`` and get a 304.
Responses that already carry an ETag (the SPARQL endpoint's, built from the store version) or
that stream keep theirs; their views test ``If-None-Match`` with :func:`etag_matches`.
Graph Store writes honour ``If-Match`` and ``If-None-Match`` through :func:`write_refusal`.
The headers are parsed by werkzeug's ``parse_etags`` (a tag may hold a comma: ``"x,y"``).
"""

from __future__ import annotations

from collections.abc import Collection

from flask import Response, request
from werkzeug.http import parse_etags, unquote_etag


def _value(etag: str) -> tuple[str, bool]:
    """``"x"`` -> (``x``, strong); ``W/"x"`` -> (``x``, weak)."""
    value, weak = unquote_etag(etag)
    return value or "", weak


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an ``If-None-Match`` header names ``etag``, by the weak comparison RFC 9110
    (13.1.2) prescribes for it: ``W/"x"`` and ``"x"`` match each other. ``*`` is honoured for
    writes only (:func:`write_refusal`); on a read it would answer 304 before the query is
    checked, hiding an error (13.2.1)."""
    if not if_none_match:
        return False
    tags, value = parse_etags(if_none_match), _value(etag)[0]
    return tags.is_strong(value) or tags.is_weak(value)


def write_refusal(if_match: str | None, if_none_match: str | None,
                  current: Collection[str] | None) -> str | None:
    """Why a write's preconditions fail, or ``None`` when they hold (RFC 9110 13.1.1-2).

    ``current`` holds the tags of the target's current representations, ``None`` when it does
    not exist. ``If-Match`` compares strongly (a ``W/`` tag never matches) and ``*`` asks that
    the target exist; ``If-None-Match`` compares weakly and ``*`` asks that it not exist.
    """
    if if_match:
        tags = parse_etags(if_match)
        if current is None:
            return "If-Match: the graph does not exist"
        strong = [value for value, weak in map(_value, current) if not weak]
        if not tags.star_tag and not any(tags.is_strong(value) for value in strong):
            return "If-Match: the graph has changed since that ETag was given (or it is not one)"
    if if_none_match and current is not None:
        tags = parse_etags(if_none_match)
        if tags.star_tag:
            return "If-None-Match: *, and the graph exists"
        if any(tags.contains_weak(_value(tag)[0]) for tag in current):
            return "If-None-Match: the graph has not changed since that ETag was given"
    return None


def not_modified(etag: str, *, vary: str | None = "Accept") -> Response | None:
    """The 304 for a request whose ``If-None-Match`` names ``etag``, else ``None``: the one
    place a view's own ETag (the store version's) becomes a 304."""
    if not etag_matches(request.headers.get("If-None-Match"), etag):
        return None
    headers = {"ETag": etag, **({"Vary": vary} if vary else {})}
    return Response(status=304, headers=headers)


def add_etag(response: Response) -> Response:
    """Give a whole 200 answer to GET or HEAD an ETag, and make it conditional on the request."""
    if (request.method not in {"GET", "HEAD"} or response.status_code != 200
            or response.is_streamed or "ETag" in response.headers):
        return response
    response.add_etag()
    response.make_conditional(request)  # updates the response in place (304, no body)
    return response
