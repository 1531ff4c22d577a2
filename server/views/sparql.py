"""``/sparql``: SPARQL 1.1 query and update, the service description, the editor; ``/metrics``.

Each handler reads as parse -> choose format -> execute -> render
(https://www.w3.org/TR/sparql11-protocol/). Every request is timed, counted and logged by
``server.envelope``; the views leave it the query's fingerprint.
"""

from __future__ import annotations

import hashlib
import time
from functools import partial
from typing import Any

from flask import Blueprint, Response, current_app, render_template, request

from .. import editor, execute, metrics, protocol, service_description, sparql_text
from ..context import reader, settings, strict_federation
from ..envelope import QUERY_HASH, STARTED
from ..errors import BadRequest, NotAcceptable, QueryTimeout, raw_error_response, send_and_close
from ..negotiation import GRAPH_TYPES, HTML, SELECT_TYPES, content_type, negotiate
from ..store import writer

bp = Blueprint("sparql", __name__)

TRUNCATED_HEADERS = ("K2D3-Truncated", "X-Result-Truncated")


def endpoint_url() -> str:
    """The endpoint's absolute URL (``public_url`` when configured, else the request's)."""
    # scheme and Host as sent: request.host_url would also convert them to IRI form, which
    # costs more than the rest of a small query's handling and changes no ASCII host.
    base = settings().public_url or f"{request.scheme}://{request.host}"
    return base.rstrip("/") + "/sparql"


@bp.route("/sparql", methods=["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"])
def endpoint() -> Response:
    """Answer a query, apply an update, or describe the service."""
    req = protocol.parse(request)
    if req.operation == "update":
        return _update(req)
    if req.operation == "description":
        return _description(req)
    return _query(req)


def _etag(req: protocol.SparqlRequest, media_type: str, timeout: float, version: str) -> str:
    key = "\x00".join([req.text, *req.default_graphs, "|", *req.named_graphs, media_type,
                       f"{timeout:g}"])
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
    return f'"{version}-{digest}"'


def _not_modified(etag: str) -> Response | None:
    if etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
        return Response(status=304, headers={"ETag": etag, "Vary": "Accept"})
    return None


def _timeout(req: protocol.SparqlRequest) -> float:
    """The request's time limit: its ``timeout=`` or the default, never above the maximum."""
    s = settings()
    wanted = req.timeout if req.timeout is not None else s.query_timeout
    return min(wanted, s.max_query_timeout)


def _answer_late(found: metrics.Metrics, env: dict[str, Any], timeout: float) -> None:
    """What the watchdog does for a request past its deadline: answer 503, count, log."""
    method, path = env.get("REQUEST_METHOD", "GET"), env.get("PATH_INFO", "/sparql")
    err = QueryTimeout(timeout)
    send_and_close(env["gunicorn.socket"],
                   raw_error_response(env.get("HTTP_ACCEPT"), err, head=method == "HEAD"))
    seconds = time.perf_counter() - env[STARTED]
    found.observe("/sparql", method, err.status, seconds, timed_out=True)
    metrics.log_access(method, "/sparql", path, err.status, seconds, env.get(QUERY_HASH))


