"""Settings that need their own server: time limit, union default graph, read copy, no token.

The time-limit test proves the limit really stops the work: the runaway query's worker process
is retired, so the CPU time of the server's workers stops growing shortly after the deadline,
while other requests keep being answered meanwhile.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests
from endpoint_fixtures import KASEI, TOKEN, fresh_store, serve
from metrics_samples import samples, value

HEAVY = "SELECT (COUNT(*) AS ?n) { " + " ".join(f"?a{i} ?b{i} ?c{i} ." for i in range(10)) + "}"
TICKS = os.sysconf("SC_CLK_TCK")


def workers_cpu_seconds(arbiter_pid: int) -> float:
    """User + system CPU time of the arbiter's current worker processes."""
    pids = subprocess.run(["ps", "-o", "pid=", "--ppid", str(arbiter_pid)], capture_output=True,
                          text=True, check=False).stdout.split()
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / TICKS
    return total


def test_timeout_frees_the_core_and_others_are_served(tmp_path: Path) -> None:
    root = fresh_store(tmp_path)
    with serve(root, query_timeout="1", max_query_timeout="1") as (url, proc):
        answers: list[int] = []
        stop = threading.Event()

        def others() -> None:
            while not stop.is_set():
                answers.append(requests.get(url + "/sparql", params={"query": "ASK {}"},
                                            timeout=10).status_code)
                time.sleep(0.05)

        background = threading.Thread(target=others)
        background.start()
        started = time.monotonic()
        resp = requests.get(url + "/sparql", params={"query": HEAVY, "timeout": "5"}, timeout=30)
        elapsed = time.monotonic() - started
        assert resp.status_code == 503
        assert "query timed out after 1 s" in resp.text      # timeout=5 capped at the max
        assert elapsed < 2.5
        time.sleep(4)                                         # retire grace (3 s) + margin
        before = workers_cpu_seconds(proc.pid)
        time.sleep(2)
        burnt = workers_cpu_seconds(proc.pid) - before
        stop.set()
        background.join()
        assert burnt < 0.5, f"workers still burn CPU: {burnt:.2f} s in 2 s"
        assert answers and set(answers) == {200}, answers
        assert len(answers) > 20                              # kept answering meanwhile
        found = samples(requests.get(url + "/metrics").text)
        assert value(found, "k2d3_query_timeouts_total", route="/sparql") == 1


def test_flask_test_client_answers_the_timeout_status(tmp_path: Path) -> None:
    from server import create_app
    from server.config import load_settings

    app = create_app(load_settings(env={}, store=fresh_store(tmp_path), query_timeout=0.3))
    resp = app.test_client().get("/sparql", query_string={"query": HEAVY})
    assert resp.status_code == 503 and b"timed out after 0.3 s" in resp.data


UNION_Q = f"ASK {{ <{KASEI}data1.rdf> a ?t }}"


@pytest.mark.parametrize(("union", "expected", "feature"), [("true", True, True),
                                                            ("false", False, False)])
def test_union_default_graph_setting(tmp_path: Path, union: str, expected: bool,
                                     feature: bool) -> None:
    with serve(fresh_store(tmp_path), union_default_graph=union) as (url, _):
        answer = requests.get(url + "/sparql", params={"query": UNION_Q},
                              headers={"Accept": "application/sparql-results+json"}).json()
        assert answer["boolean"] is expected
        named = requests.get(url + "/sparql", params={"query": UNION_Q,
                                                      "default-graph-uri": KASEI + "data1.rdf"},
                             headers={"Accept": "application/sparql-results+json"}).json()
        assert named["boolean"] is True
        sd = requests.get(url + "/sparql", headers={"Accept": "application/n-triples"}).text
        assert ("sparql-service-description#UnionDefaultGraph" in sd) is feature


@pytest.mark.parametrize(("limit", "reading"), [("0", "disk"), ("100000", "memory"),
                                               ("1", "disk")])
def test_read_copy_setting_and_every_process_reads_a_write(tmp_path: Path, limit: str,
                                                           reading: str) -> None:
    with serve(fresh_store(tmp_path), read_copy_max_quads=limit, workers="2") as (url, _):
        # A new connection each time: both processes answer some of twelve (a review saw
        # splits from 5:1 to 3:3 in six).
        fresh = {"Connection": "close"}
        assert {requests.get(url + "/healthz", headers=fresh).json()["reading"]
                for _ in range(12)} == {reading}
        requests.put(url + "/store?graph=http://e/new", data='<http://e/a> <http://e/b> "1" .',
                     headers={"Content-Type": "application/n-triples",
                              "Authorization": f"Bearer {TOKEN}"}).raise_for_status()
        asks = [requests.get(url + "/sparql", headers={**fresh, "Accept": "application/"
                                                       "sparql-results+json"},
                             params={"query": 'ASK { GRAPH <http://e/new> { ?s ?p "1" } }'}
                             ).json()["boolean"] for _ in range(12)]
        assert asks == [True] * 12


def test_writes_are_off_without_a_token(tmp_path: Path) -> None:
    with serve(fresh_store(tmp_path), update_token="") as (url, _):
        resp = requests.post(url + "/sparql", data="CLEAR ALL",
                             headers={"Content-Type": "application/sparql-update",
                                      "Authorization": f"Bearer {TOKEN}"})
        assert resp.status_code == 403 and "writes are off" in resp.text
        put = requests.put(url + "/store?graph=http://e/g", data="<http://e/a> <http://e/b> 1 .",
                           headers={"Content-Type": "application/n-triples",
                                    "Authorization": f"Bearer {TOKEN}"})
        assert put.status_code == 403
        sd = requests.get(url + "/sparql", headers={"Accept": "application/n-triples"}).text
        assert "SPARQL11Update" not in sd


