"""Writers and readers at once against a real server: 0 reader errors, every read whole.

    python benchmarks/concurrent_writes.py [--store PATH] [--duration 600] [--writers 2]
        [--readers 4] [--triples 2000] [--read-copy-max-quads N]

Starts the server (gunicorn, as ``k2d3 serve``) over a copy of ``--store`` (default: the
article's store, built afresh). Each writer owns a graph and replaces it in a loop, whole,
``--triples`` triples of one new generation at a time, alternately by a Graph Store PUT and by
a SPARQL Update that rewrites every triple (both are one transaction). Readers loop over
``ASK {}``, a count of a writer's graph by object, a Graph Store GET of it and ``/healthz``.

It fails (exit 1) on any reader error (a 5xx, a reset, a timeout), any read that saw a
writer's graph empty or with more or fewer triples than one whole generation, any failed
write, or an acknowledged generation missing at the end. It prints request counts, latency
percentiles and the store folder's state (snapshots left, ``.sst`` files in the live one).
Issue 12's target: 0 reader errors during 10 minutes of concurrent writes.
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from writes_common import (  # noqa: E402
    AUTH,
    Tally,
    generations,
    graph_body,
    graph_iri,
    running,
    store_copy,
)


@dataclass
class Report:
    reads: dict[str, Tally] = field(default_factory=dict)
    writes: Tally = field(default_factory=Tally)
    partial: Tally = field(default_factory=Tally)
    lost: list[str] = field(default_factory=list)
    snapshots: int = 0
    sst_files: int = 0
    seconds: float = 0.0

    @property
    def reader_errors(self) -> int:
        return sum(t.errors for t in self.reads.values())

    def passed(self) -> bool:
        return not (self.reader_errors or self.partial.errors or self.lost or self.writes.errors)


class Load:
    """The writer and reader threads over one server, and what they saw."""

    def __init__(self, url: str, writers: int, triples: int) -> None:
        self.url, self.triples, self.writers = url, triples, writers
        self.report = Report(reads={k: Tally() for k in ("ask", "count", "get", "healthz")})
        self.acked = [0] * writers  # the last acknowledged generation of each writer's graph
        self.stop = threading.Event()
        self._lock = threading.Lock()

    def write(self, writer: int, generation: int, session: requests.Session) -> None:
        graph = graph_iri(writer)
        if generation % 2:
            resp = session.put(self.url + "/store", params={"graph": graph}, timeout=120,
                               data=graph_body(writer, generation, self.triples).encode(),
                               headers={**AUTH, "Content-Type": "application/n-triples"})
        else:
            update = (f'DELETE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }} INSERT {{ GRAPH <{graph}> '
                      f'{{ ?s ?p "w{writer} g{generation}" }} }} WHERE {{ GRAPH <{graph}> '
                      "{ ?s ?p ?o } }")
            resp = session.post(self.url + "/sparql", data={"update": update}, headers=AUTH,
                                timeout=120)
        if resp.status_code >= 300:
            raise RuntimeError(f"{resp.status_code} {resp.text[:200]}")

    def writer_loop(self, writer: int) -> None:
        session, generation = requests.Session(), self.acked[writer]
        while not self.stop.is_set():
            generation += 1
            started = time.perf_counter()
            try:
                self.write(writer, generation, session)
            except (requests.RequestException, RuntimeError) as exc:
                with self._lock:
                    self.report.writes.error(f"writer {writer}: {exc}")
                continue
            with self._lock:
                self.acked[writer] = generation
                self.report.writes.ok += 1
                self.report.writes.millis.append((time.perf_counter() - started) * 1000)

    def check_counts(self, writer: int, counts: dict[str, int], how: str) -> None:
        """A read of a writer's graph must see one whole generation."""
        if list(counts.values()) != [self.triples]:
            with self._lock:
                self.report.partial.error(f"{how} of writer {writer}'s graph saw {counts}")

    def read_once(self, kind: str, session: requests.Session) -> None:
        writer = random.randrange(self.writers)
        if kind == "ask":
            resp = session.get(self.url + "/sparql", params={"query": "ASK {}"}, timeout=30)
            resp.raise_for_status()
            assert "true" in resp.text, resp.text
        elif kind == "count":
            self.check_counts(writer, generations(self.url, writer, session), "a count")
        elif kind == "get":
            resp = session.get(self.url + "/store", params={"graph": graph_iri(writer)},
                               headers={"Accept": "application/n-triples"}, timeout=30)
            resp.raise_for_status()
            counts: dict[str, int] = {}
            for line in resp.text.splitlines():
                counts[line.split('"')[1]] = counts.get(line.split('"')[1], 0) + 1
            self.check_counts(writer, counts, "a Graph Store GET")
        else:
            resp = session.get(self.url + "/healthz", timeout=30)
            resp.raise_for_status()
            assert resp.json()["status"] == "ok", resp.text

    def reader_loop(self) -> None:
        session = requests.Session()
        while not self.stop.is_set():
            kind = random.choice(list(self.report.reads))
            started = time.perf_counter()
            tally = self.report.reads[kind]
            try:
                self.read_once(kind, session)
            except (requests.RequestException, AssertionError, ValueError, KeyError) as exc:
                with self._lock:
                    tally.error(f"{kind}: {type(exc).__name__}: {exc}")
                continue
            with self._lock:
                tally.ok += 1
                tally.millis.append((time.perf_counter() - started) * 1000)


