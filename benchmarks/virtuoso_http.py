#!/usr/bin/env python3
"""Every canned query over HTTP: Virtuoso's ``/sparql`` (and k2d3's own, with ``--k2d3``).

Virtuoso (Debian's ``virtuoso-opensource``) is started on loopback under a temporary folder,
bulk-loads the article's store dump (its named graphs keep their IRIs) and is restarted
before measuring (the session that creates a database answers some property paths wrongly:
see ``RESULTS.md``). With ``--k2d3``, ``k2d3 serve`` (gunicorn, its defaults) runs over the
same store on a free port. Both get the same text: the canned queries with their defaults
bound by a ``VALUES`` opening the ``WHERE`` (``canned_text.py``) and a few generic queries;
the same ``Accept`` (SPARQL JSON results, Turtle for graphs).

Per query and endpoint: the median and p99 of the latency of ``--runs`` GETs in a row over one
keep-alive connection (``http.client``: the same client cost on both sides; a GET, or a form
POST when the request line would pass gunicorn's 4094-byte limit), the body size,
then requests/s with Debian's ``wrk`` at 1, 8 and 32 connections, ``--seconds`` a run,
``--rounds`` rounds (median per count; the endpoints alternate). The load average is printed
with every query. At the end: each server's peak RSS (``VmHWM``, gunicorn's processes summed).

    python benchmarks/virtuoso_http.py [--store BUILT_STORE] [--k2d3] [--runs 50]
        [--seconds 3] [--rounds 2] [--only NAME,...] [--json OUT.json]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

import canned_text  # noqa: E402
from virtuoso import Virtuoso, ensure_installed, free_port, proc_status  # noqa: E402
from virtuoso_portability import build_store, dump_of  # noqa: E402

GENERIC = {
    "ask-empty": "ASK {}",
    "ten-triples": "SELECT * WHERE { ?s ?p ?o } LIMIT 10",
    "label-search": 'SELECT ?s ?label WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> '
                    '?label FILTER(CONTAINS(LCASE(STR(?label)), "vitamin k2")) }',
    "types": "SELECT ?t (COUNT(?s) AS ?n) WHERE { ?s a ?t } GROUP BY ?t ORDER BY DESC(?n)",
    "construct-100": "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 100",
}
ACCEPT = {"select": "application/sparql-results+json", "ask": "application/sparql-results+json",
          "construct": "text/turtle"}
CONNECTIONS = (1, 8, 32)
#: Longer GET request lines are refused by gunicorn (its limit_request_line is 4094: k2d3
#: answers 414); such queries go as a form POST, to every endpoint alike.
MAX_GET = 4000


def queries(only: set[str]) -> dict[str, tuple[str, str]]:
    """name -> (kind, text) for the generic and the canned queries."""
    out = {name: ("ask" if text.startswith("ASK") else
                  "construct" if text.startswith("CONSTRUCT") else "select", text)
           for name, text in GENERIC.items()}
    out |= {"canned:" + q.name: (q.kind, q.inline_text) for q in canned_text.catalogue()}
    return {k: v for k, v in out.items() if not only or k.split(":")[-1] in only}


def request_of(url: str, kind: str, text: str) -> tuple[str, str, str | None, dict[str, str]]:
    """Method, path, body and headers of one query: a GET, or a form POST when too long."""
    form = urlencode({"query": text})
    path = urlsplit(url).path
    headers = {"Accept": ACCEPT[kind]}
    if len(path) + len(form) + 1 <= MAX_GET:
        return "GET", f"{path}?{form}", None, headers
    return "POST", path, form, headers | {"Content-Type": "application/x-www-form-urlencoded"}


def latencies(url: str, kind: str, text: str, runs: int) -> tuple[list[float], int, int]:
    """Seconds of ``runs`` requests on one keep-alive connection (after 3 unmeasured), the
    last status and body size."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=600)
    method, path, body_out, headers = request_of(url, kind, text)
    samples, status, size = [], 0, 0
    try:
        for i in range(runs + 3):
            started = time.perf_counter()
            conn.request(method, path, body=body_out, headers=headers)
            response = conn.getresponse()
            body = response.read()
            if i >= 3:
                samples.append(time.perf_counter() - started)
            status, size = response.status, len(body)
    finally:
        conn.close()
    return samples, status, size


def wrk(url: str, kind: str, text: str, connections: int, seconds: int,
        scratch: Path) -> tuple[float, int]:
    """Requests/s of one ``wrk`` run, and its count of non-2xx answers."""
    method, path, body, headers = request_of(url, kind, text)
    script = scratch / "request.lua"
    script.write_text(f"wrk.method = {json.dumps(method)}\n"
                      + (f"wrk.body = {json.dumps(body)}\n" if body else "")
                      + "".join(f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}\n"
                                for k, v in headers.items()))
    target = urlsplit(url)._replace(path=path.split("?")[0],
                                    query=path.partition("?")[2]).geturl()
    out = subprocess.run(["wrk", "-t", str(min(connections, 2)), "-c", str(connections), "-d",
                          f"{seconds}s", "--timeout", "120s", "-s", str(script), target],
                         capture_output=True, text=True, check=True).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return (float(rate.group(1)) if rate else 0.0), int(errors.group(1)) if errors else 0


