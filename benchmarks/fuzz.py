"""Fuzz a real ``k2d3 serve`` with generated requests: no 5xx, no reset, the server up.

    .venv/bin/python benchmarks/fuzz.py --requests 100000 --seed 1 --clients 4

starts ``k2d3 serve`` (gunicorn, as deployed) on a free loopback port over a copy of a store
built from the sources (or of ``--store``), with a write token so that writes are fuzzed too,
and sends the requests of ``benchmarks/fuzz_requests.py`` from ``--clients`` keep-alive
connections. A request fails when it is answered 5xx (a 503 passes only as the documented
timeout or overload answer, which carries ``Retry-After``), when the answer holds a Python
traceback, when another ``Host`` is not refused or shows up in ``Location`` or ``Link``, or
when the connection is reset or the answer does not come (a reused keep-alive connection the
server closed while idle is retried once on a new one, as HTTP clients do). ``/healthz`` is
asked every 500 requests, and at the end the server process must still be running. Failures
go to ``--out`` (JSON lines, each request in full to replay it); the summary is printed and
the exit status is 1 if anything failed. ``tests/live/test_fuzz.py`` runs a short version.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fuzz_requests import ROOT, Request, request  # noqa: E402

TOKEN = "fuzz-token"
QUERY_TIMEOUT_S = 5


@dataclass
class Report:
    sent: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    failures: list[dict[str, object]] = field(default_factory=list)
    seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, req: Request, outcome: str, problem: str | None) -> None:
        with self.lock:
            self.sent += 1
            self.statuses[outcome] += 1
            if problem:
                self.failures.append({"problem": problem, "outcome": outcome, **req.describe()})

    def summary(self) -> str:
        rate = self.sent / self.seconds if self.seconds else 0.0
        top = ", ".join(f"{k}: {v}" for k, v in sorted(self.statuses.items()))
        return (f"{self.sent} requests in {self.seconds:.0f} s ({rate:.0f}/s); "
                f"{len(self.failures)} failures; outcomes: {top}")


class Client:
    """One keep-alive connection to the server, reopened when the server closes it."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.conn: http.client.HTTPConnection | None = None
        self.used = 0.0

    def send(self, req: Request) -> tuple[int, dict[str, str], bytes]:
        reused = self.conn is not None
        if self.conn is not None and time.monotonic() - self.used > 2:  # gunicorn keeps 5 s
            self.close()
            reused = False
        try:
            return self._once(req)
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            self.close()
            if not reused:
                raise
            return self._once(req)  # the server had closed the idle connection: retry once

    def _once(self, req: Request) -> tuple[int, dict[str, str], bytes]:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port,
                                                   timeout=QUERY_TIMEOUT_S + 25)
        self.conn.request(req.method, req.target, body=req.body, headers=req.headers)
        resp = self.conn.getresponse()
        body = resp.read()
        self.used = time.monotonic()
        headers = {k.lower(): v for k, v in resp.getheaders()}
        if resp.will_close:
            self.close()
        return resp.status, headers, body

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.conn = None


def check(req: Request, status: int, headers: dict[str, str], body: bytes) -> str | None:
    """What is wrong with this answer, if anything (see the module docstring)."""
    if status >= 500 and not (status == 503 and "retry-after" in headers):
        return f"answered {status}"
    if b"Traceback (most recent call last)" in body:
        return "a traceback in the answer"
    if req.headers.get("Host") == "evil.example" and status < 400:
        return f"another Host answered {status}"
    if "evil.example" in headers.get("location", "") + headers.get("link", ""):
        return "the Host reflected in Location or Link"
    return None


def worker(url: str, count: int, seed: int, report: Report, stop: threading.Event,
           token: str) -> None:
    host, port = url.removeprefix("http://").split(":")
    rng = random.Random(seed)
    client, probe = Client(host, int(port)), Client(host, int(port))
    try:
        _send_all(client, probe, rng, count, report, stop, token)
    finally:
        client.close()
        probe.close()


