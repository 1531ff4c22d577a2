#!/usr/bin/env python3
"""Soak ``k2d3 serve``: mixed load with writers, runaway queries and slow clients (issue 12).

Starts ``server.serving.serve.run`` (gunicorn, the production configuration, update token set) over
a private copy of a built store, then for ``--seconds`` runs at once:

- ``--connections`` keep-alive clients, each in a loop with no pause, picking requests by
  weight: canned-query pages (HTML and JSON), the evidence map, ad-hoc queries by GET and POST
  (from a fixed pool, and now and then a new one), resource pages (HTML and Turtle), the
  catalogue, the dumps (listing and a file), ``/healthz``;
- two writers: Graph Store PUT and POST, SPARQL Update (``INSERT DATA``, ``DELETE WHERE``);
- one runaway query every ``--runaway-every`` seconds (it must get ``503 query timed out``);
- ``--slow-clients`` connections that send one byte, a slow head or a slow body and hold on
  until the server closes them (they must get ``408``, or ``503`` from a worker that retires
  meanwhile), then start again;
- a sampler of the workers' resident memory (summed; compared as the medians of the first and
  last thirds after the warm-up, since a retired worker's heir starts small).

Every answer is sorted: ``ok``; ``overload`` (``503`` + ``Retry-After`` for a heavy query past
the bound, documented); ``restart`` (``503`` + ``Retry-After`` from a retiring worker,
documented); ``store under writes`` (a ``500`` on a read while the server's log shows the
store failing under a concurrent write: issue 12 §1, fixed elsewhere); ``reset`` (the
connection failed); anything else is an ``error``. Prints p50/p99 per route, the counts, and
the workers' memory after the warm-up against the end; ``--json FILE`` writes it all.

    python3 benchmarks/soak.py --store /path/to/built/store [--seconds 600] [--connections 32]
        [--slow-clients 24] [--runaway-every 60] [--warm-up 120] [--json FILE]

Exit status 0 when the targets hold: no error and no reset in the normal load, every runaway
answered 503, every slow client answered and closed, memory after warm-up flat within 10 %.
``store under writes`` is counted, not a miss: it is issue 12 §1, fixed in the store.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

TOKEN = "test-token"  # endpoint_fixtures.serve sets it
HEAVY = "SELECT (COUNT(*) AS ?n) { " + " ".join(f"?a{i} ?b{i} ?c{i} ." for i in range(10)) + "}"
ADHOC = [
    "ASK {}",
    "SELECT * WHERE { ?s ?p ?o } LIMIT 10",
    "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
    "SELECT ?t (COUNT(?s) AS ?n) WHERE { ?s a ?t } GROUP BY ?t ORDER BY DESC(?n)",
    "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 100",
    "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }",
    "SELECT ?s ?l WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?l } LIMIT 50",
    *[f"SELECT * WHERE {{ ?s ?p ?o }} OFFSET {n * 10} LIMIT 10" for n in range(8)],
]
SLOW_OPENINGS = [
    b"G",
    b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: localhost\r\n",
    b"POST /sparql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/sparql-query\r\n"
    b"Content-Length: 100\r\n\r\nASK",
]
#: What a slow client may get: 408, or 503 from a worker that is retiring (documented).
SLOW_ANSWERS = ("HTTP/1.1 408 ", "HTTP/1.1 503 ")
RSS_EVERY_S = 5.0


class Tally:
    """Answers by route and kind, latencies by route; thread-safe."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.kinds: dict[str, Counter[str]] = defaultdict(Counter)
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.samples: list[str] = []

    def add(self, route: str, kind: str, seconds: float, note: str = "") -> None:
        with self.lock:
            self.kinds[route][kind] += 1
            if kind == "ok":
                self.latency[route].append(seconds)
            if kind not in ("ok", "overload") and len(self.samples) < 40:
                self.samples.append(f"{route}: {kind} {note[:160]}")


def classify(resp: requests.Response) -> str:
    if resp.status_code < 400:
        return "ok"
    if resp.status_code == 503 and "Retry-After" in resp.headers:
        if "known to be quick" in resp.text:
            return "overload"
        if "restarting" in resp.text:
            return "restart"
    if resp.status_code == 500 or (resp.status_code == 503 and "unavailable" in resp.text):
        return "5xx-store?"
    return "error"


