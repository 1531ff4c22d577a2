"""k2d3: a knowledge graph and SPARQL service on whether vitamin K2 should go with vitamin D3.

``create_app`` is the application factory: settings -> store (the embedded one, or a remote
engine's: ``server.sparql.backend``) -> blueprints -> error handlers ->
the WSGI middleware: ``server.http.fast_get`` answers plain GET queries without Flask's request
machinery, ``server.http.request_limit`` puts every request under its time limit (in a gunicorn
worker), and ``server.http.envelope`` wraps every response.
Nothing is global; tests build their own app over their own store.
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

from flask import Flask

from server.config import Settings, load_settings
from server.http.answer_cache import AnswerCache
from server.http.context import CACHE_KEY, SETTINGS_KEY, STORE_KEY
from server.rdf.store import StoreReader

#: One blueprint per URL family; each module under ``server.views`` exposes ``bp``.
BLUEPRINTS = ("meta", "sparql", "graph_store", "queries", "resources", "search")


def create_app(settings: Settings | None = None) -> Flask:
    """Build the Flask application over the store named by ``settings`` (default: environment)."""
    settings = settings or load_settings()
    app = Flask(__name__)
    app.config[SETTINGS_KEY] = settings
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.extensions[STORE_KEY] = _reader(settings)
    # Not shared with a remote engine: its versions are per process (``sparql.backend``).
    shared = settings.answer_cache_dir if not settings.backend else None
    app.extensions[CACHE_KEY] = (AnswerCache(
        settings.answer_cache_bytes, settings.answer_cache_min_ms,
        Path(shared) if shared else None, settings.answer_cache_disk_bytes,
        max_waiters=max(1, settings.threads // 2))
        if settings.answer_cache_bytes > 0 else None)
    for name in BLUEPRINTS:
        app.register_blueprint(import_module(f".views.{name}", __name__).bp)
    from server.http import problems
    from server.http.envelope import Envelope
    from server.http.fast_get import FastGet
    from server.http.request_limit import Watched

    problems.register(app)
    app.wsgi_app = FastGet(app, app.wsgi_app)  # type: ignore[method-assign]
    app.wsgi_app = Watched(app, app.wsgi_app)  # type: ignore[method-assign]
    app.wsgi_app = Envelope(app)  # type: ignore[method-assign]
    return app


def _reader(settings: Settings) -> object:
    """The embedded store's reader, or a remote engine's (``K2D3_BACKEND``)."""
    if settings.backend:
        from server.sparql.backend import RemoteReader
        from server.sparql.remote import RemoteEndpoint

        endpoint = RemoteEndpoint.from_env(settings.backend, settings.backend_update,
                                           settings.backend_store,
                                           timeout_s=settings.max_query_timeout)
        return RemoteReader(endpoint, settings.backend_version_seconds)
    return StoreReader(settings.store, settings.read_copy_max_quads)


__all__ = ["Settings", "create_app", "load_settings"]