def _send_all(client: Client, probe: Client, rng: random.Random, count: int, report: Report,
              stop: threading.Event, token: str) -> None:
    host = f"{client.host}:{client.port}"
    for i in range(count):
        if stop.is_set():
            return
        req = request(rng, host, token)
        if not req.target.isascii():  # a generator slip, not the server's: count it apart
            report.add(req, "not sent", None)
            continue
        try:
            status, headers, body = client.send(req)
            report.add(req, str(status), check(req, status, headers, body))
        except (OSError, http.client.HTTPException) as exc:
            client.close()
            report.add(req, type(exc).__name__, f"no answer: {type(exc).__name__}: {exc}")
        if i % 500 == 499:
            health = Request("GET", "/healthz", {"Host": host})
            try:
                status, _, _ = probe.send(health)
                report.add(health, f"healthz {status}", None if status == 200 else "unhealthy")
            except (OSError, http.client.HTTPException) as exc:
                probe.close()
                report.add(health, "healthz down", f"/healthz: {type(exc).__name__}")


def run(url: str, requests: int, seed: int = 1, clients: int = 4,
        stop_after_s: float | None = None, token: str = TOKEN) -> Report:
    """Send ``requests`` generated requests to the server at ``url`` from ``clients``
    connections (each its own seeded stream); stop early after ``stop_after_s`` seconds.
    ``token`` is the bearer token the writes carry (another makes every write a 403)."""
    report, stop = Report(), threading.Event()
    started = time.monotonic()
    threads = [threading.Thread(target=worker, daemon=True,
                                args=(url, requests // clients + (i < requests % clients),
                                      seed * 1000 + i, report, stop, token))
               for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(None if stop_after_s is None
                    else max(0.0, stop_after_s - (time.monotonic() - started)))
    stop.set()
    for thread in threads:
        thread.join()
    report.seconds = time.monotonic() - started
    return report


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(store: Path, log: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``k2d3 serve`` over ``store`` on a free port, with the fuzz token and time limit."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("K2D3_")}
    env |= {"K2D3_STORE": str(store), "K2D3_UPDATE_TOKEN": TOKEN,
            "K2D3_QUERY_TIMEOUT": str(QUERY_TIMEOUT_S), "K2D3_MAX_QUERY_TIMEOUT": "10"}
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "server.cli", "serve", "--port",
                                 str(port)], env=env, cwd=ROOT, stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_up(proc, url)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def _wait_up(proc: subprocess.Popen[bytes], url: str) -> None:
    host, port = url.removeprefix("http://").split(":")
    for _ in range(600):
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection(host, int(port), timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the server did not come up within 60 s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--store", type=Path, help="a built store to copy (default: build one)")
    parser.add_argument("--out", type=Path, default=Path("fuzz-failures.jsonl"))
    parser.add_argument("--no-writes", action="store_true",
                        help="send a wrong token, so that every write is refused")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="k2d3-fuzz-") as tmp:
        store = Path(tmp) / "store"
        if args.store:
            shutil.copytree(args.store, store, symlinks=True,
                            ignore=shutil.ignore_patterns("lock"))
        else:
            from server.build.pipeline import build
            from server.config import load_settings
            build(load_settings(env={}, store=store))
        with serving(store, Path(tmp) / "server.log") as (url, proc):
            report = run(url, args.requests, args.seed, args.clients,
                         token="not-the-token" if args.no_writes else TOKEN)
            alive = proc.poll() is None
        print(report.summary())
        print(f"server process still running at the end: {alive}")
        shutil.copy(Path(tmp) / "server.log", args.out.with_suffix(".server.log"))
        with open(args.out, "w", encoding="utf-8") as out:
            for failure in report.failures:
                out.write(json.dumps(failure, ensure_ascii=False) + "\n")
        if report.failures:
            print(f"failures written to {args.out}; by problem:",
                  dict(Counter(str(f["problem"])[:60] for f in report.failures)))
    return 0 if alive and not report.failures else 1


if __name__ == "__main__":
    sys.exit(main())
