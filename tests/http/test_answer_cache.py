"""Answers kept by the store's version (``server.http.answer_cache``): a repeated slow query is
answered from memory, and never once the store has changed or when its value cannot repeat."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from server import create_app
from server.config import load_settings
from server.errors import QueryTimeout
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


@pytest.fixture(params=["one process", "shared folder"])
def caches(request: pytest.FixtureRequest, tmp_path: Path) -> list[AnswerCache]:
    """Four caches as four askers see them: one cache in one process, or four processes'
    caches sharing a folder (as ``k2d3 serve``'s workers do)."""
    if request.param == "one process":
        return [AnswerCache(10_000, min_ms=5)] * 4
    return [AnswerCache(10_000, min_ms=5, folder=tmp_path) for _ in range(4)]


def ask_at_once(caches: list[AnswerCache], compute: Any, wait_s: float = 10) -> list[Any]:
    """Each cache's asker looks ``"k"`` up at once, computing it when given the claim."""
    import threading

    answers: list[Any] = [None] * len(caches)
    errors: list[BaseException] = []
    start = threading.Barrier(len(caches))

    def ask(i: int) -> None:
        start.wait()
        try:
            kept, claim = caches[i].lookup("k", wait_s)
            if kept is None:
                try:
                    kept = compute()
                except BaseException:
                    claim.done()
                    raise
                claim.done(kept, 10, elapsed_ms=100)
            answers[i] = kept
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(caches))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return answers


def test_a_slow_answer_asked_at_once_is_computed_once(caches: list[AnswerCache]) -> None:
    runs: list[int] = []

    def compute() -> str:
        runs.append(1)
        time.sleep(0.3)
        return "answer"

    assert ask_at_once(caches, compute) == ["answer"] * 4
    assert len(runs) == 1


def test_when_the_computation_fails_the_waiters_go_at_once(caches: list[AnswerCache]) -> None:
    runs: list[int] = []

    def compute() -> str:
        runs.append(1)
        time.sleep(0.2)
        if len(runs) == 1:
            raise RuntimeError("the first one fails")
        return "answer"

    started = time.monotonic()
    with pytest.raises(RuntimeError):
        ask_at_once(caches, compute)
    # Not one after another (4 x 0.2 s): the failure let the waiters go, who computed it
    # (side by side, or one of them while the rest waited for its answer).
    assert time.monotonic() - started < 0.7 and len(runs) >= 2


def test_a_waiter_gives_up_at_its_time_limit(caches: list[AnswerCache]) -> None:
    held = caches[0].lookup("k", 1)[1]
    assert held.leads
    started = time.monotonic()
    with pytest.raises(QueryTimeout, match="0.3 s"):
        caches[1].lookup("k", 0.3)
    assert 0.25 < time.monotonic() - started < 2
    held.done()


def test_an_answer_not_kept_lets_its_askers_run_side_by_side(caches: list[AnswerCache]) -> None:
    kept, claim = caches[0].lookup("k", 1)
    assert kept is None and claim.leads
    claim.done("quick", 10, elapsed_ms=1)   # under min_ms: not kept, and remembered so
    kept, again = caches[0].lookup("k", 1)
    other = caches[0].lookup("k", 1)[1]
    assert kept is None and not again.leads and not other.leads  # no waiting on each other


def test_a_folder_that_goes_away_costs_the_sharing_and_nothing_else(tmp_path: Path) -> None:
    import shutil

    cache = AnswerCache(10_000, min_ms=5, folder=tmp_path / "answers")
    assert (tmp_path / "answers").is_dir()          # made if missing
    shutil.rmtree(tmp_path / "answers")
    kept, claim = cache.lookup("k", 1)
    assert kept is None
    claim.done("answer", 10, elapsed_ms=100)
    assert cache.lookup("k", 1)[0] == "answer"      # from memory


def test_a_head_of_a_streamed_answer_leaves_no_one_waiting(client: Any) -> None:
    query = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?o ?p ?s LIMIT 3000"  # streamed
    assert client.head("/sparql", query_string={"query": query}, headers=JSON).status_code == 200
    started = time.monotonic()
    resp = client.get("/sparql", query_string={"query": query}, headers=JSON)
    assert resp.status_code == 200 and len(resp.get_json()["results"]["bindings"]) == 3000
    assert time.monotonic() - started < 5   # not the 30 s time limit waiting on a claim


def test_with_a_remote_engine_answers_are_not_shared(tmp_path: Path) -> None:
    settings = load_settings(env={}, store=tmp_path / "store", backend="http://127.0.0.1:9/q",
                             answer_cache_dir=str(tmp_path / "answers"))
    cache = create_app(settings).extensions[CACHE_KEY]
    assert cache._files is None   # its versions are per process (server.sparql.backend)


def test_an_answer_too_large_for_memory_is_shared_from_disk(built_store: Path,
                                                            tmp_path: Path) -> None:
    """Memory keeps answers of up to a quarter of 64 KB here; the 3,000-row answer (about
    300 KB, streamed) goes to the shared folder as it is sent, and is answered from its file,
    also to a second process (a second app over the same folder)."""
    from conftest import copy_store

    store = copy_store(built_store, tmp_path / "store")
    settings = load_settings(env={}, store=store, answer_cache_min_ms=0,
                             answer_cache_bytes=65536, answer_cache_dir=str(tmp_path / "a"))
    first, second = create_app(settings).test_client(), create_app(settings).test_client()
    query = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?p ?s ?o LIMIT 3000"
    computed = first.get("/sparql", query_string={"query": query}, headers=JSON)
    body = computed.get_data()
    assert len(body) > 65536 and "cache" not in computed.headers["Server-Timing"]
    assert list((tmp_path / "a").glob("*.answer"))
    for client in (first, second):
        again = client.get("/sparql", query_string={"query": query}, headers=JSON)
        assert again.headers["Server-Timing"] == "cache;desc=hit" and again.get_data() == body


def test_past_max_waiters_an_asker_computes_without_waiting() -> None:
    import threading

    cache = AnswerCache(10_000, min_ms=5, max_waiters=2)
    held = cache.lookup("k", 1)[1]
    outcomes: list[str] = []

    def wait() -> None:
        try:
            kept, claim = cache.lookup("k", 0.5)
            outcomes.append("computes" if kept is None and not claim.leads else "other")
        except QueryTimeout:
            outcomes.append("waited its time")

    threads = [threading.Thread(target=wait) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    held.done()
    assert sorted(outcomes) == ["computes", "waited its time", "waited its time"]
