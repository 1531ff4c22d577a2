"""Run SPARQL with limits (time, rows, federation) and serialise results with pyoxigraph.

``Store.query`` has no timeout or cancel but releases the GIL while it works. By default
:func:`run_query` evaluates in a daemon thread and waits at most ``timeout_s``; past it, it
raises :class:`~server.errors.QueryTimeout` and the thread is abandoned (the Flask test client,
``--debug``). Under gunicorn the views pass the worker's runner instead
(``query_answer.runner_for``): the query runs in the request's own thread under the request's
time limit, kept by one watchdog thread per process (``server.sparql.watchdog``), which also bounds
heavy queries (``server.sparql.admission``: each query goes with a key of its text and dataset).
Freeing the core of a runaway query is the server's job (``server.serving.serve`` retires the worker
process that owns the thread; see its docstring).

SELECT solutions are written by pyoxigraph's own TSV serializer into a writer that keeps at most
``max_rows`` rows and stops the evaluation past them (``truncated`` says so); the TSV is
lossless (its terms are N-Triples), so any other results format is pyoxigraph re-serialising it,
and Python never builds row objects unless a caller reads ``rows``. ``SERVICE`` / ``LOAD`` are
refused before pyoxigraph sees them unless their address is allow-listed, because pyoxigraph
would fetch it itself; an allow-listed ``SERVICE`` that fails is a 502 naming its address.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import IO, Any, cast

from pyoxigraph import (
    DefaultGraph,
    NamedNode,
    QueryBoolean,
    QueryResultsFormat,
    QuerySolutions,
    QueryTriples,
    RdfFormat,
    Store,
    Triple,
    Variable,
)

from server.config import Settings
from server.errors import (
    BadGateway,
    FederationRefused,
    K2D3Error,
    QuerySyntaxError,
    refused_by_engine,
)
from server.rdf.formats import rdf_format, results_format
from server.rdf.iris import to_iri
from server.rdf.snapshots import is_disk_full
from server.sparql import text as sparql_text
from server.sparql.admission import query_key
from server.sparql.backend import RemoteStore
from server.sparql.deadline import Runner, with_deadline
from server.sparql.federation import FETCH_STOPPED, check_federation
from server.sparql.results import STREAM_ABOVE, QueryResult
from server.sparql.sandbox import is_network_refusal
from server.sparql.streaming import MarkCap, RowCap, RowCapFull

#: Graph formats with one triple a line, so a row cap can count them as pyoxigraph writes.
LINE_FORMATS = (RdfFormat.N_TRIPLES, RdfFormat.N_QUADS)
#: A byte every row of a results format has at least one of (see streaming.MarkCap).
ROW_MARKERS = {QueryResultsFormat.JSON: b"{", QueryResultsFormat.XML: b"<",
               QueryResultsFormat.CSV: b"\n", QueryResultsFormat.TSV: b"\n"}
#: A SELECT is written at once only if its LIMIT times this is within the row cap, so that
#: rows with up to this many markers (a JSON row has one ``{`` per bound variable, plus one)
#: stay within the guard that checks it.
DIRECT_MARKERS_PER_ROW = 10


class QueryFailed(K2D3Error):
    """The engine reported an error while evaluating (not a syntax error)."""

    status, title = 500, "Internal Server Error"


def names_dataset(text: str) -> bool:
    """Whether the query text has a ``FROM`` or ``FROM NAMED`` clause."""
    return "FROM" in sparql_text.outline(text).keywords


def _collect(answer: Any, max_rows: int) -> QueryResult:
    if isinstance(answer, QueryBoolean | bool):
        return QueryResult("ask", boolean=bool(answer))
    if isinstance(answer, QuerySolutions):
        cap = RowCap(max_rows)
        with contextlib.suppress(RowCapFull):
            answer.serialize(cast("IO[bytes]", cap), format=QueryResultsFormat.TSV)
        return QueryResult("select", [v.value for v in answer.variables], tsv=b"".join(cap.parts),
                           truncated=cap.truncated, row_count=max(cap.lines - 1, 0))
    triples: list[Triple] = []
    for triple in answer:
        if len(triples) >= max_rows:
            return QueryResult("graph", triples=triples, truncated=True)
        triples.append(triple)
    return QueryResult("graph", triples=triples)


@dataclass(frozen=True)
class Limits:
    """How queries run, set once and passed with each query: from the server's settings
    (:meth:`of`), with the request's runner and time limit, or a page's own bounds."""

    timeout_s: float
    max_rows: int
    union_default_graph: bool = True
    """Without FROM or a protocol dataset, the default graph is the union of all graphs."""
    federation_allow: Sequence[str] = ()
    """``SERVICE`` / ``LOAD`` addresses allowed (see :func:`check_federation`)."""
    strict_federation: bool = False
    runner: Runner = with_deadline
    """Enforces the deadline (see the module docstring)."""

    @classmethod
    def of(cls, settings: Settings, **changes: Any) -> Limits:
        """The server's limits (``K2D3_QUERY_TIMEOUT``, ``K2D3_MAX_ROWS``, ...), changed."""
        base = cls(settings.query_timeout, settings.max_rows, settings.union_default_graph,
                   tuple(settings.federation_allow))
        return replace(base, **changes)


