"""``kill -9`` the server and builds at random moments during writes, and fill the disk.

    python benchmarks/faults.py [--store PATH] [--rounds 20] [--seed N] [--no-disk-full]

Over a copy of ``--store`` (default: the article's store, built afresh), each round starts
the server (gunicorn, as ``k2d3 serve``) and four writers, each on a graph of its own: Graph
Store PUTs of a whole generation, SPARQL ``INSERT DATA`` of one numbered triple, Graph Store
POSTs of numbered batches, and PUTs alternating with DELETEs. One round in three also runs a
``k2d3 build``. At a random moment it kills, with ``kill -9``, a worker (gunicorn starts
another), the master and all its workers (the whole service), or the build. A writer stops
at its first failed request, whose outcome is then unknown.

After each kill: the store opens in this process and in a server (restarted if it was
killed), every ``data-*`` folder is a whole snapshot (half-written ones are ``.tmp-*``), and
each writer's graph is in the state after its last acknowledged write or after the unknown
one, whole: nothing acknowledged lost, nothing half-applied. Then a full disk: the store on a
small tmpfs, a PUT larger than the free space must get a 507 that says so, and the store must
stay as it was and keep serving (skipped, with a message, where ``mount`` is not allowed).
Exit 1 on any failure.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from pyoxigraph import Store

sys.path.insert(0, str(Path(__file__).resolve().parent))

from writes_common import AUTH, EX, ROOT, Server, kill, running, store_copy  # noqa: E402

from server.rdf import store as store_mod  # noqa: E402

ABSENT = "absent"
BATCH = 20
BUILD = ("from server.build.pipeline import build; from server.config import load_settings; "
         "build(load_settings(env={{}}, store={store!r}), validate=False)")


@dataclass
class Writer:
    """One writer's graph: its state after the last acknowledged write, and the unknown one."""

    kind: str  # put | insert | post | put-delete
    graph: str
    acked: Any
    unknown: Any = None
    counter: int = 0
    writes: int = 0
    triples: int = 3000  # in a PUT
    cut_by: str = ""  # how the unknown write failed

    def next_state(self) -> Any:
        """The state the next write leads to (and does it)."""
        self.counter += 1
        if self.kind == "put":
            return self.counter
        if self.kind in {"insert", "post"}:
            return frozenset(self.acked | {self.counter})
        return self.counter if self.acked == ABSENT else ABSENT  # PUT, DELETE, PUT...

    def request(self, session: requests.Session, url: str, state: Any) -> requests.Response:
        gsp = url + "/store"
        if self.kind in {"put", "put-delete"} and state != ABSENT:
            body = "".join(f'<{EX}s{j}> <{EX}p> "gen {state}" .\n' for j in range(self.triples))
            return session.put(gsp, params={"graph": self.graph}, data=body.encode(),
                               headers={**AUTH, "Content-Type": "application/n-triples"},
                               timeout=60)
        if self.kind == "put-delete":
            return session.delete(gsp, params={"graph": self.graph}, headers=AUTH, timeout=60)
        if self.kind == "insert":
            update = (f'INSERT DATA {{ GRAPH <{self.graph}> {{ <{EX}s> <{EX}p> '
                      f'"item {self.counter}" }} }}')
            return session.post(url + "/sparql", data={"update": update}, headers=AUTH,
                                timeout=60)
        body = "".join(f'<{EX}b{self.counter}-{j}> <{EX}p> "item {self.counter}" .\n'
                       for j in range(BATCH))
        return session.post(gsp, params={"graph": self.graph}, data=body.encode(), timeout=60,
                            headers={**AUTH, "Content-Type": "application/n-triples"})

    def loop(self, url: str, stop: threading.Event) -> None:
        session = requests.Session()
        while not stop.is_set():
            state = self.next_state()
            try:
                resp = self.request(session, url, state)
            except requests.RequestException as exc:
                self.unknown, self.cut_by = state, type(exc).__name__
                return
            if resp.status_code >= 300:
                self.unknown, self.cut_by = state, f"{resp.status_code} {resp.text[:100]}"
                return
            self.acked, self.writes = state, self.writes + 1

    def allowed(self) -> list[Any]:
        return [self.acked] if self.unknown is None else [self.acked, self.unknown]


