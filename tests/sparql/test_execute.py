"""Query execution with limits, and serialisation (server.sparql.execute), on an in-memory store."""

from __future__ import annotations

import json
import socket
import time

import pytest
from pyoxigraph import (
    Literal,
    NamedNode,
    Quad,
    QueryResultsFormat,
    QuerySolutions,
    Store,
    parse_query_results,
)

from server import errors
from server.sparql.execute import Limits, names_dataset, run_query, run_update
from server.sparql.results import serialize

EX = "http://example.org/"
G1, G2 = NamedNode(EX + "g1"), NamedNode(EX + "g2")
P = NamedNode(EX + "p")


@pytest.fixture()
def store() -> Store:
    st = Store()
    st.add(Quad(NamedNode(EX + "a"), P, Literal("in g1"), G1))
    st.add(Quad(NamedNode(EX + "b"), P, Literal("in g2"), G2))
    st.add(Quad(NamedNode(EX + "d"), P, Literal("default")))
    for i in range(50):
        st.add(Quad(NamedNode(f"{EX}n{i}"), NamedNode(EX + "n"), Literal(str(i)), G2))
    return st


def subjects(result) -> set[str]:  # type: ignore[no-untyped-def]
    return {row["s"].value for row in result.rows}


Q = f"SELECT ?s {{ ?s <{EX}p> ?o }}"


def test_union_default_graph(store: Store) -> None:
    result = run_query(store, Q, Limits(timeout_s=5, max_rows=100))
    assert subjects(result) == {EX + "a", EX + "b", EX + "d"}
    off = run_query(store, Q, Limits(timeout_s=5, max_rows=100, union_default_graph=False))
    assert subjects(off) == {EX + "d"}


def test_from_is_honoured_with_the_union_setting_on(store: Store) -> None:
    q = f"SELECT ?s FROM <{EX}g1> {{ ?s <{EX}p> ?o }}"
    assert subjects(run_query(store, q, Limits(timeout_s=5, max_rows=100))) == {EX + "a"}


def test_protocol_dataset_overrides_from(store: Store) -> None:
    q = f"SELECT ?s FROM <{EX}g1> {{ ?s <{EX}p> ?o }}"
    result = run_query(store, q, Limits(timeout_s=5, max_rows=100), default_graph=[EX + "g2"])
    assert subjects(result) == {EX + "b"}
    named = run_query(store, f"SELECT ?s {{ GRAPH ?g {{ ?s <{EX}p> ?o }} }}",
                      Limits(timeout_s=5, max_rows=100), named_graphs=[EX + "g1"])
    assert subjects(named) == {EX + "a"}


def test_from_inside_a_string_is_not_a_dataset() -> None:
    assert not names_dataset('SELECT * { ?s ?p "FROM <x>" } # FROM <y>')
    assert names_dataset("select * from <x> { ?s ?p ?o }")


SELECT_TYPES = ["application/sparql-results+json", "application/sparql-results+xml", "text/csv",
                "text/tab-separated-values"]


@pytest.mark.parametrize("media_type", SELECT_TYPES)
def test_a_select_bounded_by_its_limit_is_serialised_at_once(store: Store,
                                                             media_type: str) -> None:
    q = f"SELECT ?s ?o {{ ?s <{EX}n> ?o }} ORDER BY ?s LIMIT 5"
    direct = run_query(store, q, Limits(timeout_s=5, max_rows=100), media_type=media_type)
    assert direct.body is not None and not direct.truncated
    via_tsv = run_query(store, q, Limits(timeout_s=5, max_rows=100))
    assert via_tsv.body is None
    assert b"".join(serialize(direct, media_type)) == b"".join(serialize(via_tsv, media_type))
    with pytest.raises(ValueError, match="serialised as"):
        serialize(direct, "application/sparql-results+xml" if "json" in media_type
                  else "application/sparql-results+json")


def test_a_limit_above_the_row_cap_still_goes_through_the_cap(store: Store) -> None:
    q = f"SELECT ?s {{ ?s <{EX}n> ?o }} LIMIT 40"
    result = run_query(store, q,
                       Limits(timeout_s=5, max_rows=10),
                       media_type="application/sparql-results+json")
    assert result.body is None
    assert (len(result.rows), result.truncated) == (10, True)
    body = json.loads(b"".join(serialize(result, "application/sparql-results+json")))
    assert len(body["results"]["bindings"]) == 10


#: Texts on which the server's lexer reads a LIMIT 1 that pyoxigraph does not apply (found in
#: review): ``<`` read as the start of an IRI, an escape undone in a comment or in a string.
MISREAD_LIMITS = [
    f"SELECT * WHERE {{ ?s <{EX}n> ?o }} ORDER BY (?s<?o)#> LIMIT 1\n",
    f"SELECT * WHERE {{ ?s <{EX}n> ?o }} # \\u000A LIMIT 1",
    f'SELECT * WHERE {{ ?s <{EX}n> ?o FILTER(?o != "\\u0022) }} LIMIT 1 #") }}',
]


