"""``/queries``: the canned-query catalogue, one page per query, the evidence map.

A query page reads as parse -> choose format -> execute -> render: the URL's arguments are bound
to the query's parameters (:func:`server.catalogue.params.bind`, SEP-0007 substitutions), the
format comes from ``?format=`` or ``Accept`` (:mod:`server.http.negotiation`), the query runs with
the endpoint's limits (:func:`server.sparql.execute.run_query`), and the answer is HTML or a SPARQL
results / RDF document from the same URL.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any, cast
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, render_template, request
from markupsafe import Markup
from pyoxigraph import NamedNode

from server.catalogue import canned
from server.catalogue import params as canned_params
from server.errors import BadRequest, NotAcceptable, NotFound
from server.http import conditional, linked_data, negotiation, openapi
from server.http.context import answer_cache, time_left
from server.http.context import reader as _reader
from server.http.context import settings as _settings
from server.http.context import store as _store
from server.http.query_answer import TRUNCATED_HEADERS, runner_for
from server.pages import evidence_map, i18n, results_table, verdict
from server.pages.highlight import highlight
from server.rdf import dereference, formats, labels
from server.sparql.execute import Limits, run_query
from server.sparql.results import QueryResult, serialize

bp = Blueprint("queries", __name__)
bp.after_request(conditional.add_etag)

#: Downloads offered on a query page, by query kind: (?format= name, label).
DOWNLOADS = {
    "select": [("json", "JSON"), ("csv", "CSV"), ("tsv", "TSV"), ("xml", "XML")],
    "ask": [("json", "JSON"), ("xml", "XML")],
    "construct": [("ttl", "Turtle"), ("jsonld", "JSON-LD"), ("nt", "N-Triples")],
    "describe": [("ttl", "Turtle"), ("jsonld", "JSON-LD"), ("nt", "N-Triples")],
}


def _catalogue() -> tuple[canned.CannedQuery, ...]:
    """The catalogue with its IRIs under this deployment's base."""
    return canned.catalogue(base=_settings().ns.base)


#: The catalogue's topics (a query's ``#+ topic:``) in page order; each one's heading is the
#: interface string ``topic.<topic>``.
TOPICS = ("verdict", "mechanism", "evidence", "guidelines", "marketing", "deficiency", "safety",
          "sources", "explore", "other")


def _page(template: str, **context: Any) -> str:
    """Render a template with the shared layout's variables (lang, m, href, lang_switch)."""
    return render_template(template, **i18n.template_context(), nav_active="queries", **context)


@bp.get("/queries")
@openapi.describe(
    params=(
        openapi.Param("q", description="words to look for in the catalogue"),
        openapi.LANG_PARAM,
    ),
)
def catalogue_page() -> Response | str:
    """The catalogue grouped by topic; ``?q=`` filters it on the server (no JavaScript)."""
    lang = i18n.pick_lang(request)
    text = request.args.get("q", "").strip()
    queries = canned.search(_catalogue(), text) if text else list(_catalogue())
    groups = [(topic, i18n.text("topic." + topic, lang),
               [q for q in queries if q.topic == topic]) for topic in TOPICS]
    groups = [g for g in groups if g[2]]
    return _page("queries.html", groups=groups, q=text, total=len(queries))


@bp.get("/queries/evidence-map")
@openapi.describe(
    params=(
        openapi.Param("population", description="a population IRI"),
        openapi.FORMAT_PARAM,
        openapi.LANG_PARAM,
    ),
    media=("text/html", "application/json", "text/csv"),
    statuses={"406": "Not a format the map is offered in"},
)
def evidence_map_page() -> Response | str:
    """Outcomes x interventions as server-side SVG, filterable by population (``?population=``);
    the same cells as JSON or CSV by ``?format=`` or ``Accept``."""
    lang = i18n.pick_lang(request)
    store = _store()
    media_type = negotiation.negotiate(request.headers.get("Accept"),
                                       request.args.get("format"), MAP_TYPES)
    if media_type is None:
        raise NotAcceptable("the evidence map is available as " + ", ".join(MAP_TYPES))
    population = request.args.get("population", "").strip() or None
    populations = evidence_map.populations(store, lang)
    if population and population not in {iri for iri, _ in populations}:
        raise BadRequest(f"parameter 'population': {population!r} is not a known population")
    cells = evidence_map.cells(store, population)
    if media_type != formats.HTML:
        return _map_data(evidence_map.cell_records(store, cells, lang), media_type, population)
    ns, words = _settings().ns, i18n.messages(lang)
    svg = render_template("svg/evidence_map.svg",
                          layout=evidence_map.map_layout(store, cells, lang, ns, words))
    mechanism = render_template("svg/mechanism.svg",
                                layout=evidence_map.mechanism_layout(store, lang, ns, words))
    iris = [i for c in cells for i in (c.outcome, c.intervention, c.relation, c.direction,
                                       c.certainty, c.verdict, *c.populations) if i]
    return _page("queries_evidence_map.html", svg=Markup(svg), mechanism=Markup(mechanism),
                 populations=populations, population=population, cells=cells,
                 names=labels.labels(store, iris, lang))


