"""Read k2d3's source files: the ontology, shapes, graph data, generated inferences, the article.

Pure reading; nothing here validates, reasons or writes. The build and the validators share it.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import rdflib

from server import paths

ONTOLOGY_FILE = "k2d3.ttl"
SHAPES_FILE = "shapes.ttl"
INFERRED_FILE = "inferred.generated.nt"


def ontology_file() -> Path:
    return paths.ontology_dir() / ONTOLOGY_FILE


def shapes_file() -> Path:
    return paths.ontology_dir() / SHAPES_FILE


def inferred_file() -> Path:
    """HermiT's inferences, committed so that serving needs no Java (``k2d3 reason``)."""
    return paths.graph_data_dir() / INFERRED_FILE


def data_files() -> list[Path]:
    """The graph data's Turtle files, one per topic of the article, in a stable order."""
    return sorted(paths.graph_data_dir().glob("*.ttl"))


def query_files() -> list[Path]:
    return sorted(paths.queries_dir().glob("*.rq"))


def article_text() -> str:
    """The source article, NFC-normalised (quotations are compared in NFC)."""
    return unicodedata.normalize("NFC", paths.source_article().read_text(encoding="utf-8"))


def parse_turtle(*files: Path) -> rdflib.Graph:
    graph = rdflib.Graph()
    for file in files:
        graph.parse(file, format="turtle")
    return graph


@dataclass(frozen=True)
class Sources:
    """The parsed sources as rdflib graphs (for validation and reasoning)."""

    ontology: rdflib.Graph
    shapes: rdflib.Graph
    data: rdflib.Graph

    @classmethod
    def load(cls) -> Sources:
        return cls(
            ontology=parse_turtle(ontology_file()),
            shapes=parse_turtle(shapes_file()),
            data=parse_turtle(*data_files()),
        )


def all_source_files() -> list[Path]:
    """Every file whose content the built store depends on."""
    return [
        ontology_file(),
        shapes_file(),
        inferred_file(),
        paths.source_article(),
        *data_files(),
        *query_files(),
    ]


def fingerprint() -> str:
    """A digest of every source file's name and content: the store is stale when it changes."""
    digest = hashlib.sha256()
    for file in all_source_files():
        digest.update(file.name.encode())
        digest.update(file.read_bytes() if file.exists() else b"<missing>")
    return digest.hexdigest()
