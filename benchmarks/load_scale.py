#!/usr/bin/env python3
"""``k2d3 load`` (the real command) at 1M and 10M synthetic triples, served, against Virtuoso.

For each size, on the synthetic evidence graph of ``generate_graph.py`` (N-Quads, made into
``--data-dir`` if missing, deleted at the end unless ``--keep-data``):

1. ``k2d3 build`` a new store (the article's graphs only).
2. At the sizes in ``--serve`` only: ``k2d3 serve`` on it (gunicorn, its defaults), and the
   latency of a few cheap queries (``--runs`` requests each on one keep-alive connection,
   median; a query slower than ``--slow`` seconds gets one request) **before** the load.
3. ``k2d3 load FILE --store STORE`` in a process of its own, while that server runs: wall
   seconds, triples/s, CPU seconds and peak RSS (``ru_maxrss`` of the child), the live
   snapshot's bytes on disk, the load average before and after.
4. At the serve sizes: the same server (not restarted) answers the loaded graph (its quads
   counted over HTTP), the same queries' latency **after**, and the server's peak and current
   RSS (``VmHWM`` / ``VmRSS`` of gunicorn's master and workers, from ``/proc``).
5. ``k2d3 graphs`` on the loaded store: seconds and peak RSS.
6. With ``--virtuoso``: Virtuoso's bulk loader on the same file (``ld_dir`` +
   ``rdf_loader_run()`` + ``checkpoint``, ``benchmarks/virtuoso.py``), seconds, rate, disk,
   peak RSS.

Prints one JSON line per measurement to stderr and all of them to ``--json``. One run, not a
loop: the machine is shared.

    nice -n 5 python benchmarks/load_scale.py --sizes 1m,10m --serve 10m --virtuoso \
        [--data-dir /tmp/k2d3-load-data] [--runs 5] [--json OUT.json]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import scale_queries  # noqa: E402
from generate_graph import size as parse_size  # noqa: E402
from virtuoso import Virtuoso, proc_status  # noqa: E402
from virtuoso_compare import load_average  # noqa: E402
from virtuoso_http import k2d3_serve, request_of  # noqa: E402

from server.rdf import snapshots  # noqa: E402

K2D3 = Path(sys.executable).with_name("k2d3")
#: The loaded data's graphs: not k2d3's own (``k2d3 load`` refuses those, as a build replaces them).
GRAPHS = "https://example.org/synthetic/graph/"
#: Cheap queries (milliseconds at 1M): the fixed cost, a lookup, a join, two canned queries.
QUERIES = ("ask-empty", "lookup", "join-3-hop", "trial-evidence", "deficiency-symptoms-diagnosis")


def emit(record: dict[str, Any], log: list[dict[str, Any]]) -> None:
    log.append(record)
    print(json.dumps(record), file=sys.stderr, flush=True)


def data_file(folder: Path, triples: int) -> Path:
    path = folder / f"synthetic-{triples}.nq"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, str(HERE / "generate_graph.py"), "--triples",
                        str(triples), "--out", str(path), "--graphs", GRAPHS], check=True)
    return path


def measured_child(args: list[str]) -> dict[str, Any]:
    """Run ``args`` in a fresh interpreter's child; wall and CPU seconds, peak RSS, output."""
    code = ("import json, resource, subprocess, sys, time\n"
            "t = time.perf_counter()\n"
            "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
            "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
            "print(json.dumps({'seconds': time.perf_counter() - t, 'rc': p.returncode, "
            "'cpu_seconds': u.ru_utime + u.ru_stime, 'peak_rss_kib': u.ru_maxrss, "
            "'stdout': p.stdout[-2000:], 'stderr': p.stderr[-2000:]}))\n")
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                         check=True)
    return dict(json.loads(out.stdout))


def latency(url: str, name: str, runs: int, slow: float) -> dict[str, Any]:
    query = scale_queries.catalogue({name})
    (q,) = query.values()
    method, path, body, headers = request_of(url, q.kind, q.text)
    headers["Accept"] = q.accept
    port = int(url.split(":")[2].split("/")[0])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=900)
    samples, status, size = [], 0, 0
    for _ in range(runs):
        started = time.perf_counter()
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        size, status = len(response.read()), response.status
        samples.append(time.perf_counter() - started)
        if samples[-1] > slow or status != 200:
            break
    return {"query": name, "status": status, "bytes": size, "samples": len(samples),
            "median_ms": round(statistics.median(samples) * 1000, 2),
            "max_ms": round(max(samples) * 1000, 2)}


def family(pid: int, key: str) -> int:
    """``key`` (``VmHWM``, ``VmRSS``) of ``pid`` and its children, KiB (gunicorn's processes)."""
    kids_file = Path(f"/proc/{pid}/task/{pid}/children")
    kids = [int(c) for c in kids_file.read_text().split()] if kids_file.exists() else []
    grand = []
    for kid in kids:
        more = Path(f"/proc/{kid}/task/{kid}/children")
        grand += [int(c) for c in more.read_text().split()] if more.exists() else []
    return sum(proc_status(p, key) for p in [pid, *kids, *grand])


