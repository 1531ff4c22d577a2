#!/usr/bin/env python3
"""Time every /queries page against the time its query takes in-process.

Usage: ``python3 scripts/bench_pages.py [--store PATH] [--repeat N]`` (default store: the
``K2D3_STORE`` / XDG default). For each canned query (with its default parameters), the
catalogue and the evidence map it prints the median and the worst time to render the HTML page
through the Flask test client, the median time of the bare ``run_query`` call, and the
difference (the page's own cost: binding, labels, template). The issue's budget is 100 ms per
page on the embedded store; pages whose worst time is over it are flagged. This is a
measurement, not a test: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from server import create_app
from server.catalogue import canned  # noqa: E402
from server.catalogue import params as canned_params  # noqa: E402
from server.config import load_settings  # noqa: E402
from server.rdf.store import StoreReader  # noqa: E402
from server.sparql.execute import Limits, run_query  # noqa: E402

BUDGET_MS = 100.0


def timings_ms(work, repeat: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """The median and the worst of ``repeat`` runs, in milliseconds."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    settings = load_settings(**({"store": args.store} if args.store else {}))
    client = create_app(settings).test_client()
    store = StoreReader(settings.store, settings.read_copy_max_quads).get()
    print(f"{'page':<44} {'page ms':>8} {'worst':>8} {'query ms':>9} {'overhead':>9}")
    over = 0
    pages = [("/queries", None), ("/queries/evidence-map", None)]
    pages += [(f"/queries/{q.name}", q) for q in canned.catalogue()]
    for path, query in pages:
        client.get(path)  # warm caches
        page, worst = timings_ms(lambda p=path: client.get(p), args.repeat)
        bare = 0.0
        if query is not None:
            subs = canned_params.bind(query, {}, store)
            limits = Limits(timeout_s=30, max_rows=10_000)
            bare = timings_ms(lambda q=query, s=subs, lim=limits: run_query(
                store, q.text, lim, substitutions=s), args.repeat)[0]
        flag = "  OVER BUDGET" if worst > BUDGET_MS else ""
        over += worst > BUDGET_MS
        print(f"{path:<44} {page:8.1f} {worst:8.1f} {bare:9.1f} {page - bare:9.1f}{flag}")
    print(f"{over} page(s) over {BUDGET_MS:.0f} ms")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
