"""server/build/pipeline.py: graphs, idempotence, atomicity, user graphs, staleness, rebasing,
VoID."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import rdflib
from pyoxigraph import (
    CanonicalizationAlgorithm,
    Dataset,
    Literal,
    NamedNode,
    Quad,
)

from server import paths
from server.build import pipeline as build_mod
from server.build import sources
from server.config import load_settings
from server.rdf import store
from server.rdf.namespaces import DEFAULT_BASE, Namespaces

NS = Namespaces()
VOID = "http://rdfs.org/ns/void#"
USER_GRAPH = NamedNode("http://example.org/user-graph")


def quads(root: Path) -> list[Quad]:
    return list(store.StoreReader(root).get().quads_for_pattern(None, None, None, None))


def graph_quads(root: Path, name: str) -> list[Quad]:
    db = store.StoreReader(root).get()
    return list(db.quads_for_pattern(None, None, None, NamedNode(NS.graph(name))))


def canonical(qs: list[Quad]) -> Dataset:
    ds = Dataset(qs)
    ds.canonicalize(CanonicalizationAlgorithm.UNSTABLE)
    return ds


@pytest.fixture()
def own_store(built_store: Path, tmp_path: Path) -> Path:
    from conftest import copy_store

    return copy_store(built_store, tmp_path / "store")


@pytest.fixture()
def source_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the shipped sources that the build reads instead (to break or change)."""
    pkg = tmp_path / "pkg"
    for name in ("ontology", "graph_data", "queries"):
        shutil.copytree(paths.data_dir(name), pkg / "_data" / name)
    monkeypatch.setattr(paths, "_PACKAGE", pkg)
    return pkg / "_data"


def test_every_build_graph_is_filled(built_store: Path) -> None:
    for name in NS.build_graphs():
        assert graph_quads(built_store, name), f"graph {name} is empty"


def test_data_graph_holds_exactly_the_data_files(built_store: Path) -> None:
    expected = rdflib.Graph()
    for file in sources.data_files():
        expected.parse(file, format="turtle")
    assert len(graph_quads(built_store, "data")) == len(expected)


def test_build_is_idempotent(own_store: Path) -> None:
    first = canonical(quads(own_store))
    build_mod.build(load_settings(env={}, store=own_store))
    assert canonical(quads(own_store)) == first


def test_user_graphs_survive_and_build_graphs_are_replaced(own_store: Path) -> None:
    stray = Quad(NamedNode("http://example.org/s"), NamedNode("http://example.org/p"),
                 Literal("stray"), NamedNode(NS.graph("data")))
    mine = Quad(NamedNode("http://example.org/s"), NamedNode("http://example.org/p"),
                Literal("kept"), USER_GRAPH)
    with store.writer(own_store) as db:
        db.add(stray)
        db.add(mine)
    build_mod.build(load_settings(env={}, store=own_store))
    after = quads(own_store)
    assert mine in after
    assert stray not in after


def test_invalid_sources_leave_the_store_untouched(own_store: Path, source_copy: Path) -> None:
    version, before = store.read_version(own_store), canonical(quads(own_store))
    quote_files = [f for f in (source_copy / "graph_data").glob("*.ttl") if "oa:exact" in
                   f.read_text(encoding="utf-8")]
    target = quote_files[0]
    text = target.read_text(encoding="utf-8")
    start = text.index("oa:exact")
    quote_at = text.index('"', start) + 1
    target.write_text(text[:quote_at] + "NOT IN THE ARTICLE " + text[quote_at:], encoding="utf-8")
    with pytest.raises(build_mod.BuildError, match="NOT IN THE ARTICLE"):
        build_mod.build(load_settings(env={}, store=own_store))
    assert store.read_version(own_store) == version
    assert canonical(quads(own_store)) == before


BUILD_WITHOUT_VALIDATION = (
    "import sys; from server.build.pipeline import build; from server.config import load_settings; "
    "build(load_settings(env={{}}, store={store!r}), validate=False)"
)