def call(session: requests.Session, tally: Tally, route: str, method: str, url: str,
         **kwargs: Any) -> None:
    started = time.monotonic()
    try:
        resp = session.request(method, url, timeout=60, **kwargs)
        kind, note = classify(resp), f"{resp.status_code} {resp.text[:120]!r}"
    except requests.ConnectionError as exc:
        kind, note = "reset", repr(exc)
    except requests.RequestException as exc:
        kind, note = "error", repr(exc)
    tally.add(route, kind, time.monotonic() - started, note)


def targets(store: Path) -> dict[str, list[str]]:
    """What the readers ask for: canned query names, resource paths, dump names."""
    from server.catalogue import canned
    from server.catalogue import params as canned_params
    from server.rdf.store import StoreReader

    st = StoreReader(store, 0).get()
    rows = st.query("SELECT DISTINCT ?s WHERE { ?s ?p ?o "
                    "FILTER(STRSTARTS(STR(?s), 'https://w3id.org/k2d3/id/')) } LIMIT 300",
                    use_default_graph_as_union=True)
    ids = ["/id/" + quote(r["s"].value[len("https://w3id.org/k2d3/id/"):])  # type: ignore
           for r in rows]
    names = []
    for query in canned.catalogue():
        try:
            canned_params.bind(query, {})
        except ValueError:  # a parameter with no default: the bare page is a 400
            continue
        names.append(query.name)
    return {"canned": names, "ids": ids, "dumps": ["k2d3.nq.gz", "SHA256SUMS"]}


def reader_requests(url: str, t: dict[str, list[str]]) -> list[tuple[int, Any]]:
    """(weight, make) pairs; ``make(rng)`` gives (route, method, url, kwargs)."""
    json_accept = {"Accept": "application/sparql-results+json, application/n-triples;q=0.9"}
    return [
        (15, lambda r: ("canned html", "GET", f"{url}/queries/{r.choice(t['canned'])}", {})),
        (10, lambda r: ("canned json", "GET", f"{url}/queries/{r.choice(t['canned'])}",
                        {"params": {"format": "json"}})),
        (3, lambda r: ("evidence map", "GET", f"{url}/queries/evidence-map", {})),
        (3, lambda r: ("catalogue", "GET", f"{url}/queries", {})),
        (25, lambda r: ("sparql get", "GET", f"{url}/sparql",
                        {"params": {"query": r.choice(ADHOC)}, "headers": json_accept})),
        (10, lambda r: ("sparql post", "POST", f"{url}/sparql",
                        {"data": r.choice(ADHOC).encode(), "headers": {
                            "Content-Type": "application/sparql-query", **json_accept}})),
        (5, lambda r: ("sparql new", "GET", f"{url}/sparql", {"params": {
            "query": f"SELECT * WHERE {{ ?s ?p ?o }} LIMIT {r.randint(1, 50)} "
                     f"# {r.random()}"}, "headers": json_accept})),
        (15, lambda r: ("id html", "GET", url + r.choice(t["ids"]),
                        {"headers": {"Accept": "text/html"}})),
        (7, lambda r: ("id turtle", "GET", url + r.choice(t["ids"]),
                       {"headers": {"Accept": "text/turtle"}})),
        (2, lambda r: ("dumps", "GET", f"{url}/dumps/", {})),
        (2, lambda r: ("dump file", "GET", f"{url}/dumps/{r.choice(t['dumps'])}", {})),
        (3, lambda r: ("healthz", "GET", f"{url}/healthz", {})),
    ]


def reader(url: str, t: dict[str, list[str]], tally: Tally, stop: threading.Event,
           seed: int) -> None:
    rng = random.Random(seed)
    choices = reader_requests(url, t)
    weights = [w for w, _ in choices]
    with requests.Session() as session:
        while not stop.is_set():
            make = rng.choices(choices, weights)[0][1]
            try:
                route, method, target, kwargs = make(rng)
            except IndexError:  # nothing of that kind in this store
                continue
            call(session, tally, route, method, target, **kwargs)


