"""The running app's settings and store, for code that serves a request.

``create_app`` puts them on the app under these keys; views and page builders read them here
rather than each knowing the keys.
"""

from __future__ import annotations

from flask import current_app
from pyoxigraph import Store

from .config import Settings
from .store import StoreReader

SETTINGS_KEY = "K2D3_SETTINGS"
STORE_KEY = "k2d3_store"


def settings() -> Settings:
    return current_app.config[SETTINGS_KEY]


def reader() -> StoreReader:
    return current_app.extensions[STORE_KEY]


def store() -> Store:
    """The store, read-only, as of its current version."""
    return reader().get()
