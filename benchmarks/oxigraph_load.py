#!/usr/bin/env python3
"""Bulk-load one RDF file into a new pyoxigraph store and report as JSON (one process a run).

Run in a process of its own so that its peak RSS (``ru_maxrss``) is the load's alone. Modes:

- ``path``: ``Store.bulk_load(path=FILE)``, the Rust parser reading the file itself (plain
  files only: pyoxigraph 0.5 does not decompress).
- ``lenient``: the same with ``lenient=True`` (IRIs and language tags not validated).
- ``stream``: ``Store.bulk_load(input=gzip.open(FILE))``, the parser reading a Python stream
  (how a ``.gz`` file is read).
- ``extend``: ``Store.bulk_extend(pyoxigraph.parse(...))``, quads through Python objects.

    python benchmarks/oxigraph_load.py FILE STORE_FOLDER [--mode path|lenient|stream|extend|k2d3]
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import sys
import time
from pathlib import Path
from typing import IO, cast

from pyoxigraph import RdfFormat, Store, parse


def open_input(path: Path) -> IO[bytes]:
    if path.name.endswith(".gz"):
        return cast(IO[bytes], gzip.open(path))
    return open(path, "rb")


def rdf_format(path: Path) -> RdfFormat:
    name = path.name.removesuffix(".gz")
    return RdfFormat.N_TRIPLES if name.endswith(".nt") else RdfFormat.N_QUADS


def load(path: Path, folder: Path, mode: str) -> dict[str, float | int | str]:
    """Load ``path`` into a new store at ``folder``: seconds, quads, peak RSS, bytes on disk,
    and the CPU seconds of the process (all its threads; the interpreter's start-up too)."""
    started = time.perf_counter()
    store = Store(str(folder))
    fmt = rdf_format(path)
    if mode in ("path", "lenient"):
        store.bulk_load(path=str(path), format=fmt, lenient=mode == "lenient")
    elif mode == "k2d3":  # the loader of ``k2d3 load``: line blocks on two threads
        from server.build.load import _load_lines

        with open_input(path) as stream:
            _load_lines(store, stream, fmt, None, None, lambda done, read: None)
    elif mode == "stream":
        with open_input(path) as stream:
            store.bulk_load(stream, fmt)
    else:
        with open_input(path) as stream:
            store.bulk_extend(parse(stream, fmt))
    store.flush()
    seconds = time.perf_counter() - started
    quads = len(store)
    del store
    on_disk = sum(p.stat().st_blocks * 512 for p in folder.rglob("*") if p.is_file())
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"mode": mode, "seconds": seconds, "quads": quads, "store_bytes": on_disk,
            "cpu_seconds": usage.ru_utime + usage.ru_stime, "peak_rss_kib": usage.ru_maxrss}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("store", type=Path)
    parser.add_argument("--mode", default="path",
                        choices=("path", "lenient", "stream", "extend", "k2d3"))
    args = parser.parse_args(argv)
    print(json.dumps(load(args.file, args.store, args.mode)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
