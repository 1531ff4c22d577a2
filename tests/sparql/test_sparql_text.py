"""server/sparql/text.py: the lexer's view of prefixes and LIMIT, and its cache."""

from __future__ import annotations

import pytest

from server.sparql import text as sparql_text
from server.sparql.text import CACHE_TEXT_LIMIT, outline, output_prefixes, tokens


@pytest.mark.parametrize(("query", "expected"), [
    ("PREFIX foaf: <http://xmlns.com/foaf/0.1/> CONSTRUCT WHERE { ?s a foaf:Document }",
     {"foaf": "http://xmlns.com/foaf/0.1/"}),
    ("prefix : <http://example.org/> PREFIX ex2: <urn:x:> DESCRIBE :a",
     {"": "http://example.org/", "ex2": "urn:x:"}),
    # relative to BASE: the parser resolves it, a Turtle writer cannot declare it as it stands
    ("BASE <http://example.org/> PREFIX rel: <things/> CONSTRUCT WHERE { ?s ?p ?o }", {}),
    # in a string or a comment, PREFIX declares nothing
    ('CONSTRUCT { ?s ?p "PREFIX x: <http://x/>" } WHERE { ?s ?p ?o } # PREFIX y: <http://y/>',
     {}),
    ("PREFIX ex.: <http://example.org/> CONSTRUCT WHERE { ?s ?p ?o }", {}),
])
def test_output_prefixes(query: str, expected: dict[str, str]) -> None:
    assert output_prefixes(tokens(query)) == expected


@pytest.mark.parametrize(("query", "expected"), [
    ("SELECT * WHERE { ?s ?p ?o } LIMIT 10", 10),
    ("select * { ?s ?p ?o } offset 2 limit\n 7", 7),
    # the trailing VALUES comes after LIMIT in the grammar; LIMIT still bounds the answer
    ("SELECT * { ?s ?p ?o } LIMIT 3 VALUES ?s { <urn:a> <urn:b> }", 3),
    # a subquery's LIMIT does not bound the outer query
    ("SELECT * { { SELECT * { ?s ?p ?o } LIMIT 5 } ?s ?q ?r }", None),
    ('SELECT * { ?s ?p "LIMIT 3" } # LIMIT 4', None),
    ("PREFIX ex: <urn:x:> SELECT * { ?s ex:LIMIT 3 }", None),
    # pyoxigraph does not undo escapes outside strings: this LIMIT is no number to it
    ("SELECT * { ?s ?p ?o } LIMIT \\u0031\\u0032", None),
])
def test_the_outline_reads_only_the_query_s_own_limit(query: str, expected: int | None) -> None:
    assert outline(query).limit == expected


def test_long_texts_are_cached_by_digest_not_kept() -> None:
    """A request reads its outline several times: a long text is read once, and the cache
    keeps its digest, not the text."""
    long_query = "SELECT * {" + " " * CACHE_TEXT_LIMIT + "?s ?p ?o } LIMIT 1"
    assert outline(long_query).limit == 1
    assert outline(long_query) is outline(long_query)
    assert all(len(key) == 32 for key in sparql_text._LARGE)
    short = "SELECT * { ?s ?p ?o } LIMIT 2"
    assert outline(short) is outline(short)


@pytest.mark.parametrize(("query", "fetched"), [
    ("SELECT * { SERVICE <http://a/sparql> { ?s ?p ?o } }", {"http://a/sparql"}),
    # "<" as less-than and "#>" as a comment to pyoxigraph, an IRI to a plain lexer
    ("SELECT * { ?s ?p ?o FILTER(?o<2)SERVICE#>\n<http://a/sparql> { ?s ?p ?o } }",
     {"http://a/sparql"}),
    ("PREFIX e: <http://a/> SELECT * { ?s ?p ?o FILTER(?o<2)SERVICE#>\ne:x { ?s ?p ?o } }",
     {"http://a/x"}),
    ("SELECT * { \\u0053ERVICE <http://a/sparql> { ?s ?p ?o } }", {"http://a/sparql"}),
    # the words inside IRIs and strings fetch nothing
    ("SELECT * { ?s <http://example.org/service> ?o ; <http://e/load/x> 'SERVICE <http://a/>' }",
     set()),
    ("PREFIX ep: <http://allowed/> SELECT * { SERVICE ep:sparql { ?s ?p ?o } }",
     {"http://allowed/sparql"}),
])
def test_what_service_fetches_is_read_every_way_pyoxigraph_might(query: str,
                                                                  fetched: set[str]) -> None:
    assert set(outline(query).fetched) == fetched


def test_brackets_a_lexer_takes_for_an_iri_still_count() -> None:
    hidden = "ASK { FILTER(?a<" + "(" * 300 + "1" + ")" * 300 + "#>\n) }"
    assert "nests brackets" in (outline(hidden).problem or "")
    many_iris = "SELECT * { VALUES ?x { " + "<http://e/a/b/c/d> " * 3000 + "} }"
    assert outline(many_iris).problem is None, "an IRI's slashes are no operators"


def _quoted(depth: int, open_: str = "<< ", close: str = " >>") -> str:
    inner = "?s ?p ?o"
    for _ in range(depth):
        inner = f"{open_}{inner} ?p ?o{close}"
    return inner


@pytest.mark.parametrize("spaced", [True, False])
def test_rdf_star_quoted_triples_count_toward_the_nesting_limit(spaced: bool) -> None:
    """Each ``<<`` nests like a bracket in pyoxigraph's parser (and costs time to plan: 100
    levels took 2 s, 200 levels 30 s with pyoxigraph 0.5.13)."""
    opener, closer = ("<< ", " >>") if spaced else ("<<", ">>")
    deep = "SELECT * WHERE { " + _quoted(300, opener, closer) + " ?p ?o }"
    assert "nests brackets" in (outline(deep).problem or "")
    shallow = "SELECT * WHERE { " + _quoted(20, opener, closer) + " ?p ?o }"
    assert outline(shallow).problem is None


def test_a_triple_term_counts_once() -> None:
    """``<<(`` is one level (the parenthesis), not two."""
    inner = "?o"
    for _ in range(200):
        inner = f"<<( ?s ?p {inner} )>>"
    assert outline("SELECT * WHERE { ?s ?p " + inner + " }").problem is None
    for _ in range(100):
        inner = f"<<( ?s ?p {inner} )>>"
    assert "nests brackets" in (outline("SELECT * WHERE { ?s ?p " + inner + " }").problem or "")
