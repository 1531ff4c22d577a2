"""server/build/push.py against an engine stand-in that applies the requests to a pyoxigraph
store: only k2d3's graphs replaced, blank nodes kept whole, pushing twice = pushing once.
(tests/live/test_virtuoso.py pushes into a real Virtuoso.)"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from pyoxigraph import (
    BlankNode,
    CanonicalizationAlgorithm,
    Dataset,
    Literal,
    NamedNode,
    Quad,
    RdfFormat,
    Store,
    Triple,
)

from server.build.push import Pushed, chunks, push
from server.cli import main
from server.rdf.namespaces import Namespaces
from server.sparql.remote import RemoteEndpoint

NS = Namespaces()
EX = "http://example.org/"
OTHER_GRAPH = NamedNode(EX + "their-graph")


class Engine(RemoteEndpoint):
    """A remote engine that is a pyoxigraph store; counts the requests."""

    def __init__(self, graph_store: bool) -> None:
        super().__init__("http://engine/sparql", "http://engine/update",
                         "http://engine/store" if graph_store else None)
        self.store = Store()
        self.requests: list[str] = []

    def update(self, text: str) -> None:
        self.requests.append(text)
        self.store.update(text)

    def put_graph(self, graph_iri: str, data: object, content_type: str) -> None:
        assert content_type == "application/n-triples" and isinstance(data, bytes)
        self.requests.append(f"PUT {graph_iri}")
        self.store.update(f"DROP SILENT GRAPH <{graph_iri}>")
        self.store.load(data, RdfFormat.N_TRIPLES, to_graph=NamedNode(graph_iri))

    def delete_graph(self, graph_iri: str) -> bool:
        self.requests.append(f"DELETE {graph_iri}")
        self.store.update(f"DROP SILENT GRAPH <{graph_iri}>")
        return True


def _k2d3_store() -> Store:
    """Every build graph but ``inferred`` (empty), with RDF lists and a long literal."""
    store = Store()
    for name, iri in NS.build_graphs().items():
        if name == "inferred":
            continue
        graph = NamedNode(iri)
        for i in range(40):
            subject = NamedNode(f"{EX}{name}/{i}")
            store.add(Quad(subject, NamedNode(EX + "label"), Literal(f"{name} {i} é \" \\"),
                           graph))
            head = BlankNode()
            store.add(Quad(subject, NamedNode(EX + "list"), head, graph))
            for j in range(i % 4):   # an RDF list of i % 4 cells (blank node chains)
                rest = BlankNode()
                store.add(Quad(head, NamedNode(EX + "first"), Literal(str(j)), graph))
                store.add(Quad(head, NamedNode(EX + "rest"), rest, graph))
                head = rest
    store.add(Quad(NamedNode(EX + "x"), NamedNode(EX + "p"), Literal("x" * 100_000),
                   NamedNode(NS.graph("data"))))
    return store


def _canonical(store: Store, graphs: list[str]) -> Dataset:
    dataset = Dataset(q for g in graphs
                      for q in store.quads_for_pattern(None, None, None, NamedNode(g)))
    dataset.canonicalize(CanonicalizationAlgorithm.UNSTABLE)
    return dataset


def _check(graph_store: bool) -> tuple[Engine, list[Pushed]]:
    local, engine = _k2d3_store(), Engine(graph_store)
    theirs = Quad(NamedNode(EX + "a"), NamedNode(EX + "b"), NamedNode(EX + "c"), OTHER_GRAPH)
    stale = Quad(NamedNode(EX + "old"), NamedNode(EX + "b"), BlankNode(),
                 NamedNode(NS.graph("inferred")))
    engine.store.extend([theirs, stale,
                         Quad(stale.subject, stale.predicate, stale.object,
                              NamedNode(NS.graph("data")))])
    graphs = list(NS.build_graphs().values())
    lines: list[str] = []
    pushed = push(local, NS, engine, chunk=7, progress=lines.append)
    once = _canonical(engine.store, graphs)
    assert once == _canonical(local, graphs)
    assert list(engine.store.quads_for_pattern(None, None, None, OTHER_GRAPH)) == [theirs]
    assert [p.graph for p in pushed] == graphs
    assert [line.split(":")[0] + ":" + line.split(":")[1] for line in lines] == graphs
    assert [p.triples for p in pushed] == [len(list(local.quads_for_pattern(
        None, None, None, NamedNode(g)))) for g in graphs]
    push(local, NS, engine, chunk=7)
    assert _canonical(engine.store, graphs) == once
    assert len(engine.store) == len(local) + 1
    return engine, pushed


def test_push_by_sparql_update_replaces_only_k2d3s_graphs_and_is_idempotent() -> None:
    engine, pushed = _check(graph_store=False)
    drops = [r for r in engine.requests if r.startswith("DROP SILENT GRAPH")]
    assert len(drops) == 2 * len(NS.build_graphs())
    assert pushed[0].requests > 10   # chunks of about 7 triples


def test_push_by_graph_store_is_one_request_a_graph() -> None:
    engine, pushed = _check(graph_store=True)
    assert {p.requests for p in pushed} == {1}
    assert f"DELETE {NS.graph('inferred')}" in engine.requests


def test_chunks_never_split_what_blank_nodes_connect() -> None:
    local = _k2d3_store()
    triples = [q.triple for q in local.quads_for_pattern(None, None, None, None)]
    parts = list(chunks(triples, 5))
    assert sorted(map(str, (t for p in parts for t in p))) == sorted(map(str, triples))
    owner: dict[BlankNode, int] = {}
    for i, part in enumerate(parts):
        assert len(part) <= 5 or _connected(part)
        for t in part:
            for node in (t.subject, t.object):
                if isinstance(node, BlankNode):
                    assert owner.setdefault(node, i) == i, f"{node} in chunks {owner[node]}, {i}"


def _connected(part: list[Triple]) -> bool:
    """A chunk over the size is one blank-node group: every triple has a blank node."""
    return all(isinstance(t.subject, BlankNode) or isinstance(t.object, BlankNode)
               for t in part)


def test_cli_refuses_a_store_path_given_as_the_graph_store_url(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["push", "--target", "http://127.0.0.1:9/sparql", "--store", "/tmp/store"]) == 2
    err = capsys.readouterr().err
    assert "--store is the engine's Graph Store URL, not '/tmp/store'" in err
    assert "--from PATH" in err


def test_cli_says_which_engine_it_cannot_reach_without_the_password(
        built_store: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("K2D3_BACKEND_USER", "dba")
    monkeypatch.setenv("K2D3_BACKEND_PASSWORD", "s3cret-pw")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/sparql"
    assert main(["push", "--from", str(built_store), "--target", url]) == 1
    out = capsys.readouterr()
    assert f"k2d3 push: the SPARQL engine at {url} cannot be reached" in out.err
    assert "s3cret-pw" not in out.out + out.err


def test_cli_says_when_there_is_no_store(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["push", "--from", str(tmp_path / "none"), "--target",
                 "http://127.0.0.1:9/sparql"]) == 2
    assert capsys.readouterr().err == (
        f"k2d3 push: no store at {tmp_path / 'none'}: run `k2d3 build --store "
        f"{tmp_path / 'none'}` first, or name another with --from PATH\n")