def sees_loaded(url: str) -> dict[str, Any]:
    """Whether the server answers from the loaded graph: an ``ASK`` for one loaded claim's
    triples in it (a lookup: counting 10M quads would outlast the server's time limit)."""
    query = (f"ASK {{ GRAPH <{GRAPHS}data> {{ <https://w3id.org/k2d3/id/claim-d3-k2-bmd-c7> "
             "?p ?o } }")
    method, path, body, headers = request_of(url, "ask", query)
    headers["Accept"] = "application/sparql-results+json"
    port = int(url.split(":")[2].split("/")[0])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=900)
    started = time.perf_counter()
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    text = response.read().decode("utf-8", "replace")
    return {"status": response.status, "answer": text[:200],
            "ms": round((time.perf_counter() - started) * 1000, 2)}


def one_size(triples: int, args: argparse.Namespace, tmp: Path, log: list[dict[str, Any]]
             ) -> None:
    path = data_file(args.data_dir, triples)
    root = tmp / f"store-{triples}"
    built = measured_child([str(K2D3), "build", "--store", str(root)])
    emit({"step": "build", "size": triples, **{k: built[k] for k in ("seconds", "rc")}}, log)
    serving = triples in args.serve
    server = k2d3_serve(root, tmp) if serving else None
    url, proc = server.__enter__() if server is not None else ("", None)
    try:
        if proc is not None:
            for name in QUERIES:
                emit({"step": "before", "size": triples, **latency(url, name, args.runs,
                                                                  args.slow)}, log)
            emit({"step": "server-rss-before", "size": triples,
                  "hwm_kib": family(proc.pid, "VmHWM"), "rss_kib": family(proc.pid, "VmRSS")},
                 log)
        before = load_average()
        loaded = measured_child([str(K2D3), "load", str(path), "--store", str(root)])
        live = snapshots.live_dir(root)
        emit({"step": "k2d3 load", "size": triples, "rate": round(triples / loaded["seconds"]),
              "store_bytes": snapshots.disk_bytes(live), "load_before": before,
              "load_after": load_average(), **loaded}, log)
        if proc is not None:
            emit({"step": "served after load (no restart)", "size": triples,
                  **sees_loaded(url)}, log)
            for name in QUERIES:
                emit({"step": "after", "size": triples, **latency(url, name, args.runs,
                                                                 args.slow)}, log)
            emit({"step": "server-rss-after", "size": triples,
                  "hwm_kib": family(proc.pid, "VmHWM"), "rss_kib": family(proc.pid, "VmRSS")},
                 log)
    finally:
        if server is not None:
            server.__exit__(None, None, None)
    listed = measured_child([str(K2D3), "graphs", "--store", str(root)])
    emit({"step": "k2d3 graphs", "size": triples, **listed}, log)
    shutil.rmtree(root, ignore_errors=True)
    if args.virtuoso:
        emit({"step": "virtuoso load", "size": triples, **virtuoso_load(path, tmp)}, log)


def virtuoso_load(path: Path, tmp: Path) -> dict[str, Any]:
    folder = tmp / "virtuoso"
    shutil.rmtree(folder, ignore_errors=True)
    try:
        with Virtuoso.start(folder, data_dirs=[path.parent]) as server:
            before, cpu = load_average(), server.cpu_seconds()
            started = time.perf_counter()
            server.bulk_load([path], "urn:k2d3:bench")
            seconds = time.perf_counter() - started
            return {"seconds": seconds, "cpu_seconds": server.cpu_seconds() - cpu,
                    "store_bytes": server.store_bytes(), "peak_rss_kib": server.peak_rss_kib(),
                    "load_before": before, "load_after": load_average(),
                    "rate": round(int(path.stem.split("-")[-1]) / seconds)}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1m,10m")
    parser.add_argument("--serve", default="10m", help="sizes at which to serve (comma list)")
    parser.add_argument("--virtuoso", action="store_true")
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/k2d3-load-data"))
    parser.add_argument("--keep-data", action="store_true")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--slow", type=float, default=5.0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    args.serve = {parse_size(s) for s in args.serve.split(",") if s}
    log: list[dict[str, Any]] = []
    emit({"step": "start", "load_average": os.getloadavg(), "cpus": os.cpu_count(),
          "self_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}, log)
    with tempfile.TemporaryDirectory(prefix="k2d3-load-scale-") as tmp:
        for triples in [parse_size(s) for s in args.sizes.split(",")]:
            one_size(triples, args, Path(tmp), log)
            if not args.keep_data:
                (args.data_dir / f"synthetic-{triples}.nq").unlink(missing_ok=True)
    if args.json:
        args.json.write_text(json.dumps(log, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
