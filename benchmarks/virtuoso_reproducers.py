#!/usr/bin/env python3
"""Minimal reproducers of each way Virtuoso 7.2.5 answers k2d3's canned queries differently.

Each case is a few triples (in a graph of its own), one query, and the answer SPARQL 1.1
gives, written by hand from the data (``None`` where the recommendation leaves room and the
engines read it differently). The script loads every case into a new Virtuoso (Debian's
``virtuoso-opensource``, started on loopback under a temporary folder), asks each query in the
session that created the database and again after a restart, asks pyoxigraph (in memory, the
union of the graphs as default graph, as k2d3 serves it), and prints a table. The findings
and the rewrites that avoid them are in ``benchmarks/RESULTS.md``.

    python benchmarks/virtuoso_reproducers.py [--json OUT.json] [--article STORE/dumps/*/k2d3.nq.gz]
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import shutil
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

sys.path.insert(0, str(Path(__file__).resolve().parent))

import answers  # noqa: E402
from pyoxigraph import (  # noqa: E402
    NamedNode,
    Quad,
    QueryResultsFormat,
    RdfFormat,
    Store,
    parse,
    parse_query_results,
    serialize,
)
from virtuoso import Virtuoso, ensure_installed  # noqa: E402

EX = "http://example.org/repro/"
PREFIXES = ("PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
            "PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>\n")
TRUE = '"true"^^<http://www.w3.org/2001/XMLSchema#boolean>'
ONE = '"1"^^<http://www.w3.org/2001/XMLSchema#integer>'


@dataclass(frozen=True)
class Case:
    """One reproducer: its data (Turtle, ``ex:`` prefix), query and the answer by hand.

    ``ex:`` is a namespace of the case's own, so that cases do not see each other's data
    through the union default graph; ``ex:NAME`` in ``expected`` stands for its IRI.
    """

    name: str
    cause: str
    data: str
    query: str
    #: rows as {variable: N-Triples term}; None: the recommendation allows both readings.
    expected: list[dict[str, str]] | None
    #: a second graph for the dataset cases (the same prefixes)
    more_data: str = ""
    #: parse Virtuoso's answer as sent (``answers`` rewrites its blank node labels)
    raw: bool = False

    @property
    def ns(self) -> str:
        return f"{EX}{self.name}/"

    @property
    def text(self) -> str:
        return f"PREFIX ex: <{self.ns}>\n{PREFIXES}{self.query}"

    def want(self) -> Counter[answers.Row] | None:
        """The expected rows with ``ex:`` expanded."""
        if self.expected is None:
            return None
        expand = re.compile(r"\bex:(\w+)")
        return Counter(tuple(sorted((k, expand.sub(lambda m: f"<{self.ns}{m[1]}>", v))
                                    for k, v in row.items())) for row in self.expected)


CASES = [
    Case("zero-length-path-counted-twice", "Virtuoso: an arbitrary-length path with both ends "
         "bound matches its zero-length path twice",
         "ex:A rdfs:subClassOf ex:B .",
         "SELECT ?ok WHERE { ex:A rdfs:subClassOf* ex:A BIND(1 AS ?ok) }", [{"ok": ONE}]),
    Case("answer-changes-across-restart", "Virtuoso: the same query on the same data answers "
         "differently after a restart (the plan of the path changes; on the article's data the "
         "first session finds nothing: --article)",
         "ex:c a ex:Claim ; ex:assertedBy ex:org ; ex:subject ex:s ; ex:predicate ex:r ; "
         "ex:object ex:o . ex:org a ex:Promoter . ex:Promoter rdfs:subClassOf ex:Agent .",
         "SELECT ?c WHERE { ?c a ex:Claim ; ex:assertedBy ?a ; ex:subject ?s ; ex:predicate ?r ;"
         " ex:object ?o . ?a a/rdfs:subClassOf* ex:Promoter }", [{"c": "ex:c"}]),
    Case("path-nodes-counted-per-path", "Virtuoso: ZeroOrMorePath gives a node once per path "
         "to it, not once (SPARQL 1.1 §18.4, ALP)",
         "ex:A rdfs:subClassOf ex:B , ex:C . ex:B rdfs:subClassOf ex:D . "
         "ex:C rdfs:subClassOf ex:D .",
         "SELECT ?x WHERE { ex:A rdfs:subClassOf* ?x }",
         [{"x": "ex:A"}, {"x": "ex:B"}, {"x": "ex:C"}, {"x": "ex:D"}]),
    Case("trailing-values-after-bind", "Virtuoso: a trailing VALUES is ignored when the WHERE "
         "has a BIND", "ex:a ex:p 1 . ex:b ex:p 2 .",
         'SELECT ?s ?o ?d WHERE { ?s ex:p ?o . BIND("x" AS ?d) } VALUES ?s { ex:a }',
         [{"s": "ex:a", "o": ONE, "d": '"x"'}]),
    Case("trailing-values-construct", "Virtuoso: a trailing VALUES after CONSTRUCT is refused "
         "(SP031 'BINDINGS is not supported at top level')", "ex:a ex:p 1 . ex:b ex:p 2 .",
         "CONSTRUCT { ?s ex:p ?o } WHERE { ?s ex:p ?o } VALUES ?s { ex:a }",
         [{"triple": f"ex:a ex:p {ONE}"}]),
    Case("exists-as-value", "Virtuoso: booleans are xsd:integer 0/1 (EXISTS, true, comparisons "
         "as values)", "ex:a ex:p 1 .",
         "SELECT ?b ?t WHERE { BIND(EXISTS { ex:a ex:p 1 } AS ?b) BIND(true AS ?t) }",
         [{"b": TRUE, "t": TRUE}]),
    Case("exists-as-value-cast", "rewrite: xsd:boolean(EXISTS {...}) is a boolean on both",
         "ex:a ex:p 1 .", "SELECT ?b WHERE { BIND(xsd:boolean(EXISTS { ex:a ex:p 1 }) AS ?b) }",
         [{"b": TRUE}]),
    Case("group-concat-of-nothing", "GROUP_CONCAT over a group without values: \"\" in "
         "Virtuoso, unbound in pyoxigraph (ListEval keeps the error, §18.5.1)",
         "ex:a ex:p ex:b .",
         "SELECT ?s (GROUP_CONCAT(?x; separator=' ') AS ?c) WHERE { ?s ex:p ?o "
         "OPTIONAL { ?s ex:q ?x } } GROUP BY ?s", None),
    Case("group-concat-without-separator", "Virtuoso: GROUP_CONCAT without SEPARATOR fails "
         "(SR183 'Required argument DELIM')", 'ex:a ex:q "x" .',
         "SELECT (GROUP_CONCAT(?x) AS ?c) WHERE { ?s ex:q ?x }", [{"c": '"x"'}]),
    Case("optional-over-union-of-different-outer-variables", "Virtuoso: OPTIONAL { {A} UNION "
         "{B} } binds nothing when A and B join on different outer variables",
         "ex:c ex:factor ex:f ; ex:population ex:p . ex:f ex:exampleOf ex:e . "
         "ex:p ex:characteristic ex:h .",
         "SELECT ?f ?p ?b WHERE { ?c ex:factor ?f ; ex:population ?p . "
         "OPTIONAL { { ?f ex:exampleOf ?b } UNION { ?p ex:characteristic ?b } } }",
         [{"f": "ex:f", "p": "ex:p", "b": "ex:e"}, {"f": "ex:f", "p": "ex:p", "b": "ex:h"}]),
    Case("blank-node-labels", "Virtuoso labels blank nodes nodeID://b1 in SPARQL XML and JSON "
         "results, which pyoxigraph's result parsers refuse", "ex:a ex:p [] .",
         "SELECT ?o WHERE { ex:a ex:p ?o }", [{"o": "_:b"}], raw=True),
    Case("default-graph-is-every-graph", "dataset: without FROM, Virtuoso's default graph is "
         "every graph it holds, its own system graphs too", "ex:a ex:p ex:b .",
         "SELECT ?class WHERE { ?s a ?class . FILTER(STRSTARTS(STR(?class), "
         "'http://www.openlinksw.com/')) } LIMIT 1", []),
    Case("union-default-graph-is-a-set", "dataset: a triple in two graphs is one triple of an "
         "RDF merge; both engines count it once per graph", "ex:a ex:p ex:b .",
         "SELECT ?o WHERE { ex:a ex:p ?o }", [{"o": "ex:b"}], more_data="ex:a ex:p ex:b ."),
]


def quads(case: Case) -> list[Quad]:
    """The case's data as quads in ``ex:NAME`` (and ``ex:NAME-2`` for ``more_data``)."""
    out = []
    for suffix, text in (("", case.data), ("-2", case.more_data)):
        if text:
            graph = NamedNode(f"{case.ns}graph{suffix}")
            turtle = (f"@prefix ex: <{case.ns}> . @prefix rdfs: "
                      f"<http://www.w3.org/2000/01/rdf-schema#> . {text}")
            out += [Quad(t.subject, t.predicate, t.object, graph)
                    for t in parse(turtle, RdfFormat.TURTLE)]
    return out


