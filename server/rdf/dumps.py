"""Downloadable dumps of the built dataset, with SHA-256 checksums, written at build time.

Files (names fixed, so the VoID ``void:dataDump`` links can be stated before they exist)::

    k2d3.nq.gz          every quad, N-Quads, gzip
    k2d3.trig.gz        every quad, TriG, gzip
    graph-<name>.ttl    one named graph, Turtle (``<name>`` from ``<base>graph/<name>``)
    SHA256SUMS          ``sha256sum -c`` format

Where: ``<store>/dumps/<data folder name>/``, one folder per snapshot (``server/rdf/snapshots.py``),
written by the build *before* it swaps ``current`` in, so the dumps served are always those of
the live build (the serving side follows ``current``). Later SPARQL Update / Graph Store writes
are not in them: each write publishes a new snapshot, and its dumps folder is the build's,
hard-linked (:func:`carry_over`). Folders whose snapshot is gone are pruned. gzip headers carry
no timestamp, so the same data gives byte-identical dumps.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
from pathlib import Path

from pyoxigraph import NamedNode, Quad, RdfFormat, Store, serialize

from server.rdf import snapshots
from server.rdf.labels import prefixes
from server.rdf.namespaces import Namespaces
from server.rdf.vocab import VOID

DUMPS = "dumps"
SUMS = "SHA256SUMS"
NQUADS = "k2d3.nq.gz"
TRIG = "k2d3.trig.gz"
#: Without ``charset``: Flask's ``send_file`` adds ``; charset=utf-8`` to every ``text/*`` type.
MEDIA_TYPES = {".nq.gz": "application/gzip", ".trig.gz": "application/gzip",
               ".ttl": "text/turtle", SUMS: "text/plain"}


def graph_file(graph_iri: str, ns: Namespaces) -> str:
    """The dump file name of one named graph."""
    prefix = ns.base + "graph/"
    if graph_iri.startswith(prefix) and graph_iri[len(prefix):].replace("-", "").isalnum():
        return f"graph-{graph_iri[len(prefix):]}.ttl"
    return f"graph-{hashlib.sha256(graph_iri.encode()).hexdigest()[:16]}.ttl"


def dir_for(root: Path, data_dir: Path) -> Path:
    """Where the dumps of the RocksDB folder ``data_dir`` (under store ``root``) go."""
    return root / DUMPS / data_dir.name


def current_dir(root: Path) -> Path | None:
    """The dumps folder of the live build, or ``None`` when there is none."""
    try:
        folder = dir_for(root, snapshots.live_dir(root))
    except snapshots.StoreMissing:
        return None
    return folder if (folder / SUMS).is_file() else None


def _gzip_quads(store: Store, path: Path, fmt: RdfFormat, ns: Namespaces) -> None:
    with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw,
                                                mtime=0) as out:
        quads = store.quads_for_pattern(None, None, None, None)
        kwargs = {"prefixes": prefixes(ns)} if fmt == RdfFormat.TRIG else {}
        serialize(quads, out, fmt, **kwargs)  # type: ignore[arg-type]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_dumps(store: Store, out_dir: Path, ns: Namespaces) -> list[Path]:
    """Write every dump of ``store`` into ``out_dir`` (replacing it); return the files.

    Writes into a temporary sibling folder and renames it, so a reader never sees half a dump.
    """
    tmp = out_dir.with_name(f".{out_dir.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    _gzip_quads(store, tmp / NQUADS, RdfFormat.N_QUADS, ns)
    _gzip_quads(store, tmp / TRIG, RdfFormat.TRIG, ns)
    names = [NQUADS, TRIG]
    for graph in sorted(g.value for g in store.named_graphs() if isinstance(g, NamedNode)):
        name = graph_file(graph, ns)
        triples = (q.triple for q in store.quads_for_pattern(None, None, None, NamedNode(graph)))
        serialize(triples, str(tmp / name), RdfFormat.TURTLE, prefixes=prefixes(ns))
        names.append(name)
    sums = "".join(f"{_sha256(tmp / name)}  {name}\n" for name in names)
    (tmp / SUMS).write_text(sums, encoding="ascii")
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, out_dir)
    return [out_dir / name for name in [*names, SUMS]]


def carry_over(root: Path, old: Path, new: Path) -> None:
    """Give snapshot ``new`` the dumps of snapshot ``old`` (hard links; none if it had none)."""
    source, target = dir_for(root, old), dir_for(root, new)
    if not source.is_dir():
        return
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for file in source.iterdir():
        os.link(file, tmp / file.name)
    os.replace(tmp, target)


def prune(root: Path) -> None:
    """Remove dump folders whose snapshot no longer exists, and those a killed writer left."""
    for folder in (root / DUMPS).glob("data-*"):
        if not (root / folder.name).is_dir():
            shutil.rmtree(folder, ignore_errors=True)
    for folder in (root / DUMPS).glob(".*.tmp"):  # under the writer lock: nobody writes it
        shutil.rmtree(folder, ignore_errors=True)


def read_sums(folder: Path) -> dict[str, str]:
    """``{file name: sha256}`` from the folder's ``SHA256SUMS``."""
    sums: dict[str, str] = {}
    for line in (folder / SUMS).read_text(encoding="ascii").splitlines():
        digest, _, name = line.partition("  ")
        sums[name.strip()] = digest
    return sums


def listing(folder: Path) -> list[dict[str, object]]:
    """The files of a dumps folder for the listing page: name, size, sha256."""
    files: list[dict[str, object]] = [
        {"name": name, "size": (folder / name).stat().st_size, "sha256": digest}
        for name, digest in read_sums(folder).items()]
    return [*files, {"name": SUMS, "size": (folder / SUMS).stat().st_size, "sha256": ""}]


def file_path(folder: Path, name: str) -> Path | None:
    """The path of a listed dump file (``None`` for any other name: no path tricks)."""
    if name != SUMS and name not in read_sums(folder):
        return None
    path = folder / name
    return path if path.is_file() else None


def media_type(name: str) -> str:
    return next((t for suffix, t in MEDIA_TYPES.items() if name.endswith(suffix)),
                "application/octet-stream")


def void_quads(ns: Namespaces, graph_iris: list[str]) -> list[Quad]:
    """``void:dataDump`` statements for the dataset and each graph (for the VoID graph)."""
    def dump(name: str) -> NamedNode:
        return NamedNode(ns.base + DUMPS + "/" + name)

    ds, prop, void_graph = NamedNode(ns.dataset), NamedNode(VOID + "dataDump"), NamedNode(
        ns.graph("void"))
    out = [Quad(ds, prop, dump(NQUADS), void_graph), Quad(ds, prop, dump(TRIG), void_graph)]
    out += [Quad(NamedNode(g), prop, dump(graph_file(g, ns)), void_graph) for g in graph_iris]
    return out


__all__ = ["write_dumps", "dir_for", "current_dir", "void_quads"]
