"""Sources -> a validated, reasoned dataset -> the on-disk store (atomic and idempotent).

The build writes a new snapshot (``server/rdf/snapshots.py``) under the writer lock: a checkpoint
of the live one with the build's own graphs (:data:`~server.rdf.namespaces.BUILD_GRAPHS`)
replaced, so that the graphs users wrote or loaded stay as they are (or an empty store at
first); it computes the VoID description from what it loaded, writes the dumps, and only then
swaps the snapshot in. A failure at any step, or a ``kill -9``, leaves the previous store as it was;
the half-written folder is named ``.tmp-*``, so nothing takes it for a finished snapshot, and
the next write or build deletes it.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyoxigraph import (
    Literal,
    NamedNode,
    Quad,
    RdfFormat,
    Store,
    Triple,
    parse,
)

from server.build import sources
from server.config import Settings
from server.rdf import dumps, snapshots, store
from server.rdf.namespaces import DEFAULT_BASE, Namespaces

FINGERPRINT_FILE = "sources"


class BuildError(Exception):
    """The sources do not validate, or the store could not be written."""


@dataclass(frozen=True)
class BuildReport:
    store: Path
    version: str
    quads: dict[str, int]
    seconds: float


def rebase_term(term: Any, base: str) -> Any:
    """Rewrite a term minted under the default base so that it lives under ``base``.

    IRIs and literal values both: canned query texts and ``sh:namespace`` literals name the
    namespace too.
    """
    if isinstance(term, NamedNode) and term.value.startswith(DEFAULT_BASE):
        return NamedNode(base + term.value[len(DEFAULT_BASE):])
    if isinstance(term, Literal) and DEFAULT_BASE in term.value:
        value = term.value.replace(DEFAULT_BASE, base)
        if term.language:
            return Literal(value, language=term.language)
        return Literal(value, datatype=term.datatype)
    return term


def _turtle(path: Path, graph: NamedNode, ns: Namespaces) -> list[Quad]:
    fmt = RdfFormat.N_TRIPLES if path.suffix == ".nt" else RdfFormat.TURTLE
    triples = parse(path=str(path), format=fmt)
    return _quads(triples, graph, ns)  # type: ignore[arg-type]


def _quads(triples: list[Triple], graph: NamedNode, ns: Namespaces) -> list[Quad]:
    if ns.base == DEFAULT_BASE:
        return [Quad(t.subject, t.predicate, t.object, graph) for t in triples]
    return [
        Quad(rebase_term(t.subject, ns.base), rebase_term(t.predicate, ns.base),
             rebase_term(t.object, ns.base), graph)
        for t in triples
    ]


def source_quads(ns: Namespaces) -> dict[str, list[Quad]]:
    """Every build-owned graph but VoID, as quads ready to load."""
    from server.catalogue.canned import catalogue
    from server.catalogue.rdf import triples as catalogue_triples

    g = {name: NamedNode(iri) for name, iri in ns.build_graphs().items()}
    data: list[Quad] = []
    for file in sources.data_files():
        data += _turtle(file, g["data"], ns)
    return {
        "ontology": _turtle(sources.ontology_file(), g["ontology"], ns),
        "shapes": _turtle(sources.shapes_file(), g["shapes"], ns),
        "data": data,
        "inferred": _turtle(sources.inferred_file(), g["inferred"], ns),
        "queries": _quads(catalogue_triples(catalogue()), g["queries"], ns),
    }


def validation_errors() -> list[str]:
    """What stops a build: everything ``k2d3 validate`` checks (SHACL, quotations, coverage of
    the article, identifiers, the data checks, the canned-query catalogue), one line each."""
    from server.build import validate

    return validate.validate_all().lines()


def _start(root: Path, owned: set[str]) -> tuple[Path, Store, bool]:
    """The folder the build writes (``.tmp-*``), its store, and whether it starts empty.

    With a live snapshot, the build starts from a checkpoint of it (hard links) and drops
    the graphs it owns: the users' graphs (written, or loaded by ``k2d3 load``: millions of
    quads, perhaps) stay where they are, never read into Python (the build used to copy them
    quad by quad into a list). The caller holds the writer lock.
    """
    snapshots.prune(root)
    if not store.exists(root):
        data_dir = store.new_data_dir(root)
        return data_dir, Store(str(data_dir)), True
    data_dir = snapshots.checkpoint(root, store.live_dir(root))
    new = Store(str(data_dir))
    for iri in sorted(owned):
        if new.contains_named_graph(NamedNode(iri)):
            new.remove_graph(NamedNode(iri))
    return data_dir, new, False


def build(settings: Settings, *, validate: bool = True) -> BuildReport:
    """Build the store at ``settings.store`` from the shipped sources.

    Raises:
        BuildError: the sources do not validate; nothing on disk is changed.
    """
    from server.build.void import void_quads

    started = time.perf_counter()
    ns = settings.ns
    if validate and (errors := validation_errors()):
        raise BuildError("the sources do not validate:\n  " + "\n  ".join(errors))
    graphs = source_quads(ns)
    root = settings.store
    owned = set(ns.build_graphs().values())
    with store.write_lock(root):
        data_dir, new, fresh = _start(root, owned)  # .tmp-*: never taken for a finished one
        dumps_dir = dumps.dir_for(root, snapshots.final_path(data_dir))
        try:
            for quads in graphs.values():
                new.bulk_extend(quads)
            graph_iris = sorted(g.value for g in new.named_graphs() if isinstance(g, NamedNode))
            void = void_quads(new, ns) + dumps.void_quads(ns, graph_iris)
            new.bulk_extend(void)
            new.flush()
            if fresh:  # a checkpoint's files are mostly the users' data: not rewritten
                new.optimize()
            dumps.write_dumps(new, dumps_dir, ns)
            del new
            version = store.swap_in(root, data_dir)
        except BaseException:
            shutil.rmtree(data_dir, ignore_errors=True)
            if not store.exists(root) or store.live_dir(root).name != snapshots.final_path(
                    data_dir).name:
                shutil.rmtree(dumps_dir, ignore_errors=True)
            raise
        (root / FINGERPRINT_FILE).write_text(_fingerprint(settings), encoding="ascii")
    counts = {name: len(quads) for name, quads in graphs.items()} | {"void": len(void)}
    return BuildReport(root, version, counts, time.perf_counter() - started)


def _fingerprint(settings: Settings) -> str:
    """What the store was built from: the sources' digest and the base IRI."""
    return f"{sources.fingerprint()} {settings.ns.base}"


def is_stale(settings: Settings) -> bool:
    """True when the store is missing or was built from other sources than the shipped ones."""
    root = settings.store
    if not store.exists(root):
        return True
    try:
        built_from = (root / FINGERPRINT_FILE).read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return True
    return built_from != _fingerprint(settings)