def found_state(db: Any, writer: Writer) -> Any:
    """The writer's graph as the store holds it, or a description of what is wrong with it."""
    rows = list(db.query(f"SELECT ?o (COUNT(*) AS ?n) WHERE {{ GRAPH <{writer.graph}> "
                         "{ ?s ?p ?o } } GROUP BY ?o"))
    counts = {row[0].value: int(row[1].value) for row in rows}
    if writer.kind in {"put", "put-delete"}:
        if not counts:
            return ABSENT
        if len(counts) != 1 or next(iter(counts.values())) != writer.triples:
            return f"partial: {counts}"
        return int(next(iter(counts)).split()[1])
    per_item = BATCH if writer.kind == "post" else 1
    if any(n != per_item for n in counts.values()):
        return f"partial: {counts}"
    return frozenset(int(value.split()[1]) for value in counts)


@dataclass
class Round:
    number: int
    victim: str
    writes: int = 0
    problems: list[str] = field(default_factory=list)
    cut: int = 0  # writes whose request failed with the kill (outcome unknown to the client)
    cut_applied: int = 0  # of those, the ones that had been published
    cut_by: list[str] = field(default_factory=list)


def snapshot_problems(root: Path) -> list[str]:
    """Every ``data-*`` folder must be a whole snapshot and ``current`` must name one."""
    problems = []
    live = store_mod.live_dir(root)
    if not live.name.startswith("data-"):
        problems.append(f"current points at {live.name}")
    for folder in root.glob("data-*"):
        fd = os.open(folder, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)  # as a reader does: no prune deletes it meanwhile
            if folder.exists():
                Store.read_only(str(folder)).query("ASK { ?s ?p ?o }")
        except (OSError, RuntimeError) as exc:
            problems.append(f"{folder.name} does not open: {exc}")
        finally:
            os.close(fd)
    return problems


def check(root: Path, writers: list[Writer], url: str, result: Round) -> list[str]:
    """What is wrong with the store after a kill (nothing, when all is well)."""
    problems = snapshot_problems(root)
    db = store_mod.StoreReader(root).get()  # the store opens in a process of its own
    resp = requests.get(url + "/healthz", timeout=30)
    if not resp.ok:
        problems.append(f"/healthz answered {resp.status_code}")
    for writer in writers:
        state = found_state(db, writer)
        if writer.unknown is not None:
            result.cut += 1
            result.cut_applied += state == writer.unknown
            result.cut_by.append(writer.cut_by)
        if state not in writer.allowed():
            problems.append(f"{writer.kind} graph: found {_show(state)}, expected one of "
                            f"{[_show(s) for s in writer.allowed()]}")
        else:
            writer.acked, writer.unknown = state, None
    del db
    return problems + leftover_problems(root, url)


def leftover_problems(root: Path, url: str) -> list[str]:
    """After the next write, nothing is left but the live snapshot."""
    resp = requests.put(url + "/store", params={"graph": EX + "faults/scratch"}, timeout=60,
                        data=b"<urn:a> <urn:b> <urn:c> .\n",
                        headers={**AUTH, "Content-Type": "application/n-triples"})
    if resp.status_code >= 300:
        return [f"a write after the kill got {resp.status_code}: {resp.text[:200]}"]
    left = sorted(p.name for p in root.iterdir() if p.name.startswith((".", "data-"))
                  and p != store_mod.live_dir(root))
    return [f"left after the next write: {left}"] if left else []


def _show(state: Any) -> str:
    return f"items up to {max(state, default=0)} ({len(state)})" if isinstance(
        state, frozenset) else str(state)


def one_round(number: int, root: Path, writers: list[Writer], rng: random.Random,
              log: Path) -> Round:
    server = Server(root, log)
    server.wait_up()
    builder = None
    if number % 3 == 2:
        builder = subprocess.Popen([sys.executable, "-c", BUILD.format(store=str(root))],
                                   cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    victim = rng.choice(["worker", "master"] + (["build", "build"] if builder else []))
    stop = threading.Event()
    threads = [threading.Thread(target=w.loop, args=(server.url, stop)) for w in writers]
    before = sum(w.writes for w in writers)
    for thread in threads:
        thread.start()
    time.sleep(rng.uniform(0.3, 3.0))
    if victim == "worker":
        kill(rng.choice(server.workers()))
    elif victim == "master":
        workers = server.workers()
        kill(server.proc.pid)
        for pid in workers:
            kill(pid)
    elif builder is not None:
        kill(builder.pid)
    time.sleep(0.5)
    stop.set()
    for thread in threads:
        thread.join()
    if builder is not None:
        builder.wait()
    if victim == "master":
        server.stop()
        server = Server(root, log)
        server.wait_up()
    result = Round(number, victim, sum(w.writes for w in writers) - before)
    try:
        result.problems = check(root, writers, server.url, result)
    finally:
        server.stop()
    return result


def disk_full(root: Path, log: Path) -> list[str]:
    """A PUT larger than a small tmpfs's free space: a 507, and the store as it was."""
    with tempfile.TemporaryDirectory(prefix="k2d3-full-") as tmp:
        disk = Path(tmp) / "disk"
        disk.mkdir()
        size = sum(f.stat().st_size for f in root.rglob("*") if f.is_file()) + (4 << 20)
        mount = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(disk)],
                               capture_output=True, text=True)
        if mount.returncode != 0:
            print(f"full disk: skipped, cannot mount a tmpfs ({mount.stderr.strip()})")
            return []
        try:
            return _fill(_copy(root, disk / "store"), log)
        finally:
            subprocess.run(["umount", "-l", str(disk)], check=False)