def writer(url: str, tally: Tally, stop: threading.Event, seed: int) -> None:
    rng = random.Random(seed)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    nt = {**auth, "Content-Type": "application/n-triples"}
    update = {**auth, "Content-Type": "application/sparql-update"}
    with requests.Session() as session:
        while not stop.is_set():
            g = f"http://example.org/soak/g{rng.randint(0, 4)}"
            lines = [f"<http://example.org/s{rng.randint(0, 999)}> <http://example.org/p> "
                     f"\"{rng.random()}\" .\n" for _ in range(100)]
            triples = "".join(lines)
            step = rng.randint(0, 3)
            if step == 0:
                call(session, tally, "write put", "PUT", f"{url}/store",
                     params={"graph": g}, data=triples.encode(), headers=nt)
            elif step == 1:
                call(session, tally, "write post", "POST", f"{url}/store",
                     params={"graph": g}, data="".join(lines[:10]).encode(), headers=nt)
            elif step == 2:
                call(session, tally, "write update", "POST", f"{url}/sparql", headers=update,
                     data=f"INSERT DATA {{ GRAPH <{g}> {{ {''.join(lines[:10])} }} }}".encode())
            else:
                call(session, tally, "write update", "POST", f"{url}/sparql", headers=update,
                     data=f"DELETE WHERE {{ GRAPH <{g}> {{ ?s ?p ?o }} }}".encode())
            stop.wait(0.5)


def runaways(url: str, every_s: float, results: list[str], stop: threading.Event) -> None:
    n = 0
    while not stop.wait(every_s):
        n += 1
        try:
            resp = requests.get(f"{url}/sparql", timeout=60,
                                params={"query": f"{HEAVY} # {n}", "timeout": "5"})
            timed_out = resp.status_code == 503 and "timed out" in resp.text
            results.append("503 timed out" if timed_out else classify(resp))
        except requests.RequestException as exc:
            results.append(repr(exc))


def slow_client(url: str, results: Counter[str], stop: threading.Event, seed: int) -> None:
    parts, rng = urlsplit(url), random.Random(seed)
    while not stop.is_set():
        try:
            with socket.create_connection((parts.hostname, parts.port), timeout=60) as sock:
                sock.sendall(rng.choice(SLOW_OPENINGS))
                got = sock.recv(64)
                while sock.recv(4096):
                    pass
            answer = got[:13].decode("latin-1")
            results[answer if answer in SLOW_ANSWERS else f"other {got[:30]!r}"] += 1
        except OSError as exc:
            if not stop.is_set():
                results[type(exc).__name__] += 1


def worker_rss_mb(arbiter: int) -> float:
    """Resident memory of the arbiter's worker processes, summed (MB)."""
    total = 0
    for child in Path("/proc").glob("[0-9]*"):
        try:
            stat = (child / "stat").read_text().rsplit(")", 1)[1].split()
            if int(stat[1]) == arbiter:
                total += int(stat[21]) * 4096
        except (OSError, IndexError, ValueError):
            continue
    return total / 1e6


def sample_rss(arbiter: int, into: list[tuple[float, float]], stop: threading.Event) -> None:
    started = time.monotonic()
    while not stop.wait(RSS_EVERY_S):
        into.append((time.monotonic() - started, worker_rss_mb(arbiter)))


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] if ordered else 0.0


def store_failures(log: str) -> int:
    """Tracebacks in the server's log that are the store failing under a write (issue §1)."""
    return sum(log.count(marker) for marker in ("Corruption", ".sst: No such file"))


def summarize(tally: Tally, log: str, runaway: list[str], slow: Counter[str],
              rss: list[tuple[float, float]], warm_up: float) -> dict[str, Any]:
    kinds: Counter[str] = Counter()
    for counter in tally.kinds.values():
        kinds.update(counter)
    suspects = kinds.pop("5xx-store?", 0) + runaway.count("5xx-store?")
    under_writes = suspects if store_failures(log) else 0
    kinds["store under writes"] = under_writes
    kinds["error"] += suspects - under_writes
    after = [mb for t, mb in rss if t >= warm_up]
    third = len(after) // 3
    # Medians of the first and last thirds: a retired worker's heir starts small, so the sum
    # over the workers is a sawtooth; a leak shows as a rise from one third to the other.
    first, last = (statistics.median(after[:third]), statistics.median(after[-third:])) \
        if third else (0.0, 0.0)
    return {
        "requests": sum(sum(c.values()) for c in tally.kinds.values()),
        "kinds": dict(kinds),
        "routes": {route: {"n": sum(c.values()), **dict(c),
                           "p50_ms": round(percentile(tally.latency[route], 0.5) * 1000, 1),
                           "p99_ms": round(percentile(tally.latency[route], 0.99) * 1000, 1)}
                   for route, c in sorted(tally.kinds.items())},
        "runaways": runaway,
        "slow_clients": dict(slow),
        "retirements": log.count(" retires: "),
        "rss_mb": {"first_third": round(first, 1), "last_third": round(last, 1),
                   "min": round(min(after, default=0), 1),
                   "max": round(max(after, default=0), 1),
                   "growth_pct": round((last - first) / first * 100, 1) if first else None},
        "samples": tally.samples,
    }