def kind(query: str) -> str:
    return "construct" if query.lstrip().upper().startswith("CONSTRUCT") else "select"


def verdict(got: Counter[answers.Row] | None, case: Case) -> str:
    """``N rows, as expected`` or ``N rows, WRONG: ...`` (the answer, abbreviated)."""
    if got is None:
        return "error"
    rows = sum(got.values())
    shown = "; ".join(f"{n}x {dict(r)}" for r, n in got.items()).replace(case.ns, "ex:")
    want = case.want()
    if want is None:
        return f"{rows} rows: {shown[:100]}"
    return f"{rows} rows, as expected" if got == want else f"{rows} rows, WRONG: {shown[:100]}"


def ask_virtuoso(server: Virtuoso, case: Case) -> tuple[Counter[answers.Row] | None, str]:
    accept = "text/turtle" if kind(case.query) == "construct" else "application/sparql-results+xml"
    status, body, _ = server.query(case.text, accept)
    if status != 200:
        return None, body.decode("utf-8", "replace").strip().splitlines()[0][:120]
    if case.raw:
        try:
            return answers.from_solutions(parse_query_results(body, QueryResultsFormat.XML)), ""
        except SyntaxError as error:
            return None, f"pyoxigraph cannot parse the answer: {error}"
    return answers.from_document(body, kind(case.query)), ""


