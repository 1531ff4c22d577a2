"""A remote SPARQL 1.1 engine in the place of the embedded store (``k2d3 serve --backend``).

k2d3's views, pages and executor read the store through a small part of pyoxigraph's ``Store``:
``query`` (with ``use_default_graph_as_union``, ``default_graph``, ``named_graphs``,
``substitutions`` and ``base_iri``), ``quads_for_pattern``, ``named_graphs`` and
``contains_named_graph``. :class:`RemoteStore` offers that part over the SPARQL 1.1 Protocol
(``server.sparql.remote``), and answers with pyoxigraph's own objects, parsed by pyoxigraph
from the engine's answer: ``QuerySolutions`` (a ``bool`` for ``ASK``) from SPARQL XML results
(the one results format every engine writes; Virtuoso 7.2 answers ``ASK`` in JSON as a ``SELECT`` of
``__ASK_RETVAL``), and a list of ``Triple`` from N-Triples or Turtle. So nothing above this
module knows whether its store is local. :class:`RemoteReader` stands for
``server.rdf.store.StoreReader``.

What differs from the embedded store, and why:

- **Variables bound by ``substitutions``** (pyoxigraph's SEP-0007) are written as a ``VALUES``
  block opening the query's outermost ``WHERE`` group, the form other engines evaluate
  (Virtuoso 7.2.5 ignores a trailing ``VALUES`` after a ``BIND``); k2d3's queries project every
  variable they take, where the two agree.
- **The default graph** is the engine's: Virtuoso and QLever query the union of their graphs
  without ``FROM``, as k2d3 does; Fuseki does with ``tdb2:unionDefaultGraph true``. The
  protocol's ``default-graph-uri`` / ``named-graph-uri`` are passed on.
- **``base_iri``** and **``prefixes``** are written as ``BASE`` and ``PREFIX`` lines in front
  of the query.
- **The version** (for ETags and caches) cannot be read from an engine: it is a counter of
  this process's own writes and a clock that moves every ``ttl_s`` seconds, so an answer can
  be cached or revalidated for at most that long after anyone else (another client of the
  engine, or another worker process of this server) changes the engine's data.
- **Time limits**: the engine is asked with the request's time limit as the HTTP timeout, so
  a slow engine is a 504 naming it, not a stuck thread.
- **Writes** go to the engine's update URL (``--backend-update``); without one the server is
  read-only and says so (``BackendReadOnly``).
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from pyoxigraph import (
    DefaultGraph,
    NamedNode,
    Quad,
    QueryBoolean,
    QueryResultsFormat,
    QuerySolutions,
    RdfFormat,
    Triple,
    Variable,
    parse,
    parse_query_results,
)

from server.errors import K2D3Error
from server.sparql import text as sparql_text
from server.sparql.remote import RemoteEndpoint, RemoteUnavailable

RESULTS_ACCEPT = ("application/sparql-results+xml, application/sparql-results+json;q=0.9, "
                  "text/tab-separated-values;q=0.8")
GRAPH_ACCEPT = "application/n-triples, text/turtle;q=0.9, application/rdf+xml;q=0.5"
#: Graph media types some engines write for N-Triples.
_NTRIPLES_ALIASES = {"text/plain", "text/ntriples", "text/x-nt"}
#: The variable Virtuoso 7.2 answers an ``ASK`` with in SPARQL JSON.
_ASK_VARIABLE = "__ASK_RETVAL"


class BackendReadOnly(K2D3Error):
    """A write to a remote engine that was given no URL to write to."""

    status, title = 405, "Method Not Allowed"


def bind_inline(text: str, substitutions: dict[Variable, Any]) -> str:
    """``text`` with ``substitutions`` as ``VALUES ?v { term }`` opening its outermost ``WHERE``
    group (the first ``{`` at depth 0 after ``WHERE``, else after the query form for ``SELECT``
    and ``ASK``, whose ``WHERE`` is optional). Tokens come from the endpoint's lexer, so a
    ``WHERE`` in a string or a comment is not taken for one.

    Raises:
        ValueError: no group to open (a ``CONSTRUCT`` template without ``WHERE``).
    """
    if not substitutions:
        return text
    toks = sparql_text.tokens(text)
    words = [i for i, t in enumerate(toks) if t.depth == 0 and t.kind == "word"
             and t.text.upper() == "WHERE"]
    start = words[0] if words else next(
        (i for i, t in enumerate(toks) if t.depth == 0 and t.kind == "word"
         and t.text.upper() in {"SELECT", "ASK"}), None)
    brace = None if start is None else next(
        (t for t in toks[start:] if t.text == "{" and t.depth == 0), None)
    if brace is None:
        raise ValueError("the query has no WHERE group to bind its variables in")
    block = " ".join(f"VALUES ?{var.value} {{ {term} }}" for var, term in substitutions.items())
    cut = brace.start + 1
    return f"{text[:cut]} {block}\n{text[cut:]}"


def _term(node: Any) -> str:
    return "" if node is None else str(node)


class RemoteStore:
    """The read half of pyoxigraph's ``Store`` over a SPARQL 1.1 engine (module docstring)."""

    def __init__(self, endpoint: RemoteEndpoint) -> None:
        self.endpoint = endpoint

    def query(self, text: str, *, use_default_graph_as_union: bool = False,
              default_graph: Any = None, named_graphs: Sequence[NamedNode] | None = None,
              substitutions: dict[Variable, Any] | None = None, base_iri: str | None = None,
              prefixes: dict[str, str] | None = None, timeout_s: float | None = None) -> Any:
        """Ask the engine; answer as ``Store.query`` does (``use_default_graph_as_union`` is
        the engine's own setting: see the module docstring).

        Raises:
            SyntaxError: the engine refused the query as malformed (its message).
            OSError: the engine failed; ``server.errors`` types pass through.
        """
        del use_default_graph_as_union  # the engine's default graph is its own
        form = sparql_text.outline(text).form or "SELECT"
        body = bind_inline(text, substitutions or {})
        declared = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in (prefixes or {}).items())
        if base_iri:
            declared = f"BASE <{base_iri}>\n{declared}"
        body = declared + body
        graphs = None if default_graph is None else [
            g.value for g in (default_graph if isinstance(default_graph, list) else [default_graph])
            if not isinstance(g, DefaultGraph)]
        named = None if named_graphs is None else [g.value for g in named_graphs]
        endpoint = self.endpoint
        if timeout_s is not None:
            endpoint = copy.copy(endpoint)
            endpoint.timeout_s = timeout_s
        graph_form = form in {"CONSTRUCT", "DESCRIBE"}
        data, media = endpoint.query(body, GRAPH_ACCEPT if graph_form else RESULTS_ACCEPT,
                                     default_graph=graphs, named_graphs=named)
        media = media.split(";")[0].strip().lower()
        if graph_form:
            return list(_triples(data, media))
        return _results(data, media, form)

    def quads_for_pattern(self, subject: Any, predicate: Any, obj: Any,
                          graph_name: Any = None) -> list[Quad]:
        """The quads matching the pattern, from a ``SELECT`` (``None`` matches anything; a
        ``DefaultGraph`` is the engine's default graph)."""
        s, p, o = (_term(t) or f"?{v}" for t, v in ((subject, "s"), (predicate, "p"),
                                                     (obj, "o")))
        if isinstance(graph_name, DefaultGraph):
            pattern, g = f"{{ {s} {p} {o} }}", None
        else:
            g = _term(graph_name) or "?g"
            pattern = f"{{ GRAPH {g} {{ {s} {p} {o} }} }}"
        answer = self.query(f"SELECT * WHERE {pattern}")
        out = []
        for row in answer:
            where = DefaultGraph() if g is None else (graph_name or row["g"])
            out.append(Quad(subject or row["s"], predicate or row["p"], obj or row["o"], where))
        return out

    def named_graphs(self) -> list[NamedNode]:
        answer = self.query("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
        return [row["g"] for row in answer if isinstance(row["g"], NamedNode)]

    def contains_named_graph(self, graph: Any) -> bool:
        return isinstance(graph, NamedNode) and bool(
            self.query(f"ASK WHERE {{ GRAPH {graph} {{ ?s ?p ?o }} }}"))


def _results(data: bytes, media: str, form: str) -> Any:
    fmt = QueryResultsFormat.from_media_type(media)
    if fmt is None:
        raise RemoteUnavailable(f"the SPARQL engine answered a {form} with {media or 'no type'},"
                                " not SPARQL results")
    answer = parse_query_results(data, fmt)
    if (form == "ASK" and isinstance(answer, QuerySolutions)
            and [v.value for v in answer.variables] == [_ASK_VARIABLE]):
        rows = list(answer)
        return bool(rows) and str(rows[0][0].value) not in {"0", "false"}
    if isinstance(answer, QueryBoolean):
        return bool(answer)
    return answer


def _triples(data: bytes, media: str) -> Iterable[Triple]:
    fmt = RdfFormat.N_TRIPLES if media in _NTRIPLES_ALIASES else RdfFormat.from_media_type(media)
    if fmt is None:
        raise RemoteUnavailable(f"the SPARQL engine answered a graph query with "
                                f"{media or 'no type'}, not RDF")
    return (q.triple for q in parse(data, fmt))


class RemoteReader:
    """``StoreReader``'s interface over a remote engine: one :class:`RemoteStore`, and a
    version that moves with this process's writes and every ``ttl_s`` seconds."""

    copied = False

    def __init__(self, endpoint: RemoteEndpoint, ttl_s: float = 10.0) -> None:
        self.store = RemoteStore(endpoint)
        self.ttl_s = max(ttl_s, 0.001)
        self._writes = 0
        self._lock = threading.Lock()

    def version(self) -> str:
        return f"remote-{self._writes}-{int(time.time() // self.ttl_s)}"

    def get(self) -> Any:
        return self.store

    def snapshot(self) -> tuple[Any, str]:
        return self.store, self.version()

    def wrote(self) -> None:
        """Note a write through this server, so that answers cached before it are not used."""
        with self._lock:
            self._writes += 1


class RemoteWrite:
    """The write half of ``Store`` that the Graph Store and update views use, gathered into
    one SPARQL Update request sent when the ``with`` block ends (:func:`remote_writer`);
    reads go to the engine as they are."""

    def __init__(self, store: RemoteStore) -> None:
        self._store = store
        self.operations: list[str] = []

    def __getattr__(self, name: str) -> Any:  # reads: quads_for_pattern, contains_named_graph
        return getattr(self._store, name)

    def add_graph(self, graph: NamedNode) -> None:
        self.operations.append(f"CREATE SILENT GRAPH {graph}")

    def extend(self, quads: Iterable[Quad]) -> None:
        by_graph: dict[str, list[str]] = {}
        for q in quads:
            key = "" if isinstance(q.graph_name, DefaultGraph) else str(q.graph_name)
            by_graph.setdefault(key, []).append(f"{q.subject} {q.predicate} {q.object} .")
        for graph, lines in by_graph.items():
            triples = "\n".join(lines)
            inner = f"GRAPH {graph} {{\n{triples}\n}}" if graph else triples
            self.operations.append(f"INSERT DATA {{\n{inner}\n}}")

    def clear_graph(self, graph: Any) -> None:
        self.operations.append("CLEAR SILENT DEFAULT" if isinstance(graph, DefaultGraph)
                               else f"CLEAR SILENT GRAPH {graph}")

    def remove_graph(self, graph: NamedNode) -> None:
        self.operations.append(f"DROP SILENT GRAPH {graph}")

    def update(self, text: str, *, base_iri: str | None = None) -> None:
        self.operations.append(f"BASE <{base_iri}>\n{text}" if base_iri else text)


@contextmanager
def remote_writer(reader: RemoteReader,
                  before: Callable[[Any, str], None] | None = None) -> Iterator[Any]:
    """``server.rdf.store.writer`` for a remote engine: ``before`` checks the engine's data as
    it is, the block's writes go as one update request (each engine applies a request as
    one transaction or in order), and the version moves.

    Raises:
        BackendReadOnly: no update URL was given.
    """
    if not reader.store.endpoint.update_url:
        raise BackendReadOnly("this k2d3 serves a remote SPARQL engine without an update "
                              "URL: writes are off (give --backend-update URL to allow them)")
    if before is not None:
        before(reader.store, reader.version())
    write = RemoteWrite(reader.store)
    yield write
    if write.operations:
        reader.store.endpoint.update(" ;\n".join(write.operations))
    reader.wrote()
