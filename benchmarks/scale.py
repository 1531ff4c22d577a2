#!/usr/bin/env python3
"""k2d3 against Virtuoso at 100k, 1M (10M) synthetic triples, in one run, side by side.

For each size, on the synthetic evidence graph of ``generate_graph.py`` (N-Quads, made once
into ``--data-dir`` and reused):

1. **Load**, ``--rounds`` rounds, the engines' order alternating: ``k2d3 load``'s loader
   (``--loader k2d3``: line blocks bulk-loaded on two threads; ``--loader path``:
   ``Store.bulk_load(path=...)``) in a process of its own (``oxigraph_load.py``), into a new
   snapshot folder of a k2d3 store, which is then published as ``k2d3 build`` publishes one,
   and Virtuoso's (Debian's ``virtuoso-opensource``, started
   on loopback over a temporary folder, ``ld_dir`` + ``rdf_loader_run`` + ``checkpoint``).
   Seconds, triples/s, bytes on disk, peak RSS of the loader (``ru_maxrss``; ``VmHWM`` of
   ``virtuoso-t``). The last round's stores are the ones served.
2. **Serve**: ``k2d3 serve`` (gunicorn, its defaults) over the k2d3 store and Virtuoso
   restarted over its database (its first session answers some paths wrongly, see
   ``virtuoso_http.py``); the in-process floor is ``Store.query`` + serialisation on the same
   snapshot opened read-only in this process (``--no-floor``: none; at 10M a query there
   cannot be stopped). k2d3's query time limit is ``--timeout`` seconds.
3. **Queries** (``scale_queries.py``: every canned query, Virtuoso's rewrites where needed, and
   the generic ones), ``--rounds`` rounds: per round, the latency of up to ``--runs`` requests in
   a row (at most ``--budget`` seconds, at least ``--min-runs``) on one keep-alive ``http.client``
   connection for each HTTP endpoint and in process (median, p99), after a first request
   measured apart (``first_ms``: for k2d3, the answer computed before the cache has it; in
   process, a first run over the budget is the only one), then requests/s with
   ``wrk`` at 1, 8 and 32 connections, ``--seconds`` a run (longer for a slow query, so that
   each run completes some), and after each wrk run a wait until both servers are idle
   (neither cancels the requests wrk left in flight). The answers of k2d3 and Virtuoso are
   compared as multisets.
   At the end, each server's peak RSS (gunicorn's processes summed).

Writes every measurement as JSON lines to stderr and, with ``--json``, all of them to a file;
``scale_report.py`` makes the tables. Every store and database is deleted at the end.

    nice -n 10 python benchmarks/scale.py --sizes 100k,1m [--rounds 2] [--runs 20]
        [--min-runs 3] [--budget 3] [--no-warm-up] [--seconds 2] [--max-seconds 12]
        [--wrk-max-ms MS] [--only NAME,...] [--data-dir DIR] [--json OUT.json]
        [--no-floor] [--timeout S] [--loader k2d3|path]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import scale_queries  # noqa: E402
from generate_graph import size as parse_size  # noqa: E402
from pyoxigraph import (  # noqa: E402
    QueryBoolean,
    QueryResultsFormat,
    QuerySolutions,
    RdfFormat,
    Store,
)
from scale_queries import Query  # noqa: E402
from virtuoso import Virtuoso, cpu_seconds, ensure_installed, free_port  # noqa: E402
from virtuoso_compare import data_file, load_average  # noqa: E402
from virtuoso_http import family_hwm_kib, p99, request_of, wrk  # noqa: E402

from server.rdf import snapshots  # noqa: E402

CONNECTIONS = (1, 8, 32)


def emit(record: dict[str, Any], log: list[dict[str, Any]]) -> None:
    log.append(record)
    print(json.dumps(record), file=sys.stderr, flush=True)


def load_oxigraph(path: Path, root: Path, publish: bool, mode: str = "k2d3") -> dict[str, Any]:
    """Bulk-load ``path`` into a new snapshot of the k2d3 store ``root`` (published if asked,
    else deleted), in a process of its own; its numbers."""
    with snapshots.write_lock(root):
        folder = snapshots.new_tmp(root)
        before = load_average()
        out = subprocess.run([sys.executable, str(HERE / "oxigraph_load.py"), str(path),
                              str(folder), "--mode", mode],
                             check=True, capture_output=True, text=True)
        result = json.loads(out.stdout)
        if publish:
            snapshots.publish(root, folder)
        else:
            shutil.rmtree(folder)
    return {"engine": "pyoxigraph", **result, "load_before": before,
            "load_after": load_average()}


def load_virtuoso(path: Path, folder: Path) -> dict[str, Any]:
    """A new Virtuoso database in ``folder`` bulk-loaded with ``path``, then stopped."""
    shutil.rmtree(folder, ignore_errors=True)
    with Virtuoso.start(folder, data_dirs=[path.parent]) as server:
        before, cpu = load_average(), server.cpu_seconds()
        started = time.perf_counter()
        server.bulk_load([path], "urn:k2d3:bench")
        seconds = time.perf_counter() - started
        quads = int(server.scalar("SPARQL SELECT COUNT(*) WHERE { GRAPH ?g { ?s ?p ?o } "
                                  "FILTER(STRSTARTS(STR(?g), 'https://w3id.org/k2d3/')) };"))
        return {"engine": "Virtuoso", "seconds": seconds, "quads": quads,
                "cpu_seconds": server.cpu_seconds() - cpu, "store_bytes": server.store_bytes(),
                "peak_rss_kib": server.peak_rss_kib(), "load_before": before,
                "load_after": load_average()}


def loads(path: Path, triples: int, tmp: Path, rounds: int, log: list[dict[str, Any]],
          loader: str = "k2d3") -> tuple[Path, Path]:
    """Load rounds, engines alternating; the k2d3 store and Virtuoso folder of the last."""
    root, vfolder = tmp / "k2d3-store", tmp / "virtuoso"
    for rnd in range(rounds):
        last = rnd == rounds - 1
        jobs: list[Callable[[], dict[str, Any]]] = [
            lambda last=last: load_oxigraph(path, root, last, loader),  # type: ignore[misc]
            lambda: load_virtuoso(path, vfolder)]
        for job in jobs if rnd % 2 == 0 else reversed(jobs):
            result = job()
            result.update(step="load", size=triples, round=rnd + 1,
                          rate=round(triples / result["seconds"]))
            emit(result, log)
    return root, vfolder


#: k2d3's limits raised for the comparison, so that both engines return whole answers
#: (Virtuoso's are raised in ``virtuoso.py``): rows cut at 10,000 and a 30 s timeout by default.
SERVE_ENV = {"K2D3_MAX_ROWS": "1000000000", "K2D3_QUERY_TIMEOUT": "600",
             "K2D3_MAX_QUERY_TIMEOUT": "600"}


@contextlib.contextmanager
def serve(root: Path, logs: Path, timeout: float = 600
          ) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """k2d3's server (``server.serving.serve.run``: gunicorn, its default workers and threads) over
    ``root`` on a free port, stopped after.

    Not ``k2d3 serve``: it rebuilds a store that ``k2d3 build`` did not make (its sources'
    fingerprint is missing), which would replace the loaded graph with the article's.
    """
    port = free_port()
    code = ("import sys; from server.serving import serve; "
            "from server.config import load_settings; "
            "serve.run(load_settings(store=sys.argv[1]), port=int(sys.argv[2]))")
    with open(logs / "k2d3-serve.log", "wb") as log:
        proc = subprocess.Popen([sys.executable, "-c", code, str(root), str(port)],
                                stdout=log, stderr=subprocess.STDOUT, cwd=HERE.parent,
                                env={**os.environ, **SERVE_ENV,
                                     "K2D3_QUERY_TIMEOUT": f"{timeout:g}"})
        try:
            for _ in range(240):
                with contextlib.suppress(OSError):
                    http.client.HTTPConnection("127.0.0.1", port, timeout=2).request("GET", "/")
                    break
                time.sleep(0.5)
            yield f"http://127.0.0.1:{port}/sparql", proc
        finally:
            proc.terminate()
            proc.wait(timeout=60)


def floor_once(store: Store, text: str) -> tuple[float, bytes]:
    """Seconds to evaluate and serialise ``text`` in process (JSON results, or Turtle)."""
    started = time.perf_counter()
    result = store.query(text, use_default_graph_as_union=True)
    if isinstance(result, QueryBoolean):
        body = str(bool(result)).encode()
    elif isinstance(result, QuerySolutions):
        body = result.serialize(format=QueryResultsFormat.JSON) or b""
    else:
        body = result.serialize(format=RdfFormat.TURTLE) or b""
    return time.perf_counter() - started, body


class Client:
    """One keep-alive ``http.client`` connection sending one query's request again and again."""

    def __init__(self, url: str, query: Query, text: str) -> None:
        self.method, self.path, self.body, self.headers = request_of(url, query.kind, text)
        self.headers["Accept"] = query.accept
        port = int(url.split(":")[2].split("/")[0])
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)

    def once(self) -> tuple[float, bytes]:
        started = time.perf_counter()
        self.conn.request(self.method, self.path, body=self.body, headers=self.headers)
        response = self.conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}: {body[:300]!r}")
        return time.perf_counter() - started, body


