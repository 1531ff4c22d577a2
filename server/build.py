"""Sources -> a validated, reasoned dataset -> the on-disk store (atomic and idempotent).

The build fills a fresh snapshot (``server/snapshots.py``) under the writer lock, copies over the
graphs that users wrote (anything not in :data:`~server.namespaces.BUILD_GRAPHS`) from the live
one, computes the VoID description from what it loaded, writes the dumps, and only then swaps
the snapshot in. A failure at any step, or a ``kill -9``, leaves the previous store as it was;
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

from . import dumps, snapshots, sources, store
from .config import Settings
from .namespaces import DEFAULT_BASE, Namespaces

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
    from .canned import catalogue_triples

    g = {name: NamedNode(iri) for name, iri in ns.build_graphs().items()}
    data: list[Quad] = []
    for file in sources.data_files():
        data += _turtle(file, g["data"], ns)
    return {
        "ontology": _turtle(sources.ontology_file(), g["ontology"], ns),
        "shapes": _turtle(sources.shapes_file(), g["shapes"], ns),
        "data": data,
        "inferred": _turtle(sources.inferred_file(), g["inferred"], ns),
        "queries": _quads(catalogue_triples(), g["queries"], ns),
    }


def validation_errors() -> list[str]:
    """What stops a build: everything ``k2d3 validate`` checks (SHACL, quotations, coverage of
    the article, identifiers, the data checks, the canned-query catalogue), one line each."""
    from . import validate

    return validate.validate_all().lines()


def _user_quads(root: Path, owned: set[str]) -> list[Quad]:
    if not store.exists(root):
        return []
    old = Store.read_only(str(store.live_dir(root)))
    return [
        q for q in old.quads_for_pattern(None, None, None, None)
        if not (isinstance(q.graph_name, NamedNode) and q.graph_name.value in owned)
    ]


def build(settings: Settings, *, validate: bool = True) -> BuildReport:
    """Build the store at ``settings.store`` from the shipped sources.

    Raises:
        BuildError: the sources do not validate; nothing on disk is changed.
    """
    from .void import void_quads

    started = time.perf_counter()
    ns = settings.ns
    if validate and (errors := validation_errors()):
        raise BuildError("the sources do not validate:\n  " + "\n  ".join(errors))
    graphs = source_quads(ns)
    root = settings.store
    owned = set(ns.build_graphs().values())
    with store.write_lock(root):
        data_dir = store.new_data_dir(root)  # .tmp-*: never taken for a finished snapshot
        dumps_dir = dumps.dir_for(root, snapshots.final_path(data_dir))
        try:
            new = Store(str(data_dir))
            for quads in graphs.values():
                new.bulk_extend(quads)
            new.bulk_extend(_user_quads(root, owned))
            graph_iris = sorted(g.value for g in new.named_graphs() if isinstance(g, NamedNode))
            void = void_quads(new, ns) + dumps.void_quads(ns, graph_iris)
            new.bulk_extend(void)
            new.flush()
            new.optimize()
            dumps.write_dumps(new, dumps_dir, ns)
            del new
            version = store.swap_in(root, data_dir)
        except BaseException:
            shutil.rmtree(data_dir, ignore_errors=True)
            if not store.exists(root) or store.live_dir(root) != snapshots.final_path(data_dir):
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