def p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def measure(name: str, kind: str, text: str, endpoints: dict[str, str],
            args: argparse.Namespace) -> dict[str, Any]:
    """Latency then throughput of one query on every endpoint, endpoints alternating."""
    row: dict[str, Any] = {"query": name, "load": round(os.getloadavg()[0], 1),
                           "method": request_of(next(iter(endpoints.values())), kind, text)[0]}
    for engine, url in endpoints.items():
        samples, status, size = latencies(url, kind, text, args.runs)
        row[engine] = {"status": status, "bytes": size,
                       "median_ms": statistics.median(samples) * 1000,
                       "p99_ms": p99(samples) * 1000, "rps": {c: [] for c in CONNECTIONS},
                       "non_2xx": 0}
    for rnd in range(args.rounds):
        order = list(endpoints.items())
        for engine, url in order if rnd % 2 == 0 else reversed(order):
            if row[engine]["status"] != 200:
                continue
            for connections in CONNECTIONS:
                rate, errors = wrk(url, kind, text, connections, args.seconds, args.scratch)
                row[engine]["rps"][connections].append(rate)
                row[engine]["non_2xx"] += errors
    for engine in endpoints:
        row[engine]["rps"] = {c: statistics.median(v) if v else 0.0
                              for c, v in row[engine]["rps"].items()}
    return row


def family_hwm_kib(pid: int) -> int:
    """``VmHWM`` of ``pid`` and of its children (gunicorn's master and workers)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    kids = [int(c) for c in children.read_text().split()] if children.exists() else []
    return proc_status(pid, "VmHWM") + sum(proc_status(k, "VmHWM") for k in kids)


@contextmanager
def k2d3_serve(store: Path, logs: Path, env: dict[str, str] | None = None
               ) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``k2d3 serve`` over ``store`` on a free port (this worktree's), with ``env`` on top of
    this process's environment, stopped after; its output in ``logs/k2d3-serve.log``."""
    port = free_port()
    k2d3 = Path(sys.executable).with_name("k2d3")
    log = open(logs / "k2d3-serve.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen([str(k2d3), "serve", "--store", str(store), "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, **(env or {})})
    url = f"http://127.0.0.1:{port}/sparql"
    try:
        for _ in range(240):
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=2).request("GET", "/")
                break
            except OSError:
                time.sleep(0.5)
        yield url, proc
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        log.close()


def print_table(rows: list[dict[str, Any]], engines: list[str]) -> None:
    head = " | ".join(f"{e} median / p99 ms | {e} req/s 1 / 8 / 32" for e in engines)
    print(f"| query | load | method | bytes | {head} |")
    print("|---|---:|---|---:|" + "---:|---:|" * len(engines))
    for row in rows:
        cells = []
        for e in engines:
            r = row[e]
            if r["status"] != 200:
                cells += [f"HTTP {r['status']}", ""]
                continue
            rps = " / ".join(f"{r['rps'][c]:,.0f}" for c in CONNECTIONS)
            cells += [f"{r['median_ms']:.2f} / {r['p99_ms']:.2f}",
                      rps + (f" ({r['non_2xx']} non-2xx)" if r["non_2xx"] else "")]
        first = row[engines[0]]["bytes"]
        print(f"| {row['query']} | {row['load']} | {row['method']} | {first:,} | "
              + " | ".join(cells) + " |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, help="a built k2d3 store (default: build one)")
    parser.add_argument("--k2d3", action="store_true", help="measure k2d3 serve as well")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", default="", help="comma-separated query names")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    print(ensure_installed(), file=sys.stderr)
    tmp = Path(tempfile.mkdtemp(prefix="k2d3-http-"))
    args.scratch = tmp
    store = args.store or build_store(tmp / "store")
    dump = dump_of(store)
    rows, memory = [], {}
    try:
        with Virtuoso.start(tmp / "virtuoso", data_dirs=[dump.parent]) as server:
            server.bulk_load([dump], "urn:k2d3:unused")
        with Virtuoso.start(tmp / "virtuoso", data_dirs=[dump.parent]) as server:
            endpoints = {"Virtuoso": server.sparql_url}
            with (k2d3_serve(store, tmp) if args.k2d3 else _nothing()) as k2d3:
                if k2d3:
                    endpoints["k2d3"] = k2d3[0]
                for name, (kind, text) in queries(set(filter(None, args.only.split(",")))).items():
                    rows.append(measure(name, kind, text, endpoints, args))
                    print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
                if k2d3:
                    memory["k2d3"] = family_hwm_kib(k2d3[1].pid)
            memory["Virtuoso"] = server.peak_rss_kib()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print_table(rows, list(endpoints))
    print("\nPeak RSS: " + ", ".join(f"{e} {kib / 1024:,.0f} MiB" for e, kib in memory.items()))
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "peak_rss_kib": memory}, indent=1))
    return 0


@contextmanager
def _nothing() -> Iterator[None]:
    yield None


if __name__ == "__main__":
    sys.exit(main())