@pytest.mark.parametrize("media_type", SELECT_TYPES)
@pytest.mark.parametrize("query", MISREAD_LIMITS)
def test_a_misread_limit_cannot_get_past_the_row_cap(store: Store, query: str,
                                                     media_type: str) -> None:
    answer = store.query(query, use_default_graph_as_union=True)
    assert isinstance(answer, QuerySolutions)
    assert len(list(answer)) == 50, "pyoxigraph applies no LIMIT here"
    result = run_query(store, query, Limits(timeout_s=5, max_rows=20), media_type=media_type)
    assert result.body is None and result.truncated
    assert len(result.rows) == 20


@pytest.mark.parametrize("media_type", ["application/n-triples", "application/n-quads"])
def test_a_graph_in_a_line_format_is_written_and_capped_at_once(store: Store,
                                                                media_type: str) -> None:
    q = "CONSTRUCT WHERE { ?s ?p ?o }"
    direct = run_query(store, q, Limits(timeout_s=5, max_rows=100), media_type=media_type)
    assert direct.body is not None and not direct.truncated
    via_python = run_query(store, q, Limits(timeout_s=5, max_rows=100))
    assert via_python.body is None
    lines = set(b"".join(serialize(direct, media_type)).splitlines())
    assert lines == set(b"".join(serialize(via_python, media_type)).splitlines())
    assert len(lines) == 53
    cut = run_query(store, q, Limits(timeout_s=5, max_rows=7), media_type=media_type)
    assert cut.truncated and len(b"".join(serialize(cut, media_type)).splitlines()) == 7
    turtle = run_query(store, q, Limits(timeout_s=5, max_rows=100), media_type="text/turtle")
    assert turtle.body is None and len(turtle.triples) == 53


def test_rows_are_cut_and_flagged(store: Store) -> None:
    result = run_query(store, f"SELECT ?s {{ ?s <{EX}n> ?o }}", Limits(timeout_s=5, max_rows=10))
    assert (len(result.rows), result.truncated) == (10, True)
    exact = run_query(store, f"SELECT ?s {{ ?s <{EX}n> ?o }}", Limits(timeout_s=5, max_rows=50))
    assert (len(exact.rows), exact.truncated) == (50, False)
    graph = run_query(store, "CONSTRUCT WHERE { ?s ?p ?o }", Limits(timeout_s=5, max_rows=7))
    assert (len(graph.triples), graph.truncated) == (7, True)


def test_timeout_answers_at_the_deadline(store: Store) -> None:
    heavy = "SELECT (COUNT(*) AS ?n) { " + " ".join(f"?a{i} ?b{i} ?c{i} ." for i in range(8)) + "}"
    started = time.monotonic()
    with pytest.raises(errors.QueryTimeout) as caught:
        run_query(store, heavy, Limits(timeout_s=0.5, max_rows=10))
    assert time.monotonic() - started < 1.5
    assert caught.value.status == 503 and "timed out after 0.5 s" in caught.value.message


def test_syntax_error_quotes_parser_and_position(store: Store) -> None:
    with pytest.raises(errors.QuerySyntaxError) as caught:
        run_query(store, "SELECT * WHERE { ?s ?p }", Limits(timeout_s=5, max_rows=10))
    assert caught.value.status == 400
    assert "1:" in caught.value.message and "expected" in caught.value.message


def test_substitutions_bind_safely(store: Store) -> None:
    result = run_query(store, f"SELECT ?s ?o {{ ?s <{EX}p> ?o }}",
                       Limits(timeout_s=5, max_rows=10), substitutions={"o": Literal("in g2")})
    assert subjects(result) == {EX + "b"}


@pytest.fixture()
def listener():  # type: ignore[no-untyped-def]
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(5)
    sock.settimeout(1.0)
    yield sock
    sock.close()


def _contacted(sock: socket.socket) -> bool:
    try:
        conn, _ = sock.accept()
    except TimeoutError:
        return False
    conn.close()
    return True


@pytest.mark.parametrize("template", [
    "SELECT * {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
    "SELECT * {{ SERVICE SILENT <{url}> {{ ?s ?p ?o }} }}",
    "PREFIX r: <{url}> SELECT * {{ SERVICE r:x {{ ?s ?p ?o }} }}",
    "SELECT * {{ SERV\\u0049CE <{url}> {{ ?s ?p ?o }} }}",
])
def test_service_to_a_non_listed_address_is_never_contacted(store: Store, listener,  # type: ignore[no-untyped-def]
                                                             template: str) -> None:
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/sparql"
    with pytest.raises(errors.FederationRefused):
        run_query(store, template.format(url=url),
                  Limits(timeout_s=2, max_rows=10, federation_allow=("http://allowed.example/",)))
    assert not _contacted(listener)


def test_load_to_a_non_listed_address_is_never_contacted(store: Store, listener) -> None:  # type: ignore[no-untyped-def]
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/data.ttl"
    with pytest.raises(errors.FederationRefused):
        run_update(store, f"LOAD <{url}>")
    assert not _contacted(listener)


