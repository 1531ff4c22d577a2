"""A parsed SPARQL query's answer (status, headers, body), without Flask's request context.

Two callers answer queries: the ``/sparql`` view (``server.views.sparql``) for every kind of
query request, and ``server.http.fast_get`` for a plain GET, which it answers without building
Flask's request and response objects. Both go through :func:`answer`, so the two give the
same response; the app-level things a query needs (settings, store, the endpoint's URL, how to
run under the worker's watchdog) come in as a :class:`Served`, which each caller makes from
what it has at hand.

The steps are the protocol's (https://www.w3.org/TR/sparql11-protocol/#query-operation):
choose a format -> tag the store's version (a conditional request may end here, 304) ->
execute -> serialise.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from server.config import Settings
from server.errors import BadRequest, NotAcceptable
from server.http.answer_cache import AnswerCache, Claim, Entry
from server.http.conditional import etag_matches
from server.http.context import WATCHDOG_KEY
from server.http.negotiation import negotiate
from server.http.protocol import SparqlRequest
from server.rdf.formats import GRAPH_TYPES, SELECT_TYPES, content_type
from server.rdf.store import StoreReader
from server.sparql import execute, results
from server.sparql import text as sparql_text
from server.sparql.backend import RemoteReader
from server.sparql.deadline import Runner, with_deadline

#: The endpoint's path: its route, and its label in metrics and the access log.
ENDPOINT_PATH = "/sparql"
#: Response headers that say an answer was cut at the row limit.
TRUNCATED_HEADERS = ("K2D3-Truncated", "X-Result-Truncated")


@dataclass(frozen=True)
class Served:
    """What answering a query needs from the app and the request around it."""

    settings: Settings
    reader: StoreReader | RemoteReader
    endpoint: str
    """The endpoint's absolute URL: the base IRI of the query."""
    runner_for: Callable[[float], Runner]
    """The runner that enforces a deadline of so many seconds (see :func:`runner_for`)."""
    strict_federation: bool
    """See ``server.sparql.federation.check_federation``."""
    cache: AnswerCache | None = None
    """Answers kept by the store's version (``server.http.answer_cache``); None: off."""
    time_left: Callable[[float], float] = float
    """Seconds the request may wait before its work once its limit is so many seconds (see
    ``server.http.context.time_left``); by default, all of them."""


@dataclass(frozen=True)
class Answer:
    """A response: its status, headers (Content-Type among them) and body chunks."""

    status: int
    headers: list[tuple[str, str]]
    body: Iterable[bytes]


def endpoint_for(public_url: str | None, scheme: str, host: str) -> str:
    """The endpoint's absolute URL: ``public_url`` when configured, else the request's own."""
    return (public_url or f"{scheme}://{host}").rstrip("/") + ENDPOINT_PATH


def timeout_for(req: SparqlRequest, settings: Settings) -> float:
    """The request's time limit: its ``timeout=`` or the default, never above the maximum."""
    wanted = req.timeout if req.timeout is not None else settings.query_timeout
    return min(wanted, settings.max_query_timeout)


def etag_for(req: SparqlRequest, media_type: str, timeout: float, version: str) -> str:
    """A weak tag for this query's answer as of the store's ``version``.

    Weak, because answers under one tag are equivalent, not always equal byte for byte: the
    order of solutions a query does not order may differ between processes (named graphs in
    an in-memory copy), and CONSTRUCT mints new blank nodes on every run.
    """
    key = "\x00".join([req.text, *req.default_graphs, "|", *req.named_graphs, media_type,
                       f"{timeout:g}"])
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
    return f'W/"{version}-{digest}"'


def answer(req: SparqlRequest, accept: str | None, if_none_match: str | None,
           served: Served) -> Answer:
    """Answer the query ``req`` for a client that sent these ``Accept`` and ``If-None-Match``.

    Raises:
        BadRequest: the text is refused before parsing (``sparql_text.outline``'s problem).
        NotAcceptable: no format for this kind of query fits ``accept`` / ``format=``.
        And whatever ``execute.run_query`` raises.
    """
    s = served.settings
    shape = sparql_text.outline(req.text)
    if shape.problem:
        raise BadRequest(shape.problem)
    offered = GRAPH_TYPES if shape.form in {"CONSTRUCT", "DESCRIBE"} else SELECT_TYPES
    media_type = negotiate(accept, req.format, offered)
    if media_type is None:
        raise NotAcceptable(f"none of {', '.join(offered)} is acceptable to this client")
    timeout = timeout_for(req, s)
    store, version = served.reader.snapshot()
    etag = etag_for(req, media_type, timeout, version)
    if etag_matches(if_none_match, etag):
        return Answer(304, [("ETag", etag), ("Vary", "Accept")], [])
    cache = served.cache if cacheable(shape.keywords) else None
    claim = None
    if cache is not None:
        kept, claim = cache.lookup(etag, served.time_left(timeout))  # waits while another
        # computes it, at most the request's time left
        if kept is not None:
            return Answer(200, [*kept.headers, ("Server-Timing", "cache;desc=hit")],
                          kept.chunks())
    try:
        return _computed(req, accept, served, store, media_type, etag, timeout, claim)
    except BaseException:
        if claim is not None:
            claim.done()
        raise


