"""server/serving/request_line.py on a real server: long GET queries are answered, longer ones get a
414 that says to use POST (gunicorn alone answered 414 past 4,094 bytes)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from urllib.parse import quote

import pytest
import requests
from endpoint_fixtures import fresh_store, serve


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve(fresh_store(tmp_path_factory.mktemp("request-line")),
               max_request_line="20000") as (url, _proc):
        yield url


def long_query(size: int) -> str:
    """An ASK of about ``size`` characters once percent-encoded (a comment pads it)."""
    head = "ASK { ?s ?p ?o }\n# "
    return head + "x" * (size - len(quote(head)))


def test_a_query_past_gunicorn_s_default_line_is_answered(server: str) -> None:
    query = long_query(15_000)
    resp = requests.get(server + "/sparql", params={"query": query},
                        headers={"Accept": "application/sparql-results+json"}, timeout=30)
    assert len(resp.request.url or "") > 8190
    assert resp.status_code == 200, resp.text[:300]
    assert resp.json()["boolean"] is True


def test_a_line_past_the_setting_is_a_414_that_says_to_post(server: str) -> None:
    host, port = server.removeprefix("http://").split(":")
    line = f"GET /sparql?query={quote(long_query(25_000))} HTTP/1.1\r\n"
    with socket.create_connection((host, int(port)), timeout=30) as conn:
        conn.sendall(line.encode() + f"Host: {host}\r\nConnection: close\r\n\r\n".encode())
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    text = answer.decode("latin-1")
    assert text.startswith("HTTP/1.1 414"), text[:200]
    assert "POST" in text and "20,000" in text
    assert requests.get(server + "/sparql", params={"query": "ASK {}"}).status_code == 200


@pytest.mark.parametrize("limit", [0, -1])
def test_a_limit_that_would_lift_the_bound_is_refused(limit: int) -> None:
    from server.serving.request_line import gunicorn_limit

    with pytest.raises(ValueError, match="K2D3_MAX_REQUEST_LINE"):
        gunicorn_limit(limit)