def sample(once: Callable[[], tuple[float, bytes]], args: argparse.Namespace,
           repeats: bool = True) -> tuple[list[float], bytes, float | None]:
    """One first run, measured apart (unless ``--no-warm-up``), then up to ``--runs`` measured:
    at least ``--min-runs``, more while within ``--budget`` seconds; and the first run's
    seconds. Where a run cannot differ from the first (``repeats`` False: in process, no
    cache), a first run over the budget is the only sample."""
    first, body = (None, b"") if args.no_warm_up else once()
    if first is not None and not repeats and first > args.budget:
        return [first], body, first
    samples: list[float] = []
    spent = 0.0
    while len(samples) < args.runs and (len(samples) < args.min_runs or spent < args.budget):
        seconds, body = once()
        samples.append(seconds)
        spent += seconds
    return samples, body, first


def latency_round(query: Query, endpoints: dict[str, str], store: Store, rnd: int,
                  args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Median and p99 per side (floor, then the endpoints; the order turns each round)."""
    sides = ["floor", *endpoints] if not args.no_floor else [*endpoints]
    sides = sides[rnd % len(sides):] + sides[:rnd % len(sides)]
    out: dict[str, Any] = {}
    bodies: dict[str, bytes] = {}
    for side in sides:
        try:
            if side == "floor":
                samples, body, first = sample(lambda: floor_once(store, query.text), args,
                                              repeats=False)
            else:
                text = query.virtuoso_text if side == "Virtuoso" else query.text
                client = Client(endpoints[side], query, text)
                try:
                    samples, body, first = sample(client.once, args)
                finally:
                    client.conn.close()
        except (RuntimeError, OSError, SyntaxError, ValueError) as error:
            out[side] = {"error": str(error)[:300]}
            continue
        bodies[side] = body
        out[side] = {"median_ms": statistics.median(samples) * 1000,
                     "p99_ms": p99(samples) * 1000, "runs": len(samples), "bytes": len(body),
                     "first_ms": None if first is None else first * 1000}
    return out, bodies


def family_cpu(pids: list[int]) -> float:
    """CPU seconds so far of ``pids`` and of their children (gunicorn's workers)."""
    total = 0.0
    for pid in pids:
        children = Path(f"/proc/{pid}/task/{pid}/children")
        with contextlib.suppress(OSError):
            kids = [int(c) for c in children.read_text().split()]
            total += sum(cpu_seconds(k) for k in kids)
        total += cpu_seconds(pid)
    return total


def settle(pids: list[int], limit: float = 180) -> float:
    """Wait until the servers are idle (under 5 % of a core over half a second); seconds waited.

    wrk stops after its duration, but neither engine cancels the queries in flight: a slow
    query's last 32 requests can keep a server busy for many seconds, which would fall on
    whatever is measured next (the other engine's run, or the next query's latency).
    """
    started = time.monotonic()
    while time.monotonic() - started < limit:
        before = family_cpu(pids)
        time.sleep(0.5)
        if family_cpu(pids) - before < 0.025:
            break
    return time.monotonic() - started


def throughput_round(query: Query, endpoints: dict[str, str], latency: dict[str, Any],
                     rnd: int, args: argparse.Namespace) -> dict[str, Any]:
    """Requests/s with wrk at each connection count, for each endpoint that answered."""
    out: dict[str, Any] = {}
    order = list(endpoints.items())
    for side, url in order if rnd % 2 == 0 else reversed(order):
        if "error" in latency.get(side, {"error": ""}):
            continue
        if max(latency[k]["median_ms"] for k in endpoints if "median_ms" in latency[k]) \
                > args.wrk_max_ms:
            out[side] = {"skipped": f"a request takes over {args.wrk_max_ms:.0f} ms"}
            continue
        text = query.virtuoso_text if side == "Virtuoso" else query.text
        median = latency[side]["median_ms"] / 1000
        out[side] = {}
        for connections in CONNECTIONS:
            # long enough for the connections to finish a round of requests on 2 cores,
            # up to --max-seconds (fewer answers than connections: not a steady state)
            seconds = max(args.seconds, min(args.max_seconds,
                                            math.ceil(median * (1 + connections / 2))))
            rate, errors = wrk(url, query.kind, text, connections, seconds, args.scratch)
            waited = settle(args.server_pids)
            out[side][connections] = {"rps": rate, "non_2xx": errors, "seconds": seconds,
                                      "answers": round(rate * seconds), "settled": waited}
    return out


def queries_at(triples: int, root: Path, vfolder: Path, data: Path,
               args: argparse.Namespace, log: list[dict[str, Any]]) -> None:
    """Serve both stores, run every query's rounds, record the servers' peak RSS."""
    store = Store.read_only(str(snapshots.live_dir(root)))
    with Virtuoso.start(vfolder, data_dirs=[data]) as server, \
            serve(root, args.scratch, args.timeout) as (k2d3_url, k2d3_proc):
        endpoints = {"k2d3": k2d3_url, "Virtuoso": server.sparql_url}
        args.server_pids = [k2d3_proc.pid, server.pid]
        for query in scale_queries.catalogue(args.only).values():
            for rnd in range(args.rounds):
                settle(args.server_pids)
                latency, bodies = latency_round(query, endpoints, store, rnd, args)
                record = {"step": "query", "size": triples, "query": query.name,
                          "round": rnd + 1, "rewritten": query.rewritten,
                          "load": round(os.getloadavg()[0], 1), "latency": latency}
                if "k2d3" in bodies and "Virtuoso" in bodies:
                    same, k_rows, v_rows = scale_queries.same_answer(
                        (bodies["k2d3"], query.text), (bodies["Virtuoso"], query.virtuoso_text),
                        query.kind)
                    record.update(same=same, k2d3_rows=k_rows, virtuoso_rows=v_rows)
                record["throughput"] = throughput_round(query, endpoints, latency, rnd, args)
                emit(record, log)
        emit({"step": "memory", "size": triples,
              "k2d3_serve_peak_rss_kib": family_hwm_kib(k2d3_proc.pid),
              "virtuoso_peak_rss_kib": server.peak_rss_kib()}, log)
    del store


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100k,1m")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--min-runs", type=int, default=3)
    parser.add_argument("--budget", type=float, default=3.0)
    parser.add_argument("--seconds", type=int, default=2)
    parser.add_argument("--max-seconds", type=int, default=12)
    parser.add_argument("--no-warm-up", action="store_true",
                        help="measure the first request too (for slow queries at 1M+)")
    parser.add_argument("--wrk-max-ms", type=float, default=math.inf,
                        help="no wrk runs for a query whose median on an endpoint is longer")
    parser.add_argument("--only", default="", type=lambda s: set(filter(None, s.split(","))))
    parser.add_argument("--load-only", action="store_true", help="skip the queries")
    parser.add_argument("--no-floor", action="store_true",
                        help="no in-process runs (at 10M they cannot be stopped)")
    parser.add_argument("--timeout", type=float, default=600,
                        help="k2d3's query time limit, seconds")
    parser.add_argument("--loader", choices=("k2d3", "path"), default="k2d3",
                        help="k2d3 load's loader, or Store.bulk_load(path=)")
    parser.add_argument("--data-dir", type=Path,
                        default=Path(tempfile.gettempdir()) / "k2d3-bench-data")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    log: list[dict[str, Any]] = []
    emit({"step": "start", "virtuoso": ensure_installed(), "load": load_average(),
          "argv": sys.argv[1:], "started": time.strftime("%Y-%m-%d %H:%M:%S %Z")}, log)
    tmp = Path(tempfile.mkdtemp(prefix="k2d3-scale-"))
    args.scratch = tmp
    try:
        for triples in (parse_size(s) for s in args.sizes.split(",")):
            path = data_file(args.data_dir, triples)
            root, vfolder = loads(path, triples, tmp / str(triples), args.rounds, log,
                                  args.loader)
            if not args.load_only:
                queries_at(triples, root, vfolder, path.parent, args, log)
            shutil.rmtree(tmp / str(triples), ignore_errors=True)
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(tmp, ignore_errors=True)
        if args.json:
            args.json.write_text(json.dumps(log, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
