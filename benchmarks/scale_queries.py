"""The queries of the scale comparison (``scale.py``) and how their answers are compared.

Two sets, each as ``name -> Query`` (the text k2d3 and the in-process floor get, and the text
Virtuoso gets):

- every canned query of ``queries/*.rq``, its defaults bound by a ``VALUES`` block opening its
  ``WHERE`` (``canned_text.py``). Where ``virtuoso_rewrites/NAME.rq`` exists, Virtuoso gets
  that rewrite instead (same answer on pyoxigraph; each file says what it changes and why),
  and the query is marked ``rewritten``;
- generic queries over the synthetic evidence graph (``generate_graph.py``): a lookup of one
  claim, a label search, a 3-hop join, a GROUP BY, an ORDER BY, a CONSTRUCT, and ``ASK {}``
  (the fixed cost of a request). They name only world-0 entities and copy 7, which exist at
  every size from 100k triples up.

Answers are compared as multisets (``answers.py``; ``GROUP_CONCAT`` cells with their pieces
sorted, since their order is undefined), from SPARQL JSON results or Turtle.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import answers
import canned_text
from pyoxigraph import QueryResultsFormat, RdfFormat, parse, parse_query_results

HERE = Path(__file__).resolve().parent
REWRITES = HERE / "virtuoso_rewrites"
PREFIXES = """PREFIX k2d3: <https://w3id.org/k2d3/ontology#>
PREFIX k2di: <https://w3id.org/k2d3/id/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""
GENERIC = {
    "ask-empty": "ASK {}",
    "lookup": "SELECT ?p ?o WHERE { k2di:claim-d3-k2-bmd-c7 ?p ?o }",
    "label-search": 'SELECT ?s ?label WHERE { ?s rdfs:label ?label '
                    'FILTER(CONTAINS(LCASE(STR(?label)), "bone mineral density [c7]")) }',
    "join-3-hop": "SELECT ?c ?el ?design WHERE { ?c k2d3:subject k2di:d3-k2-combination ; "
                  "k2d3:hasEvidenceLine ?el . ?el k2d3:studyDesign ?d . "
                  '?d rdfs:label ?design FILTER(LANG(?design) = "en") }',
    # k2d3's types only: Virtuoso's default graph also holds its own system graphs
    "group-by": "SELECT ?t (COUNT(?s) AS ?n) WHERE { ?s a ?t "
                'FILTER(STRSTARTS(STR(?t), "https://w3id.org/k2d3/")) } GROUP BY ?t',
    "order-by": "SELECT ?c ?label WHERE { ?c a k2d3:Claim ; rdfs:label ?label "
                'FILTER(LANG(?label) = "en") } ORDER BY ?label ?c LIMIT 20',
    "construct": "CONSTRUCT { ?c ?p ?o } WHERE { ?c k2d3:object k2di:osteocalcin ; ?p ?o }",
}
ACCEPT = {"select": "application/sparql-results+json", "ask": "application/sparql-results+json",
          "construct": "text/turtle", "describe": "text/turtle"}


@dataclass(frozen=True)
class Query:
    """One query of the comparison, as each side is sent it."""

    name: str
    kind: str
    text: str
    virtuoso_text: str
    rewritten: bool = False

    @property
    def accept(self) -> str:
        return ACCEPT[self.kind]


def _kind(text: str) -> str:
    head = text.lstrip().split(None, 1)[0].upper()
    return {"ASK": "ask", "CONSTRUCT": "construct", "DESCRIBE": "describe"}.get(head, "select")


def generic() -> dict[str, Query]:
    out = {}
    for name, body in GENERIC.items():
        text = body if body.startswith("ASK") else PREFIXES + body
        out[name] = Query(name, _kind(body), text, text)
    return out


def canned() -> dict[str, Query]:
    """Every canned query; Virtuoso's text from ``virtuoso_rewrites/`` where one exists."""
    out = {}
    for query in canned_text.catalogue():
        rewrite = REWRITES / f"{query.name}.rq"
        other = canned_text.parse(rewrite).inline_text if rewrite.exists() else None
        out["canned:" + query.name] = Query("canned:" + query.name, query.kind,
                                            query.inline_text, other or query.inline_text,
                                            rewritten=other is not None)
    return out


def catalogue(only: set[str] | None = None) -> dict[str, Query]:
    """Generic then canned queries, those named in ``only`` (short names) if given."""
    out = generic() | canned()
    return {k: v for k, v in out.items() if not only or k.split(":")[-1] in only}


def rows(body: bytes, kind: str, query_text: str) -> Counter[answers.Row]:
    """An HTTP answer (SPARQL JSON results, or Turtle) as a multiset of rows."""
    if kind in ("construct", "describe"):
        return answers.from_triples(parse(body, RdfFormat.TURTLE))
    if kind == "ask" and b'"__ASK_RETVAL"' in body:
        # Virtuoso 7.2.5 answers an ASK asked for JSON as a SELECT of 1 or 0
        truth = b'"value": "1"' in body
        return Counter({(("ask", str(truth).lower()),): 1})
    # Virtuoso labels blank nodes "nodeID://b1", not a valid blank node label
    body = body.replace(b'"nodeID://', b'"')
    solutions = parse_query_results(body, QueryResultsFormat.JSON)
    return answers.loosen(answers.from_solutions(solutions), answers.concat_columns(query_text))


def same_answer(k2d3: tuple[bytes, str], virtuoso: tuple[bytes, str],
                kind: str) -> tuple[bool, int, int]:
    """Whether two answers (body, query text) are the same multiset; their row counts."""
    try:
        left = rows(k2d3[0], kind, k2d3[1])
        right = rows(virtuoso[0], kind, virtuoso[1])
    except (SyntaxError, ValueError, OSError):
        return False, -1, -1
    return left == right, sum(left.values()), sum(right.values())
