"""server/http/conditional.py: generated pages and RDF carry an ETag and answer 304 to a match."""

from __future__ import annotations

from typing import Any

import pytest

from server.http.conditional import etag_matches, write_refusal

ENTITY = "/id/vitamin-k2"


@pytest.mark.parametrize(("header", "expected"), [
    ('"v1-abc"', True),
    ('"other", "v1-abc"', True),
    (' "v1-abc" ,"x"', True),
    ('"v1-ab"', False),
    ("", False),
    (None, False),
    ('W/"v1-abc"', True),
    ('W/"v1-ab", "x"', False),
])
def test_etag_matches(header: str | None, expected: bool) -> None:
    assert etag_matches(header, '"v1-abc"') is expected
    assert etag_matches(header, 'W/"v1-abc"') is expected, "weak comparison"


def test_a_tag_may_hold_a_comma() -> None:
    """RFC 9110 8.8.3: an entity tag is any visible character but DQUOTE, commas included; a
    splitter on commas read ``"x,y"`` as two tags, ``"x`` and ``y"``."""
    assert etag_matches('"x,y"', '"x,y"')
    assert etag_matches('"a", "x,y"', '"x,y"')
    assert not etag_matches('"x,y"', '"x"')
    assert write_refusal('"x,y"', None, {'"x,y"'}) is None
    assert write_refusal('"x"', None, {'"x,y"'}) is not None


CURRENT = {'"v2-text/turtle-1a"', '"v2-application/n-triples-1a"'}


@pytest.mark.parametrize(("if_match", "if_none_match", "current", "refused"), [
    (None, None, CURRENT, False),
    (None, None, None, False),
    ('"v2-text/turtle-1a"', None, CURRENT, False),
    ('"v1-text/turtle-1a", "v2-application/n-triples-1a"', None, CURRENT, False),
    ('"v1-text/turtle-1a"', None, CURRENT, True),       # changed since
    ('W/"v2-text/turtle-1a"', None, CURRENT, True),     # If-Match compares strongly
    ("*", None, CURRENT, False),
    ("*", None, None, True),                            # no graph to match
    ('"v2-text/turtle-1a"', None, None, True),
    (None, "*", None, False),                           # create only: absent, so go
    (None, "*", CURRENT, True),
    (None, 'W/"v2-text/turtle-1a"', CURRENT, True),     # If-None-Match compares weakly
    (None, '"v1-text/turtle-1a"', CURRENT, False),
])
def test_write_refusal(if_match: str | None, if_none_match: str | None,
                       current: set[str] | None, refused: bool) -> None:
    assert (write_refusal(if_match, if_none_match, current) is not None) is refused


@pytest.mark.parametrize(("path", "headers"), [
    (ENTITY, {"Accept": "text/turtle"}),
    (ENTITY, {"Accept": "text/html", "Accept-Language": "zh"}),
    ("/ontology", {"Accept": "application/rdf+xml"}),
    ("/queries/vitamin-k-proteins", {"Accept": "application/sparql-results+json"}),
    ("/queries", {"Accept": "text/html"}),
])
def test_a_matching_if_none_match_gets_304_without_a_body(client: Any, path: str,
                                                          headers: dict[str, str]) -> None:
    first = client.get(path, headers=headers)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    again = client.get(path, headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    assert again.headers["ETag"] == etag
    other = client.get(path, headers={**headers, "If-None-Match": '"something-else"'})
    assert other.status_code == 200
    assert other.get_data() == first.get_data()


def test_each_representation_has_its_own_etag(client: Any) -> None:
    tags = {client.get(ENTITY, headers=h).headers["ETag"] for h in (
        {"Accept": "text/turtle"}, {"Accept": "application/n-triples"},
        {"Accept": "text/html", "Accept-Language": "en"},
        {"Accept": "text/html", "Accept-Language": "zh"})}
    assert len(tags) == 4


def test_not_found_and_head_requests(client: Any) -> None:
    assert "ETag" not in client.get("/id/no-such-thing", headers={"Accept": "text/html"}).headers
    head = client.head(ENTITY, headers={"Accept": "text/turtle"})
    assert head.headers["ETag"] == client.get(ENTITY, headers={"Accept": "text/turtle"}).headers[
        "ETag"]


@pytest.mark.parametrize("query", ["SELEKT * {}", "ASK { SERVICE <http://example.org/x> {} }"])
def test_a_query_that_fails_is_not_304_whatever_if_none_match_says(client: Any,
                                                                   query: str) -> None:
    """RFC 9110 13.2.1: preconditions do not hide an error (the query is checked first)."""
    for header in ("*", 'W/"anything"'):
        resp = client.get("/sparql", query_string={"query": query},
                          headers={"If-None-Match": header})
        assert resp.status_code in {400, 403}, (header, resp.status_code)