def _copy(root: Path, target: Path) -> Path:
    shutil.copytree(store_mod.live_dir(root), target / "data-0-copy")
    (target / "current").symlink_to("data-0-copy")
    return target


def _fill(root: Path, log: Path) -> list[str]:
    problems = []
    graph = {"graph": EX + "full-disk"}
    nt = {**AUTH, "Content-Type": "application/n-triples"}
    with running(root, log, max_body_bytes=str(64 << 20)) as server:
        gsp = server.url + "/store"
        requests.put(gsp, params=graph, data=b'<urn:a> <urn:b> "before" .\n',
                     headers=nt, timeout=60).raise_for_status()
        big = "".join(f'<urn:s{i}> <urn:p> "{i} {"x" * 200}" .\n' for i in range(60_000))
        resp = requests.put(gsp, params=graph, data=big.encode(), headers=nt, timeout=120)
        if resp.status_code != 507 or "full" not in resp.text:
            problems.append(f"a write to a full disk got {resp.status_code}: {resp.text[:200]}")
        kept = requests.get(gsp, params=graph, headers={"Accept": "application/n-triples"},
                            timeout=30)
        if kept.status_code != 200 or kept.text.count("\n") != 1 or "before" not in kept.text:
            problems.append(f"after the full disk the graph reads {kept.status_code} "
                            f"{kept.text[:200]}")
        if not requests.get(server.url + "/healthz", timeout=30).ok:
            problems.append("/healthz fails after the full disk")
        after = requests.put(gsp, params=graph, data=b'<urn:a> <urn:b> "after" .\n',
                             headers=nt, timeout=60)
        if after.status_code != 204:
            problems.append(f"a small write after the full disk got {after.status_code}")
    if list(root.glob(".tmp-*")):
        problems.append("the failed write left a .tmp-* folder")
    return problems


def run(root: Path, rounds: int, seed: int, log: Path, triples: int = 3000) -> list[Round]:
    rng = random.Random(seed)
    writers = [Writer("put", EX + "faults/put", ABSENT, triples=triples),
               Writer("insert", EX + "faults/insert", frozenset()),
               Writer("post", EX + "faults/post", frozenset()),
               Writer("put-delete", EX + "faults/put-delete", ABSENT, triples=triples)]
    return [one_round(n, root, writers, rng, log) for n in range(rounds)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, help="a built store to copy (default: build one)")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--triples", type=int, default=3000, help="triples in a PUT")
    parser.add_argument("--no-disk-full", action="store_true")
    args = parser.parse_args()
    failed = 0
    with store_copy(args.store) as root:
        log = root.parent / "server.log"
        for result in run(root, args.rounds, args.seed, log, args.triples):
            failed += bool(result.problems)
            print(f"round {result.number:2}: kill -9 {result.victim:6} after {result.writes:3} "
                  f"acknowledged writes, {result.cut} cut ({result.cut_applied} of them "
                  f"published): {'ok' if not result.problems else 'FAILED'}")
            for problem in result.problems:
                print(f"  ! {problem}")
            for how in sorted(set(result.cut_by) - {"ConnectionError"}):
                print(f"  a write was cut by: {how}")
        if not args.no_disk_full:
            problems = disk_full(root, log)
            failed += bool(problems)
            print("full disk: " + ("ok" if not problems else "FAILED"))
            for problem in problems:
                print(f"  ! {problem}")
    print(f"{failed} failure(s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
