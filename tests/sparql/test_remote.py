"""server/sparql/remote.py against a small local HTTP engine stub: the protocol's requests,
basic and digest challenges, and every failure as a typed error without the password."""

from __future__ import annotations

import hashlib
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from server.sparql.remote import (
    RemoteAuthFailed,
    RemoteEndpoint,
    RemoteRejected,
    RemoteTimeout,
    RemoteUnavailable,
    public_url,
)

USER, PASSWORD = "dba", "s3cret-Pa55"
REALM, NONCE = "engine", "abc123nonce"


@dataclass
class Seen:
    """One request the stub answered."""

    method: str
    path: str
    body: bytes
    type: str | None
    accept: str | None


@dataclass
class Engine:
    """What the stub does and what it saw."""

    auth: str = "none"                   # none | basic | digest
    status: int = 200
    body: bytes = b'{"head":{},"boolean":true}'
    content_type: str = "application/sparql-results+json"
    delay_s: float = 0.0
    seen: list[Seen] = field(default_factory=list)


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - RFC 2617 digest


def _digest_ok(header: str, method: str) -> bool:
    """Check an RFC 2617 ``Digest`` answer (qop=auth) against USER/PASSWORD."""
    fields = dict(re.findall(r'(\w+)="?([^",]*)"?', header[len("Digest "):]))
    ha1 = _md5(f"{USER}:{REALM}:{PASSWORD}")
    ha2 = _md5(f"{method}:{fields.get('uri', '')}")
    expected = _md5(f"{ha1}:{NONCE}:{fields.get('nc')}:{fields.get('cnonce')}:auth:{ha2}")
    return fields.get("username") == USER and fields.get("response") == expected


class _Handler(BaseHTTPRequestHandler):
    engine: Engine

    def log_message(self, *args: object) -> None:
        pass

    def _authorised(self) -> bool:
        given = self.headers.get("Authorization", "")
        if self.engine.auth == "basic":
            import base64
            return given == "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        if self.engine.auth == "digest":
            return given.startswith("Digest ") and _digest_ok(given, self.command)
        return True

    def _serve(self) -> None:
        if not self._authorised():
            # as Virtuoso does: answer at once, without reading the body, and close
            challenge = (f'Basic realm="{REALM}"' if self.engine.auth == "basic" else
                         f'Digest realm="{REALM}", nonce="{NONCE}", qop="auth", algorithm=MD5')
            self.send_response(401)
            self.send_header("WWW-Authenticate", challenge)
            self.send_header("Content-Length", "0")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            return
        if self.command == "HEAD":
            self.send_response(200)
            self.end_headers()
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.engine.seen.append(Seen(self.command, self.path, body,
                                     self.headers.get("Content-Type"), self.headers.get("Accept")))
        time.sleep(self.engine.delay_s)
        self.send_response(self.engine.status)
        self.send_header("Content-Type", self.engine.content_type)
        self.send_header("Content-Length", str(len(self.engine.body)))
        self.end_headers()
        self.wfile.write(self.engine.body)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = _serve


