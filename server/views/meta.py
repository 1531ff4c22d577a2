"""Site-wide pages: the home page, ``/healthz``, ``/.well-known/void`` and the dumps.

Also installs the template context every page shares (``lang``, ``t``, ``href``: see
``i18n.template_context``) for the whole app, so any blueprint can extend ``base.html``, and
the ``linkable`` template test (``iris.linkable``: only http(s) IRIs and local paths are links).
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    render_template,
    request,
    send_file,
)

from server.errors import K2D3Error
from server.http import context, linked_data, openapi
from server.pages import i18n, verdict
from server.rdf import dereference, dumps, iris
from server.rdf.store import StoreMissing

bp = Blueprint("meta", __name__)
bp.app_context_processor(i18n.template_context)
bp.add_app_template_test(iris.linkable, "linkable")


@bp.get("/")
@openapi.describe(params=(openapi.LANG_PARAM,))
def home() -> str:
    """What k2d3 is, and where to go from here."""
    ns = context.settings().ns
    store = context.store()
    lang = i18n.pick_lang(request)
    return render_template(
        "home.html", nav_active="home", site=linked_data.site_url(), ns=ns,
        answer=verdict.sentences(store, verdict.rows(store), lang),
        ontology=dereference.local_path(ns.ontology, ns),
        dataset=dereference.local_path(ns.dataset, ns))


@bp.get("/openapi.json")
@openapi.describe(media=("application/json",), tag="service")
def openapi_json() -> Response:
    """This API described in OpenAPI 3.1, generated from the routes."""
    return jsonify(openapi.spec(current_app, linked_data.site_url() + "/"))


@bp.get("/openapi")
@openapi.describe(params=(openapi.LANG_PARAM,), tag="service")
def openapi_page() -> str:
    """This API described for people: every route, its parameters, formats and statuses."""
    document = openapi.spec(current_app, linked_data.site_url() + "/")
    return render_template("openapi.html", operations=list(openapi.operations(document)),
                           nav_active="api")


@bp.get("/healthz")
@openapi.describe(
    media=("application/json",),
    statuses={"503": "The store does not answer"},
    tag="service",
)
def healthz() -> tuple[Response, int]:
    """200 with the store version when the store answers a query, else 503 (for probes).

    ``reading`` says where this process answers reads from: ``memory`` (a copy of the store,
    see ``K2D3_READ_COPY_MAX_QUADS``), ``disk``, or ``remote`` (``K2D3_BACKEND``).
    """
    reader = context.reader()
    try:
        store = reader.get()
        answered = bool(store.query("ASK { }"))
    except (StoreMissing, OSError, K2D3Error) as exc:
        return jsonify(status="unavailable", error=str(exc)), 503
    where = "remote" if context.settings().backend else "memory" if reader.copied else "disk"
    return jsonify(status="ok" if answered else "unavailable", version=reader.version(),
                   reading=where), 200


@bp.get("/.well-known/void")
@openapi.describe(media=tuple(openapi.RDF_TYPES), tag="linked data")
def well_known_void() -> Response:
    """The VoID description (RFC 8615 well-known URI, VoID §7.2): the dataset IRI's document."""
    ns = context.settings().ns
    from server.views.resources import serve_iri

    return serve_iri(ns.dataset, path=dereference.local_path(ns.dataset, ns))


@bp.get("/dumps/")
@openapi.describe(params=(openapi.LANG_PARAM,), tag="linked data")
def dump_listing() -> str:
    """The build's dumps with sizes and SHA-256 checksums."""
    folder = dumps.current_dir(context.settings().store)
    files = dumps.listing(folder) if folder is not None else []
    return render_template("dumps.html", files=files, nav_active="dataset")


@bp.get("/dumps/<name>")
@openapi.describe(
    media=("application/gzip", "text/turtle", "text/plain"),
    statuses={"404": "No such dump"},
    tag="linked data",
)
def dump_file(name: str) -> Response:
    """One dump file (gzip files are sent as they are, ``Content-Type`` by their content)."""
    folder = dumps.current_dir(context.settings().store)
    path = dumps.file_path(folder, name) if folder is not None else None
    if path is None:
        abort(404)
    return send_file(path, mimetype=dumps.media_type(name), download_name=name, etag=True,
                     max_age=300)
