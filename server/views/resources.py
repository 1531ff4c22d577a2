"""Every IRI under the base, dereferenced: resource pages, the ontology, graphs, the dataset.

One function, :func:`serve_iri`, answers for any IRI: parse (path -> IRI, format) -> choose
the format (``linked_data.choose``) -> read the store -> render (RDF through pyoxigraph, or the
HTML page). See ``server/linked_data.py`` for the design (direct negotiation, no 303).
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, render_template, request
from markupsafe import Markup
from pyoxigraph import RdfFormat, serialize

from .. import (
    conditional,
    context,
    i18n,
    linked_data,
    ontology_page,
    openapi,
    resource_page,
    shapes_page,
    source_page,
)
from ..linked_data import FORMAT_NAMES, HTML
from ..triple_terms import json_ld_writable

bp = Blueprint("resources", __name__)
bp.after_request(conditional.add_etag)
EXTENSIONS = {"." + name: name for name in FORMAT_NAMES}


def _ns() -> Any:
    return context.settings().ns


def split_extension(iri: str) -> tuple[str, str | None]:
    """``(iri, None)``, or ``(iri without .ext, ext)`` when only the shorter IRI is known."""
    for ext, name in EXTENSIONS.items():
        if iri.endswith(ext):
            store, ns, shorter = linked_data.store(), _ns(), iri[: -len(ext)]
            if not linked_data.is_known(store, iri, ns) and linked_data.is_known(
                    store, shorter, ns):
                return shorter, name
    return iri, None


def json_ld_block(triples: list[Any]) -> Markup:
    """JSON-LD for a ``<script type="application/ld+json">`` block, safe inside HTML."""
    text = (serialize(json_ld_writable(triples), format=RdfFormat.JSON_LD) or b"[]"
            ).decode("utf-8")
    text = json.dumps(json.loads(text), ensure_ascii=False, indent=1)
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escape)
    return Markup(text)  # noqa: S704 - every markup-significant character is escaped above


def not_found(iri: str) -> Response:
    body = render_template("not_found.html", iri=iri)
    response = Response(body, 404, mimetype="text/html")
    response.vary.add("Accept")
    return response


def _wanted() -> tuple[str, str, int] | None:
    direction, prop = request.args.get("dir"), request.args.get("prop")
    if direction not in ("out", "in") or not prop:
        return None
    try:
        return direction, prop, int(request.args.get("page", "1"))
    except ValueError:
        return direction, prop, 1


def serve_iri(iri: str, path: str | None = None, path_format: str | None = None) -> Response:
    """Answer for ``iri`` in the negotiated format; the HTML page is the resource page."""
    ns, store = _ns(), linked_data.store()
    path = path or linked_data.local_path(iri, ns) or request.path
    rdf = linked_data.rdf_response_if_wanted(iri, path_format)
    if rdf is not None:
        return rdf
    if not linked_data.is_known(store, iri, ns):
        return not_found(iri)
    lang = i18n.pick_lang(request)
    page = resource_page.build(store, iri, ns, lang, _wanted())
    terms = resource_page.Terms(store, ns, lang)
    page["claim"] = resource_page.claim_status(store, iri, terms)
    page["evidence"] = resource_page.evidence(store, iri, terms)
    evidence_iris = {e["term"]["iri"] for e in page["evidence"]}
    page["quotations"] = resource_page.quotations(store, iri, evidence_iris, terms)
    page["document"] = linked_data.graph_for_iri(iri, ns)
    body = render_template(
        "resource.html", r=page, alternates=linked_data.alternates(path), path=path,
        json_ld=json_ld_block(linked_data.rdf_for_iri(store, iri, ns)[:2000]))
    return linked_data.negotiation_headers(Response(body, mimetype="text/html"), path, HTML)


@bp.get("/id/<path:rest>")
@openapi.describe(
    params=(openapi.FORMAT_PARAM, openapi.LANG_PARAM),
    media=tuple(openapi.PAGE + openapi.RDF_TYPES),
    statuses={"404": "k2d3 knows nothing about this IRI", "406": "Not a format offered"},
    tag="linked data",
)
def resource(rest: str) -> Response:
    """Instances: entities, claims, evidence lines, quotations, studies (``<base>id/...``)."""
    iri, fmt = split_extension(linked_data.iri_for_path("/id/" + rest, _ns()))
    return serve_iri(iri, path_format=fmt)


@bp.get("/graph/<path:name>")
@openapi.describe(
    media=tuple(openapi.RDF_TYPES),
    statuses={"404": "No such graph", "406": "Not a format offered"},
    tag="linked data",
)
def graph(name: str) -> Response:
    """A named graph: its triples as RDF (Graph Store Protocol direct identification)."""
    iri, fmt = split_extension(linked_data.iri_for_path("/graph/" + name, _ns()))
    return serve_iri(iri, path_format=fmt)


@bp.get("/dataset")
@bp.get("/dataset/<path:rest>")
@openapi.describe(
    params=(openapi.FORMAT_PARAM,),
    media=tuple(openapi.PAGE + openapi.RDF_TYPES),
    statuses={"404": "No such part of the dataset", "406": "Not a format offered"},
    tag="linked data",
)
def dataset(rest: str | None = None) -> Response:
    """The VoID dataset (its RDF is the VoID graph) and its partitions and linksets."""
    path = "/dataset" + (f"/{rest}" if rest is not None else "")
    iri, fmt = split_extension(linked_data.iri_for_path(path, _ns()))
    return serve_iri(iri, path_format=fmt)


@bp.get("/ontology")
@bp.get("/ontology.<ext>")
@bp.get("/ontology/<path:version>")
@openapi.describe(
    params=(openapi.FORMAT_PARAM, openapi.LANG_PARAM),
    media=tuple(openapi.PAGE + openapi.RDF_TYPES),
    statuses={"404": "No such version", "406": "Not a format offered"},
    tag="linked data",
)
def ontology(ext: str | None = None, version: str | None = None) -> Response:
    """The ontology (or one of its version IRIs): its whole graph as RDF, or its documentation
    page, where each term's section is anchored by the term's fragment."""
    ns, store = _ns(), linked_data.store()
    iri = ns.ontology + (f"/{version}" if version is not None else "")
    if (ext is not None and ext not in FORMAT_NAMES) or linked_data.graph_for_iri(
            iri, ns, store) is None:
        return not_found(iri + (f".{ext}" if ext else ""))
    path = linked_data.local_path(iri, ns) or request.path
    rdf = linked_data.rdf_response_if_wanted(iri, ext)
    if rdf is not None:
        return rdf
    if not linked_data.is_known(store, ns.ontology, ns):
        return not_found(ns.ontology)
    doc = ontology_page.build(store, ns, i18n.pick_lang(request))
    body = render_template("ontology.html", o=doc, alternates=linked_data.alternates(path),
                           nav_active="ontology")
    return linked_data.negotiation_headers(Response(body, mimetype="text/html"), path, HTML)


@bp.get("/source")
@openapi.describe(params=(openapi.LANG_PARAM,))
def source() -> str:
    """The article, each quoted passage highlighted and linked to the claims citing it."""
    store, ns = linked_data.store(), _ns()
    lang = i18n.pick_lang(request)
    text = source_page.article()
    quotes = source_page.quotations(store, text)
    missing = source_page.uncovered(text, quotes)
    terms = resource_page.Terms(store, ns, lang)
    citers = {iri: terms.iri(iri) for q in quotes for iri in q.citers}
    documents = [terms.iri(d) for d in source_page.documents(store)]
    return render_template("source.html",
                           paragraphs=source_page.paragraphs(text, quotes + missing),
                           documents=documents, uncovered=missing,
                           quotes=[q for q in quotes if q.kind == "quotation"], citers=citers,
                           nav_active="source", unlocated=[q for q in quotes if q.start < 0])



@bp.get("/shapes")
@openapi.describe(
    params=(openapi.FORMAT_PARAM, openapi.LANG_PARAM),
    media=tuple(openapi.PAGE + openapi.RDF_TYPES),
    statuses={"406": "Not a format offered"},
    tag="linked data",
)
def shapes() -> Response:
    """The SHACL shapes' namespace (``<base>shapes#Shape``): the shapes graph as RDF, or its
    documentation page, where each shape's section is anchored by the shape's fragment."""
    ns = _ns()
    iri = linked_data.iri_for_path("/shapes", ns)
    rdf = linked_data.rdf_response_if_wanted(iri)
    if rdf is not None:
        return rdf
    doc = shapes_page.build(linked_data.store(), ns, i18n.pick_lang(request))
    if not doc["shapes"]:
        return not_found(iri)
    body = render_template("shapes.html", s=doc, alternates=linked_data.alternates("/shapes"))
    return linked_data.negotiation_headers(Response(body, mimetype="text/html"), "/shapes", HTML)
