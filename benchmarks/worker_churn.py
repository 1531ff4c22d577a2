#!/usr/bin/env python3
"""Workers replaced again and again, while a light client keeps asking: does the server stay?

``k2d3 serve`` over ``--store`` (a large one: at 10M triples the canned queries run for
minutes), ``--heavy`` clients in a loop on one slow canned query and one client asking
``ASK {}`` every 0.1 s, for ``--seconds``. The slow query outlasts ``--timeout`` (each one
retires its worker, rationed to one every 5 s) or passes ``--memory-mib``
(``K2D3_WORKER_MEMORY_MIB``: each one replaces its worker at once), so the workers are replaced
the whole time. Prints the light client's statuses (every one should be 200), the heavy
clients', whether the server is still up, how many retirements and memory replacements its log
shows, and any other line of its log (an exception, a worker that failed to boot).

Seen once on 2026-12-08 and not since: the server stopped listening in the middle of a 10M
memory run (``serve_memory.py``), after about 20 timed-out queries. This is the loop that
tries to make it happen again.

    python benchmarks/worker_churn.py --store STORE [--seconds 240] [--heavy 3]
        [--query claims-about] [--timeout 2] [--memory-mib 0]
"""

from __future__ import annotations

import argparse
import collections
import http.client
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import scale_queries  # noqa: E402
from virtuoso_http import k2d3_serve, request_of  # noqa: E402


def loop(url: str, query: scale_queries.Query, until: float, counts: collections.Counter[str],
         pause: float) -> None:
    port = int(url.split(":")[2].split("/")[0])
    method, path, body, headers = request_of(url, query.kind, query.text)
    headers["Accept"] = query.accept
    while time.monotonic() < until:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            counts[str(response.status)] += 1
        except OSError as exc:
            counts[type(exc).__name__] += 1
            time.sleep(0.2)
        time.sleep(pause)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--seconds", type=float, default=240)
    parser.add_argument("--heavy", type=int, default=3)
    parser.add_argument("--query", default="claims-about")
    parser.add_argument("--timeout", default="2")
    parser.add_argument("--memory-mib", default="0")
    args = parser.parse_args(argv)
    heavy_query = scale_queries.catalogue({args.query})[f"canned:{args.query}"]
    light_query = scale_queries.generic()["ask-empty"]
    logs = Path(tempfile.mkdtemp(prefix="k2d3-churn-"))
    env = {"K2D3_QUERY_TIMEOUT": args.timeout, "K2D3_MAX_QUERY_TIMEOUT": args.timeout,
           "K2D3_WORKER_MEMORY_MIB": args.memory_mib}
    light: collections.Counter[str] = collections.Counter()
    heavy: collections.Counter[str] = collections.Counter()
    with k2d3_serve(args.store, logs, env) as (url, proc):
        time.sleep(2)
        until = time.monotonic() + args.seconds
        threads = [threading.Thread(target=loop, args=(url, heavy_query, until, heavy, 0))
                   for _ in range(args.heavy)]
        threads.append(threading.Thread(target=loop, args=(url, light_query, until, light, 0.1)))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        alive = proc.poll() is None
    log = (logs / "k2d3-serve.log").read_text(encoding="utf-8", errors="replace")
    print(f"server up at the end: {alive}; ASK {{}}: {dict(light)}; {args.query}: {dict(heavy)}")
    print(f"retirements: {log.count(' retires: ')}; memory replacements: "
          f"{log.count('K2D3_WORKER_MEMORY_MIB')}; log in {logs}")
    for line in log.splitlines():
        if not line.startswith('{"ts"') and " retires: " not in line \
                and "K2D3_WORKER_MEMORY_MIB" not in line:
            print("  " + line[:300])
    return 0 if alive and set(light) == {"200"} else 1


if __name__ == "__main__":
    sys.exit(main())
