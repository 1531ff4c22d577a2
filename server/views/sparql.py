"""``/sparql``: SPARQL 1.1 query and update, the service description, the editor; ``/metrics``.

Each handler reads as parse -> choose format -> execute -> render
(https://www.w3.org/TR/sparql11-protocol/). Every request is timed, counted and logged by
``server.http.envelope``; the views leave it the query's fingerprint.
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Blueprint, Response, current_app, render_template, request

from server.errors import BadRequest, NotAcceptable
from server.http import metrics, openapi, protocol
from server.http.conditional import not_modified
from server.http.context import (
    answer_cache,
    reader,
    settings,
    strict_federation,
    time_left,
    writing,
)
from server.http.headers import QUERY_HASH
from server.http.negotiation import negotiate
from server.http.query_answer import (
    ENDPOINT_PATH,
    Served,
    answer,
    endpoint_for,
    runner_for,
    timeout_for,
)
from server.pages import editor, i18n
from server.rdf.formats import GRAPH_TYPES, HTML, SELECT_TYPES, content_type
from server.sparql import execute, results, service_description
from server.sparql import text as sparql_text
from server.sparql.deadline import Runner

bp = Blueprint("sparql", __name__)


def endpoint_url() -> str:
    """The endpoint's absolute URL (``public_url`` when configured, else the request's)."""
    # scheme and Host as sent: request.host_url would also convert them to IRI form, which
    # costs more than the rest of a small query's handling and changes no ASCII host.
    return endpoint_for(settings().public_url, request.scheme, request.host)


@bp.route(ENDPOINT_PATH, methods=["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"])
@openapi.describe(
    params=(
        openapi.Param("query", description="a SPARQL 1.1 query"),
        openapi.Param("default-graph-uri"),
        openapi.Param("named-graph-uri"),
        openapi.Param("timeout", type="number",
                      description="seconds, at least 1, at most K2D3_MAX_QUERY_TIMEOUT"),
        openapi.Param("format", description="a result format short name or media type"),
    ),
    media=tuple([*SELECT_TYPES, *GRAPH_TYPES, HTML]),
    request_media=(
        "application/sparql-query",
        "application/sparql-update",
        "application/x-www-form-urlencoded",
    ),
    methods={
        "GET": "Answer a query, or describe the service",
        "POST": "Answer a query, or apply an update (with the token)",
    },
    statuses={
        "401": "An update without the token",
        "403": "A wrong token, or a SERVICE/LOAD address not allow-listed",
        "406": "Not a format offered",
        "413": "The body is too large",
        "415": "Not a body type the endpoint reads",
        "502": "An allow-listed SERVICE failed",
        "507": "The disk is full: the update was not applied",
    },
    tag="SPARQL",
)
def endpoint() -> Response:
    """Answer a query, apply an update, or describe the service."""
    req = protocol.parse(request)
    if req.operation == "update":
        return _update(req)
    if req.operation == "description":
        return _description(req)
    return _query(req)


def _runner(timeout: float) -> Runner:
    """How this request's query or update runs (see ``query_answer.runner_for``)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    return runner_for(app, request.environ, timeout)


def _query(req: protocol.SparqlRequest) -> Response:
    request.environ[QUERY_HASH] = metrics.query_hash(req.text)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    served = Served(settings(), reader(), endpoint_url(), _runner, strict_federation(),
                    answer_cache(), lambda timeout: time_left(app, request.environ, timeout))
    found = answer(req, request.headers.get("Accept"), request.headers.get("If-None-Match"),
                   served)
    return Response(found.body, found.status, headers=found.headers)


def _update(req: protocol.SparqlRequest) -> Response:
    s = settings()
    request.environ[QUERY_HASH] = metrics.query_hash(req.text)
    protocol.authorize_write(s.update_token, request.headers.get("Authorization"))
    if problem := sparql_text.outline(req.text).problem:
        raise BadRequest(problem)
    timeout = timeout_for(req, s)
    with writing(timeout=timeout) as store:
        limits = execute.Limits.of(s, timeout_s=timeout, runner=_runner(timeout),
                                   strict_federation=strict_federation())
        execute.run_update(store, req.text, limits, base_iri=endpoint_url())
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
    cached = not_modified(etag)
    if cached is not None:
        return cached
    triples = service_description.describe(store, endpoint_url(), settings())
    result = results.QueryResult("graph", triples=triples)
    return Response(results.serialize(result, media_type), 200,
                    headers={"Vary": "Accept", "ETag": etag},
                    content_type=content_type(media_type, graph=True))


def _editor() -> Response:
    s = settings()
    context: dict[str, Any] = editor.context(reader().get(), s, endpoint_url(),
                                             i18n.pick_lang(request), request.script_root)
    html = render_template("sparql.html", nav_active="sparql", **context)
    return Response(html, 200, mimetype="text/html", headers={"Vary": "Accept, Accept-Language"})


@bp.route("/metrics")
@openapi.describe(media=("text/plain",), tag="service")
def metrics_view() -> Response:
    """Prometheus text exposition, summed over all worker processes."""
    body, content_type = metrics.for_app(current_app).exposition()
    return Response(body, 200, content_type=content_type)
