#!/usr/bin/env python3
"""A stuck worker and new clients: one shared listener (``k2d3 serve``) against a listener per
worker (gunicorn's ``reuse_port``, the alternative to ``server.serving.balance``; issue 14).

Starts ``server.serving.serve.run`` with two workers over a store, stops one worker with
``SIGSTOP`` (as a worker whose main thread is held: a long GIL-bound step, a retirement's
last seconds), then opens ``--clients`` new connections one after the other, each sending
``ASK {}`` with a ``--timeout`` second limit, and counts how many are answered. With one
shared listener the running worker accepts them all; with ``--reuse-port`` the kernel hashes
each connection to one of the two listeners, and those hashed to the stopped worker wait in
its queue. The worker is resumed (``SIGCONT``) at the end. Not a test.

    python3 benchmarks/reuse_port_stuck.py --store /path/to/built/store [--reuse-port]
        [--clients 40] [--timeout 1]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from conftest import free_port, stop_server, wait_up  # noqa: E402

#: The server with gunicorn's reuse_port and the worker's balancing off (each worker has its
#: own listener, so a worker cannot leave a client to another).
REUSE_PORT = """
from server.serving import serve, worker
options = serve.gunicorn_options
serve.gunicorn_options = lambda *a: {**options(*a), "reuse_port": True}
worker.K2D3Worker.accept = worker.ThreadWorker.accept
"""


def ask(port: int, timeout: float) -> bool:
    """Whether ``ASK {}`` on a new connection is answered within ``timeout`` seconds."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: localhost\r\n"
                         b"Connection: close\r\n\r\n")
            return sock.recv(12).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--reuse-port", action="store_true")
    parser.add_argument("--clients", type=int, default=40)
    parser.add_argument("--timeout", type=float, default=1.0)
    args = parser.parse_args()
    port = free_port()
    code = (REUSE_PORT if args.reuse_port else "") + (
        "from server.config import load_settings\nfrom server.serving.serve import run\n"
        f"run(load_settings(), '127.0.0.1', {port})\n")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("K2D3_")},
           "K2D3_STORE": str(args.store), "K2D3_WORKERS": "2"}
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_up(proc, f"http://127.0.0.1:{port}", seconds=30)
        time.sleep(1)
        pids = subprocess.run(["ps", "-o", "pid=", "--ppid", str(proc.pid)], check=True,
                              capture_output=True, text=True).stdout.split()
        stopped = int(pids[0])
        os.kill(stopped, signal.SIGSTOP)
        try:
            started = time.monotonic()
            answered = sum(ask(port, args.timeout) for _ in range(args.clients))
            took = time.monotonic() - started
        finally:
            os.kill(stopped, signal.SIGCONT)
    finally:
        stop_server(proc)
    mode = "a listener per worker (reuse_port)" if args.reuse_port else "one shared listener"
    print(f"{mode}: {answered} of {args.clients} new clients answered within {args.timeout:g} s "
          f"while one of two workers was stopped ({took:.1f} s in all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