#: What the evidence map is offered as, the page first.
MAP_TYPES = [formats.HTML, "application/json", "text/csv"]


def _map_data(records: list[dict[str, Any]], media_type: str, population: str | None
              ) -> Response:
    """The map's cells as a JSON document or a CSV table."""
    if media_type == "text/csv":
        body, content_type = evidence_map.to_csv(records), "text/csv; charset=utf-8"
    else:
        body = json.dumps({"population": population, "cells": records}, ensure_ascii=False)
        content_type = "application/json"
    response = Response(body, content_type=content_type)
    response.headers["Vary"] = "Accept"
    return response


def _table(result: QueryResult, lang: str) -> tuple[dict[str, Any], results_table.Page]:
    """The answer's headers and the rows of the page asked for (``?page=``, ``?size=``)."""
    total = len(result.triples) if result.kind == "graph" else result.row_count
    try:
        shown = results_table.page(total, request.args.get("page"), request.args.get("size"))
    except ValueError:
        raise BadRequest("parameters 'page' and 'size' are whole numbers from 1, for example "
                         "?page=2&size=50") from None
    table = results_table.Table(_store(), _settings().ns, lang)
    return table.build(result, shown), shown


def _page_links(shown: results_table.Page) -> dict[str, str]:
    """Links to the previous and next page, keeping every other argument."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "page"]
    out = {}
    if shown.number > 1:
        out["previous"] = "?" + urlencode(args + [("page", str(shown.number - 1))])
    if shown.number < shown.pages:
        out["next"] = "?" + urlencode(args + [("page", str(shown.number + 1))])
    return out


def _options(query: canned.CannedQuery, param: canned.Param, lang: str
             ) -> tuple[list[Any], list[tuple[str, str]]]:
    """A parameter's allowed values and their (value, label) options, sorted by label.

    Cached per store version: values queries and labels are the slow part of a query page.
    """
    cache = current_app.extensions.setdefault("k2d3_query_options", {})
    key = (_reader().version(), query.name, param.name, lang)
    if key not in cache:
        store = _store()
        allowed = canned_params.allowed_values(store, query, param)
        names = labels.labels(store, [t.value for t in allowed if isinstance(t, NamedNode)],
                              lang)
        options = [(t.value, names.get(t.value, t.value)) for t in allowed]
        if len(cache) > 512:
            cache.clear()
        cache[key] = (allowed, sorted(options, key=lambda o: o[1].casefold()))
    return cache[key]


def _form(query: canned.CannedQuery, lang: str) -> list[dict[str, Any]]:
    """Each parameter's form field: its label, input kind, current value and options."""
    fields = []
    for param in query.params:
        options = _options(query, param, lang)[1]
        if param.type == "boolean" and not options:
            options = [("true", "true"), ("false", "false")]
        value = request.args.get(param.name, param.default or "")
        if param.type == "iri" and value:
            value = canned.expand(value, query.prefixes)
        fields.append({"param": param, "label": param.label(lang), "value": value,
                       "options": options,
                       "help": param.descriptions.get(lang) or param.descriptions.get("en"),
                       "input": {"integer": "number", "decimal": "number"}.get(param.type,
                                                                               "text")})
    return fields


def _links(query: canned.CannedQuery) -> dict[str, Any]:
    args = [(k, v) for k, v in request.args.items(multi=True)
            if k not in ("format", "lang", "page", "size")]
    bound = urlencode(args)
    base = f"/queries/{query.name}"
    return {
        "permalink": base + ("?" + bound if bound else ""),
        "downloads": [(label, f"{base}?{urlencode(args + [('format', fmt)])}")
                      for fmt, label in DOWNLOADS[query.kind]],
        # a fragment: the editor reads it, and no request line grows with the query
        "editor": "/sparql#" + urlencode({"query": query.text}),
    }


#: The RDF formats a query's IRI is described in (its catalogue entry, as linked data).
#: ``text/plain`` is N-Triples' historical type (rdflib asks for it with ``format="nt"``).
DESCRIPTION_TYPES = ["text/turtle", "application/ld+json", "application/rdf+xml",
                     "application/n-triples", "text/plain"]


