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

from urllib.parse import urlencode

from flask import Response, request
from pyoxigraph import Triple, serialize

from server import errors
from server.http import context
from server.http.negotiation import negotiate
from server.rdf.dereference import local_path, rdf_for_iri
from server.rdf.formats import HTML, SHORT_NAMES, content_type, rdf_format
from server.rdf.labels import prefixes
from server.rdf.triple_terms import check_writable

# --- HTTP: content negotiation for an IRI ----------------------------------------------------

#: The formats every IRI is offered in. Turtle comes first: a client sending only ``*/*``
#: (curl, most RDF libraries' fallbacks) gets data; browsers name text/html explicitly.
#: ``text/plain`` is N-Triples' historical type (rdflib asks for it with ``format="nt"``).
OFFERED = ["text/turtle", HTML, "application/ld+json", "application/rdf+xml",
           "application/n-triples", "text/plain"]
#: Short names for ``?format=`` and file extensions, as in the Link headers.
PAGE_FORMATS = {SHORT_NAMES[media]: media for media in OFFERED if media != "text/plain"}


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
    """The absolute URL of ``path`` in the format ``name`` (a key of :data:`PAGE_FORMATS`)."""
    return f"{site_url()}{path}?{urlencode({'format': name})}"


def alternates(path: str) -> list[dict[str, str]]:
    """Every format of ``path`` as ``{"name", "type", "href"}`` (the formats menu)."""
    return [{"name": name, "type": media, "href": format_url(path, name)}
            for name, media in PAGE_FORMATS.items()]


def negotiation_headers(response: Response, path: str, media_type: str) -> Response:
    """Add ``Vary``, ``Link`` (one alternate per format) and ``Content-Location``."""
    response.vary.add("Accept")
    if media_type == HTML:
        response.vary.add("Accept-Language")
    links = [f'<{alt["href"]}>; rel="alternate"; type="{alt["type"]}"' for alt in alternates(path)]
    response.headers["Link"] = ", ".join(links)
    name = next((n for n, t in PAGE_FORMATS.items() if t == media_type), "nt")
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
            "this resource is available as " + ", ".join(sorted(set(PAGE_FORMATS.values()))))
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
    triples = rdf_for_iri(context.store(), iri, ns)
    if not triples:
        response = Response(f"k2d3 knows nothing about <{iri}>\n", 404, mimetype="text/plain")
        response.vary.add("Accept")
        return response
    return rdf_response(triples, media_type, path)