@pytest.fixture
def engine() -> Iterator[tuple[Engine, str]]:
    """A stub engine on loopback and its base URL."""
    state = Engine()
    handler = type("Handler", (_Handler,), {"engine": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_query_can_be_posted_as_its_own_body(engine: tuple[Engine, str]) -> None:
    state, base = engine
    body, ctype = RemoteEndpoint(f"{base}/sparql", form=False).query(
        "ASK { ?s ?p \"é\" }", "application/sparql-results+json",
        default_graph=["http://g/1"], named_graphs=["http://g/2", "http://g/3"])
    assert (body, ctype) == (state.body, state.content_type)
    [seen] = state.seen
    assert seen.method == "POST"
    assert seen.type == "application/sparql-query; charset=utf-8"
    assert seen.body == "ASK { ?s ?p \"é\" }".encode()
    assert seen.accept == "application/sparql-results+json"
    url = urlsplit(seen.path)
    assert url.path == "/sparql"
    assert parse_qs(url.query) == {"default-graph-uri": ["http://g/1"],
                                   "named-graph-uri": ["http://g/2", "http://g/3"]}


def test_query_and_update_are_forms_by_default(engine: tuple[Engine, str]) -> None:
    state, base = engine
    remote = RemoteEndpoint(f"{base}/sparql", update_url=f"{base}/update")
    remote.query("SELECT * {}", "text/csv", default_graph=["http://g/1"])
    remote.update("CLEAR ALL")
    first, second = state.seen
    assert first.type == second.type == "application/x-www-form-urlencoded; charset=utf-8"
    assert parse_qs(first.body.decode()) == {
        "query": ["SELECT * {}"], "default-graph-uri": ["http://g/1"]}
    assert parse_qs(second.body.decode()) == {"update": ["CLEAR ALL"]}
    assert second.path == "/update"


def test_update_can_be_posted_as_its_own_body(engine: tuple[Engine, str]) -> None:
    state, base = engine
    remote = RemoteEndpoint(f"{base}/sparql", update_url=f"{base}/update", form=False)
    remote.update("DROP SILENT GRAPH <x:g>")
    [seen] = state.seen
    assert (seen.method, seen.path, seen.body) == (
        "POST", "/update", b"DROP SILENT GRAPH <x:g>")
    assert seen.type == "application/sparql-update; charset=utf-8"


def test_update_without_an_update_url_says_so() -> None:
    with pytest.raises(RemoteUnavailable, match="no SPARQL Update URL"):
        RemoteEndpoint("http://127.0.0.1:9/sparql").update("CLEAR ALL")


def test_graph_store_put_and_delete(engine: tuple[Engine, str]) -> None:
    state, base = engine
    remote = RemoteEndpoint(f"{base}/sparql", store_url=f"{base}/store")
    remote.put_graph("http://ex.org/g?a=1&b", iter([b"<x:a> <x:b> ", b"<x:c> .\n"]),
                     "application/n-triples")
    assert remote.delete_graph("http://ex.org/g?a=1&b") is True
    put, delete = state.seen
    assert (put.method, put.type, put.body) == (
        "PUT", "application/n-triples", b"<x:a> <x:b> <x:c> .\n")
    assert delete.method == "DELETE"
    for seen in (put, delete):
        url = urlsplit(seen.path)
        assert (url.path, parse_qs(url.query)) == ("/store", {"graph": ["http://ex.org/g?a=1&b"]})
    state.status = 404
    assert remote.delete_graph("http://ex.org/none") is False


@pytest.mark.parametrize("scheme", ["basic", "digest"])
def test_credentials_answer_the_engines_challenge(engine: tuple[Engine, str],
                                                  scheme: str) -> None:
    state, base = engine
    state.auth = scheme
    remote = RemoteEndpoint(f"{base}/sparql", update_url=f"{base}/update",
                            store_url=f"{base}/store", user=USER, password=PASSWORD)
    assert remote.query("ASK {}", "*/*")[0] == state.body
    remote.update("CLEAR ALL")
    remote.put_graph("http://g/1", b"<x:a> <x:b> <x:c> .\n", "application/n-triples")
    assert [s.method for s in state.seen] == ["POST", "POST", "PUT"]
    assert state.seen[2].body == b"<x:a> <x:b> <x:c> .\n"


@pytest.mark.parametrize("scheme", ["basic", "digest"])
def test_a_large_body_carries_its_credentials_from_the_start(engine: tuple[Engine, str],
                                                             scheme: str) -> None:
    """An engine that refuses without reading the body would break the pipe of a client
    that sends credentials only on the second attempt."""
    state, base = engine
    state.auth = scheme
    remote = RemoteEndpoint(f"{base}/sparql", store_url=f"{base}/store", user=USER,
                            password=PASSWORD)
    body = b"<x:a> <x:b> <x:c> .\n" * 1_000_000   # 20 MB, more than the socket buffers hold
    remote.put_graph("http://g/1", body, "application/n-triples")
    [seen] = state.seen
    assert (seen.method, len(seen.body)) == ("PUT", len(body))


@pytest.mark.parametrize("scheme", ["basic", "digest"])
@pytest.mark.parametrize("password", [None, "wrong-password"])
def test_missing_or_wrong_credentials_are_a_clear_502(engine: tuple[Engine, str], scheme: str,
                                                      password: str | None) -> None:
    state, base = engine
    state.auth = scheme
    user = None if password is None else USER
    remote = RemoteEndpoint(f"{base}/sparql", user=user, password=password)
    with pytest.raises(RemoteAuthFailed) as caught:
        remote.query("ASK {}", "*/*")
    assert caught.value.status == 502
    assert "K2D3_BACKEND_USER and K2D3_BACKEND_PASSWORD" in caught.value.message
    assert f"{base}/sparql" in caught.value.message
    assert "wrong-password" not in caught.value.message
    assert state.seen == []


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_engine_is_a_502_naming_the_url_without_credentials() -> None:
    port = _closed_port()
    remote = RemoteEndpoint(f"http://{USER}:{PASSWORD}@127.0.0.1:{port}/sparql",
                            user=USER, password=PASSWORD)
    with pytest.raises(RemoteUnavailable) as caught:
        remote.query("ASK {}", "*/*")
    assert caught.value.status == 502
    assert f"http://127.0.0.1:{port}/sparql cannot be reached" in caught.value.message
    assert PASSWORD not in caught.value.message
    assert PASSWORD not in repr(remote)


def test_a_slow_engine_is_a_504(engine: tuple[Engine, str]) -> None:
    state, base = engine
    state.delay_s = 1.0
    started = time.monotonic()
    with pytest.raises(RemoteTimeout) as caught:
        RemoteEndpoint(f"{base}/sparql", timeout_s=0.3).query("ASK {}", "*/*")
    assert time.monotonic() - started < 0.9
    assert caught.value.status == 504
    assert caught.value.message == f"the SPARQL engine at {base}/sparql did not answer within 0.3 s"


def test_the_engines_syntax_error_is_quoted_in_a_400(engine: tuple[Engine, str]) -> None:
    state, base = engine
    state.status, state.content_type = 400, "text/html"
    state.body = (b"<html><body><h1>Error</h1>\n<p>Virtuoso 37000 Error SP030: SPARQL compiler,"
                  b" line 1: syntax error at 'SELEC'</p></body></html>")
    with pytest.raises(RemoteRejected) as caught:
        RemoteEndpoint(f"{base}/sparql").query("SELEC * {}", "*/*")
    assert caught.value.status == 400
    assert caught.value.engine_message == (
        "Error Virtuoso 37000 Error SP030: SPARQL compiler, line 1: syntax error at 'SELEC'")


def test_a_server_error_of_the_engine_is_a_502_with_its_message(
        engine: tuple[Engine, str]) -> None:
    state, base = engine
    state.status, state.content_type = 500, "text/plain"
    state.body = b"Virtuoso 22026 Error SR319: Max row length is exceeded\n" * 100
    with pytest.raises(RemoteUnavailable) as caught:
        RemoteEndpoint(f"{base}/sparql").query("SELECT * {}", "*/*")
    assert caught.value.status == 502
    assert caught.value.message.startswith(
        f"the SPARQL engine at {base}/sparql answered 500 Internal Server Error: Virtuoso 22026 "
        "Error SR319: Max row length is exceeded")
    assert len(caught.value.message) < 800


def test_from_env_reads_the_backend_credentials() -> None:
    remote = RemoteEndpoint.from_env("http://127.0.0.1:9/sparql", env={
        "K2D3_BACKEND_USER": USER, "K2D3_BACKEND_PASSWORD": PASSWORD})
    assert remote.user == USER
    assert PASSWORD not in repr(remote)
    assert RemoteEndpoint.from_env("http://127.0.0.1:9/sparql", env={}).user is None


@pytest.mark.parametrize(("url", "shown"), [
    ("http://u:p@h:1/x?y", "http://h:1/x?y"),
    ("http://h/x", "http://h/x"),
    ("https://a@b@h/x", "https://h/x"),
])
def test_public_url_drops_user_information(url: str, shown: str) -> None:
    assert public_url(url) == shown