def run_query(store: Store, query: str, limits: Limits, *,
              substitutions: dict[str, Any] | None = None,
              default_graph: list[str] | None = None, named_graphs: list[str] | None = None,
              base_iri: str | None = None, media_type: str | None = None) -> QueryResult:
    """Evaluate ``query`` on ``store`` within ``limits.timeout_s`` seconds, keeping
    ``limits.max_rows`` rows.

    ``default_graph`` / ``named_graphs`` (graph IRIs; ``""`` is the store's default graph) are
    the protocol's ``default-graph-uri`` / ``named-graph-uri`` and override FROM / FROM NAMED
    (https://www.w3.org/TR/sparql11-protocol/#dataset). Without either, and without FROM in
    the query, the default graph is the union of all graphs when ``limits`` say so.
    ``substitutions`` binds variables (name -> term) without touching the query text.

    ``media_type`` is the format the caller will ask :func:`serialize` for. Two answers are
    serialised in it at once (``result.body``) instead of going through Python: a SELECT whose
    own ``LIMIT`` keeps it well within the row limit, so needs no exact row cap, skips the TSV
    step (a count of bytes every row has one of still guards the cap; past it the query is run
    again through the TSV cap); and a CONSTRUCT or DESCRIBE in N-Triples or N-Quads, which are
    capped by counting lines as for TSV.

    Raises:
        QuerySyntaxError, FederationRefused, QueryTimeout, QueryFailed.
        iris.InvalidIri: a graph IRI is not an absolute IRI (400).
        BadGateway: an allow-listed ``SERVICE`` failed (502).
    """
    fetches = check_federation(query, limits.federation_allow, limits.strict_federation)
    kwargs = _dataset(query, default_graph, named_graphs, limits.union_default_graph,
                      substitutions)
    kwargs["base_iri"] = base_iri
    if isinstance(store, RemoteStore):  # the engine is asked with the request's time limit
        kwargs["timeout_s"] = limits.timeout_s
    max_rows = limits.max_rows
    direct = _direct_format(sparql_text.outline(query), media_type, max_rows)
    key = query_key(query, limits.union_default_graph, repr(default_graph), repr(named_graphs),
                    repr(substitutions) if substitutions else None)
    started = time.perf_counter()
    try:
        result: QueryResult = limits.runner(
            lambda: _evaluate(store, query, kwargs, direct, max_rows, media_type or ""),
            limits.timeout_s, key=key)
    except (SyntaxError, RuntimeError, OSError) as exc:
        raise _refusal(exc, fetches) from None
    result.elapsed_ms = (time.perf_counter() - started) * 1000
    if result.kind == "graph":  # written with the query's own prefixes, as Fuseki does
        result.prefixes = dict(sparql_text.outline(query).prefixes)
    return result


def _dataset(query: str, default_graph: list[str] | None, named_graphs: list[str] | None,
             union_default_graph: bool, substitutions: dict[str, Any] | None) -> dict[str, Any]:
    """``Store.query``'s keyword arguments for the dataset and the variables bound."""
    kwargs: dict[str, Any] = {}
    if default_graph is not None or named_graphs is not None:
        kwargs["default_graph"] = [_graph(g) for g in default_graph or []]
        kwargs["named_graphs"] = [to_iri(g, "named-graph-uri") for g in named_graphs or []]
    elif union_default_graph and not names_dataset(query):
        kwargs["use_default_graph_as_union"] = True
    if substitutions:
        kwargs["substitutions"] = {Variable(k): v for k, v in substitutions.items()}
    return kwargs


def _evaluate(store: Store, query: str, kwargs: dict[str, Any],
              direct: QueryResultsFormat | RdfFormat | None, max_rows: int,
              body_type: str) -> QueryResult:
    """Run the query (in the runner's thread) and collect its answer, serialised at once in
    ``direct`` where that is safe (see :func:`run_query`)."""
    answer = store.query(query, **kwargs)
    if isinstance(direct, QueryResultsFormat) and isinstance(answer, QuerySolutions):
        # The LIMIT comes from the server's own lexer, which a crafted text can mislead:
        # it only says when to try; the marker count guards the row cap for real.
        guard = MarkCap(ROW_MARKERS[direct], max_rows)
        with contextlib.suppress(RowCapFull):
            answer.serialize(cast("IO[bytes]", guard), format=direct)
        if not guard.full:
            return QueryResult("select", [v.value for v in answer.variables],
                               body=b"".join(guard.parts), body_type=body_type)
        answer = store.query(query, **kwargs)  # more than the LIMIT said: cap it as TSV
    if isinstance(direct, RdfFormat) and isinstance(answer, QueryTriples):
        cap = RowCap(max_rows, header_lines=0)
        with contextlib.suppress(RowCapFull):
            answer.serialize(cast("IO[bytes]", cap), format=direct)
        return QueryResult("graph", truncated=cap.truncated, body=b"".join(cap.parts),
                           body_type=body_type)
    return _collect(answer, max_rows)