def run(url: str, store: Path | None, *, writers: int = 2, readers: int = 4,
        triples: int = 2000, duration: float = 600) -> Report:
    """Load the server at ``url`` for ``duration`` seconds; what the readers and writers saw."""
    load = Load(url, writers, triples)
    session = requests.Session()
    for writer in range(writers):  # every graph exists, whole, before the readers start
        load.write(writer, 1, session)
        load.acked[writer] = 1
    threads = [threading.Thread(target=load.writer_loop, args=(w,)) for w in range(writers)]
    threads += [threading.Thread(target=load.reader_loop) for _ in range(readers)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    time.sleep(duration)
    load.stop.set()
    for thread in threads:
        thread.join()
    report = load.report
    report.seconds = time.monotonic() - started
    for writer in range(writers):
        found = generations(url, writer, session)
        if found != {f"w{writer} g{load.acked[writer]}": triples}:
            report.lost.append(f"writer {writer}: acknowledged generation "
                               f"{load.acked[writer]}, found {found}")
    if store is not None:
        report.snapshots = len(list(store.glob("data-*")))
        report.sst_files = len(list((store / "current").resolve().glob("*.sst")))
    return report


def describe(report: Report) -> str:
    lines = [f"{report.seconds:.0f} s: {report.writes.ok} writes acknowledged "
             f"({report.writes.errors} failed; p50 {report.writes.percentile(0.5):.0f} ms, "
             f"p90 {report.writes.percentile(0.9):.0f} ms, max {report.writes.percentile(1):.0f}"
             " ms)"]
    for kind, tally in report.reads.items():
        lines.append(f"  {kind:8} {tally.ok:7} ok {tally.errors:4} errors  p50 "
                     f"{tally.percentile(0.5):6.1f} ms  p99 {tally.percentile(0.99):7.1f} ms  "
                     f"max {tally.percentile(1):7.1f} ms")
    lines.append(f"reads that saw a graph empty or partial: {report.partial.errors}; "
                 f"acknowledged writes missing: {len(report.lost)}")
    lines.append(f"store folder: {report.snapshots} snapshot(s), {report.sst_files} .sst files "
                 "in the live one")
    for sample in [*report.writes.samples, *(s for t in report.reads.values()
                                            for s in t.samples), *report.partial.samples,
                   *report.lost]:
        lines.append(f"  ! {sample}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, help="a built store to copy (default: build one)")
    parser.add_argument("--duration", type=float, default=600, help="seconds (default 600)")
    parser.add_argument("--writers", type=int, default=2)
    parser.add_argument("--readers", type=int, default=4)
    parser.add_argument("--triples", type=int, default=2000, help="triples a write")
    parser.add_argument("--read-copy-max-quads", help="K2D3_READ_COPY_MAX_QUADS for the server")
    args = parser.parse_args()
    env = {} if args.read_copy_max_quads is None else {
        "read_copy_max_quads": args.read_copy_max_quads}
    with store_copy(args.store) as root, running(root, root.parent / "server.log",
                                                 **env) as server:
        report = run(server.url, root, writers=args.writers, readers=args.readers,
                     triples=args.triples, duration=args.duration)
        print(describe(report))
    return 0 if report.passed() else 1


if __name__ == "__main__":
    sys.exit(main())
