"""``/metrics`` on the real server (gunicorn, two workers): prometheus_client's multiprocess
mode adds up what every worker counted, and keeps what a killed worker counted.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from endpoint_fixtures import fresh_store, serve
from metrics_samples import samples, value

SENT = 60
ASK = {"query": "ASK {}"}
OK = {"route": "/sparql", "method": "GET", "status": "200"}


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory
                ) -> Iterator[tuple[str, subprocess.Popen[bytes], Path]]:
    root = fresh_store(tmp_path_factory.mktemp("metrics"))
    with serve(root, workers="2", threads="4") as (url, proc):
        yield url, proc, root.parent / f"server-{url.rsplit(':', 1)[1]}.log"


def scrape(url: str) -> dict:
    resp = requests.get(url + "/metrics", timeout=10)
    assert resp.status_code == 200
    return samples(resp.text)


def worker_pids(arbiter: int) -> set[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(arbiter)], capture_output=True,
                         text=True, check=False).stdout
    return {int(pid) for pid in out.split()}


def send(url: str, n: int) -> None:
    """``n`` requests from eight clients, each on new connections (so both workers get some)."""
    def one(_: int) -> int:
        with requests.Session() as session:
            return session.get(url + "/sparql", params=ASK, timeout=10).status_code

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(one, range(n))) == {200}


def answering_pids(log: Path) -> set[int]:
    """The processes that logged an answer to ASK {} (the access log is written twice a
    second)."""
    time.sleep(1.2)
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    return {r["pid"] for r in lines if r["route"] == "/sparql"}


def test_counts_from_both_workers_add_up(
        two_workers: tuple[str, subprocess.Popen[bytes], Path]) -> None:
    url, proc, log = two_workers
    before, sent = scrape(url), 0
    for _ in range(5):  # until both workers have answered some (which one accepts is chance)
        send(url, SENT)
        sent += SENT
        if answering_pids(log) == worker_pids(proc.pid):
            break
    else:
        pytest.fail("one worker answered everything")
    after = scrape(url)
    assert value(after, "k2d3_http_requests_total", **OK) - \
        value(before, "k2d3_http_requests_total", **OK) == sent
    assert value(after, "k2d3_worker_processes") == 2
    count = value(after, "k2d3_http_request_duration_seconds_count", route="/sparql")
    assert count == sum(v for (name, labels), v in after.items()
                        if name == "k2d3_http_requests_total" and ("route", "/sparql") in labels)
    buckets = sorted(((float(dict(labels)["le"]), v) for (name, labels), v in after.items()
                      if name == "k2d3_http_request_duration_seconds_bucket"
                      and ("route", "/sparql") in labels))
    assert [le for le, _ in buckets][-1] == float("inf") and buckets[-1][1] == count
    assert all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:], strict=False))  # cumulative


def test_a_killed_workers_counts_are_kept(
        two_workers: tuple[str, subprocess.Popen[bytes], Path]) -> None:
    url, proc, log = two_workers
    before = value(scrape(url), "k2d3_http_requests_total", **OK)
    send(url, SENT)  # and kill at once: what was counted is written as it is counted
    victim = min(worker_pids(proc.pid))
    subprocess.run(["kill", f"-{signal.SIGKILL.value}", str(victim)], check=True)
    deadline, sent = time.monotonic() + 30, SENT
    while time.monotonic() < deadline:  # until the arbiter's replacement has answered some
        send(url, 16)
        sent += 16
        now = worker_pids(proc.pid)
        if len(now) == 2 and victim not in now and now <= answering_pids(log):
            break
    else:
        pytest.fail("no replacement worker answered")
    found = scrape(url)
    # what the killed worker counted is still in the totals ...
    assert value(found, "k2d3_http_requests_total", **OK) == before + sent
    # ... and the arbiter marked it dead: it no longer counts as serving
    assert value(found, "k2d3_worker_processes") == 2