def _computed(req: SparqlRequest, accept: str | None, served: Served, store: Any,
              media_type: str, etag: str, timeout: float, claim: Claim | None) -> Answer:
    """The query's answer from the engine (kept under ``claim`` when there is one)."""
    limits = execute.Limits.of(served.settings, timeout_s=timeout,
                               runner=served.runner_for(timeout),
                               strict_federation=served.strict_federation)
    result = execute.run_query(
        store, req.text, limits,
        default_graph=list(req.default_graphs) if req.names_dataset else None,
        named_graphs=list(req.named_graphs) if req.names_dataset else None,
        base_iri=served.endpoint, media_type=media_type)
    media_type = _for_kind(result.kind, media_type, accept, req.format)
    headers = [("Content-Type", content_type(media_type, graph=result.kind == "graph")),
               ("ETag", etag), ("Vary", "Accept"), ("Cache-Control", "no-cache")]
    if result.truncated:
        headers += [(name, "true") for name in TRUNCATED_HEADERS]
    body = results.serialize(result, media_type)
    if claim is not None:
        body = _kept(body, claim, tuple(headers), result.elapsed_ms)
    timing = ("Server-Timing", f"query;dur={result.elapsed_ms:.2f}")
    return Answer(200, [*headers, timing], body)


def _kept(chunks: Iterable[bytes], claim: Claim, headers: tuple[tuple[str, str], ...],
          elapsed_ms: float) -> Iterable[bytes]:
    """``chunks`` as they are, kept under ``claim`` once all are written: a whole answer at
    once, a streamed one as it goes (see :class:`_Tee`)."""
    if isinstance(chunks, list):
        body = b"".join(chunks)
        claim.done(Entry(headers, body), len(body), elapsed_ms)
        return chunks
    return _Tee(chunks, claim, headers, elapsed_ms)


class _Tee:
    """A streamed answer passed on and kept as it goes (``answer_cache.Keeper``).

    Its waiters are let go (to compute it themselves) when it is too large to keep, or when
    the client reads it slowly (longer than the query took, plus a second); a client that
    leaves mid-way keeps nothing. ``close`` (called by the WSGI server even on a body never
    iterated: a HEAD, an error) stops the producer and lets the waiters go.
    """

    def __init__(self, chunks: Iterable[bytes], claim: Claim,
                 headers: tuple[tuple[str, str], ...], elapsed_ms: float) -> None:
        self._chunks, self._claim = chunks, claim
        self._keeper = claim.keeper(headers, elapsed_ms)
        self._elapsed_ms = elapsed_ms

    def __iter__(self) -> Iterator[bytes]:
        claim, keeper = self._claim, self._keeper
        patience = time.monotonic() + 1 + self._elapsed_ms / 1000
        for chunk in self._chunks:
            keeper.add(chunk)
            if claim.leads and time.monotonic() > patience:
                claim.let_go()
            yield chunk
        keeper.finish()

    def close(self) -> None:
        """Stop the producer (a client that leaves) and let the waiters go."""
        try:
            close = getattr(self._chunks, "close", None)
            if close is not None:
                close()
        finally:
            self._keeper.abort()


#: Functions whose value changes from one evaluation to the next, and federation, whose data
#: is not the store's: a query that uses one is never answered from the cache.
UNCACHEABLE = frozenset({"RAND", "NOW", "UUID", "STRUUID", "BNODE", "SERVICE"})


def cacheable(keywords: frozenset[str]) -> bool:
    """Whether a query with these keywords may be answered from the cache."""
    return not keywords & UNCACHEABLE


def _for_kind(kind: str, media_type: str, accept: str | None, format_param: str | None) -> str:
    """The format chosen before execution, or another when the result's kind needs one (the
    lexer's reading of the query form can differ from pyoxigraph's)."""
    offered = GRAPH_TYPES if kind == "graph" else SELECT_TYPES
    if media_type in offered:
        return media_type
    chosen = negotiate(accept, format_param, offered)
    if chosen is None:
        raise NotAcceptable("no acceptable format for this kind of result")
    return chosen


def runner_for(app: Any, environ: dict[str, Any], timeout: float) -> Runner:
    """How to run a query of this request: under gunicorn, in the request's own thread under
    its time limit and the bound on heavy queries (``server.sparql.watchdog``); elsewhere in a
    thread of its own (``server.sparql.deadline``). ``timeout`` is passed again when the runner is
    called."""
    watchdog = app.extensions.get(WATCHDOG_KEY)
    if watchdog is None or "gunicorn.socket" not in environ:
        return with_deadline
    runner: Runner = watchdog.evaluate
    return runner
