"""The answer cache under a real ``k2d3 serve``: a slow query that many clients ask at once is
computed once, by one worker, and every client gets it (none is refused by the bound on heavy
queries while the others wait)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from conftest import copy_store, start_server, stop_server

#: About 2 s on the article's graph here: long enough for every client to arrive meanwhile.
SLOW = ("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?a ?b ?c } GRAPH ?h { ?d ?b ?f } }")
CLIENTS = 12  # more than the two workers' heavy-query slots (2 each by default)


@pytest.fixture(scope="module")
def server(built_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    store = copy_store(built_store, tmp_path_factory.mktemp("cache-live") / "store")
    proc, url = start_server(store, {"K2D3_WORKERS": "2"})
    yield url
    stop_server(proc)


def ask(url: str) -> requests.Response:
    return requests.get(url + "/sparql", params={"query": SLOW},
                        headers={"Accept": "text/csv"}, timeout=60)


def test_a_slow_query_asked_at_once_is_computed_once_and_answered_to_all(server: str) -> None:
    with ThreadPoolExecutor(CLIENTS) as pool:
        answers = list(pool.map(lambda _: ask(server), range(CLIENTS)))
    assert Counter(r.status_code for r in answers) == {200: CLIENTS}, \
        [r.text for r in answers if r.status_code != 200][:1]
    assert len({r.text for r in answers}) == 1
    timings = Counter(r.headers["Server-Timing"].split(";")[0] for r in answers)
    assert timings == {"query": 1, "cache": CLIENTS - 1}
    again = ask(server)   # later, in whichever worker: from the cache
    assert again.headers["Server-Timing"] == "cache;desc=hit" and again.text == answers[0].text


def test_a_waiter_with_a_longer_time_limit_is_not_cut_by_the_default_one(
        built_store: Path, tmp_path: Path) -> None:
    """The default limit (1 s here) watches a request until its own (``timeout=8``) is known;
    a client waiting for another's computation must be watched by its own limit, or the
    watchdog answers it 503 at 1 s and retires the worker."""
    from endpoint_fixtures import serve

    store = copy_store(built_store, tmp_path / "store")
    with serve(store, query_timeout="1", max_query_timeout="10") as (url, _proc), \
            ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(
            lambda _: requests.get(url + "/sparql", params={"query": SLOW, "timeout": "8"},
                                   headers={"Accept": "text/csv"}, timeout=60), range(4)))
    assert [r.status_code for r in answers] == [200] * 4, [r.text for r in answers]
    log = "".join(p.read_text(errors="replace") for p in tmp_path.glob("server-*.log"))
    assert " retires: " not in log
