"""server/http/metrics.py: counters and the latency histogram through prometheus_client, in one
process (Flask's test client: the app's own registry) and in multiprocess mode (forked
processes writing to one folder, as gunicorn's workers do; see tests/live/test_metrics_live.py
for the real server).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from endpoint_fixtures import fresh_store
from flask import Flask
from metrics_samples import samples, value
from prometheus_client import CONTENT_TYPE_LATEST, values

from server.http import metrics

DURATION = "k2d3_http_request_duration_seconds"


@pytest.fixture()
def small_app(tmp_path: Path) -> Flask:
    from server import create_app
    from server.config import load_settings

    return create_app(load_settings(env={}, store=fresh_store(tmp_path)))


def test_the_test_client_counts_in_the_apps_own_registry(small_app: Flask) -> None:
    client = small_app.test_client()
    for _ in range(3):
        assert client.get("/sparql", query_string={"query": "ASK {}"}).status_code == 200
    assert client.get("/sparql", query_string={"query": "SELECT"}).status_code == 400
    scrape = client.get("/metrics")
    assert scrape.status_code == 200
    assert scrape.headers["Content-Type"] == CONTENT_TYPE_LATEST
    found = samples(scrape.get_data(as_text=True))
    assert value(found, "k2d3_http_requests_total",
                 route="/sparql", method="GET", status="200") == 3
    assert value(found, "k2d3_http_requests_total",
                 route="/sparql", method="GET", status="400") == 1
    assert value(found, "k2d3_http_errors_total", route="/sparql", status="400") == 1
    assert value(found, "k2d3_http_errors_total", route="/sparql", status="200") == 0
    assert value(found, DURATION + "_count", route="/sparql") == 4
    assert value(found, DURATION + "_bucket", route="/sparql", le="+Inf") == 4
    assert value(found, "k2d3_worker_processes") == 1
    # a second app in the same process counts apart
    other = Flask(__name__)
    assert metrics.for_app(other).registry is not metrics.for_app(small_app).registry


def test_the_histogram_puts_each_duration_in_its_bucket() -> None:
    counted = metrics.Metrics()
    for seconds in (0.0005, 0.003, 0.005, 0.7, 45.0):  # 0.005 is on a bound: le is inclusive
        counted.observe("/x", "GET", 200, seconds)
    counted.observe("/x", "GET", 503, 0.02, timed_out=True)
    found = samples(counted.exposition()[0].decode())
    expected = {"0.001": 1, "0.0025": 1, "0.005": 3, "0.01": 3, "0.025": 4, "0.05": 4,
                "0.1": 4, "0.25": 4, "0.5": 4, "1.0": 5, "2.5": 5, "5.0": 5, "10.0": 5,
                "30.0": 5, "+Inf": 6}
    for le, count in expected.items():
        assert value(found, DURATION + "_bucket", route="/x", le=le) == count, le
    assert value(found, DURATION + "_count", route="/x") == 6
    assert value(found, DURATION + "_sum", route="/x") == pytest.approx(45.7285)
    assert value(found, "k2d3_query_timeouts_total", route="/x") == 1
    assert value(found, "k2d3_http_errors_total", route="/x", status="503") == 1


@pytest.fixture()
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A metrics folder; this test process leaves multiprocess mode afterwards."""
    monkeypatch.setattr(values, "ValueClass", values.ValueClass)
    monkeypatch.delenv(metrics.MULTIPROC_ENV, raising=False)
    yield tmp_path


def _worker(directory: str, requests: int, ready: multiprocessing.synchronize.Event,
            leave: multiprocessing.synchronize.Event) -> None:
    """A forked 'worker': counts ``requests`` requests, then stays until told to leave."""
    counted = metrics.Metrics(Path(directory))
    for _ in range(requests):
        counted.observe("/sparql", "GET", 200, 0.002)
    ready.set()
    leave.wait(10)
    os._exit(0)


def test_workers_counts_add_up_and_stay_after_they_exit(folder: Path) -> None:
    fork = multiprocessing.get_context("fork")
    leave = fork.Event()
    readies = [fork.Event(), fork.Event()]
    workers = [fork.Process(target=_worker, args=(str(folder), n, ready, leave))
               for n, ready in zip((5, 7), readies, strict=True)]
    for process in workers:
        process.start()
    assert all(ready.wait(10) for ready in readies)
    scraper = metrics.Metrics(folder)  # a third process's view: this one, counting nothing
    found = samples(scraper.exposition()[0].decode())
    assert value(found, "k2d3_http_requests_total",
                 route="/sparql", method="GET", status="200") == 12
    assert value(found, DURATION + "_bucket", route="/sparql", le="0.0025") == 12
    assert value(found, "k2d3_worker_processes") == 3
    leave.set()
    for process in workers:
        process.join(10)
        assert process.pid is not None
        metrics.process_dead(process.pid, folder)  # what the arbiter's child_exit does
    found = samples(scraper.exposition()[0].decode())
    assert value(found, "k2d3_http_requests_total",
                 route="/sparql", method="GET", status="200") == 12  # kept
    assert value(found, DURATION + "_count", route="/sparql") == 12
    assert value(found, "k2d3_worker_processes") == 1  # only the scraper still serves