def test_an_interrupted_build_leaves_the_previous_store(own_store: Path) -> None:
    """Kill builds at moments spread over their writing phase: the store is never broken, a
    half-written folder is never named like a finished snapshot, and the next build removes
    the leftovers, never the live snapshot."""
    before = canonical(quads(own_store))
    caught_mid_write = 0
    for delay in (0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.4):
        live = store.live_dir(own_store)
        proc = subprocess.Popen([sys.executable, "-c",
                                 BUILD_WITHOUT_VALIDATION.format(store=str(own_store))],
                                cwd=Path(__file__).resolve().parents[2])
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert store.read_version(own_store) != ""
        assert canonical(quads(own_store)) == before  # same sources: old or new, never half
        finished = set(own_store.glob("data-*"))
        assert finished <= {live, store.live_dir(own_store)}, "only published snapshots"
        left = list(own_store.glob(".tmp-*"))
        caught_mid_write += store.live_dir(own_store) == live and bool(left)
    assert caught_mid_write, "no kill landed while a build was writing: adjust the delays"
    build_mod.build(load_settings(env={}, store=own_store), validate=False)
    assert list(own_store.glob(".tmp-*")) == []
    assert list(own_store.glob("data-*")) == [store.live_dir(own_store)]
    assert canonical(quads(own_store)) == before


def test_staleness_follows_sources_and_base(own_store: Path, source_copy: Path) -> None:
    settings = load_settings(env={}, store=own_store)
    assert not build_mod.is_stale(settings)
    assert build_mod.is_stale(settings.with_overrides(base_iri="https://example.org/k/"))
    data = sorted((source_copy / "graph_data").glob("*.ttl"))[0]
    data.write_text(data.read_text(encoding="utf-8") + "\n# a change\n", encoding="utf-8")
    assert build_mod.is_stale(settings)
    assert build_mod.is_stale(settings.with_overrides(store=own_store.parent / "absent"))


def test_rebase_moves_every_minted_iri(tmp_path: Path) -> None:
    base = "https://example.org/k/"
    build_mod.build(load_settings(env={}, store=tmp_path / "s", base_iri=base), validate=False)
    terms = [t for q in quads(tmp_path / "s") for t in (q.subject, q.predicate, q.object,
                                                       q.graph_name)]
    assert not [t for t in terms if DEFAULT_BASE in getattr(t, "value", "")]
    assert NamedNode(base + "ontology") in terms
    assert NamedNode(base + "graph/data") in terms


def _void_int(root: Path, subject: str, prop: str) -> int:
    db = store.StoreReader(root).get()
    values = list(db.quads_for_pattern(NamedNode(subject), NamedNode(VOID + prop), None,
                                       NamedNode(NS.graph("void"))))
    assert len(values) == 1, f"{subject} {prop}"
    return int(values[0].object.value)


def test_void_statistics_are_counted_from_the_store(built_store: Path) -> None:
    total = 0
    for name in ("ontology", "shapes", "data", "inferred", "queries"):
        n = len(graph_quads(built_store, name))
        assert _void_int(built_store, NS.graph(name), "triples") == n
        total += n
    # the dataset's triples count the union, where the same triple in two graphs counts once
    union = {(q.subject, q.predicate, q.object) for q in quads(built_store)
             if q.graph_name.value != NS.graph("void") and q.graph_name.value in
             NS.build_graphs().values()}
    assert _void_int(built_store, NS.dataset, "triples") == len(union) <= total


def test_a_catalogue_entry_without_a_chinese_title_stops_the_build(own_store: Path,
                                                                  source_copy: Path) -> None:
    version = store.read_version(own_store)
    rq = sorted((source_copy / "queries").glob("*.rq"))[0]
    lines = rq.read_text(encoding="utf-8").splitlines(keepends=True)
    rq.write_text("".join(line for line in lines if not line.startswith("#+ title@zh")),
                  encoding="utf-8")
    with pytest.raises(build_mod.BuildError, match="canned-query catalogue"):
        build_mod.build(load_settings(env={}, store=own_store))
    assert store.read_version(own_store) == version


def test_void_class_partition_counts_claims(built_store: Path) -> None:
    claim = "https://w3id.org/k2d3/ontology#Claim"
    expected = rdflib.Graph()
    for file in [*sources.data_files(), sources.inferred_file()]:
        expected.parse(file, format="nt" if file.suffix == ".nt" else "turtle")
    claims = set(expected.subjects(rdflib.RDF.type, rdflib.URIRef(claim)))
    db = store.StoreReader(built_store).get()
    rows = list(db.query(
        "PREFIX void: <http://rdfs.org/ns/void#> SELECT ?n { GRAPH ?g { ?ds void:classPartition "
        f"?p . ?p void:class <{claim}> ; void:entities ?n }} }}"))
    assert len(claims) > 50
    assert [int(r["n"].value) for r in rows] == [len(claims)]  # type: ignore[index]
