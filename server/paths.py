"""Where k2d3's shipped data lives: the ontology, graph data, queries and the source article.

In a checkout these are the top-level folders ``ontology/``, ``graph_data/`` and ``queries/``; in
an installed wheel setuptools copies them into ``server/_data/`` (see ``pyproject.toml``). Every
other module asks here, so that the commands work from any working directory.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
SOURCE_FILENAME = "should-you-take-vitamin-k-with-vitamin-d.zh.md"


def data_dir(name: str) -> Path:
    """Return the folder ``name`` (``ontology``, ``graph_data`` or ``queries``).

    The installed copy under ``server/_data`` wins; otherwise the checkout's top-level folder.
    """
    installed = _PACKAGE / "_data" / name
    if installed.is_dir():
        return installed
    return _PACKAGE.parent / name


def ontology_dir() -> Path:
    return data_dir("ontology")


def graph_data_dir() -> Path:
    return data_dir("graph_data")


def queries_dir() -> Path:
    return data_dir("queries")


def checks_dir() -> Path:
    return queries_dir() / "checks"


def source_article() -> Path:
    """The source article (a copy of ``shared/source``; a test keeps the two identical)."""
    return graph_data_dir() / "source" / SOURCE_FILENAME


def identifiers_table() -> Path:
    """The verified external identifiers (a copy of ``shared/identifiers.tsv``)."""
    return graph_data_dir() / "identifiers.tsv"
