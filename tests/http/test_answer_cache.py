"""Answers kept by the store's version (``server.http.answer_cache``): a repeated slow query is
answered from memory, and never once the store has changed or when its value cannot repeat."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from server import create_app
from server.config import load_settings
from server.http.answer_cache import AnswerCache, Entry
from server.http.context import CACHE_KEY
from server.sparql.results import QueryResult

TOKEN = "cache-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
JSON = {"Accept": "application/sparql-results+json"}
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH <http://e/cache> { ?s ?p ?o } }"


def test_least_recently_used_goes_first_and_bytes_are_bounded() -> None:
    cache = AnswerCache(max_bytes=320, min_ms=5)   # entries of 80 bytes with their keys
    for key in ("a", "b", "c", "d"):
        cache.put(key, Entry((), b"x" * 79), 79, elapsed_ms=10)
    assert cache.get("a") is not None  # now the most recently used
    cache.put("e", Entry((), b"x" * 79), 79, elapsed_ms=10)   # 400 bytes: "b" goes
    assert cache.get("b") is None and cache.get("a") is not None
    assert cache.size_bytes == 320
    cache.put("quick", Entry((), b"x"), 1, elapsed_ms=1)       # cheaper to recompute
    cache.put("huge", Entry((), b"x" * 80), 80, elapsed_ms=99)  # over a quarter of the cache
    assert cache.get("quick") is None and cache.get("huge") is None


@pytest.fixture()
def client(built_store: Path, tmp_path: Path) -> Any:
    from conftest import copy_store

    store = copy_store(built_store, tmp_path / "store")
    app: Flask = create_app(load_settings(env={}, store=store, update_token=TOKEN,
                                          answer_cache_min_ms=0))
    return app.test_client()


def count(client: Any, query: str = COUNT) -> tuple[str, str]:
    resp = client.get("/sparql", query_string={"query": query}, headers=JSON)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    value = resp.get_json()["results"]["bindings"][0]["n"]["value"]
    return value, resp.headers["Server-Timing"]


def test_a_repeated_query_is_answered_from_the_cache_until_a_write(client: Any) -> None:
    first, timing = count(client)
    again, timing_again = count(client)
    assert (first, again) == ("0", "0") and timing_again == "cache;desc=hit"
    resp = client.post("/sparql", data={"update": "INSERT DATA { GRAPH <http://e/cache> "
                                                  "{ <http://e/s> <http://e/p> 1 } }"},
                       headers=AUTH)
    assert resp.status_code == 204
    after, timing_after = count(client)
    assert after == "1" and "cache" not in timing_after


def test_queries_whose_value_cannot_repeat_are_never_kept(client: Any) -> None:
    query = "SELECT (STR(RAND()) AS ?n) WHERE {}"
    assert len({count(client, query)[0] for _ in range(5)}) > 1
    assert all("cache" not in count(client, query)[1] for _ in range(3))


def test_a_canned_query_page_is_kept_by_version(client: Any) -> None:
    cache = client.application.extensions[CACHE_KEY]
    first = client.get("/queries/verdict", headers=JSON)
    hits = cache.hits
    again = client.get("/queries/verdict", headers=JSON)
    assert cache.hits > hits
    assert first.get_json() == again.get_json()
    assert client.get("/queries/verdict").status_code == 200  # HTML: the page reads the rows
    kept = [value for value, _ in cache._entries.values() if isinstance(value, QueryResult)]
    assert kept and all("rows" not in vars(r) for r in kept)  # parsed rows are not kept


def test_a_streamed_answer_is_kept_once_written_whole(client: Any) -> None:
    query = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o LIMIT 3000"  # streamed
    first = client.get("/sparql", query_string={"query": query}, headers=JSON)
    assert first.is_streamed or "Content-Length" not in first.headers
    body = first.get_data()
    again = client.get("/sparql", query_string={"query": query}, headers=JSON)
    assert again.headers["Server-Timing"] == "cache;desc=hit"
    assert again.get_data() == body and len(again.get_json()["results"]["bindings"]) == 3000
