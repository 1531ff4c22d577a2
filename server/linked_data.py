"""IRIs under the base <-> paths on this server, and what dereferencing an IRI returns.

Design (documented in the README's "Linked data" section):

* **Direct content negotiation**, no 303: ``GET /id/X`` answers HTML for browsers and RDF for
  clients from the same URL, with ``Vary: Accept``, ``Content-Location`` naming the
  format-specific URL, and one ``Link: <...>; rel="alternate"; type="..."`` per format
  (W3C "Best Practice Recipes for Publishing RDF Vocabularies", recipe 3; Cool URIs §4.2 notes
  the hash namespace of the ontology needs no 303 either).
* **An explicit format in the URL** wins over ``Accept``: ``?format=ttl|jsonld|rdf|nt|html``
  on every path, and, on this module's own paths, a file extension (``/id/X.ttl``) when the
  IRI without it is known and the IRI with it is not.
* **What an IRI returns**: the ontology IRI returns the whole ontology graph (its ``#Term``
  IRIs are answered by the same document); a named graph's IRI returns the graph's triples
  (SPARQL 1.1 Graph Store Protocol, direct identification); the dataset IRI returns the VoID
  graph; any other IRI returns its description: every triple with it as subject (following blank
  nodes, i.e. its Concise Bounded Description) plus every triple that points at it from an IRI.
* **A path that is not an IRI** (``/id/a%20b``): the graph cannot know it, so it is answered
  like any unknown IRI (404), never as a bad request: the functions below treat it as unknown.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from urllib.parse import quote, unquote, urlencode

from flask import Response, request
from pyoxigraph import BlankNode, NamedNode, Quad, Store, Triple, serialize

from . import context, errors
from .iris import InvalidIri, to_iri
from .labels import prefixes
from .namespaces import Namespaces
from .negotiation import content_type, negotiate, rdf_format
from .triple_terms import check_writable

_SAFE = "/:@!$&'()*+,;=-._~%"
OWL_VERSION_IRI = NamedNode("http://www.w3.org/2002/07/owl#versionIRI")


def local_path(iri: str, ns: Namespaces) -> str | None:
    """The path on this server that serves ``iri``, or ``None`` for an IRI outside the base.

    ``https://w3id.org/k2d3/id/X`` -> ``/id/X``; ``…/ontology#Claim`` -> ``/ontology#Claim``;
    non-ASCII characters are percent-encoded so the path is a valid URL.
    """
    if not iri.startswith(ns.base):
        return None
    rest, hash_, fragment = iri[len(ns.base):].partition("#")
    path = "/" + quote(rest, safe=_SAFE)
    return path + hash_ + quote(fragment, safe=_SAFE) if hash_ else path


def iri_for_path(path: str, ns: Namespaces) -> str:
    """The IRI that the local ``path`` (as Flask sees it, or percent-encoded) stands for."""
    return ns.base + unquote(path).lstrip("/")


def graph_for_iri(iri: str, ns: Namespaces, store: Store | None = None) -> str | None:
    """The named graph whose contents ``iri`` returns, if it is a document-like IRI.

    The ontology IRI and (given ``store``) its ``owl:versionIRI`` return the ontology graph;
    ``<base>shapes`` (the namespace of the SHACL shapes, ``shapes#X``) the shapes graph.
    """
    if iri == ns.ontology:
        return ns.graph("ontology")
    if iri == ns.dataset:
        return ns.graph("void")
    if iri == ns.base + "shapes":
        return ns.graph("shapes")
    if iri.startswith(ns.base + "graph/"):
        return iri
    if store is not None and iri.startswith(ns.ontology + "/"):
        node = _node(iri)
        if node is not None and any(True for _ in store.quads_for_pattern(
                NamedNode(ns.ontology), OWL_VERSION_IRI, node, None)):
            return ns.graph("ontology")
    return None


def _node(iri: str) -> NamedNode | None:
    """``iri`` as a ``NamedNode``, or ``None`` when it is not an IRI (so not in the store)."""
    try:
        return to_iri(iri, "IRI")
    except InvalidIri:
        return None


def _cbd(store: Store, subject: NamedNode | BlankNode, seen: set[BlankNode]) -> Iterator[Triple]:
    for quad in store.quads_for_pattern(subject, None, None, None):
        yield quad.triple
        obj = quad.object
        if isinstance(obj, BlankNode) and obj not in seen:
            seen.add(obj)
            yield from _cbd(store, obj, seen)


def describe(store: Store, iri: str) -> list[Triple]:
    """The description of ``iri``: its CBD plus incoming triples from IRIs, over all graphs."""
    node = _node(iri)
    if node is None:
        return []
    triples = dict.fromkeys(_cbd(store, node, set()))
    for quad in store.quads_for_pattern(None, None, node, None):
        if isinstance(quad.subject, NamedNode):
            triples[quad.triple] = None
    return list(triples)


def graph_triples(store: Store, graph: str) -> list[Triple]:
    """Every triple of the named graph ``graph``."""
    node = _node(graph)
    if node is None:
        return []
    quads: Iterable[Quad] = store.quads_for_pattern(None, None, None, node)
    return [q.triple for q in quads]


def rdf_for_iri(store: Store, iri: str, ns: Namespaces) -> list[Triple]:
    """What dereferencing ``iri`` returns as RDF (empty when the graph does not know it)."""
    graph = graph_for_iri(iri, ns, store)
    if graph is not None:
        return graph_triples(store, graph)
    return describe(store, iri)


def is_known(store: Store, iri: str, ns: Namespaces) -> bool:
    """True when ``iri`` appears in the store (as subject, object or graph name)."""
    graph = graph_for_iri(iri, ns, store)
    graph_node = _node(graph) if graph is not None else None
    if graph_node is not None and store.contains_named_graph(graph_node):
        return True
    node = _node(iri)
    if node is None:
        return False
    return any(True for _ in store.quads_for_pattern(node, None, None, None)) or any(
        True for _ in store.quads_for_pattern(None, None, node, None))


# --- HTTP: content negotiation for an IRI ----------------------------------------------------

HTML = "text/html"
#: The formats every IRI is offered in. Turtle comes first: a client sending only ``*/*``
#: (curl, most RDF libraries' fallbacks) gets data; browsers name text/html explicitly.
#: ``text/plain`` is N-Triples' historical type (rdflib asks for it with ``format="nt"``).
OFFERED = ["text/turtle", HTML, "application/ld+json", "application/rdf+xml",
           "application/n-triples", "text/plain"]
#: Short names for ``?format=`` and file extensions, as in the Link headers.
FORMAT_NAMES = {"ttl": "text/turtle", "jsonld": "application/ld+json",
                "rdf": "application/rdf+xml", "nt": "application/n-triples", "html": HTML}


def site_url() -> str:
    """This server's own address (``settings.public_url``, else the request's), no final ``/``.

    Pages link with plain paths (so a laptop or test server keeps the reader on it); headers
    that must be absolute (``Link``, ``Content-Location``) use this.
    """
    public = context.settings().public_url
    if public:
        return public.rstrip("/")
    return request.host_url.rstrip("/") + request.script_root


def format_url(path: str, name: str) -> str:
    """The absolute URL of ``path`` in the format ``name`` (a key of :data:`FORMAT_NAMES`)."""
    return f"{site_url()}{path}?{urlencode({'format': name})}"


def alternates(path: str) -> list[dict[str, str]]:
    """Every format of ``path`` as ``{"name", "type", "href"}`` (the formats menu)."""
    return [{"name": name, "type": media, "href": format_url(path, name)}
            for name, media in FORMAT_NAMES.items()]


def negotiation_headers(response: Response, path: str, media_type: str) -> Response:
    """Add ``Vary``, ``Link`` (one alternate per format) and ``Content-Location``."""
    response.vary.add("Accept")
    if media_type == HTML:
        response.vary.add("Accept-Language")
    links = [f'<{alt["href"]}>; rel="alternate"; type="{alt["type"]}"' for alt in alternates(path)]
    response.headers["Link"] = ", ".join(links)
    name = next((n for n, t in FORMAT_NAMES.items() if t == media_type), "nt")
    response.headers["Content-Location"] = format_url(path, name)
    return response


def choose(path_format: str | None = None) -> str:
    """The media type this request gets: ``?format=``, a path extension, then ``Accept``.

    Raises:
        errors.NotAcceptable: nothing offered fits (406).
    """
    format_param = request.args.get("format") or path_format
    chosen = negotiate(request.headers.get("Accept"), format_param, OFFERED)
    if chosen is None:
        raise errors.NotAcceptable(
            "this resource is available as " + ", ".join(sorted(set(FORMAT_NAMES.values()))))
    return "application/n-triples" if chosen == "text/plain" else chosen


def rdf_response(triples: list[Triple], media_type: str, path: str) -> Response:
    """Serialize ``triples`` with pyoxigraph in ``media_type``, with the negotiation headers."""
    fmt = rdf_format(media_type)
    if fmt is None:
        raise ValueError(f"not an RDF media type: {media_type}")
    ns = context.settings().ns
    check_writable(triples, fmt)
    body = serialize(triples, format=fmt, prefixes=prefixes(ns))
    response = Response(body, content_type=content_type(media_type, graph=True))
    return negotiation_headers(response, path, media_type)


def store() -> Store:
    """The request's read-only store."""
    return context.store()


def rdf_response_if_wanted(iri: str, path_format: str | None = None) -> Response | None:
    """RDF for ``iri`` if the client negotiated RDF; ``None`` when it wants the HTML page.

    For views that own an IRI's HTML page (the canned-query pages call this first). Answers
    404 when the graph does not know ``iri``; raises ``NotAcceptable`` (406) when no format fits.
    """
    media_type = choose(path_format)
    if media_type == HTML:
        return None
    ns = context.settings().ns
    path = local_path(iri, ns) or request.path
    triples = rdf_for_iri(store(), iri, ns)
    if not triples:
        response = Response(f"k2d3 knows nothing about <{iri}>\n", 404, mimetype="text/plain")
        response.vary.add("Accept")
        return response
    return rdf_response(triples, media_type, path)