def verdict(found: dict[str, Any]) -> list[str]:
    """The targets missed (empty when all hold)."""
    misses = []
    kinds = found["kinds"]
    if kinds.get("error") or kinds.get("reset"):
        misses.append(f"{kinds.get('error', 0)} errors, {kinds.get('reset', 0)} resets")
    if not all(r in ("503 timed out", "5xx-store?") for r in found["runaways"]):
        misses.append(f"runaways not all answered 503 timed out: {found['runaways']}")
    if set(found["slow_clients"]) - set(SLOW_ANSWERS):
        misses.append(f"slow clients: {found['slow_clients']}")
    growth = found["rss_mb"]["growth_pct"]
    if growth is not None and abs(growth) > 10:
        misses.append(f"memory after warm-up changed by {growth} %")
    return misses


def report(found: dict[str, Any]) -> None:
    print(f"{'route':14} {'n':>7} {'ok':>7} {'overload':>8} {'restart':>7} {'errors':>6} "
          f"{'resets':>6} {'p50 ms':>8} {'p99 ms':>8}")
    for route, r in found["routes"].items():
        print(f"{route:14} {r['n']:7d} {r.get('ok', 0):7d} {r.get('overload', 0):8d} "
              f"{r.get('restart', 0):7d} {r.get('error', 0) + r.get('5xx-store?', 0):6d} "
              f"{r.get('reset', 0):6d} {r['p50_ms']:8.1f} {r['p99_ms']:8.1f}")
    print("totals:", json.dumps(found["kinds"]), "requests:", found["requests"])
    print("runaways:", found["runaways"], " retirements:", found["retirements"])
    print("slow clients:", found["slow_clients"], " workers' RSS MB:", found["rss_mb"])
    for line in found["samples"][:10]:
        print("  e.g.", line)


def soak(store: Path, seconds: float, connections: int, slow_clients: int,
         runaway_every: float, warm_up: float) -> dict[str, Any]:
    from endpoint_fixtures import serve

    work = Path(tempfile.mkdtemp(prefix="k2d3-soak-"))
    copy = work / "store"
    shutil.copytree(store, copy, symlinks=True, ignore=shutil.ignore_patterns("lock"))
    tally, stop = Tally(), threading.Event()
    runaway: list[str] = []
    slow: Counter[str] = Counter()
    rss: list[tuple[float, float]] = []
    try:
        t = targets(copy)
        with serve(copy) as (url, proc):
            threads = [threading.Thread(target=reader, args=(url, t, tally, stop, i))
                       for i in range(connections)]
            threads += [threading.Thread(target=writer, args=(url, tally, stop, 1000 + i))
                        for i in range(2)]
            threads += [threading.Thread(target=slow_client, args=(url, slow, stop, 2000 + i))
                        for i in range(slow_clients)]
            threads += [threading.Thread(target=runaways, args=(url, runaway_every, runaway,
                                                                stop)),
                        threading.Thread(target=sample_rss, args=(proc.pid, rss, stop))]
            for thread in threads:
                thread.start()
            time.sleep(seconds)
            stop.set()
            for thread in threads:
                thread.join()
        log = "".join(p.read_text(errors="replace") for p in work.glob("server-*.log"))
        return summarize(tally, log, runaway, slow, rss, warm_up)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True, help="a built store (copied)")
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--slow-clients", type=int, default=24)
    parser.add_argument("--runaway-every", type=float, default=60)
    parser.add_argument("--warm-up", type=float, default=120,
                        help="seconds before the memory baseline is taken")
    parser.add_argument("--json", type=Path, help="write the results here as JSON")
    args = parser.parse_args(argv)
    found = soak(args.store, args.seconds, args.connections, args.slow_clients,
                 args.runaway_every, args.warm_up)
    found["misses"] = verdict(found)
    report(found)
    if args.json:
        args.json.write_text(json.dumps(found, indent=1), encoding="utf-8")
    print("targets:", "met" if not found["misses"] else "MISSED: " + "; ".join(found["misses"]))
    return 0 if not found["misses"] else 1


if __name__ == "__main__":
    sys.exit(main())