def test_allow_listed_service_is_contacted(store: Store, listener) -> None:  # type: ignore[no-untyped-def]
    """The same check proves the listener would see pyoxigraph's request when allowed."""
    base = f"http://127.0.0.1:{listener.getsockname()[1]}/"
    with pytest.raises((errors.QueryTimeout, errors.K2D3Error)):
        run_query(store, f"SELECT * {{ SERVICE <{base}sparql> {{ ?s ?p ?o }} }}",
                  Limits(timeout_s=1.5, max_rows=10, federation_allow=(base,)))
    assert _contacted(listener)


def test_service_word_in_a_string_is_allowed(store: Store) -> None:
    result = run_query(store, 'SELECT ("SERVICE <http://x/>" AS ?s) {}',
                       Limits(timeout_s=5, max_rows=10))
    assert result.rows[0]["s"].value == "SERVICE <http://x/>"


@pytest.mark.parametrize("media_type", ["application/sparql-results+json",
                                        "application/sparql-results+xml",
                                        "text/tab-separated-values"])
def test_select_round_trips_through_every_results_format(store: Store, media_type: str) -> None:
    result = run_query(store, f"SELECT ?s ?o {{ ?s <{EX}p> ?o }} ORDER BY ?s",
                       Limits(timeout_s=5, max_rows=100))
    body = b"".join(serialize(result, media_type))
    fmt = QueryResultsFormat.from_media_type(media_type)
    parsed = [(str(r["s"].value), str(r["o"].value)) for r in parse_query_results(body, fmt)]
    assert parsed == [(EX + "a", "in g1"), (EX + "b", "in g2"), (EX + "d", "default")]


def test_csv(store: Store) -> None:
    result = run_query(store, f"SELECT ?s ?o {{ ?s <{EX}p> ?o }} ORDER BY ?s",
                       Limits(timeout_s=5, max_rows=100))
    body = b"".join(serialize(result, "text/csv")).decode()
    assert body.splitlines() == ["s,o", f"{EX}a,in g1", f"{EX}b,in g2", f"{EX}d,default"]


def test_large_results_stream_in_chunks() -> None:
    st = Store()
    for i in range(5000):
        st.add(Quad(NamedNode(f"{EX}s{i}"), P, Literal("x" * 40)))
    result = run_query(st, "SELECT * { ?s ?p ?o }", Limits(timeout_s=10, max_rows=5000))
    chunks = list(serialize(result, "application/sparql-results+json"))
    assert len(chunks) > 1
    assert len(json.loads(b"".join(chunks))["results"]["bindings"]) == 5000


def test_ask_and_construct_serialise(store: Store) -> None:
    ask = run_query(store, "ASK { ?s ?p ?o }", Limits(timeout_s=5, max_rows=10))
    assert json.loads(b"".join(serialize(ask, "application/sparql-results+json")))["boolean"]
    graph = run_query(store, f"CONSTRUCT {{ ?s <{EX}q> ?o }} WHERE {{ ?s <{EX}p> ?o }}",
                      Limits(timeout_s=5, max_rows=10))
    assert b"<http://example.org/q>" in b"".join(serialize(graph, "application/n-triples"))


def test_results_are_what_pyoxigraph_writes_for_tricky_terms() -> None:
    """Every term kind survives the TSV the rows are kept as, byte for byte in each format."""
    st = Store()
    s = NamedNode(EX + "s")
    for obj in (Literal('tab\t newline\n quote" backslash\\ é'), Literal("chat", language="fr"),
                Literal("2", datatype=NamedNode("http://www.w3.org/2001/XMLSchema#integer")),
                NamedNode(EX + "o"), Literal("")):
        st.add(Quad(s, P, obj))
    q = (f"SELECT ?s ?o ?t ?unbound {{ ?s <{EX}p> ?o BIND(<<( ?s <{EX}p> ?o )>> AS ?t) }} "
         "ORDER BY ?o")
    result = run_query(st, q, Limits(timeout_s=5, max_rows=100))
    for media_type in ("application/sparql-results+json", "application/sparql-results+xml",
                       "text/csv", "text/tab-separated-values"):
        direct = st.query(q)
        assert isinstance(direct, QuerySolutions)
        fmt = QueryResultsFormat.from_media_type(media_type)
        assert b"".join(serialize(result, media_type)) == direct.serialize(format=fmt)
    assert len(result.rows) == 5 and "unbound" not in result.rows[0]


def test_truncation_cuts_at_the_limit_across_serializer_chunks() -> None:
    st = Store()
    for i in range(5000):
        st.add(Quad(NamedNode(f"{EX}s{i:04}"), P, Literal("x" * 40)))
    result = run_query(st, "SELECT ?s { ?s ?p ?o } ORDER BY ?s",
                       Limits(timeout_s=10, max_rows=4321))
    assert result.truncated and result.row_count == 4321
    body = json.loads(b"".join(serialize(result, "application/sparql-results+json")))
    names = [b["s"]["value"] for b in body["results"]["bindings"]]
    assert names == [f"{EX}s{i:04}" for i in range(4321)]
    empty = run_query(st, "SELECT * { }", Limits(timeout_s=5, max_rows=1))   # one row, no variables
    assert (empty.row_count, empty.truncated, empty.rows) == (1, False, [{}])
