#!/usr/bin/env python3
"""Markdown tables and the issue's targets from a ``scale.py --json`` file.

Every cell that was measured in several rounds shows each round (``r1 / r2``; ``r1; r2``
where a round's cell is itself a pair or triple), and a target
counts as met only when it is met in every round:

- load: pyoxigraph's bulk rate at least Virtuoso's (issue 15: "1M triples loaded at no less
  than Virtuoso's bulk rate");
- throughput: k2d3's requests/s at least Virtuoso's at 8 and at 32 connections, per query;
- latency: k2d3's median over HTTP at most 1.5 x the in-process floor + 1 ms (the endpoint's
  target of issue 15; meant for answers of a few kilobytes).

A wrk run that got fewer answers than it had connections is marked ``*``: not a steady state
(the run was cut at ``--max-seconds``), so its rate is a rough lower bound. Against such a
Virtuoso run, k2d3 meets the target only if it beats the most that run could stand for: its
answers plus every request in flight, over its seconds. A k2d3 run with any non-2xx answer
(a 503) misses it.

    python benchmarks/scale_report.py RUN.json
"""

from __future__ import annotations

import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

CONNECTIONS = ("1", "8", "32")


def rounds_text(values: list[str]) -> str:
    return " / ".join(values)


def load_table(records: list[dict[str, Any]]) -> list[str]:
    out = ["| triples | engine | round | seconds | triples/s | CPU s | on disk | loader peak RSS "
           "| load avg |", "|---:|---|---:|---:|---:|---:|---:|---:|---|"]
    for r in records:
        out.append(f"| {r['size']:,} | {r['engine']} | {r['round']} | {r['seconds']:.2f} | "
                   f"{r['rate']:,} | {r['cpu_seconds']:.1f} | {r['store_bytes'] / 2**20:,.0f} MiB"
                   f" | {r['peak_rss_kib'] / 1024:,.0f} MiB | {r['load_before']} → "
                   f"{r['load_after']} |")
    by: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for r in records:
        by[r["size"]][r["engine"]].append(r["rate"])
    out.append("")
    for triples, rates in by.items():
        ox, vi = rates.get("pyoxigraph", []), rates.get("Virtuoso", [])
        met = all(o >= v for o, v in zip(ox, vi, strict=False))
        ratios = rounds_text([f"{o / v:.2f}" for o, v in zip(ox, vi, strict=False)])
        out.append(f"- {triples:,} triples: pyoxigraph ÷ Virtuoso bulk rate {ratios} "
                   f"(round by round): target **{'met' if met else 'missed'}**.")
    return out


def ratio(mine: float, theirs: float) -> str:
    return f"{mine / theirs:.2f}" if theirs else "∞" if mine else "–"


def rate_cell(cell: dict[str, Any], connections: str) -> str:
    star = "*" if cell["answers"] < int(connections) else ""
    refused = f" ({cell['non_2xx']:,} non-2xx)" if cell.get("non_2xx") else ""
    return f"{cell['rps']:,.0f}{star}{refused}"


def _ms(side: dict[str, Any] | None, key: str) -> str:
    if side is None:
        return "–"
    if "error" in side:
        return "error"
    value = side.get(key)
    return "–" if value is None else f"{value:,.2f}" if value < 100 else f"{value:,.0f}"


