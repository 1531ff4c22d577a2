"""The remote store (``server.sparql.backend``): its query rewriting and its answers, over an
engine stood in for by a pyoxigraph store behind the remote client's interface."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from pyoxigraph import (
    DefaultGraph,
    Literal,
    NamedNode,
    Quad,
    QueryResultsFormat,
    RdfFormat,
    Store,
    Variable,
)

from server.sparql.backend import (
    BackendReadOnly,
    RemoteReader,
    RemoteStore,
    bind_inline,
    remote_writer,
)
from server.sparql.execute import Limits, run_query

EX = "http://example.org/"
P = NamedNode(EX + "p")


class Engine:
    """``RemoteEndpoint``'s interface over a local store: what a SPARQL 1.1 engine answers."""

    def __init__(self, store: Store, update_url: str | None = "http://engine/update",
                 ask_as_select: bool = False) -> None:
        self.store, self.update_url, self.ask_as_select = store, update_url, ask_as_select
        self.sent: list[str] = []
        self.timeout_s = 60.0

    def query(self, text: str, accept: str, *, default_graph: Any = None,
              named_graphs: Any = None) -> tuple[bytes, str]:
        self.sent.append(text)
        answer = self.store.query(text, use_default_graph_as_union=True)
        if isinstance(answer, bool) or type(answer).__name__ == "QueryBoolean":
            if self.ask_as_select:  # as Virtuoso 7.2 answers an ASK in JSON
                body = ('{"head":{"vars":["__ASK_RETVAL"]},"results":{"bindings":[{"__ASK_'
                        f'RETVAL":{{"type":"literal","value":"{int(bool(answer))}"}}}}]}}}}')
                return body.encode(), "application/sparql-results+json"
            return answer.serialize(format=QueryResultsFormat.XML), (
                "application/sparql-results+xml")
        if "sparql-results" in accept.split(",")[0]:
            return answer.serialize(format=QueryResultsFormat.XML), (
                "application/sparql-results+xml; charset=utf-8")
        return answer.serialize(format=RdfFormat.N_TRIPLES), "text/plain"

    def update(self, text: str) -> None:
        self.sent.append(text)
        self.store.update(text)


@pytest.fixture()
def local() -> Store:
    store = Store()
    for i, g in enumerate(("g1", "g2")):
        store.add(Quad(NamedNode(f"{EX}s{i}"), P, Literal(f"o{i}", language="en"),
                       NamedNode(EX + g)))
    return store


def test_bind_inline_opens_the_outermost_where_group() -> None:
    text = 'PREFIX x: <http://x/>\nSELECT ?a ?b WHERE { ?a ?p "WHERE {" { SELECT ?b {} } }'
    bound = bind_inline(text, {Variable("a"): NamedNode(EX + "a")})
    assert bound.startswith('PREFIX x: <http://x/>\nSELECT ?a ?b WHERE { VALUES ?a { <http://')
    assert bound.count("VALUES") == 1 and '"WHERE {"' in bound


def test_bind_inline_without_where_and_for_construct() -> None:
    assert bind_inline("ASK { ?s ?p ?o }", {Variable("s"): Literal("x")}) == (
        'ASK { VALUES ?s { "x" }\n ?s ?p ?o }')
    construct = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"
    assert bind_inline(construct, {Variable("s"): Literal("x")}).startswith(
        'CONSTRUCT { ?s ?p ?o } WHERE { VALUES ?s { "x" }')
    with pytest.raises(ValueError, match="no WHERE group"):
        bind_inline("CONSTRUCT { ?s ?p ?o } FROM <http://x/>", {Variable("s"): Literal("x")})


def test_answers_match_the_embedded_store_as_multisets(local: Store) -> None:
    remote = RemoteStore(Engine(local))  # type: ignore[arg-type]
    limits = Limits(timeout_s=5, max_rows=100)
    for text, subs in [
        (f"SELECT ?s ?o WHERE {{ ?s <{P.value}> ?o }}", None),
        (f"SELECT ?s ?o WHERE {{ ?s <{P.value}> ?o }}", {"s": NamedNode(EX + "s1")}),
        ("ASK { ?s ?p ?o }", None),
        (f"CONSTRUCT WHERE {{ ?s <{P.value}> ?o }}", None),
    ]:
        got = run_query(remote, text, limits, substitutions=subs)  # type: ignore[arg-type]
        want = run_query(local, text, limits, substitutions=subs)
        assert (got.kind, got.boolean) == (want.kind, want.boolean)
        assert Counter(map(str, got.rows)) == Counter(map(str, want.rows))
        assert Counter(map(str, got.triples)) == Counter(map(str, want.triples))


def test_a_virtuoso_style_ask_is_a_boolean(local: Store) -> None:
    remote = RemoteStore(Engine(local, ask_as_select=True))  # type: ignore[arg-type]
    assert remote.query("ASK { ?s ?p ?o }") is True
    assert remote.query("ASK { ?s <http://nothing/> ?o }") is False


def test_patterns_and_graphs(local: Store) -> None:
    remote = RemoteStore(Engine(local))  # type: ignore[arg-type]
    assert Counter(map(str, remote.quads_for_pattern(None, P, None))) == Counter(
        map(str, local.quads_for_pattern(None, P, None, None)))
    s0 = NamedNode(EX + "s0")
    assert [q.graph_name for q in remote.quads_for_pattern(s0, None, None, None)] == [
        NamedNode(EX + "g1")]
    assert sorted(g.value for g in remote.named_graphs()) == [EX + "g1", EX + "g2"]
    assert remote.contains_named_graph(NamedNode(EX + "g2"))
    assert not remote.contains_named_graph(NamedNode(EX + "g3"))


def test_writes_go_as_one_update_and_move_the_version(local: Store) -> None:
    engine = Engine(local)
    reader = RemoteReader(engine, ttl_s=3600)  # type: ignore[arg-type]
    before = reader.version()
    with remote_writer(reader) as store:
        store.remove_graph(NamedNode(EX + "g1"))
        store.extend([Quad(NamedNode(EX + "n"), P, Literal('a "quoted"\nline'),
                           NamedNode(EX + "g3")),
                      Quad(NamedNode(EX + "d"), P, Literal("default"), DefaultGraph())])
        assert engine.sent == []  # nothing is sent before the block ends
    assert len(engine.sent) == 1
    assert sorted(g.value for g in local.named_graphs()) == [EX + "g2", EX + "g3"]
    assert Literal('a "quoted"\nline') in {q.object for q in local}
    assert reader.version() != before


def test_without_an_update_url_writes_are_refused_with_the_option_to_give(local: Store) -> None:
    reader = RemoteReader(Engine(local, update_url=None))  # type: ignore[arg-type]
    with pytest.raises(BackendReadOnly, match="--backend-update") as caught, remote_writer(reader):
        pass
    assert caught.value.status == 405


def test_the_remote_store_takes_every_keyword_the_server_passes_a_store() -> None:
    """A keyword k2d3 passes to ``Store.query`` that the remote store lacks is a 500 on a
    remote backend only: read them from the source."""
    import ast
    import inspect
    from pathlib import Path

    passed: set[str] = set()
    for path in (Path(__file__).resolve().parents[2] / "server").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "query"):
                passed |= {k.arg for k in node.keywords if k.arg}
    accepted = set(inspect.signature(RemoteStore.query).parameters)
    assert passed and passed <= accepted, passed - accepted
