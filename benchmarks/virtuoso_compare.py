#!/usr/bin/env python3
"""Bulk-load rate, store size and peak RSS: pyoxigraph against Virtuoso, same files, one run.

For each size the synthetic evidence graph (``generate_graph.py``, N-Quads) is generated
once into ``--data-dir`` (and reused), then, round by round with the order of the engines
alternating:

- pyoxigraph: ``oxigraph_load.py`` in a process of its own (``Store.bulk_load`` into a new
  folder; ``--oxigraph-modes`` adds ``lenient`` (no IRI validation), ``stream`` (the same
  file gzip-compressed, read through ``gzip.open``) and ``extend`` (``bulk_extend`` over
  parsed quads)), and ``cliN``: ``oxigraph load`` (PyPI's ``oxigraph`` CLI, the same engine)
  of the file cut in N pieces, which it loads in parallel;
- Virtuoso (Debian's ``virtuoso-opensource``, installed if missing): a new database under a
  temporary folder, started on loopback (not timed), then ``ld_dir`` + ``rdf_loader_run`` +
  ``checkpoint`` (timed); ``--virtuoso-loaders 2`` splits the file in two and runs two loaders.

Reported per run: seconds, CPU seconds (the loading process's, all threads; Virtuoso's
server process during the load), triples/s, bytes on disk, peak RSS (``ru_maxrss`` of the loader
process; ``VmHWM`` of ``virtuoso-t``, its start-up included), and the load average before and
after, since the machine is shared. Every store folder is deleted after its run.

    python benchmarks/virtuoso_compare.py --sizes 100k,1m[,10m] [--rounds 3]
        [--data-dir DIR] [--oxigraph-modes path,lenient,stream,extend,cli1,cli2]
        [--virtuoso-loaders 1]
        [--buffers 340000] [--json OUT.json]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate_graph import size as parse_size  # noqa: E402
from virtuoso import Virtuoso, ensure_installed  # noqa: E402

HERE = Path(__file__).resolve().parent


def load_average() -> float:
    return round(os.getloadavg()[0], 1)


def data_file(folder: Path, triples: int) -> Path:
    """The generated graph of ``triples`` triples (made once, then reused)."""
    path = folder / f"evidence-{triples}.nq"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        part = path.with_suffix(".part")
        subprocess.run([sys.executable, str(HERE / "generate_graph.py"), "--triples",
                        str(triples), "--out", str(part)], check=True)
        part.rename(path)
    return path


def split(path: Path, parts: int) -> list[Path]:
    """``path`` cut into ``parts`` files of whole lines (N-Quads is line-based)."""
    if parts == 1:
        return [path]
    names = [path.with_name(f"{path.stem}.part{i}.nq") for i in range(parts)]
    if not all(n.exists() for n in names):
        with open(path, "rb") as source:
            lines = sum(1 for _ in source)
        with open(path, "rb") as source:
            for i, name in enumerate(names):
                with open(name, "wb") as out:
                    for _ in range(lines // parts + (i < lines % parts)):
                        out.write(source.readline())
    return names


def gzipped(path: Path) -> Path:
    """A gzip copy of ``path`` (level 1), made once."""
    out = path.with_name(path.name + ".gz")
    if not out.exists():
        part = out.with_suffix(".part")
        with open(path, "rb") as source, gzip.open(part, "wb", compresslevel=1) as sink:
            shutil.copyfileobj(source, sink, 1 << 20)
        part.rename(out)
    return out


def run_oxigraph(path: Path, tmp: Path, mode: str) -> dict[str, Any]:
    folder = tmp / f"oxigraph-{mode}"
    if mode == "stream":
        path = gzipped(path)
    before = load_average()
    out = subprocess.run([sys.executable, str(HERE / "oxigraph_load.py"), str(path), str(folder),
                          "--mode", mode], check=True, capture_output=True, text=True)
    shutil.rmtree(folder, ignore_errors=True)
    result = json.loads(out.stdout)
    return {"engine": f"pyoxigraph bulk_load ({mode})" if mode != "extend"
            else "pyoxigraph bulk_extend", **result, "load_before": before,
            "load_after": load_average()}


def run_oxigraph_cli(path: Path, tmp: Path, parts: int) -> dict[str, Any]:
    """``oxigraph load`` (the CLI of PyPI's ``oxigraph``, same engine as pyoxigraph) of
    ``parts`` pieces of the file, which it loads in parallel."""
    cli = shutil.which("oxigraph") or str(Path(sys.executable).with_name("oxigraph"))
    folder = tmp / "oxigraph-cli"
    files = [arg for part in split(path, parts) for arg in ("--file", str(part))]
    before = load_average()
    started = time.perf_counter()
    proc = subprocess.Popen([cli, "load", "--location", str(folder), *files],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    if status:
        raise RuntimeError(f"oxigraph load failed ({status})")
    on_disk = sum(p.stat().st_blocks * 512 for p in folder.rglob("*") if p.is_file())
    shutil.rmtree(folder, ignore_errors=True)
    return {"engine": f"oxigraph load (CLI), {parts} file(s) in parallel", "seconds": seconds,
            "cpu_seconds": usage.ru_utime + usage.ru_stime, "store_bytes": on_disk,
            "peak_rss_kib": usage.ru_maxrss, "load_before": before,
            "load_after": load_average()}


def run_virtuoso(path: Path, tmp: Path, loaders: int, buffers: int) -> dict[str, Any]:
    files = split(path, loaders)
    folder = tmp / "virtuoso"
    with Virtuoso.start(folder, data_dirs=[path.parent], buffers=buffers) as server:
        rss_started = server.rss_kib()
        before, cpu = load_average(), server.cpu_seconds()
        started = time.perf_counter()
        server.bulk_load(files, "urn:k2d3:bench", loaders=loaders)
        seconds = time.perf_counter() - started
        cpu = server.cpu_seconds() - cpu
        after = load_average()
        result = {"engine": f"Virtuoso ld_dir + rdf_loader_run x{loaders} + checkpoint",
                  "seconds": seconds, "cpu_seconds": cpu, "store_bytes": server.store_bytes(),
                  "peak_rss_kib": server.peak_rss_kib(), "rss_at_start_kib": rss_started,
                  "quads": int(server.scalar(
                      "SPARQL SELECT COUNT(*) WHERE { GRAPH ?g { ?s ?p ?o } FILTER(STRSTARTS("
                      "STR(?g), 'https://w3id.org/k2d3/graph/')) };")),
                  "load_before": before, "load_after": after}
    shutil.rmtree(folder, ignore_errors=True)
    return result


def measure(sizes: list[int], args: argparse.Namespace, tmp: Path) -> list[dict[str, Any]]:
    runs = []
    for triples in sizes:
        path = data_file(args.data_dir, triples)
        for rnd in range(args.rounds):
            jobs = [("oxigraph", mode) for mode in args.oxigraph_modes] + [("virtuoso", "")]
            if rnd % 2:
                jobs.reverse()
            for engine, mode in jobs:
                if engine == "virtuoso":
                    result = run_virtuoso(path, tmp, args.virtuoso_loaders, args.buffers)
                elif mode.startswith("cli"):
                    result = run_oxigraph_cli(path, tmp, int(mode[3:] or 1))
                else:
                    result = run_oxigraph(path, tmp, mode)
                result.update(size=triples, round=rnd + 1,
                              rate=round(triples / result["seconds"]))
                print(json.dumps(result), file=sys.stderr, flush=True)
                runs.append(result)
    return runs


def print_table(runs: list[dict[str, Any]]) -> None:
    print("| triples | engine | round | seconds | CPU s | triples/s | on disk | peak RSS "
          "| load avg |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---|")
    for r in runs:
        print(f"| {r['size']:,} | {r['engine']} | {r['round']} | {r['seconds']:.1f} | "
              f"{r['cpu_seconds']:.1f} | {r['rate']:,} | {r['store_bytes'] / 2**20:,.0f} MiB | "
              f"{r['peak_rss_kib'] / 1024:,.0f} MiB | {r['load_before']} → {r['load_after']} |")
    print("\nMedians:\n")
    print("| triples | engine | median triples/s | best | triples per CPU s | median peak RSS |")
    print("|---:|---|---:|---:|---:|---:|")
    keys = sorted({(r["size"], r["engine"]) for r in runs})
    for triples, engine in keys:
        mine = [r for r in runs if (r["size"], r["engine"]) == (triples, engine)]
        print(f"| {triples:,} | {engine} | {statistics.median(r['rate'] for r in mine):,.0f} | "
              f"{max(r['rate'] for r in mine):,} | "
              f"{statistics.median(triples / r['cpu_seconds'] for r in mine):,.0f} | "
              f"{statistics.median(r['peak_rss_kib'] for r in mine) / 1024:,.0f} MiB |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100k,1m")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--data-dir", type=Path,
                        default=Path(tempfile.gettempdir()) / "k2d3-bench-data")
    parser.add_argument("--oxigraph-modes", default="path",
                        type=lambda s: [m for m in s.split(",") if m])
    parser.add_argument("--virtuoso-loaders", type=int, default=1)
    parser.add_argument("--buffers", type=int, default=340_000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    print(ensure_installed(), file=sys.stderr)
    tmp = Path(tempfile.mkdtemp(prefix="k2d3-load-"))
    try:
        runs = measure([parse_size(s) for s in args.sizes.split(",")], args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print_table(runs)
    if args.json:
        args.json.write_text(json.dumps(runs, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
