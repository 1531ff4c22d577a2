"""``/store``: the SPARQL 1.1 Graph Store HTTP Protocol.

https://www.w3.org/TR/sparql11-http-rdf-update/ : indirect identification with ``?graph=<iri>``
or ``?default`` (section 4.2), direct identification for graphs named by URLs under
``/store/`` (4.1); GET, HEAD, PUT, POST (RDF payload or ``multipart/form-data``, 5.5), DELETE;
POST to the graph store itself creates a new graph and answers 201 with its ``Location``
(5.5). Writes need the update token. Each is one transaction (``store.writer``): a PUT's
removal and insertion are published together, so readers see the graph as it was or as it is
after, never empty in between, and a crash or a full disk (507) leaves it as it was. PUT, POST
and DELETE on a graph honour ``If-Match`` and ``If-None-Match`` against the tags GET gives it
(412 when they do not hold), checked under the writer lock, and a refused write changes no
version.
The payload is parsed before the lock is taken, so that no writer waits on a parse: a body that
does not parse is a 400 even when a precondition would also fail.
"""

from __future__ import annotations

import time
import uuid
import zlib
from collections.abc import Callable

from flask import Blueprint, Response, request
from pyoxigraph import DefaultGraph, NamedNode, Quad, RdfFormat, Store
from pyoxigraph import serialize as rdf_serialize

from server.errors import (
    BadRequest,
    NotAcceptable,
    NotFound,
    PreconditionFailed,
    UnsupportedMediaType,
)
from server.http import openapi, protocol, rdf_payload
from server.http.conditional import not_modified, write_refusal
from server.http.context import reader, settings, writing
from server.http.negotiation import negotiate
from server.rdf.formats import GRAPH_TYPES, content_type, rdf_format
from server.rdf.iris import to_iri
from server.rdf.labels import prefixes
from server.sparql import results
from server.sparql.streaming import stream_writes

bp = Blueprint("graph_store", __name__)

Graph = NamedNode | DefaultGraph
METHODS = ["GET", "HEAD", "PUT", "POST", "DELETE"]


def _base() -> str:
    return (settings().public_url or request.host_url).rstrip("/") + "/"


def _target(path: str | None) -> Graph | None:
    """The graph a request names (``None``: the graph store itself).

    ``?graph=`` must be an absolute IRI (it is not resolved against the request URL), and a
    ``/store/<path>`` must decode to one.

    Raises:
        BadRequest: both or neither of ``?default`` and ``?graph=``, or not an absolute IRI.
    """
    if path is not None:
        return to_iri(_base() + "store/" + path, "the graph named by the request path")
    has_default, graphs = "default" in request.args, request.args.getlist("graph")
    if has_default and graphs:
        raise BadRequest("give either ?default or ?graph=, not both")
    if len(graphs) > 1:
        raise BadRequest("the `graph` parameter is given more than once")
    if has_default:
        return DefaultGraph()
    if graphs:
        return to_iri(graphs[0], "the `graph` parameter")
    return None


def _exists(store: Store, graph: Graph) -> bool:
    return isinstance(graph, DefaultGraph) or store.contains_named_graph(graph)


@bp.route("/store", methods=METHODS)
@bp.route("/store/<path:path>", methods=METHODS)
@openapi.describe(
    params=(
        openapi.Param("graph", description="the graph IRI"),
        openapi.Param("default", description="the default graph (no value)"),
    ),
    media=tuple(openapi.RDF_TYPES + ["application/n-quads", "application/trig"]),
    request_media=tuple(openapi.RDF_TYPES + ["multipart/form-data"]),
    methods={
        "GET": "Read a graph (or the whole store)",
        "PUT": "Replace a graph (with the token)",
        "POST": "Add to a graph, or create one (with the token)",
        "DELETE": "Drop a graph (with the token)",
    },
    statuses={
        "201": "Created",
        "204": "Done",
        "401": "A write without the token",
        "403": "A wrong token",
        "404": "No such graph",
        "406": "Not a format offered",
        "412": "A precondition (If-Match, If-None-Match) does not hold",
        "413": "The body is too large",
        "415": "Not an RDF format",
        "507": "The disk is full: the write was not applied",
    },
    tag="Graph Store",
)
def graph_store(path: str | None = None) -> Response:
    """Dispatch on the method (see the module docstring)."""
    graph = _target(path)
    if request.method in {"GET", "HEAD"}:
        return _get(graph)
    protocol.authorize_write(settings().update_token, request.headers.get("Authorization"))
    if graph is None:
        if request.method != "POST":
            raise BadRequest("name a graph with ?graph= or ?default (or POST to create one)")
        return _create()
    if request.method == "DELETE":
        return _delete(graph)
    quads = _payload(graph)
    with writing(_preconditions(graph)) as store:
        existed = _exists(store, graph)
        if request.method == "PUT":
            _clear(store, graph)
        if not isinstance(graph, DefaultGraph):
            store.add_graph(graph)
        store.extend(quads)
    return Response(status=204 if existed else 201)


DATASET_TYPES = ["application/trig", "application/n-quads"]


