"""Bad input from a client is a precise 4xx naming what is wrong, never a 500 or a traceback.

Covers every place a request value becomes an IRI (``server/rdf/iris.py``), the floor on
``timeout=``, links that only http(s) IRIs get, the dumps' ``Content-Type``, a failing
``SERVICE`` (502) and the Graph Store's existence check before its ETag.
"""

from __future__ import annotations

import http.server
import socket
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from markupsafe import escape
from pyoxigraph import NamedNode

from server import create_app
from server.config import load_settings
from server.http.protocol import MIN_TIMEOUT_S
from server.rdf import dumps, iris

TOKEN = "t"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
TURTLE = "text/turtle"
JS = "javascript:alert(1)"
ENTITY = "https://w3id.org/k2d3/id/osteocalcin"


@pytest.fixture(scope="module")
def store_copy(built_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the built store: this module writes to it."""
    from conftest import copy_store

    return copy_store(built_store, tmp_path_factory.mktemp("bad-input") / "store")


@pytest.fixture(scope="module")
def app(store_copy: Path) -> Flask:
    return create_app(load_settings(env={}, store=store_copy, update_token=TOKEN))


@pytest.fixture()
def client(app: Flask) -> Any:
    return app.test_client()


def body_of(resp: Any, status: int, *names: str) -> str:
    """The response text, after checking its status, that it names each of ``names`` and
    that it carries no stack trace."""
    text = resp.get_data(as_text=True)
    assert resp.status_code == status, text[:500]
    for name in names:
        assert name in text, (name, text[:500])
    assert "Traceback" not in text
    return text


# --- B5: a value that is not an absolute IRI is a 400 naming the parameter ------------------

UPDATE = "INSERT DATA { <http://example.org/s> <http://example.org/p> 1 }"
BAD_REQUESTS = [
    ("GET", "/sparql?query=ASK{}&default-graph-uri=foo", {}, "default-graph-uri", "'foo'"),
    ("GET", "/sparql?query=ASK{}&named-graph-uri=http://a%20b", {}, "named-graph-uri",
     "'http://a b'"),
    ("POST", "/sparql", {"data": {"query": "ASK {}", "default-graph-uri": "http://x/%zz"}},
     "default-graph-uri", "%zz"),
    ("POST", "/sparql", {"data": {"update": UPDATE, "using-graph-uri": "foo"}},
     "using-graph-uri", "'foo'"),
    ("POST", "/sparql", {"data": {"update": UPDATE, "using-named-graph-uri": "rel/g"}},
     "using-named-graph-uri", "'rel/g'"),
    ("POST", "/sparql?using-graph-uri=g", {"data": UPDATE,
                                           "content_type": "application/sparql-update"},
     "using-graph-uri", "'g'"),
    ("GET", "/store?graph=foo", {}, "`graph` parameter", "absolute IRI"),
    ("GET", "/store?graph=http://a/%25zz", {}, "`graph` parameter", "%zz"),
    ("GET", "/store/a%20b", {}, "request path", "store/a b"),
    ("PUT", "/store/a%20b", {"data": "<http://a> <http://b> <http://c> .",
                             "content_type": TURTLE}, "request path", "store/a b"),
    ("PUT", "/store?graph=foo", {"data": "<http://a> <http://b> <http://c> .",
                                 "content_type": TURTLE}, "`graph` parameter", "'foo'"),
    ("DELETE", "/store?graph=http://a%20b", {}, "`graph` parameter", "absolute IRI"),
]


@pytest.mark.parametrize(("method", "url", "kwargs", "names", "value"), BAD_REQUESTS)
def test_a_value_that_is_not_an_absolute_iri_is_a_400(client: Any, method: str, url: str,
                                                        kwargs: dict[str, Any], names: str,
                                                        value: str) -> None:
    resp = client.open(url, method=method, headers=AUTH, **kwargs)
    body_of(resp, 400, names, value, "is not an absolute IRI")


@pytest.mark.parametrize("value", ["http://x/%zz", "a:[b]", "http://x/a b"])
@pytest.mark.parametrize("accept", ["application/json", "text/html"])
def test_canned_iri_parameter_that_is_not_an_iri_is_a_400(client: Any, value: str,
                                                          accept: str) -> None:
    resp = client.get("/queries/claims-about", query_string={"outcome": value},
                      headers={"Accept": accept})
    body_of(resp, 400, "outcome", str(escape(value)), "IRI")


# --- B5: a linked-data path that is not an IRI is an unknown IRI: the 404 page --------------

NOT_IRIS = [("/id/a%20b", "id/a b"), ("/id/a%3Cb", "id/a<b"), ("/id/%FF", "id/\ufffd"),
            ("/graph/a%20b", "graph/a b"), ("/dataset/a%20b", "dataset/a b"),
            ("/ontology/a%20b", "ontology/a b"), ("/id/a%20b.ttl", "id/a b.ttl")]


@pytest.mark.parametrize(("path", "tail"), NOT_IRIS)
@pytest.mark.parametrize("accept", ["text/html", TURTLE])
def test_a_path_that_is_not_an_iri_is_404(client: Any, path: str, tail: str,
                                          accept: str) -> None:
    resp = client.get(path, headers={"Accept": accept})
    html = resp.mimetype == "text/html"
    body_of(resp, 404, str(escape(tail)) if html else tail)


# --- B3: a timeout below the floor is refused ------------------------------------------------

@pytest.mark.parametrize("timeout", ["0.01", "0.5", "0.999", "nan", "0"])
def test_timeout_below_the_minimum_is_a_400(client: Any, timeout: str) -> None:
    resp = client.get("/sparql", query_string={"query": "ASK {}", "timeout": timeout})
    body_of(resp, 400, "timeout", f"at least {MIN_TIMEOUT_S:g} second")


def test_timeout_at_the_minimum_is_accepted(client: Any) -> None:
    resp = client.get("/sparql", query_string={"query": "ASK {}", "timeout": "1"})
    body_of(resp, 200, "true")


# --- B8: only http(s) IRIs and local paths become links ---------------------------------------

@pytest.mark.parametrize(("href", "ok"), [
    ("/id/x", True), ("#Claim", True), ("http://a.example/b", True), ("HTTPS://a.example/", True),
    (JS, False), ("JavaScript:alert(1)", False), (" javascript:alert(1)", False),
    ("java\tscript:alert(1)", False), ("data:text/html,<b>x</b>", False), ("vbscript:x", False),
    ("//evil.example/x", False), ("mailto:a@example.org", False), ("http:x", False),
    ("", False), (None, False),
])
def test_linkable(href: str | None, ok: bool) -> None:
    assert iris.linkable(href) is ok


@pytest.fixture(scope="module")
def javascript_iri(app: Flask) -> None:
    """The entity-profile default entity gains a ``rdfs:seeAlso <javascript:...>``."""
    update = (f"INSERT DATA {{ GRAPH <https://w3id.org/k2d3/graph/bad-input> {{ <{ENTITY}> "
              f"<http://www.w3.org/2000/01/rdf-schema#seeAlso> <{JS}> }} }}")
    resp = app.test_client().post("/sparql", data={"update": update}, headers=AUTH)
    assert resp.status_code == 204, resp.get_data(as_text=True)


@pytest.mark.usefixtures("javascript_iri")
@pytest.mark.parametrize("path", ["/id/osteocalcin", "/queries/entity-profile"])
def test_a_javascript_iri_is_text_not_a_link(client: Any, path: str) -> None:
    text = body_of(client.get(path, headers={"Accept": "text/html"}), 200, JS)
    assert 'href="javascript:' not in text.replace(" ", "").lower()
    assert f'<span class="iri" title="{JS}">' in text
    assert 'href="http://purl.uniprot.org/' in text or 'href="/id/osteocalcin"' in text


# --- B9: dumps' Content-Type, a failing SERVICE, the Graph Store's ETag ----------------------

def test_dump_text_files_have_one_charset(client: Any, store_copy: Path) -> None:
    folder = dumps.current_dir(store_copy)
    assert folder is not None
    turtle = next(name for name in dumps.read_sums(folder) if name.endswith(".ttl"))
    for name, media in ((dumps.SUMS, "text/plain"), (turtle, TURTLE)):
        with client.get(f"/dumps/{name}") as resp:
            assert resp.status_code == 200
            assert resp.headers["Content-Type"] == f"{media}; charset=utf-8"


class _Failing(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(500)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", "4")
        self.end_headers()
        self.wfile.write(b"boom")

    do_POST = do_GET

    def log_message(self, *args: Any) -> None:
        return


@pytest.fixture()
def failing_endpoint() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Failing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def _closed_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/"


@pytest.mark.parametrize("which", ["answers 500", "refuses the connection"])
def test_a_failing_allow_listed_service_is_a_502(store_copy: Path, failing_endpoint: str,
                                                 which: str) -> None:
    base = failing_endpoint if which == "answers 500" else _closed_port()
    app = create_app(load_settings(env={}, store=store_copy, federation_allow=(base,)))
    query = f"SELECT * {{ SERVICE <{base}sparql> {{ ?s ?p ?o }} }}"
    resp = app.test_client().get("/sparql", query_string={"query": query, "timeout": "10"})
    body_of(resp, 502, "Bad Gateway", f"SERVICE endpoint this query calls (<{base}sparql>)")


def test_a_missing_graph_is_404_whatever_its_etag(client: Any) -> None:
    """The Graph Store checks that a graph exists before it compares ``If-None-Match``."""
    graph = "http://example.org/deleted"
    put = client.put("/store", query_string={"graph": graph}, headers=AUTH,
                     data="<http://a> <http://b> <http://c> .", content_type=TURTLE)
    assert put.status_code == 201
    assert client.delete("/store", query_string={"graph": graph}, headers=AUTH).status_code == 204
    # The ETag this graph would have at the store's current version, were it there:
    # (version, media type, graph) as server/views/graph_store.py makes it.
    other = client.get("/store", query_string={"default": ""}, headers={"Accept": TURTLE})
    prefix = other.headers["ETag"].rsplit("-", 1)[0]
    etag = f'{prefix}-{zlib.crc32(str(NamedNode(graph)).encode()):x}"'
    resp = client.get("/store", query_string={"graph": graph},
                      headers={"Accept": TURTLE, "If-None-Match": etag})
    body_of(resp, 404, graph)


# --- B10: the evidence map links only what a page may link; errors' status and title agree ---

@pytest.fixture(scope="module")
def javascript_outcome(app: Flask) -> None:
    """A claim about an outcome, and a vitamin in the mechanism, whose IRIs are ``javascript:``."""
    k2d3 = "https://w3id.org/k2d3/ontology#"
    update = (f"PREFIX k2d3: <{k2d3}> INSERT DATA {{ GRAPH <https://w3id.org/k2d3/graph/bad-map> {{"
              f" <{JS}> a k2d3:Outcome . <urn:x:i> a k2d3:Intervention ."
              f" <urn:x:claim> a k2d3:Claim ; k2d3:subject <urn:x:i> ; k2d3:object <{JS}> ."
              f" <javascript:alert(2)> a k2d3:Vitamin ;"
              f" k2d3:promotesAbsorptionOf <https://w3id.org/k2d3/id/calcium> }} }}")
    resp = app.test_client().post("/sparql", data={"update": update}, headers=AUTH)
    assert resp.status_code == 204, resp.get_data(as_text=True)


@pytest.mark.usefixtures("javascript_outcome")
def test_the_evidence_map_does_not_link_a_javascript_iri(client: Any) -> None:
    text = body_of(client.get("/queries/evidence-map", headers={"Accept": "text/html"}), 200)
    assert 'href="javascript:' not in text.replace(" ", "").lower()
    assert text.count('<a href="/id/') > 0, "local IRIs are still links"


@pytest.mark.parametrize("update", [
    "INSERT { <urn:a> <urn:b> ?x } WHERE { BIND(<urn:f>(1) AS ?x) }",
    "MOVE <urn:no-such-graph> TO <urn:other>",
])
def test_an_update_refused_is_titled_as_its_status(client: Any, update: str) -> None:
    resp = client.post("/sparql", data={"update": update},
                       headers={**AUTH, "Accept": "application/json"})
    assert resp.status_code == 400, resp.get_data(as_text=True)
    assert resp.get_json()["error"] == "Bad Request"


@pytest.mark.parametrize("query", [
    "SELECT * WHERE { BIND(<urn:f>(1) AS ?x) }",
    "SELECT * WHERE { ?s ?p ?o FILTER(<http://example.org/fn>(?o)) } LIMIT 1",
    "ASK { FILTER(\"\\UFFFFFFFF\" = 1) }",
])
def test_an_unknown_function_or_character_is_a_400_that_names_it(client: Any, query: str) -> None:
    text = body_of(client.get("/sparql", query_string={"query": query}), 400)
    assert "<urn:f>" in text or "<http://example.org/fn>" in text or "syntax error" in text
