"""server/serving/worker.py: the worker, with inline keep-alive off (the default) and on; its
settings.

Back-to-back requests on one connection (more than ``MAX_INLINE`` of them), pipelined requests
that arrive in one packet, and a client that pauses longer than the inline wait (so its
connection goes back to the poller) must all be answered, in order, either way.
"""

from __future__ import annotations

import http.client
import io
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlencode, urlsplit

import pytest
from endpoint_fixtures import fresh_store, serve

from server.config import load_settings
from server.serving.serve import gunicorn_options
from server.serving.worker import K2D3Worker, SettledConfig

INLINE_MS = 2.0


@pytest.fixture(scope="module", params=["0", str(INLINE_MS)], ids=["stock", "inline"])
def server(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve(fresh_store(tmp_path_factory.mktemp("serve")),
               keepalive_inline_ms=request.param) as (url, _proc):
        yield url


def ask(n: int) -> str:
    return "/sparql?" + urlencode({"query": f"SELECT ({n} AS ?n) {{}}"})


def test_the_server_uses_the_k2d3_worker() -> None:
    options = gunicorn_options(load_settings(env={}), "127.0.0.1", 0)
    assert options["worker_class"] == "server.serving.worker.K2D3Worker"
    assert K2D3Worker.MAX_INLINE < 1000


def test_many_back_to_back_requests_on_one_connection(server: str) -> None:
    host = urlsplit(server)
    conn = http.client.HTTPConnection(host.hostname, host.port, timeout=10)
    for n in range(K2D3Worker.MAX_INLINE + 50):
        conn.request("GET", ask(n), headers={"Accept": "text/csv"})
        resp = conn.getresponse()
        assert resp.status == 200
        assert resp.read().decode().splitlines()[1] == str(n)
        if n % 40 == 39:  # pause past the inline wait: the connection goes back to the poller
            time.sleep(INLINE_MS / 1000 * 20)
    conn.close()


class _KeptOpen(io.BufferedReader):
    """The socket's buffered reader, which ``HTTPResponse`` may not close between responses."""

    def close(self) -> None:
        pass


class _SharedReader:
    """Lets several ``HTTPResponse`` objects read in turn from one buffered socket file."""

    def __init__(self, sock: socket.socket) -> None:
        self.file = _KeptOpen(socket.SocketIO(sock, "rb"))

    def makefile(self, *_args: object, **_kwargs: object) -> io.BufferedReader:
        return self.file


def test_pipelined_requests_are_answered_in_order(server: str) -> None:
    host = urlsplit(server)
    wire = "".join(f"GET {ask(n)} HTTP/1.1\r\nHost: localhost\r\nAccept: text/csv\r\n\r\n"
                   for n in range(3))
    with socket.create_connection((host.hostname, host.port), timeout=10) as sock:
        sock.sendall(wire.encode())
        reader = _SharedReader(sock)
        answers = []
        for _ in range(3):
            # each response is read whole (Content-Length or chunked) before the next begins
            resp = http.client.HTTPResponse(reader)  # type: ignore[arg-type]
            resp.begin()
            assert resp.status == 200
            answers.append(resp.read().decode().splitlines()[1])
    assert answers == ["0", "1", "2"]


def test_settled_config_reads_each_setting_once_and_agrees_with_gunicorn() -> None:
    from gunicorn.config import Config

    cfg = Config()
    cfg.set("keepalive", 7)
    settled = SettledConfig(cfg)
    for name in ("keepalive", "forwarded_allow_ips", "is_ssl", "worker_connections"):
        assert getattr(settled, name) == getattr(cfg, name)
    assert settled.forwarded_allow_networks() == cfg.forwarded_allow_networks()
    cfg.set("keepalive", 9)      # a running worker's settings do not change; once read, kept
    assert settled.keepalive == 7
    with pytest.raises(AttributeError):
        settled.no_such_setting  # noqa: B018
