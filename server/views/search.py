"""``/search``: one box over the graph's names and the canned-query catalogue."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request
from flask.typing import ResponseReturnValue

from .. import i18n, labels, negotiation, openapi, search
from ..context import settings as _settings
from ..context import store as _store
from ..errors import BadRequest, NotAcceptable
from ..linked_data import local_path

bp = Blueprint("search", __name__)


@bp.get("/search")
@openapi.describe(
    params=(
        openapi.Param("q", description="words to look for in names, English or Chinese"),
        openapi.FORMAT_PARAM,
        openapi.LANG_PARAM,
    ),
    media=("text/html", "application/json"),
    statuses={"406": "Not a format offered"},
)
def search_page() -> ResponseReturnValue:
    """HTML, or JSON with ``Accept: application/json`` or ``?format=json``."""
    text = request.args.get("q", "").strip()
    if len(text) > search.MAX_TEXT:
        raise BadRequest(f"parameter 'q' is {len(text)} characters long; search for at most "
                         f"{search.MAX_TEXT}")
    media_type = negotiation.negotiate(request.headers.get("Accept"), request.args.get("format"),
                                       [negotiation.HTML, "application/json"])
    if media_type is None:
        raise NotAcceptable("no offered format matches: text/html, application/json")
    lang = i18n.pick_lang(request)
    ns = _settings().ns
    hits = search.entities(_store(), ns, text, lang) if text else []
    found = search.queries(text, ns.base) if text else []
    kinds = labels.labels(_store(), sorted({h.kind for h in hits if h.kind}), lang)
    if media_type == "application/json":
        return jsonify({"q": text,
                        "resources": [{"iri": h.iri, "label": h.label, "matched": h.matched,
                                       "kind": h.kind, "href": local_path(h.iri, ns)}
                                      for h in hits],
                        "queries": [{"name": q.name, "title": q.title(lang),
                                     "href": f"/queries/{q.name}"} for q in found]})
    return render_template("search.html", q=text, hits=hits, queries=found, kinds=kinds,
                           local=lambda iri: local_path(iri, ns) or iri, nav_active="search")