def test_federation_allow_list_setting(tmp_path: Path) -> None:
    import socket

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(5)
        listener.settimeout(2)
        allowed = f"http://127.0.0.1:{listener.getsockname()[1]}/"
        with serve(fresh_store(tmp_path), federation_allow=allowed) as (url, _):
            query = f"SELECT * {{ SERVICE SILENT <{allowed}sparql> {{ ?s ?p ?o }} }}"
            threading.Thread(target=requests.get, args=(url + "/sparql",),
                             kwargs={"params": {"query": query}, "timeout": 5},
                             daemon=True).start()
            conn, _addr = listener.accept()      # the allow-listed address is contacted
            conn.close()
            refused = requests.get(url + "/sparql", params={
                "query": "SELECT * { SERVICE <http://127.0.0.2:9/> { ?s ?p ?o } }"})
            assert refused.status_code == 403
            # With federation on the workers keep the network: a text the lexer misreads
            # (pyoxigraph takes "SERVICEex:x" for SERVICE ex:x) is refused by the letter count.
            with socket.socket() as forbidden:
                forbidden.bind(("127.0.0.1", 0))
                forbidden.listen(5)
                forbidden.settimeout(1)
                other = f"http://127.0.0.1:{forbidden.getsockname()[1]}/"
                sneaky = requests.get(url + "/sparql", timeout=10, params={"query": (
                    f"PREFIX ex: <{other}> SELECT * {{ ?s ?p ?o SERVICEex:x {{ ?s ?p ?o }} }}")})
                assert sneaky.status_code == 403 and "letters" in sneaky.text
                with pytest.raises(socket.timeout):
                    forbidden.accept()


def test_a_runaway_update_times_out_and_frees_the_writer_lock(tmp_path: Path) -> None:
    root = fresh_store(tmp_path)
    auth = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/sparql-update"}
    with serve(root, query_timeout="1", max_query_timeout="1") as (url, _proc):
        product = " ".join(f"GRAPH ?g{i} {{ ?a{i} ?b{i} ?c{i} }}" for i in range(10))
        heavy = ("INSERT { GRAPH <http://e/never> { <http://e/n> <http://e/is> ?n } } WHERE "
                 f"{{ {{ SELECT (COUNT(*) AS ?n) {{ {product} }} }} }}")
        resp = requests.post(url + "/sparql", data=heavy, headers=auth, timeout=30)
        assert resp.status_code == 503 and "timed out after 1 s" in resp.text
        deadline = time.monotonic() + 15
        status = 0
        while time.monotonic() < deadline and status != 204:
            # A write that lands on the retiring worker waits for the lock its own runaway
            # update holds and is cut when the worker exits: the client sees the connection
            # drop and tries again, as it would after any 503 or reset.
            with contextlib.suppress(requests.ConnectionError):
                status = requests.post(url + "/sparql", headers=auth, timeout=10,
                                       data="INSERT DATA { GRAPH <http://e/ok> { <http://e/a> "
                                            "<http://e/b> 1 } }").status_code
            time.sleep(0.2)
        assert status == 204, "the writer lock must be free again after the retirement"
        ask = requests.get(url + "/sparql", params={"query": "ASK { GRAPH <http://e/never> "
                                                             "{ ?s ?p ?o } }"})
        assert ask.json()["boolean"] is False, "the timed-out update did not commit"


#: A sort of 13^6 (4.8 million) rows of 18 terms: pyoxigraph holds them all, gigabytes.
HUNGRY = ("SELECT * { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n ?o . ?p ?q ?r } "
          "ORDER BY ?c ?f ?i ?l ?o ?r")


def _family_rss_mib(pid: int) -> int:
    pids = [pid, *map(int, subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)],
                                          capture_output=True, text=True,
                                          check=False).stdout.split())]
    total = 0
    for p in pids:
        with contextlib.suppress(FileNotFoundError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total // 1024


def test_a_query_past_the_memory_limit_is_answered_and_its_process_replaced(
        tmp_path: Path) -> None:
    """K2D3_WORKER_MEMORY_MIB: the query is answered 503 saying why, the server's memory stays
    near the limit (without it this query takes gigabytes), the worker is replaced and the
    server keeps answering; the stop is counted."""
    with serve(fresh_store(tmp_path), worker_memory_mib="300") as (url, proc):
        peak = [0]
        stop = threading.Event()

        def watch_memory() -> None:
            while not stop.is_set():
                peak[0] = max(peak[0], _family_rss_mib(proc.pid))
                time.sleep(0.02)

        sampler = threading.Thread(target=watch_memory)
        sampler.start()
        try:
            started = time.monotonic()
            resp = requests.get(url + "/sparql", params={"query": HUNGRY}, timeout=60)
            elapsed = time.monotonic() - started
        finally:
            time.sleep(1.0)                   # the worker's exit, half a second later
            stop.set()
            sampler.join()
        assert resp.status_code == 503, resp.text[:300]
        assert "needed more memory than a server process may use (300 MiB" in resp.text
        assert "Retry-After" not in resp.headers   # the same query would fail again
        assert elapsed < 10
        # one worker at the limit (+ what it takes in a 50 ms tick and its last half second),
        # the other worker and the arbiter at rest
        assert peak[0] < 300 + 250 + 150, peak
        for _ in range(50):
            ask = requests.get(url + "/sparql", params={"query": "ASK {}"}, timeout=10)
            if ask.status_code == 200:
                break
            time.sleep(0.1)
        assert ask.status_code == 200
        found = samples(requests.get(url + "/metrics").text)
        assert value(found, "k2d3_query_memory_stops_total", route="/sparql") == 1
