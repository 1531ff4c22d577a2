"""The short version of ``benchmarks/fuzz.py`` against a real ``k2d3 serve``, and the same
generator driven by hypothesis (which shrinks a failing request to a small one).

Every request must be answered without a 5xx (a 503 only as the documented timeout or
overload answer, with ``Retry-After``), a traceback or a reset, and the server must stay up.
Writes carry the real token, so generated updates and Graph Store writes run beside the reads
(the store's copy-on-write snapshots keep readers off what a writer changes).
"""

from __future__ import annotations

import random
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from endpoint_fixtures import TOKEN, serve
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import fuzz  # noqa: E402
import fuzz_requests  # noqa: E402


@pytest.fixture(scope="module")
def server(built_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    from conftest import copy_store

    store = copy_store(built_store, tmp_path_factory.mktemp("fuzz") / "store")
    with serve(store, query_timeout="5", max_query_timeout="10") as (url, proc):
        yield url, proc


def test_a_short_fuzz_run_finds_nothing(server: tuple) -> None:
    url, proc = server
    report = fuzz.run(url, 3000, seed=20261207, clients=4, token=TOKEN)
    assert report.sent >= 3000
    assert not report.failures, report.failures[:3]
    assert proc.poll() is None, "the server process exited"


@settings(max_examples=200, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.randoms(use_true_random=False))
def test_generated_requests_are_answered_without_a_5xx(server: tuple,
                                                       rng: random.Random) -> None:
    url, _proc = server
    host, port = url.removeprefix("http://").split(":")
    req = fuzz_requests.request(rng, f"{host}:{port}", TOKEN)
    if not req.target.isascii():
        return
    client = fuzz.Client(host, int(port))
    try:
        status, headers, body = client.send(req)
    finally:
        client.close()
    assert fuzz.check(req, status, headers, body) is None, (status, req.describe())
