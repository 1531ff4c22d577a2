"""``k2d3 serve`` on a gunicorn whose gthread internals have changed (simulated: the check says
so): it says so once and serves with gunicorn's stock gthread worker, metrics and time limits
included.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import requests
from conftest import free_port, stop_server, wait_up
from endpoint_fixtures import ROOT, fresh_store
from metrics_samples import samples, value

HEAVY = "SELECT (COUNT(*) AS ?n) { " + " ".join(f"?a{i} ?b{i} ?c{i} ." for i in range(9)) + "}"


def test_the_stock_worker_serves_when_the_internals_are_missing(tmp_path: Path) -> None:
    port = free_port()
    code = ("from server.serving import gthread_check; "
            "gthread_check.missing = lambda: ['ThreadWorker.handle(self, conn)']; "
            "from server.config import load_settings; from server.serving.serve import run; "
            f"run(load_settings(), '127.0.0.1', {port})")
    env = {k: v for k, v in os.environ.items() if not k.startswith("K2D3_")}
    env.update(K2D3_STORE=str(fresh_store(tmp_path)), K2D3_WORKERS="2",
               K2D3_MAX_QUERY_TIMEOUT="1")
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-c", code], env=env, cwd=ROOT, stdout=out,
                                stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_up(proc, url, seconds=30)
            for _ in range(10):
                assert requests.get(url + "/sparql", params={"query": "ASK {}"},
                                    timeout=10).status_code == 200
            slow = requests.get(url + "/sparql", params={"query": HEAVY}, timeout=30)
            assert slow.status_code == 503 and "timed out after 1 s" in slow.text
            found = samples(requests.get(url + "/metrics", timeout=10).text)
        finally:
            stop_server(proc)
    assert value(found, "k2d3_http_requests_total",
                 route="/sparql", method="GET", status="200") >= 10
    assert value(found, "k2d3_query_timeouts_total", route="/sparql") == 1
    text = log.read_text()
    assert text.count("serving with gunicorn's stock gthread worker") == 1, text
    assert "ThreadWorker.handle(self, conn)" in text