def _offered(query: canned.CannedQuery) -> list[str]:
    """HTML, then the result formats; a SELECT or ASK query's IRI also offers its description
    in RDF (a CONSTRUCT query's RDF formats are its results)."""
    if query.kind in ("construct", "describe"):
        return [formats.HTML, *formats.GRAPH_TYPES]
    return [formats.HTML, *formats.SELECT_TYPES, *DESCRIPTION_TYPES]


def _description(query: canned.CannedQuery, media_type: str) -> Response:
    """The query's catalogue entry as RDF, with the linked-data negotiation headers."""
    iri = _settings().ns.queries + query.name
    triples = dereference.rdf_for_iri(_store(), iri, _settings().ns)
    media_type = "application/n-triples" if media_type == "text/plain" else media_type
    return linked_data.rdf_response(triples, media_type, f"/queries/{query.name}")


def _run(query: canned.CannedQuery, subs: dict[Any, Any]) -> QueryResult:
    """Run the query as the endpoint does: under the request's time limit and, its arguments
    being the client's, the bound on heavy queries (``query_answer.runner_for``); a slow
    answer is kept by the store's version (``server.http.answer_cache``)."""
    settings = _settings()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    limits = Limits.of(settings, federation_allow=(),
                       runner=runner_for(app, request.environ, settings.query_timeout))
    store, version = _reader().snapshot()
    cache = answer_cache()
    key = f"canned\x00{version}\x00{query.name}\x00{sorted(map(str, subs.items()))}"
    if cache is None:
        return run_query(store, query.text, limits, substitutions=subs)
    # waits while another computes it, at most the request's time left
    kept, claim = cache.lookup(key, time_left(app, request.environ, settings.query_timeout))
    if kept is not None:
        return replace(cast(QueryResult, kept))
    try:
        result = run_query(store, query.text, limits, substitutions=subs)
    except BaseException:
        claim.done()
        raise
    # A copy: the page parses the caller's rows (``QueryResult.rows``, Python objects many
    # times the TSV's size), which must not stay in the cache beyond what it counted. A
    # result's size: its TSV, or about 200 bytes a triple.
    claim.done(replace(result), len(result.tsv) + len(result.body or b"")
               + 200 * len(result.triples), result.elapsed_ms)
    return result


@bp.get("/queries/<name>")
@openapi.describe(
    params=(
        openapi.FORMAT_PARAM,
        openapi.Param("page", description="page of the answer, from 1", type="integer"),
        openapi.Param("size", description="rows a page", type="integer"),
        openapi.LANG_PARAM,
    ),
    media=tuple([formats.HTML, *formats.SELECT_TYPES, *formats.GRAPH_TYPES]),
    statuses={"404": "No canned query of that name", "406": "Not a format the query offers"},
    tag="queries",
)
def query_page(name: str) -> Response | str | tuple[str, int]:
    """One canned query: its page in HTML, or its results in the negotiated format."""
    query = canned.find(name, base=_settings().ns.base)
    if query is None:
        raise NotFound(f"no canned query named {name!r}")
    media_type = negotiation.negotiate(request.headers.get("Accept"),
                                       request.args.get("format"), _offered(query))
    if media_type is None:
        raise NotAcceptable("no offered format matches: " + ", ".join(_offered(query)))
    if query.kind in ("select", "ask") and media_type in DESCRIPTION_TYPES:
        return _description(query, media_type)
    lang = i18n.pick_lang(request)
    try:
        subs = canned_params.bind(query, request.args,
                                  allowed=lambda p: _options(query, p, "en")[0])
    except canned_params.ParamError as err:
        if media_type != formats.HTML:
            raise BadRequest(str(err)) from None
        return _page("queries_query.html", query=query, error=err, fields=_form(
            query, lang), links=_links(query), code=highlight(query.text)), 400
    result = _run(query, subs)
    if media_type != formats.HTML:
        graph = result.kind == "graph"
        headers = {"Vary": "Accept"}
        if result.truncated:
            headers.update(dict.fromkeys(TRUNCATED_HEADERS, "true"))
        return Response(serialize(result, media_type), headers=headers,
                        content_type=formats.content_type(media_type, graph=graph))
    table, shown = _table(result, lang) if result.kind != "ask" else ({}, None)
    answer = legend = None
    if query.name == "verdict":
        answer = verdict.sentences(_store(), verdict.rows(_store()), lang)
        legend = verdict.legend(_store(), lang)
    html = _page("queries_query.html", query=query, result=result, table=table,
                 shown=shown, pages=_page_links(shown) if shown else {}, answer=answer,
                 legend=legend, fields=_form(query, lang), links=_links(query),
                 code=highlight(query.text))
    return linked_data.negotiation_headers(Response(html, mimetype="text/html"),
                                           f"/queries/{query.name}", formats.HTML)
