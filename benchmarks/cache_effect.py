#!/usr/bin/env python3
"""What the answer cache (``server/http/answer_cache.py``) does for the slow canned queries.

On the synthetic evidence graph of ``generate_graph.py`` (``--size``, bulk-loaded as
``scale.py`` loads it), k2d3's server is started twice over the same store, with the cache off
(``K2D3_ANSWER_CACHE_BYTES=0``) and on (its defaults), alternating ``--rounds`` times. For each
query (``scale_queries``: the canned queries with their defaults bound, as ``scale.py`` sends
them to ``/sparql``): the first request's seconds, the median of ``--repeats`` more on one
connection, and requests/s with ``wrk`` at 8 connections for ``--seconds``. The store does not
change in between, as on a served knowledge graph between writes: this is the case the cache
is for; a write makes every entry unreachable (tests/http/test_answer_cache.py).

    nice -n 10 python benchmarks/cache_effect.py [--size 100k] [--rounds 2] [--repeats 5]
        [--seconds 5] [--only NAME,...] [--data-dir DIR] [--json OUT.json]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import scale  # noqa: E402
import scale_queries  # noqa: E402
from generate_graph import size as parse_size  # noqa: E402
from virtuoso_compare import data_file, load_average  # noqa: E402
from virtuoso_http import request_of, wrk  # noqa: E402

#: The queries that are slow on a large graph (RESULTS.md, "Scale"), and a quick one.
DEFAULT_QUERIES = ("evidence-graph", "claims-without-high-quality-rct", "evidence-gaps",
                   "entity-profile", "author-positions", "trial-evidence")


def once(url: str, query: scale_queries.Query) -> tuple[float, int, str]:
    """Seconds, status and ``Server-Timing`` of one request on a new connection."""
    method, path, body, headers = request_of(url, query.kind, query.text)
    host = url.split("//", 1)[1].split("/", 1)[0]
    conn = http.client.HTTPConnection(host, timeout=900)
    started = time.perf_counter()
    conn.request(method, path, body=body, headers=headers)
    resp = conn.getresponse()
    resp.read()
    seconds = time.perf_counter() - started
    conn.close()
    return seconds, resp.status, resp.getheader("Server-Timing") or ""


def measure(url: str, query: scale_queries.Query, args: argparse.Namespace,
            scratch: Path) -> dict[str, Any]:
    first, status, _ = once(url, query)
    repeats = [once(url, query) for _ in range(args.repeats)]
    rate, errors = wrk(url, query.kind, query.text, 8, args.seconds, scratch)
    return {"first_s": round(first, 4), "status": status,
            "repeat_median_s": round(statistics.median(r[0] for r in repeats), 4),
            "hits": sum("cache;desc=hit" in r[2] for r in repeats),
            "rps_8": round(rate, 1), "non_2xx": errors}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="100k")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--only", default=",".join(DEFAULT_QUERIES))
    parser.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "k2d3-bench")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    triples = parse_size(args.size)
    queries = scale_queries.catalogue(set(args.only.split(",")))
    log: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="k2d3-cache-") as tmp_name:
        tmp = Path(tmp_name)
        loaded = scale.load_oxigraph(data_file(args.data_dir, triples), tmp / "store", True)
        scale.emit({"step": "load", "size": triples, **loaded}, log)
        for rnd in range(args.rounds):
            modes = ("off", "on") if rnd % 2 == 0 else ("on", "off")
            for mode in modes:
                os.environ["K2D3_HEAVY_QUERIES"] = "0"  # no 503s: every request is answered
                os.environ.pop("K2D3_ANSWER_CACHE_BYTES", None)
                if mode == "off":
                    os.environ["K2D3_ANSWER_CACHE_BYTES"] = "0"
                with scale.serve(tmp / "store", tmp) as (url, _):
                    for name, query in queries.items():
                        record = measure(url, query, args, tmp)
                        scale.emit({"step": "query", "size": triples, "round": rnd + 1,
                                    "cache": mode, "query": name, "load": load_average(),
                                    **record}, log)
    if args.json:
        args.json.write_text(json.dumps(log, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