def latency_table(rows: list[list[dict[str, Any]]]) -> list[str]:
    """Per query: the first request (k2d3: computed before its cache has it) and the median /
    p99 of the rest, per side; the endpoint's latency target where there is a floor."""
    out = ["| query | rewritten | same answer (rows k2d3 / Virtuoso) | floor ms | "
           "k2d3 first ms | k2d3 median / p99 ms | Virtuoso first ms | "
           "Virtuoso median / p99 ms | k2d3 ÷ floor | k2d3 ÷ Virtuoso | ≤ 1.5 × floor + 1 ms |",
           "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for rounds in rows:
        first = rounds[0]
        lat = [r["latency"] for r in rounds]
        errors = {k: v["error"][:80] for r in lat for k, v in r.items() if "error" in v}
        same = all(r.get("same") for r in rounds)
        rows_text = f"{'yes' if same else '**no**'} ({first.get('k2d3_rows')} / " \
                    f"{first.get('virtuoso_rows')})" if not errors else f"error: {errors}"
        cells = [rounds_text([_ms(x.get("floor"), "median_ms") for x in lat])]
        for side in ("k2d3", "Virtuoso"):
            cells.append(rounds_text([_ms(x.get(side), "first_ms") for x in lat]))
            cells.append("; ".join(f"{_ms(x.get(side), 'median_ms')} / "
                                   f"{_ms(x.get(side), 'p99_ms')}" for x in lat))
        ok = [x for x in lat if "median_ms" in x.get("k2d3", {})]
        floors = [x for x in ok if "median_ms" in x.get("floor", {})]
        cells.append(rounds_text([f"{x['k2d3']['median_ms'] / x['floor']['median_ms']:.1f}"
                                  for x in floors]) or "–")
        cells.append(rounds_text([ratio(x["k2d3"]["median_ms"], x["Virtuoso"]["median_ms"])
                                  for x in ok if "median_ms" in x.get("Virtuoso", {})]) or "–")
        met = all(x["k2d3"]["median_ms"] <= 1.5 * x["floor"]["median_ms"] + 1 for x in floors)
        verdict = ("met" if met else "missed") if floors and len(floors) == len(lat) else "–"
        out.append(f"| {first['query']} | {'yes' if first['rewritten'] else ''} | {rows_text} | "
                   + " | ".join(cells) + f" | {verdict} |")
    if not any("floor" in r["latency"] for rounds in rows for r in rounds):
        out = [_without(line, (3, 8, 10)) for line in out]  # run with --no-floor
    return out


def _without(line: str, columns: tuple[int, ...]) -> str:
    """A table row without the cells at these 0-based ``columns``."""
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    kept = [c for i, c in enumerate(cells) if i not in columns]
    return "|" + "|".join(kept) + "|" if line.startswith("|---") else \
        "| " + " | ".join(kept) + " |"


def most(cell: dict[str, Any], connections: str) -> float:
    """The highest rate a wrk run could stand for: its own when steady; when it got fewer
    answers than connections, as if every request in flight had been answered at its end."""
    if cell["answers"] >= int(connections):
        return float(cell["rps"])
    return (cell["answers"] + int(connections)) / cell["seconds"]


def throughput_table(rows: list[list[dict[str, Any]]]) -> tuple[list[str], list[str]]:
    out = ["| query | k2d3 req/s at 1 / 8 / 32 | Virtuoso req/s at 1 / 8 / 32 | "
           "k2d3 ÷ Virtuoso at 8 | at 32 | ≥ Virtuoso at 8 and 32 |",
           "|---|---|---|---:|---:|---|"]
    missed = []
    for rounds in rows:
        thr = [r["throughput"] for r in rounds]
        failed = [side for side in ("k2d3", "Virtuoso") if any(side not in t for t in thr)]
        if failed:  # no answer to measure (an error, or the time limit)
            out.append(f"| {rounds[0]['query']} | | | | | not measured: "
                       f"{' and '.join(failed)} gave no answer |")
            if rounds[0]["query"].startswith("canned:") and "k2d3" in failed:
                missed.append(rounds[0]["query"] + " (k2d3 gave no answer)")
            continue
        if any("skipped" in t[side] for t in thr for side in ("k2d3", "Virtuoso")):
            out.append(f"| {rounds[0]['query']} | not measured | not measured | | | "
                       "not measured (slow) |")
            if rounds[0]["query"].startswith("canned:"):
                missed.append(rounds[0]["query"] + " (not measured)")
            continue
        cells = []
        for side in ("k2d3", "Virtuoso"):
            cells.append("; ".join(" / ".join(rate_cell(t[side][c], c) for c in CONNECTIONS)
                                   for t in thr))
        for c in ("8", "32"):
            cells.append(rounds_text([f"{ratio(t['k2d3'][c]['rps'], t['Virtuoso'][c]['rps'])}"
                                      for t in thr]))
        met = all(t["k2d3"][c]["rps"] >= most(t["Virtuoso"][c], c) and not t["k2d3"][c]["non_2xx"]
                  for t in thr for c in ("8", "32"))  # a 503 is not a request served
        steady = all(t["k2d3"][c]["answers"] >= int(c) for t in thr for c in ("8", "32"))
        verdict = "met" if met and steady else "missed" if steady else "not steady (*)"
        if verdict != "met" and rounds[0]["query"].startswith("canned:"):
            missed.append(rounds[0]["query"] + ("" if steady else " (not steady)"))
        out.append(f"| {rounds[0]['query']} | " + " | ".join(cells) + f" | {verdict} |")
    return out, missed


def report(records: list[dict[str, Any]]) -> str:
    lines = ["### Loads", ""] + load_table([r for r in records if r.get("step") == "load"])
    by_size: dict[int, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for r in records:
        if r.get("step") == "query":
            by_size[r["size"]][r["query"]].append(r)
    memory = {r["size"]: r for r in records if r.get("step") == "memory"}
    for triples, queries in by_size.items():
        rows = list(queries.values())
        loads = [r["load"] for rounds in rows for r in rounds]
        lines += ["", f"### Queries at {triples:,} triples", "",
                  f"Load average during the queries: median {statistics.median(loads):.1f}, "
                  f"range {min(loads)}–{max(loads)}.", ""]
        lines += latency_table(rows) + [""]
        table, missed = throughput_table(rows)
        lines += table + [""]
        canned = sum(1 for q in queries if q.startswith("canned:"))
        unmeasured = [m for m in missed if m.endswith(("(not measured)", "(not steady)"))]
        missed = [m for m in missed if m not in unmeasured]
        lines.append(f"Throughput target (≥ Virtuoso at 8 and 32 connections, both rounds), "
                     f"{canned} canned queries: missed on {len(missed)}"
                     + (f" ({', '.join(m.split(':')[1] for m in missed)})" if missed else "")
                     + f"; not measured or not steady on {len(unmeasured)}"
                     + (f" ({', '.join(m.split(':')[1] for m in unmeasured)})" if unmeasured
                        else "")
                     + "; the rest have no Virtuoso answer (an error) or met it.")
        if triples in memory:
            m = memory[triples]
            lines.append(f"Peak RSS while serving: k2d3 (gunicorn, all processes) "
                         f"{m['k2d3_serve_peak_rss_kib'] / 1024:,.0f} MiB, Virtuoso "
                         f"{m['virtuoso_peak_rss_kib'] / 1024:,.0f} MiB.")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    print(report(json.loads(Path(args[0]).read_text())), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
