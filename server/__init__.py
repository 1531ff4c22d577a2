"""k2d3: a knowledge graph and SPARQL service on whether vitamin K2 should go with vitamin D3.

``create_app`` is the application factory: settings -> store -> blueprints -> error handlers ->
the WSGI middleware: ``server.fast_get`` answers plain GET queries without Flask's request
machinery, ``server.request_limit`` puts every request under its time limit (in a gunicorn
worker), and ``server.envelope`` wraps every response.
Nothing is global; tests build their own app over their own store.
"""

from __future__ import annotations

from importlib import import_module

from flask import Flask

from .config import Settings, load_settings
from .context import SETTINGS_KEY, STORE_KEY
from .store import StoreReader

#: One blueprint per URL family; each module under ``server.views`` exposes ``bp``.
BLUEPRINTS = ("meta", "sparql", "graph_store", "queries", "resources", "search")


def create_app(settings: Settings | None = None) -> Flask:
    """Build the Flask application over the store named by ``settings`` (default: environment)."""
    settings = settings or load_settings()
    app = Flask(__name__)
    app.config[SETTINGS_KEY] = settings
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.extensions[STORE_KEY] = StoreReader(settings.store, settings.read_copy_max_quads)
    for name in BLUEPRINTS:
        app.register_blueprint(import_module(f".views.{name}", __name__).bp)
    from . import errors
    from .envelope import Envelope
    from .fast_get import FastGet
    from .request_limit import Watched

    errors.register(app)
    app.wsgi_app = FastGet(app, app.wsgi_app)  # type: ignore[method-assign]
    app.wsgi_app = Watched(app, app.wsgi_app)  # type: ignore[method-assign]
    app.wsgi_app = Envelope(app)  # type: ignore[method-assign]
    return app


__all__ = ["Settings", "create_app", "load_settings"]
