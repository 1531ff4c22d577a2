"""Latency of one small write through ``server.rdf.store.writer``, and of the first read after it.

    python benchmarks/write_latency.py --store PATH [--writes 30] [--copy-max-quads 50000]

Copies the store at PATH (a built one: the article's, or a bigger one made with
``--make-quads N``) to a temporary folder, then runs ``--writes`` one-triple ``INSERT DATA``
updates (or, with ``--triples N``, replacements of a graph of N triples as a Graph Store PUT
does them), each followed by a read through a ``StoreReader`` (which opens, or copies, the new
data). Prints the median, 90th percentile and maximum of both. It uses only ``writer``,
``StoreReader`` and ``live_dir``, so the same script measures another version of the package
(``PYTHONPATH=/path/to/other/checkout``): run the two alternately on a busy machine.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from pyoxigraph import Literal, NamedNode, Quad

from server.rdf import store

EX = "http://example.org/"


def make_store(root: Path, quads: int) -> Path:
    """A store of ``quads`` generated quads in 20 graphs (about 150 bytes a quad on disk)."""
    if not store.exists(root):
        with store.write_lock(root):
            store.swap_in(root, store.new_data_dir(root))
    with store.writer(root) as db:
        db.bulk_extend(
            Quad(NamedNode(f"{EX}s{i // 10}"), NamedNode(f"{EX}p{i % 10}"), Literal(f"value {i}"),
                 NamedNode(f"{EX}g{i % 20}"))
            for i in range(quads))
    return root


def measure(root: Path, writes: int, copy_max_quads: int,
            triples: int = 0) -> dict[str, list[float]]:
    """``writes`` one-triple INSERTs, or with ``triples``, graph replacements (as a Graph Store
    PUT does them) of that many triples; each followed by a read."""
    reader = store.StoreReader(root, copy_max_quads)
    reader.get()
    found: dict[str, list[float]] = {"write": [], "read after": []}
    graph = NamedNode(EX + "bench")
    for i in range(writes):
        quads = [Quad(NamedNode(f"{EX}s{j}"), NamedNode(EX + "p"), Literal(f"{i}"), graph)
                 for j in range(triples)]
        started = time.perf_counter()
        with store.writer(root) as db:
            if not triples:
                db.update(f'INSERT DATA {{ GRAPH <{graph.value}> {{ <{EX}w{i}> <{EX}p> "{i}" }} }}')
            else:
                if db.contains_named_graph(graph):
                    db.remove_graph(graph)
                db.add_graph(graph)
                db.extend(quads)
        wrote = time.perf_counter()
        reader.get().query("ASK { ?s ?p ?o }")
        found["write"].append((wrote - started) * 1000)
        found["read after"].append((time.perf_counter() - wrote) * 1000)
    return found


def summary(values: list[float]) -> str:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
    median = statistics.median(ordered)
    return f"median {median:7.1f} ms  p90 {p90:7.1f} ms  max {ordered[-1]:7.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, help="a built store to copy")
    parser.add_argument("--make-quads", type=int, default=0,
                        help="instead, make a store of this many generated quads at --store")
    parser.add_argument("--writes", type=int, default=30)
    parser.add_argument("--copy-max-quads", type=int, default=50_000)
    parser.add_argument("--triples", type=int, default=0,
                        help="replace a graph of this many triples instead of a one-triple INSERT")
    args = parser.parse_args()
    if args.make_quads:
        make_store(args.store, args.make_quads)
        print(f"made {args.store} with {args.make_quads} quads")
        return
    with tempfile.TemporaryDirectory(prefix="k2d3-latency-") as tmp:
        root = Path(tmp) / "store"
        shutil.copytree(args.store, root, symlinks=True, ignore=shutil.ignore_patterns("lock"))
        found = measure(root, args.writes, args.copy_max_quads, args.triples)
    print(f"{store.__file__}: {args.writes} writes on {args.store}")
    for name, values in found.items():
        print(f"  {name:10} {summary(values)}")


if __name__ == "__main__":
    main()
