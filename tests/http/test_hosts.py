"""server/http/hosts.py: a request whose Host is not one of the server's names is a 400, so no
client-chosen host reaches a Location, a Link, a Content-Location or a minted graph IRI."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from endpoint_fixtures import TOKEN, fresh_store, serve
from flask import Flask

from server import create_app
from server.config import load_settings
from server.http.hosts import own_names, refusal

EVIL = "evil.example"


def names(*allowed: str, public: str | None = None) -> frozenset[str]:
    return own_names(public, allowed)


@pytest.mark.parametrize(("host", "allowed", "public", "ok"), [
    ("localhost", (), None, True),
    ("localhost:8000", (), None, True),
    ("127.0.0.1:5000", (), None, True),
    ("[::1]:5000", (), None, True),
    ("10.1.2.3:8000", (), None, True),  # the bound address (SERVER_NAME below)
    ("LOCALHOST", (), None, True),
    (EVIL, (), None, False),
    (f"{EVIL}:80", (), None, False),
    ("localhost.evil.example", (), None, False),
    ("localhost@evil.example", (), None, False),
    ("localhost:notaport", (), None, False),
    ("", (), None, False),
    ("kg.example.org", ("kg.example.org",), None, True),
    ("a.kg.example.org", (".kg.example.org",), None, True),
    ("kg.example.org", (".kg.example.org",), None, True),
    ("xkg.example.org", (".kg.example.org",), None, False),
    (EVIL, ("*",), None, True),
    ("kg.example.org:443", (), "https://kg.example.org/k2d3", True),
    (EVIL, (), "https://kg.example.org/k2d3", False),
])
def test_only_the_server_s_own_names_pass(host: str, allowed: tuple[str, ...],
                                           public: str | None, ok: bool) -> None:
    environ = {"HTTP_HOST": host, "SERVER_NAME": "10.1.2.3"}
    assert (refusal(environ, names(*allowed, public=public)) is None) is ok


def test_a_request_without_host_names_none() -> None:
    assert refusal({"SERVER_NAME": "10.1.2.3"}, names()) is None


@pytest.fixture(scope="module")
def app(built_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Flask:
    from conftest import copy_store

    store = copy_store(built_store, tmp_path_factory.mktemp("hosts") / "store")
    return create_app(load_settings(env={}, store=store, update_token=TOKEN))


AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.mark.parametrize(("method", "path", "kwargs"), [
    ("GET", "/id/osteocalcin", {"headers": {"Accept": "text/turtle"}}),
    ("GET", "/sparql", {"query_string": {"query": "ASK {}"}}),
    ("GET", "/sparql", {"headers": {"Accept": "text/turtle"}}),
    ("GET", "/dumps", {}),
    ("POST", "/store", {"data": "<http://e/s> <http://e/p> 1 .",
                        "headers": {"Content-Type": "text/turtle", **AUTH}}),
])
def test_another_host_is_a_400_on_every_route(app: Flask, method: str, path: str,
                                              kwargs: dict[str, Any]) -> None:
    client = app.test_client()
    headers = {**kwargs.pop("headers", {}), "Host": EVIL}
    resp = client.open(path, method=method, headers=headers, **kwargs)
    text = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "K2D3_ALLOWED_HOSTS" in text, text[:300]
    assert EVIL not in resp.headers.get("Location", "") + resp.headers.get("Link", "")


def test_no_graph_is_made_for_a_refused_host(app: Flask) -> None:
    client = app.test_client()
    before = client.get("/store", headers={"Accept": "application/n-quads"}).get_data()
    resp = client.post("/store", data="<http://e/s> <http://e/p> 1 .",
                       headers={"Content-Type": "text/turtle", "Host": EVIL, **AUTH})
    assert resp.status_code == 400
    after = client.get("/store", headers={"Accept": "application/n-quads"}).get_data()
    assert EVIL.encode() not in after and len(after) == len(before)


# --- on a real server: its own address passes, another is refused, the public URL wins ---

@pytest.fixture(scope="module")
def public_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve(fresh_store(tmp_path_factory.mktemp("hosts-live")),
               public_url="https://kg.example.org") as (url, _proc):
        yield url


def test_a_real_server_refuses_another_host(public_server: str) -> None:
    ok = requests.get(public_server + "/sparql", params={"query": "ASK {}"}, timeout=10)
    assert ok.status_code == 200
    bad = requests.get(public_server + "/sparql", params={"query": "ASK {}"}, timeout=10,
                       headers={"Host": EVIL})
    assert bad.status_code == 400 and "K2D3_ALLOWED_HOSTS" in bad.text


def test_a_created_graph_is_named_by_the_public_url(public_server: str) -> None:
    for host in (None, "kg.example.org"):
        resp = requests.post(public_server + "/store", data="<http://e/s> <http://e/p> 1 .",
                             timeout=10, headers={"Content-Type": "text/turtle", **AUTH,
                                                  **({"Host": host} if host else {})})
        assert resp.status_code == 201, resp.text
        assert resp.headers["Location"].startswith("https://kg.example.org/store/")
