#!/usr/bin/env python3
"""Per-request cost of counting a request (``Metrics.observe``) and of a ``/metrics`` scrape.

Times ``server.http.metrics`` in one process and in ``prometheus_client``'s multiprocess mode
(a folder of its own), and, with ``--before PATH``, another checkout's ``metrics.py`` loaded
beside it (for issue 14: main's hand-written counters at ``7c3ca35``, whose ``Metrics`` took a
folder and dumped JSON into it). The minimum of five repeats of 100,000 calls, over three label
sets, in CPU time (the machine may be shared). Not a test.

    python3 benchmarks/metrics_observe.py [--before /path/to/other/server/http/metrics.py]
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import time
import timeit
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CALLS = 100_000
LABELS = [("/sparql", "GET", 200), ("/sparql", "GET", 400), ("/store/<path:path>", "PUT", 204)]


def load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def per_observe(metrics: Any) -> float:
    calls = iter(range(10 * CALLS))

    def one() -> None:
        route, method, status = LABELS[next(calls) % 3]
        metrics.observe(route, method, status, 0.0031)

    return min(timeit.repeat(one, number=CALLS, repeat=5, timer=time.process_time)) / CALLS


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, help="another checkout's metrics.py")
    args = parser.parse_args()
    now = load("metrics_now", ROOT / "server" / "http" / "metrics.py")
    cases: list[tuple[str, Any, Any]] = []
    if args.before:
        old = load("metrics_before", args.before)
        counted = old.Metrics(Path(tempfile.mkdtemp()))
        cases.append(("before", counted, lambda: old.render(counted.collect(), 1)))
    single = now.Metrics()
    cases.append(("prometheus_client, one process", single, single.exposition))
    multi = now.Metrics(Path(tempfile.mkdtemp()))  # switches this process to multiprocess mode
    cases.append(("prometheus_client, multiprocess", multi, multi.exposition))
    for label, counted, scrape in cases:
        observe_s = per_observe(counted)
        scrape_s = min(timeit.repeat(scrape, number=50, repeat=3, timer=time.process_time)) / 50
        print(f"{label:34s} {observe_s * 1e6:6.2f} us per request, "
              f"{scrape_s * 1e3:5.2f} ms per scrape")
    return 0


if __name__ == "__main__":
    sys.exit(main())