def _get_dataset() -> Response:
    """GET on the store itself: every graph, as TriG or N-Quads (as Fuseki answers it)."""
    media_type = negotiate(request.headers.get("Accept"), request.args.get("format"),
                           DATASET_TYPES)
    if media_type is None:
        raise NotAcceptable(f"the whole store comes as {' or '.join(DATASET_TYPES)}; name a "
                            "graph with ?graph=<iri> or ?default for the other formats")
    store, version = reader().snapshot()
    etag = f'"{version}-{media_type}-dataset"'
    if (unchanged := not_modified(etag)) is not None:
        return unchanged
    fmt = rdf_format(media_type)
    known = prefixes(settings().ns)
    body = stream_writes(lambda out: rdf_serialize(
        store.quads_for_pattern(None, None, None, None), out, format=fmt, prefixes=known))
    return Response(body, 200, headers={"ETag": etag, "Vary": "Accept"},
                    content_type=content_type(media_type, graph=True))


def _get(graph: Graph | None) -> Response:
    if graph is None:
        return _get_dataset()
    media_type = negotiate(request.headers.get("Accept"), request.args.get("format"),
                           GRAPH_TYPES)
    if media_type is None:
        raise NotAcceptable(f"none of {', '.join(GRAPH_TYPES)} is acceptable to this client")
    store, version = reader().snapshot()
    if not _exists(store, graph):  # before the ETag: a graph deleted since is 404, not 304
        raise NotFound(f"no graph {graph}")
    etag = _etag(version, media_type, graph)
    if (unchanged := not_modified(etag)) is not None:
        return unchanged
    triples = [q.triple for q in store.quads_for_pattern(None, None, None, graph)]
    result = results.QueryResult("graph", triples=triples, prefixes=prefixes(settings().ns))
    return Response(results.serialize(result, media_type), 200,
                    headers={"ETag": etag, "Vary": "Accept"},
                    content_type=content_type(media_type, graph=True))


def _etag(version: str, media_type: str, graph: Graph) -> str:
    # crc32, not hash(): Python salts hash() per process, and every worker must agree.
    return f'"{version}-{media_type}-{zlib.crc32(str(graph).encode()):x}"'


def _preconditions(graph: Graph, must_exist: bool = False) -> Callable[[Store, str], None]:
    """The check a write to ``graph`` runs under the writer lock, before anything changes.

    Raises (from the check):
        NotFound: ``must_exist`` and the graph does not.
        PreconditionFailed: the request's ``If-Match`` / ``If-None-Match`` do not hold for the
            graph as it is (its tags are those GET gives it, in any of its formats).
    """
    if_match, if_none_match = request.headers.get("If-Match"), request.headers.get("If-None-Match")

    def check(store: Store, version: str) -> None:
        exists = _exists(store, graph)
        if must_exist and not exists:
            raise NotFound(f"no graph {graph}")
        current = {_etag(version, t, graph) for t in GRAPH_TYPES} if exists else None
        refusal = write_refusal(if_match, if_none_match, current)
        if refusal:
            raise PreconditionFailed(refusal)

    return check


def _clear(store: Store, graph: Graph) -> None:
    if isinstance(graph, DefaultGraph):
        store.clear_graph(graph)
    elif store.contains_named_graph(graph):
        store.remove_graph(graph)


def _delete(graph: Graph) -> Response:
    with writing(_preconditions(graph, must_exist=True)) as store:
        _clear(store, graph)
    return Response(status=204)


def _create() -> Response:
    """POST to the graph store: a new graph named by a fresh URL under ``/store/``."""
    graph = NamedNode(_base() + "store/" + uuid.uuid4().hex)
    quads = _payload(graph)
    with writing() as store:
        store.add_graph(graph)
        store.extend(quads)
    return Response(status=201, headers={"Location": graph.value})


def _parse(data: bytes, media_type: str, graph: Graph, deadline: float) -> list[Quad]:
    """One body (or form file) as quads in ``graph``: pre-checked for bombs, then parsed
    before ``deadline`` (``server.http.rdf_payload``)."""
    fmt = rdf_format(media_type)
    if fmt is None:
        raise UnsupportedMediaType(f"{media_type or 'no media type'} is not an RDF format; "
                                   f"send one of {', '.join(GRAPH_TYPES)}")
    base = graph.value if isinstance(graph, NamedNode) else _base() + "store"
    rdf_payload.check(data, fmt, settings().max_body_bytes)
    return rdf_payload.parse_quads(data, fmt, graph, base, deadline)


def _payload(graph: Graph) -> list[Quad]:
    """The request's RDF as quads in ``graph`` (a multipart form may carry several files),
    parsed within the query time limit (``K2D3_QUERY_TIMEOUT``)."""
    deadline = time.monotonic() + settings().query_timeout
    if request.mimetype == "multipart/form-data":
        quads: list[Quad] = []
        for part in request.files.values():
            media = part.mimetype if part.mimetype != "application/octet-stream" else ""
            if not media or rdf_format(media) is None:
                media = _by_extension(part.filename or "")
            quads += _parse(part.read(), media, graph, deadline)
        if not request.files:
            raise BadRequest("the multipart form carries no file")
        return quads
    return _parse(request.get_data(), request.mimetype, graph, deadline)


def _by_extension(filename: str) -> str:
    fmt = RdfFormat.from_extension(filename.rsplit(".", 1)[-1]) if "." in filename else None
    return fmt.media_type if fmt is not None else ""
