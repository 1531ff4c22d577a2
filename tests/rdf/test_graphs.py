"""server/rdf/graphs.py: every graph with its triple count and origin (k2d3's, loaded, written,
default)."""

from __future__ import annotations

import io
from pathlib import Path

from pyoxigraph import BlankNode, Literal, NamedNode, Quad

from server.build import load
from server.build.progress import Progress
from server.config import load_settings
from server.rdf import graphs, store
from server.rdf.namespaces import Namespaces

NS = Namespaces()
EX = "http://example.org/"


def test_origins_and_counts(built_store: Path, tmp_path: Path) -> None:
    from conftest import copy_store

    root = copy_store(built_store, tmp_path / "store")
    nt = tmp_path / "a.nt"
    nt.write_text("".join(f"<{EX}s{i}> <{EX}p> \"{i}\" .\n" for i in range(7)))
    nq = tmp_path / "b.nq"
    nq.write_text(f"<{EX}s> <{EX}p> \"x\" <{EX}quads> .\n<{EX}s> <{EX}p> \"y\" <{EX}quads> .\n")
    settings = load_settings(env={}, store=root)
    quiet = Progress(io.StringIO(), tty=False)
    load.load(settings, [nt], EX + "loaded", progress=quiet)
    load.load(settings, [nt, nq], progress=quiet)  # the default graph, and <quads>
    with store.writer(root) as db:  # as SPARQL Update or the Graph Store would
        db.add(Quad(NamedNode(EX + "s"), NamedNode(EX + "p"), Literal("w"), NamedNode(EX + "w")))
        db.add(Quad(NamedNode(EX + "s"), NamedNode(EX + "p"), Literal("b"), BlankNode("bg")))
    listed = {g.iri: g for g in graphs.list_graphs(store.StoreReader(root).get(), NS)}
    assert (listed[None].triples, listed[None].origin) == (7, "default, loaded")
    assert listed[None].sources == (nt.as_uri(),)
    assert (listed[EX + "loaded"].triples, listed[EX + "loaded"].origin) == (7, "loaded")
    assert (listed[EX + "quads"].triples, listed[EX + "quads"].origin) == (2, "loaded")
    assert listed[EX + "quads"].sources == (nq.as_uri(),)
    assert (listed[EX + "w"].triples, listed[EX + "w"].origin) == (1, "written")
    blank = [g for iri, g in listed.items() if iri and iri.startswith("_:")]
    assert [(g.triples, g.origin) for g in blank] == [(1, "written")]
    assert listed[NS.graph(graphs.LOADS)].origin == "k2d3 (load records)"
    db = store.StoreReader(root).get()
    for name, iri in NS.build_graphs().items():
        expected = sum(1 for _ in db.quads_for_pattern(None, None, None, NamedNode(iri)))
        assert (listed[iri].triples, listed[iri].origin) == (expected, "k2d3"), name
    assert len(listed) == len(list(db.named_graphs())) + 1