def _refusal(exc: Exception, fetches: Sequence[str]) -> Exception:
    """What a failure of the store's evaluation is answered with (``exc`` itself for a bug)."""
    if isinstance(exc, SyntaxError):
        return QuerySyntaxError(str(exc))
    if isinstance(exc, RuntimeError):
        refusal = refused_by_engine(exc)
        return exc if refusal is None else refusal
    if fetches:  # pyoxigraph reports a remote's failure (refused, 5xx, bad body) as OSError
        names = ", ".join(f"<{iri}>" for iri in dict.fromkeys(fetches))
        return BadGateway(f"a SERVICE endpoint this query calls ({names}) failed: "
                          f"{_one_line(exc)}")
    if isinstance(exc, OSError) and is_network_refusal(exc):  # a fetch the text check missed
        return FederationRefused(FETCH_STOPPED)
    return QueryFailed(f"query evaluation failed: {exc}")


def _direct_format(shape: sparql_text.Outline, media_type: str | None,
                   max_rows: int) -> QueryResultsFormat | RdfFormat | None:
    """The format to serialise an answer in at once (see :func:`run_query`), if any."""
    if media_type is None:
        return None
    if shape.form in {"CONSTRUCT", "DESCRIBE"}:
        graph_fmt = rdf_format(media_type)
        return graph_fmt if graph_fmt in LINE_FORMATS else None
    if shape.form != "SELECT" or shape.limit is None:
        return None
    if shape.limit * DIRECT_MARKERS_PER_ROW > max_rows or shape.limit > STREAM_ABOVE:
        return None
    fmt = results_format(media_type)
    return fmt if fmt in ROW_MARKERS else None


def run_update(store: Store, update: str, limits: Limits | None = None, *,
               base_iri: str | None = None) -> None:
    """Apply a SPARQL Update to a read-write ``store`` (one transaction).

    With ``limits``, their runner enforces their time limit as for queries (under gunicorn the
    worker then retires) and their federation policy applies; without, no time limit and no
    ``SERVICE`` / ``LOAD`` at all. ``store`` is ``store.writer``'s copy, published only if this
    returns, so an update answered 503 is never applied; the writer lock is freed either way
    (by the exception, or with the retiring worker), so a heavy ``WHERE`` cannot block every
    other writer and the build for ever.

    Raises:
        QuerySyntaxError, FederationRefused, QueryFailed, QueryTimeout.
    """
    if limits is None:
        check_federation(update, (), False)
    else:
        check_federation(update, limits.federation_allow, limits.strict_federation)
    text = _lenient_clear(update)
    try:
        if limits is None:
            store.update(text, base_iri=base_iri)
        else:
            limits.runner(lambda: store.update(text, base_iri=base_iri), limits.timeout_s,
                          writes=True)
    except SyntaxError as exc:
        raise QuerySyntaxError(str(exc), kind="update") from None
    except OSError as exc:
        if is_network_refusal(exc):
            raise FederationRefused(FETCH_STOPPED) from None
        if is_disk_full(exc):
            raise  # not the update's fault: ``store.writer`` makes it a StoreFull (507)
        raise K2D3Error(f"update failed: {exc}", status=400) from None
    except RuntimeError as exc:
        raise refused_by_engine(exc) or K2D3Error(f"update failed: {exc}", status=400) from None


def _lenient_clear(update: str) -> str:
    """``CLEAR GRAPH <g>`` of a graph that does not exist succeeds, as in Fuseki and the W3C
    protocol test ``update_base_uri``; pyoxigraph fails it unless ``SILENT``, so add it."""
    toks = sparql_text.tokens(update)
    spots = [t.start + len(t.text) for i, t in enumerate(toks[:-1])
             if t.kind == "word" and t.text.upper() == "CLEAR"
             and toks[i + 1].text.upper() != "SILENT"]
    for end in reversed(spots):
        update = update[:end] + " SILENT" + update[end:]
    return update


def _graph(iri: str) -> NamedNode | DefaultGraph:
    return DefaultGraph() if iri == "" else to_iri(iri, "default-graph-uri")


def _one_line(exc: Exception, limit: int = 300) -> str:
    """An engine message on one line, cut to ``limit`` characters (it may quote a remote's
    whole error page)."""
    line = " ".join(str(exc).split()) or type(exc).__name__
    return line if len(line) <= limit else line[:limit] + "…"
