"""What ``concurrent_writes.py`` and ``faults.py`` share: a real server, its processes, writers.

The server is ``server.serving.serve.run`` (gunicorn, as ``k2d3 serve`` runs it once the store is
built) in a child process on a free loopback port, over a store folder of the caller's.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
EX = "http://example.org/bench/"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A running server over ``store``: its URL and its arbiter (gunicorn master) process."""

    def __init__(self, store: Path, log: Path, **env: str) -> None:
        self.store, self.port = store, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        child_env = {k: v for k, v in os.environ.items() if not k.startswith("K2D3_")}
        child_env |= {"K2D3_STORE": str(store), "K2D3_UPDATE_TOKEN": TOKEN}
        child_env |= {"K2D3_" + k.upper(): v for k, v in env.items()}
        code = ("from server.config import load_settings; from server.serving.serve import run; "
                f"run(load_settings(), '127.0.0.1', {self.port})")
        self._log = open(log, "ab")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen([sys.executable, "-c", code], env=child_env, cwd=ROOT,
                                     stdout=self._log, stderr=subprocess.STDOUT)

    def wait_up(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with {self.proc.returncode}")
            try:
                if requests.get(self.url + "/healthz", timeout=2).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the server did not come up within {seconds} s")

    def workers(self) -> list[int]:
        """The pids of the arbiter's worker processes."""
        return children(self.proc.pid)

    def stop(self) -> None:
        """Stop the server, killing what a ``kill -9`` of the arbiter left behind."""
        orphans = self.workers()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for pid in orphans:
            kill(pid)
        self._log.close()


def children(pid: int) -> list[int]:
    """The child processes of ``pid`` (from /proc)."""
    found: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found += [int(p) for p in handle.read().split()]
    except (FileNotFoundError, ProcessLookupError):
        return []
    return found


def kill(pid: int) -> None:
    """``kill -9`` ``pid`` if it still runs."""
    with suppress(ProcessLookupError):
        os.kill(pid, 9)


@contextmanager
def running(store: Path, log: Path, **env: str) -> Iterator[Server]:
    server = Server(store, log, **env)
    try:
        server.wait_up()
        yield server
    finally:
        server.stop()


@contextmanager
def store_copy(source: Path | None) -> Iterator[Path]:
    """A temporary copy of the store at ``source``, or of the article's store built afresh."""
    with tempfile.TemporaryDirectory(prefix="k2d3-writes-") as tmp:
        target = Path(tmp) / "store"
        if source is None:
            subprocess.run([sys.executable, "-m", "server.cli", "build", "--store", str(target)],
                           cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        else:
            shutil.copytree(source, target, symlinks=True, ignore=shutil.ignore_patterns("lock"))
        yield target


def graph_body(writer: int, generation: int, triples: int) -> str:
    """N-Triples of one generation of a writer's graph: ``triples`` triples, one object."""
    return "".join(f'<{EX}s{j}> <{EX}p> "w{writer} g{generation}" .\n' for j in range(triples))


def graph_iri(writer: int) -> str:
    return f"{EX}graph/{writer}"


def generations(url: str, writer: int, session: requests.Session | None = None,
                timeout: float = 30) -> dict[str, int]:
    """How many triples of each object the writer's graph holds, by a SPARQL query."""
    query = (f"SELECT ?o (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph_iri(writer)}> {{ ?s ?p ?o }} }} "
             "GROUP BY ?o")
    resp = (session or requests).post(url + "/sparql", data={"query": query}, timeout=timeout,
                                      headers={"Accept": "application/sparql-results+json"})
    resp.raise_for_status()
    rows = resp.json()["results"]["bindings"]
    return {r["o"]["value"]: int(r["n"]["value"]) for r in rows}


@dataclass
class Tally:
    """Counts and samples of what happened to one kind of request."""

    ok: int = 0
    errors: int = 0
    samples: list[str] = field(default_factory=list)
    millis: list[float] = field(default_factory=list)

    def error(self, what: str) -> None:
        self.errors += 1
        if len(self.samples) < 5:
            self.samples.append(what[:300])

    def percentile(self, share: float) -> float:
        ordered = sorted(self.millis)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0
