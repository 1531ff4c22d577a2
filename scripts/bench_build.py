"""Benchmark: a build from sources against its floor, parsing the same sources with pyoxigraph.

Prints the times and the ratio; the issue's target is "seconds, not minutes". Not a test.
Usage: python scripts/bench_build.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from pyoxigraph import RdfFormat, parse

from server.build import sources
from server.build.pipeline import build, validation_errors
from server.config import load_settings


def timed(fn, runs: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__)
    args.add_argument("--runs", type=int, default=3)
    runs = args.parse_args().runs
    files = [sources.ontology_file(), sources.shapes_file(), *sources.data_files()]

    def parse_all() -> None:
        for file in files:
            list(parse(path=str(file), format=RdfFormat.TURTLE))

    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "store"
        floor = timed(parse_all, runs)
        validation = timed(validation_errors, runs)
        unvalidated = timed(lambda: build(load_settings(store=store), validate=False), runs)
        full = timed(lambda: build(load_settings(store=store)), runs)
    print(f"parse sources (floor)      {floor * 1000:8.1f} ms")
    print(f"validation (SHACL, quotes)  {validation * 1000:8.1f} ms")
    print(f"build without validation   {unvalidated * 1000:8.1f} ms  ({unvalidated / floor:.1f}x)")
    print(f"full build                 {full * 1000:8.1f} ms  ({full / floor:.1f}x)")
    print("target: seconds, not minutes ->", "met" if full < 60 else "MISSED")


if __name__ == "__main__":
    main()
