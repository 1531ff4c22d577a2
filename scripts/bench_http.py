#!/usr/bin/env python3
"""Benchmark the endpoint over HTTP against in-process pyoxigraph, in one run (not a test).

Starts ``server.serve.run`` (gunicorn, the production configuration) over a store, then for the
canned queries (``queries/*.rq``, parameters at their defaults, bound with a trailing VALUES
clause) and a few generic queries measures the median latency in process (query + JSON or
N-Triples serialisation) and over HTTP (one keep-alive connection), and throughput with Debian's
``wrk`` at 1, 8 and 32 connections. Both sides run the same query text: pyoxigraph may plan a
VALUES-bound query differently from one bound with ``substitutions``, which is not the
endpoint's cost. Prints the ratios
and checks the issue's targets: median HTTP latency <= 1.5 x in-process + 1 ms for small
results; requests/s at 8 and at 32 connections >= 2 x that at 1, and no drop from 8 to 32.

    python3 scripts/bench_http.py --store /path/to/built/store [--runs 50] [--seconds 5]
"""

from __future__ import annotations

import argparse
import http.client
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from pyoxigraph import QueryResultsFormat, RdfFormat, Store  # noqa: E402

GENERIC = {
    "ask-empty": "ASK {}",
    "ten-triples": "SELECT * WHERE { ?s ?p ?o } LIMIT 10",
    "count-triples": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
    "types": "SELECT ?t (COUNT(?s) AS ?n) WHERE { ?s a ?t } GROUP BY ?t ORDER BY DESC(?n)",
    "construct-100": "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 100",
}
SMALL_BYTES = 20_000


def canned_queries(store: Store) -> dict[str, tuple[str, dict]]:
    """name -> (text, substitutions) for canned queries whose parameters all have values."""
    try:
        from server import canned
    except ImportError:
        return {}
    out = {}
    for query in canned.catalogue():
        try:
            subs = canned.bind(query, {})
        except ValueError:
            continue
        out["canned:" + query.name] = (query.text, subs)
    return out


def values_clause(text: str, subs: dict) -> str:
    if not subs:
        return text
    names = " ".join("?" + k for k in subs)
    terms = " ".join(str(v) for v in subs.values())
    return f"{text}\nVALUES ({names}) {{ ({terms}) }}"


def in_process(store: Store, text: str, subs: dict, runs: int) -> tuple[float, int]:
    from pyoxigraph import Variable

    times, size = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        result = store.query(text, use_default_graph_as_union=True,
                             substitutions={Variable(k): v for k, v in subs.items()} or None)
        if hasattr(result, "serialize"):
            fmt = (QueryResultsFormat.JSON if not hasattr(result, "__iter__")
                   or type(result).__name__ != "QueryTriples" else None)
            body = (result.serialize(format=fmt) if fmt is not None
                    else result.serialize(format=RdfFormat.N_TRIPLES))
        else:
            body = bytes(str(bool(result)), "ascii")
        times.append(time.perf_counter() - started)
        size = len(body or b"")
    return statistics.median(times) * 1000, size


def over_http(port: int, text: str, runs: int) -> tuple[float, int]:
    conn = http.client.HTTPConnection("127.0.0.1", port)
    path = "/sparql?" + urlencode({"query": text})
    accept = {"Accept": "application/sparql-results+json, application/n-triples;q=0.9"}
    times, size = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        conn.request("GET", path, headers=accept)
        resp = conn.getresponse()
        body = resp.read()
        times.append(time.perf_counter() - started)
        if resp.status != 200:
            raise RuntimeError(f"HTTP {resp.status}: {body[:200]!r}")
        size = len(body)
    conn.close()
    return statistics.median(times) * 1000, size


def wrk(port: int, connections: int, seconds: int, text: str) -> float:
    url = f"http://127.0.0.1:{port}/sparql?" + urlencode({"query": text})
    out = subprocess.run(["wrk", "-t", str(min(connections, 2)), "-c", str(connections), "-d",
                          f"{seconds}s", url], capture_output=True, text=True, check=True).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        print(f"  wrk: {errors.group(1)} non-2xx responses", file=sys.stderr)
    return float(match.group(1)) if match else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, help="a built store (default: a small test store)")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--workers", default="")
    parser.add_argument("--threads", default="")
    args = parser.parse_args()
    from endpoint_fixtures import fresh_store, serve

    store_path = args.store or fresh_store(Path(tempfile.mkdtemp(prefix="k2d3-bench-")))
    env = {k: v for k, v in {"workers": args.workers, "threads": args.threads}.items() if v}
    local = Store.read_only(str((store_path / "current").resolve()))
    queries = {k: (v, {}) for k, v in GENERIC.items()} | canned_queries(local)
    ok = True
    with serve(store_path, **env) as (url, _proc):
        port = int(url.rsplit(":", 1)[1])
        print(f"{'query':42} {'in-proc ms':>10} {'HTTP ms':>9} {'ratio':>6} {'bytes':>8}  target")
        for name, (text, subs) in queries.items():
            inproc, size = in_process(local, values_clause(text, subs), {}, args.runs)
            http_ms, http_size = over_http(port, values_clause(text, subs), args.runs)
            small = http_size <= SMALL_BYTES
            meets = http_ms <= 1.5 * inproc + 1.0
            ok &= meets or not small
            verdict = ("ok" if meets else "MISSED") if small else "(large: not checked)"
            print(f"{name:42} {inproc:10.3f} {http_ms:9.3f} {http_ms / inproc:6.2f} "
                  f"{http_size:8d}  {verdict}")
        rates = {c: wrk(port, c, args.seconds, GENERIC["ten-triples"]) for c in (1, 8, 32)}
    print("\nthroughput (wrk, 'ten-triples'): " +
          ", ".join(f"{c} conn: {r:,.0f} req/s" for c, r in rates.items()))
    checks = {"8 >= 2 x 1": rates[8] >= 2 * rates[1], "32 >= 2 x 1": rates[32] >= 2 * rates[1],
              "no drop 8 -> 32": rates[32] >= 0.95 * rates[8]}
    for label, passed in checks.items():
        print(f"  {label}: {'ok' if passed else 'MISSED'}")
    ok &= all(checks.values())
    print("\nall targets met" if ok else "\nsome targets missed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
