"""An OpenAPI 3.1 description of k2d3's HTTP API, generated from the app's own routes.

Paths, methods and path parameters come from Flask's URL map, so a route cannot exist without
appearing here; a summary and description come from the view's docstring. What the URL map
cannot know (query parameters, the media types a route negotiates, the statuses it answers) is
declared on the view itself with :func:`describe`, next to the code that reads them. The media
types come from :mod:`server.http.negotiation`'s tables, the same the views negotiate with.
``/openapi.json`` serves the document, ``/openapi`` renders it as a page.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import Flask

from server.rdf import formats

F = TypeVar("F", bound=Callable[..., Any])
ATTRIBUTE = "__k2d3_openapi__"

#: What every route may answer besides its own statuses.
COMMON = {
    "400": "Bad request: the message says what is wrong and where",
    "408": "The client was too slow to send its request",
    "414": "The request line is too long: send a long query by POST",
    "431": "Request header fields too large",
    "503": "The query timed out, the server is busy with heavy queries, or a write found "
           "another writer at work for half its time limit (Retry-After)",
}
RDF_TYPES = ["text/turtle", "application/ld+json", "application/rdf+xml",
             "application/n-triples"]
PAGE = [formats.HTML]


@dataclass(frozen=True)
class Param:
    name: str
    where: str = "query"
    description: str = ""
    required: bool = False
    type: str = "string"
    enum: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": self.type}
        if self.enum:
            schema["enum"] = list(self.enum)
        return {"name": self.name, "in": self.where, "required": self.required,
                "description": self.description, "schema": schema}


#: The parameters most routes share.
LANG_PARAM = Param("lang", description="en or zh (else Accept-Language)", enum=("en", "zh"))
FORMAT_PARAM = Param("format", description="a short name (ttl, jsonld, rdf, nt, html, json, csv, "
                     "tsv, xml) or a media type; overrides Accept")
NOT_OFFERED = {"406": "Not a format offered"}


@dataclass(frozen=True)
class Doc:
    """What a view declares about itself: parameters, media types and statuses by method."""

    params: tuple[Param, ...] = ()
    media: tuple[str, ...] = tuple(PAGE)
    statuses: dict[str, str] = field(default_factory=dict)
    methods: dict[str, str] = field(default_factory=dict)
    """Method -> what it does, for views that answer several methods."""
    request_media: tuple[str, ...] = ()
    tag: str = "pages"


def describe(**doc: Any) -> Callable[[F], F]:
    """Declare a view's parameters, media types and statuses (see :class:`Doc`)."""
    def mark(view: F) -> F:
        setattr(view, ATTRIBUTE, Doc(**doc))
        return view
    return mark


def _path(rule: str) -> tuple[str, list[str]]:
    """``/id/<path:rest>`` -> (``/id/{rest}``, [``rest``])."""
    names = re.findall(r"<(?:[^:<>]+:)?([^<>]+)>", rule)
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule), names


def _operation(endpoint: str, method: str, view: Callable[..., Any], doc: Doc,
               path_params: list[str]) -> dict[str, Any]:
    text = inspect.getdoc(view) or endpoint
    summary, _, description = text.partition("\n")
    params = [Param(n, "path", required=True).as_dict() for n in path_params]
    params += [p.as_dict() for p in doc.params]
    responses: dict[str, Any] = {
        "200": {"description": "OK", "content": {m: {} for m in doc.media}}}
    for status, what in {**COMMON, **doc.statuses}.items():
        responses.setdefault(status, {"description": what})
    op: dict[str, Any] = {
        "operationId": f"{endpoint.replace('.', '_')}_{method.lower()}",
        "summary": doc.methods.get(method, summary.strip()),
        "description": description.strip(), "tags": [doc.tag],
        "parameters": params, "responses": responses,
    }
    if method in ("POST", "PUT", "PATCH") and doc.request_media:
        op["requestBody"] = {"required": False,
                             "content": {m: {"schema": {"type": "string"}}
                                         for m in doc.request_media}}
    return op


def spec(app: Flask, server_url: str = "/") -> dict[str, Any]:
    """The OpenAPI document for ``app``'s routes (static files left out)."""
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint == "static":
            continue
        view = app.view_functions[rule.endpoint]
        doc: Doc = getattr(view, ATTRIBUTE, Doc())
        path, names = _path(rule.rule)
        methods = sorted((rule.methods or set()) - {"OPTIONS", "HEAD"})
        if doc.methods:
            methods = [m for m in methods if m in doc.methods]
        entry = paths.setdefault(path, {})
        for method in methods:
            entry[method.lower()] = _operation(rule.endpoint, method, view, doc, names)
    return {
        "openapi": "3.1.0",
        "info": {"title": "k2d3", "version": "0.2.0",
                 "description": "A knowledge graph and SPARQL 1.1 service on whether vitamin "
                 "K2 should be taken with vitamin D3: the endpoint, the Graph Store protocol, "
                 "the canned queries and the linked-data pages.",
                 "license": {"name": "MIT", "identifier": "MIT"}},
        "servers": [{"url": server_url}],
        "paths": paths,
    }


def operations(document: dict[str, Any]) -> Iterable[tuple[str, str, dict[str, Any]]]:
    """(path, method, operation) of a document, in order, for the page."""
    for path, entry in document["paths"].items():
        for method, op in entry.items():
            yield path, method.upper(), op