def _runner(timeout: float) -> execute.Runner:
    """Under gunicorn, run in this thread under the worker's watchdog (see ``server.serve``)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    watchdog, environ = app.extensions.get("k2d3_watchdog"), request.environ
    if watchdog is None or "gunicorn.socket" not in environ:
        return execute.with_deadline
    late = partial(_answer_late, metrics.for_app(app), environ, timeout)
    return partial(watchdog.run, answer=late)


def _query(req: protocol.SparqlRequest) -> Response:
    s = settings()
    request.environ[QUERY_HASH] = metrics.query_hash(req.text)
    shape = sparql_text.outline(req.text)
    if shape.problem:
        raise BadRequest(shape.problem)
    offered = GRAPH_TYPES if shape.form in {"CONSTRUCT", "DESCRIBE"} else SELECT_TYPES
    media_type = negotiate(request.headers.get("Accept"), req.format, offered)
    if media_type is None:
        raise NotAcceptable(f"none of {', '.join(offered)} is acceptable to this client")
    timeout = _timeout(req)
    store, version = reader().snapshot()
    etag = _etag(req, media_type, timeout, version)
    cached = _not_modified(etag)
    if cached is not None:
        return cached
    result = execute.run_query(
        store, req.text, timeout_s=timeout, max_rows=s.max_rows,
        default_graph=list(req.default_graphs) if req.names_dataset else None,
        named_graphs=list(req.named_graphs) if req.names_dataset else None,
        union_default_graph=s.union_default_graph, federation_allow=s.federation_allow,
        base_iri=endpoint_url(), runner=_runner(timeout), media_type=media_type,
        strict_federation=strict_federation())
    if result.kind == "graph" and media_type not in GRAPH_TYPES:
        media_type = negotiate(request.headers.get("Accept"), req.format, GRAPH_TYPES) or ""
    elif result.kind != "graph" and media_type not in SELECT_TYPES:
        media_type = negotiate(request.headers.get("Accept"), req.format, SELECT_TYPES) or ""
    if not media_type:
        raise NotAcceptable("no acceptable format for this kind of result")
    headers = {"ETag": etag, "Vary": "Accept", "Cache-Control": "no-cache",
               "Server-Timing": f"query;dur={result.elapsed_ms:.2f}"}
    if result.truncated:
        headers.update({name: "true" for name in TRUNCATED_HEADERS})
    body = execute.serialize(result, media_type)
    return Response(body, 200, headers=headers,
                    content_type=content_type(media_type, graph=result.kind == "graph"))


def _update(req: protocol.SparqlRequest) -> Response:
    s = settings()
    request.environ[QUERY_HASH] = metrics.query_hash(req.text)
    protocol.authorize_write(s.update_token, request.headers.get("Authorization"))
    if problem := sparql_text.outline(req.text).problem:
        raise BadRequest(problem)
    timeout = _timeout(req)
    with writer(s.store) as store:
        execute.run_update(store, req.text, federation_allow=s.federation_allow,
                           base_iri=endpoint_url(), timeout_s=timeout, runner=_runner(timeout),
                           strict_federation=strict_federation())
    return Response(status=204)


def _description(req: protocol.SparqlRequest) -> Response:
    """The service description by negotiation, or the query editor for a browser."""
    offered = [GRAPH_TYPES[0], HTML, *GRAPH_TYPES[1:]]
    media_type = negotiate(request.headers.get("Accept"), req.format, offered)
    if media_type is None:
        raise NotAcceptable(f"none of {', '.join(offered)} is acceptable to this client")
    if media_type == HTML:
        return _editor()
    store, version = reader().snapshot()
    # The description names the endpoint's own URL, so the tag covers it and the format.
    key = f"{endpoint_url()} {media_type}".encode()
    etag = f'"sd-{version}-{hashlib.sha256(key).hexdigest()[:12]}"'
    cached = _not_modified(etag)
    if cached is not None:
        return cached
    triples = service_description.describe(store, endpoint_url(), settings())
    result = execute.QueryResult("graph", triples=triples)
    return Response(execute.serialize(result, media_type), 200,
                    headers={"Vary": "Accept", "ETag": etag},
                    content_type=content_type(media_type, graph=True))


def _editor() -> Response:
    s = settings()
    context: dict[str, Any] = editor.context(reader().get(), s, endpoint_url())
    html = render_template("sparql.html", nav_active="sparql", **context)
    return Response(html, 200, mimetype="text/html", headers={"Vary": "Accept"})


@bp.route("/metrics")
def metrics_view() -> Response:
    """Prometheus text exposition, summed over all worker processes."""
    states = metrics.for_app(current_app).collect()
    return Response(metrics.render(states, len(states)), 200,
                    content_type="text/plain; version=0.0.4; charset=utf-8")