def ask_oxigraph(store: Store, case: Case) -> Counter[answers.Row]:
    result = store.query(case.text, use_default_graph_as_union=True)
    if kind(case.query) == "construct":
        return answers.from_triples(result)
    return answers.from_solutions(result)


#: Reproducers that need the article's graph (the plans that go wrong depend on its
#: statistics): name -> query. ``first-session``: the shape of ``marketing-claims.rq`` cut
#: down, 0 rows in the session that created the database (openlink/virtuoso-opensource#929).
#: ``optional-after-union``: the shape of ``vitamin-d-role.rq``; the claim on calcium
#: absorption loses its direction on Virtuoso.
ARTICLE_QUERIES = {
    "first-session": """PREFIX k2d3: <https://w3id.org/k2d3/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?claim ?assertedBy WHERE {
  ?claim a k2d3:Claim ; k2d3:assertedBy ?assertedBy ; k2d3:subject ?subject ;
         k2d3:predicate ?relation ; k2d3:object ?object .
  ?assertedBy a/rdfs:subClassOf* k2d3:CommercialPromoter .
}""",
    "optional-after-union": """PREFIX k2d3: <https://w3id.org/k2d3/ontology#>
SELECT ?claim ?direction ?population WHERE {
  ?claim k2d3:subject ?subject .
  { ?subject a k2d3:VitaminD3 } UNION { ?subject k2d3:deficiencyOf ?vitamin }
  OPTIONAL { ?claim k2d3:direction ?direction }
  OPTIONAL { ?claim k2d3:population ?population }
}""",
}


def article_sessions(dump: Path, tmp: Path) -> dict[str, dict[str, str]]:
    """:data:`ARTICLE_QUERIES` on pyoxigraph and on a new Virtuoso loaded with ``dump``."""
    store = Store()
    with gzip.open(dump) as stream:  # pyoxigraph reads no gzip by itself
        store.bulk_load(cast(IO[bytes], stream), RdfFormat.N_QUADS)
    out: dict[str, dict[str, str]] = {}
    for name, query in ARTICLE_QUERIES.items():
        want = answers.from_solutions(store.query(query, use_default_graph_as_union=True))
        out[name] = {"pyoxigraph": f"{sum(want.values())} rows", "want": want}  # type: ignore
    for session in ("first session", "after restart"):
        with Virtuoso.start(tmp / "article", data_dirs=[dump.parent], buffers=50_000) as server:
            if session == "first session":
                server.bulk_load([dump], "urn:unused")
            for name, query in ARTICLE_QUERIES.items():
                _, body, _ = server.query(query)
                got = answers.from_document(body, "select")
                same = "same as pyoxigraph" if got == out[name]["want"] else "DIFFERENT"
                out[name][session] = f"{sum(got.values())} rows, {same}"
    for row in out.values():
        del row["want"]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path)
    parser.add_argument("--article", type=Path, metavar="NQ_GZ",
                        help="also run ARTICLE_QUERIES on this dump (a store's dumps/*/k2d3.nq.gz)")
    args = parser.parse_args(argv)
    print(ensure_installed(), file=sys.stderr)
    store = Store()
    every = [q for case in CASES for q in quads(case)]
    store.extend(every)
    tmp = Path(tempfile.mkdtemp(prefix="k2d3-repro-"))
    data = tmp / "data" / "cases.nq"
    data.parent.mkdir()
    serialize(every, str(data), RdfFormat.N_QUADS)
    report: dict[str, dict[str, Any]] = {c.name: {"cause": c.cause, "query": c.query,
                                                  "oxigraph": verdict(ask_oxigraph(store, c), c)}
                                         for c in CASES}
    try:
        for session in ("first session", "after restart"):
            with Virtuoso.start(tmp / "db", data_dirs=[data.parent], buffers=20_000) as server:
                if session == "first session":
                    server.bulk_load([data], "urn:unused")
                for case in CASES:
                    got, error = ask_virtuoso(server, case)
                    report[case.name][session] = error or verdict(got, case)
        if args.article:
            for name, row in article_sessions(args.article, tmp).items():
                report["article: " + name] = {"cause": "", "query": ARTICLE_QUERIES[name],
                                              "oxigraph": row["pyoxigraph"], **row}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("| case | pyoxigraph | Virtuoso, first session | Virtuoso, after restart |")
    print("|---|---|---|---|")
    for name, row in report.items():
        print(f"| {name} | {row['oxigraph']} | {row['first session']} | {row['after restart']} |")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
