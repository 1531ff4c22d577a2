#!/usr/bin/env python3
"""How much memory ``k2d3 serve`` takes, query by query, on a store with a large load.

Issue 15 asks for 10M triples served with the server's RSS under 2 GB. ``scale.py`` gives the
peak of a whole run; this script says which request takes it:

1. ``k2d3 build --store ROOT``, then ``k2d3 load FILE --store ROOT`` of the synthetic graph of
   ``generate_graph.py`` at ``--size`` (in graphs of its own), unless ``--store`` names a
   store already loaded.
2. ``k2d3 serve`` over it, with its defaults and ``--env NAME=VALUE`` on top (a setting to
   try: ``MALLOC_ARENA_MAX=2``, ``K2D3_MAX_ROWS=1000000000``...).
3. For each query (``scale_queries``: the generic ones, then every canned query), one at a
   time: the peak RSS of gunicorn's processes is reset (``5`` into ``/proc/PID/clear_refs``),
   the query is asked once (its first answer: computed, not from the cache), and while it
   runs the processes' RSS is sampled every 20 ms. Per query: seconds, status, answer bytes,
   the highest sum of the processes' RSS seen (``peak_sum``: what the machine gave the server
   at once), the sum of their ``VmHWM`` after (an upper bound: peaks of different processes at
   different moments), and the sum of their RSS after the answer (``after``: what stays).
   With ``--together``, the queries are sent all at once instead, one client each, and
   measured as one.

JSON lines to stderr, all of them to ``--json``; ``--report`` prints the Markdown table.

    nice -n 5 python benchmarks/serve_memory.py --size 10m [--data-dir DIR] [--store ROOT]
        [--env MALLOC_ARENA_MAX=2] [--only NAME,...] [--together] [--keep DIR]
        [--json OUT.json]
    python benchmarks/serve_memory.py --report OUT.json
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import scale_queries  # noqa: E402
from generate_graph import size as parse_size  # noqa: E402
from load_scale import data_file, measured_child  # noqa: E402
from virtuoso import proc_status  # noqa: E402
from virtuoso_http import k2d3_serve, request_of  # noqa: E402

K2D3 = Path(sys.executable).with_name("k2d3")
MIB = 1024


def family(pid: int) -> list[int]:
    """``pid`` and its descendants (gunicorn's master, workers and their children)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        with contextlib.suppress(OSError):
            todo += [int(c) for c in Path(f"/proc/{p}/task/{p}/children").read_text().split()]
    return out


def reset_peaks(pids: list[int]) -> None:
    """``VmHWM`` := ``VmRSS`` for each process (Linux's ``clear_refs`` 5; needs the owner)."""
    for p in pids:
        with contextlib.suppress(OSError):
            Path(f"/proc/{p}/clear_refs").write_text("5")


class Sampler:
    """The highest sum of the family's ``VmRSS`` while running, sampled every 20 ms."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak_kib = pid, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            now = sum(proc_status(p, "VmRSS") for p in family(self.pid))
            self.peak_kib = max(self.peak_kib, now)
            self._stop.wait(0.02)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def measure(port: int, proc: subprocess.Popen[bytes], query: scale_queries.Query,
            timeout: float) -> dict[str, Any]:
    pids = family(proc.pid)
    reset_peaks(pids)
    method, path, body, headers = request_of(f"http://127.0.0.1:{port}/sparql", query.kind,
                                             query.text)
    headers["Accept"] = query.accept
    status, size, error, text = 0, 0, "", b""
    with Sampler(proc.pid) as sampler:
        for _attempt in range(5):  # a worker replaced after the query before: sent again
            started, size = time.perf_counter(), 0
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                text = response.read(1 << 10)
                size = len(text)
                while chunk := response.read(1 << 20):
                    size += len(chunk)
                status = response.status
            except OSError as exc:
                error = f"{type(exc).__name__}: {exc}"
            seconds = time.perf_counter() - started
            if not (status == 503 and b"restarting" in text):
                break
            time.sleep(1)
    pids = family(proc.pid)
    why = text.decode("utf-8", "replace")[:120] if status >= 400 else ""
    return {"query": query.name, "status": status, "error": error or why, "bytes": size,
            "seconds": round(seconds, 3), "peak_sum_mib": round(sampler.peak_kib / MIB),
            "hwm_sum_mib": round(sum(proc_status(p, "VmHWM") for p in pids) / MIB),
            "after_mib": round(sum(proc_status(p, "VmRSS") for p in pids) / MIB),
            "processes": len(pids)}


def measure_together(port: int, proc: subprocess.Popen[bytes],
                     queries: list[scale_queries.Query], timeout: float) -> dict[str, Any]:
    """All of ``queries`` at once, one client each: the server's memory under that load."""
    reset_peaks(family(proc.pid))
    results: list[dict[str, Any]] = []
    started = time.perf_counter()
    with Sampler(proc.pid) as sampler:
        threads = [threading.Thread(target=lambda q=q: results.append(
            _ask(port, q, timeout))) for q in queries]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    pids = family(proc.pid)
    statuses = sorted(f"{r['query'].split(':')[-1]} {r['status']}" for r in results)
    return {"query": "together: " + ", ".join(statuses), "status": 0, "error": "",
            "bytes": sum(r["bytes"] for r in results),
            "seconds": round(time.perf_counter() - started, 3),
            "peak_sum_mib": round(sampler.peak_kib / MIB),
            "hwm_sum_mib": round(sum(proc_status(p, "VmHWM") for p in pids) / MIB),
            "after_mib": round(sum(proc_status(p, "VmRSS") for p in pids) / MIB),
            "processes": len(pids)}


def _ask(port: int, query: scale_queries.Query, timeout: float) -> dict[str, Any]:
    method, path, body, headers = request_of(f"http://127.0.0.1:{port}/sparql", query.kind,
                                             query.text)
    headers["Accept"] = query.accept
    size, status = 0, 0
    with contextlib.suppress(OSError):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        while chunk := response.read(1 << 20):
            size += len(chunk)
        status = response.status
    return {"query": query.name, "status": status, "bytes": size}


def emit(record: dict[str, Any], log: list[dict[str, Any]]) -> None:
    log.append(record)
    print(json.dumps(record), file=sys.stderr, flush=True)


def _size(n: int) -> str:
    return f"{n:,} B" if n < 10_000 else f"{n / 1e3:,.0f} kB" if n < 10**6 else f"{n / 1e6:,.1f} MB"


def report(records: list[dict[str, Any]]) -> str:
    lines = ["| query | status | seconds | answer | peak RSS, all processes at once | "
             "sum of peaks | RSS after |", "|---|---:|---:|---:|---:|---:|---:|"]
    for r in records:
        if "query" not in r:
            continue
        why = r["error"].split(": ", 1)[-1].split(" (")[0].strip()[:50]
        status = f"{r['status']} {why}".strip() if r["status"] else why
        lines.append(f"| {r['query']} | {status} | {r['seconds']:,.1f} | "
                     f"{_size(r['bytes'])} | {r['peak_sum_mib']:,} MiB | "
                     f"{r['hwm_sum_mib']:,} MiB | {r['after_mib']:,} MiB |")
    worst = max((r for r in records if "query" in r), key=lambda r: r["peak_sum_mib"])
    lines.append("")
    lines.append(f"Highest: {worst['peak_sum_mib']:,} MiB ({worst['query']}).")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=parse_size, default=parse_size("10m"))
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/k2d3-load-data"))
    parser.add_argument("--store", type=Path, help="a store already built and loaded")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the server")
    parser.add_argument("--only", default="", type=lambda s: set(filter(None, s.split(","))))
    parser.add_argument("--timeout", type=float, default=900, help="client seconds per query")
    parser.add_argument("--together", action="store_true",
                        help="send the queries all at once, one client each")
    parser.add_argument("--keep", type=Path, help="move the loaded store there at the end")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--report", type=Path, help="print the table of a --json file")
    args = parser.parse_args(argv)
    if args.report:
        records = [json.loads(line) for line in args.report.read_text().splitlines()]
        print(report(records))
        return 0
    env = dict(item.split("=", 1) for item in args.env)
    log: list[dict[str, Any]] = []
    tmp = Path(tempfile.mkdtemp(prefix="k2d3-serve-memory-"))
    try:
        root = args.store
        if root is None:
            root = tmp / "store"
            built = measured_child([str(K2D3), "build", "--store", str(root)])
            loaded = measured_child([str(K2D3), "load", str(data_file(args.data_dir, args.size)),
                                     "--store", str(root)])
            emit({"step": "load", "size": args.size, "rc": loaded["rc"],
                  "seconds": round(loaded["seconds"], 1), "build_rc": built["rc"]}, log)
        emit({"step": "start", "size": args.size, "env": env,
              "load": os.getloadavg()[0]}, log)
        with k2d3_serve(root, tmp, env) as (url, proc):
            port = int(url.split(":")[2].split("/")[0])
            time.sleep(2)  # every worker up, not only the first
            emit({"step": "idle", "rss_mib": round(sum(
                proc_status(p, "VmRSS") for p in family(proc.pid)) / MIB)}, log)
            chosen = list(scale_queries.catalogue(args.only).values())
            if args.together:
                emit(measure_together(port, proc, chosen, args.timeout), log)
            else:
                for query in chosen:
                    emit(measure(port, proc, query, args.timeout), log)
    finally:
        if args.json:
            args.json.write_text("".join(json.dumps(r) + "\n" for r in log))
            if (tmp / "k2d3-serve.log").exists():  # beside it: what the server said
                shutil.copy(tmp / "k2d3-serve.log", args.json.with_suffix(".serve.log"))
        if args.keep and args.store is None and (tmp / "store").exists():
            shutil.move(tmp / "store", args.keep)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
