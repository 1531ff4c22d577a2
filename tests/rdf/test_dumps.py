"""server/rdf/dumps.py: the dumps' checksums verify and they parse back to the store's quads."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import pytest
import rdflib
from pyoxigraph import NamedNode, RdfFormat, Store, parse, serialize
from rdflib.compare import isomorphic

from server import create_app
from server.config import load_settings
from server.rdf import dumps, store
from server.rdf.namespaces import Namespaces

NS = Namespaces()


@pytest.fixture(scope="module")
def dumped(built_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the built store whose dumps were (re)written by :func:`dumps.write_dumps`."""
    from conftest import copy_store

    root = copy_store(built_store, tmp_path_factory.mktemp("dumps") / "store")
    live = Store.read_only(str(store.live_dir(root)))
    dumps.write_dumps(live, dumps.dir_for(root, store.live_dir(root)), NS)
    return root


def _rdflib_graph(triples) -> rdflib.Graph:  # type: ignore[no-untyped-def]
    data = serialize(list(triples), format=RdfFormat.N_TRIPLES) or b""
    return rdflib.Graph().parse(data=data.decode("utf-8"), format="nt")


def _by_graph(quads) -> dict[str, rdflib.Graph]:  # type: ignore[no-untyped-def]
    grouped: dict[str, list] = {}
    for quad in quads:
        grouped.setdefault(str(quad.graph_name), []).append(quad.triple)
    return {name: _rdflib_graph(triples) for name, triples in grouped.items()}


def test_checksums_verify(dumped: Path) -> None:
    folder = dumps.current_dir(dumped)
    assert folder is not None
    sums = dumps.read_sums(folder)
    assert {dumps.NQUADS, dumps.TRIG} <= set(sums)
    for name, digest in sums.items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name


@pytest.mark.parametrize(("name", "fmt"), [(dumps.NQUADS, RdfFormat.N_QUADS),
                                           (dumps.TRIG, RdfFormat.TRIG)])
def test_dataset_dumps_parse_back_to_the_store(dumped: Path, name: str, fmt: RdfFormat) -> None:
    folder = dumps.current_dir(dumped)
    assert folder is not None
    live = Store.read_only(str(store.live_dir(dumped)))
    with gzip.open(folder / name, "rb") as handle:
        got = _by_graph(parse(handle.read(), format=fmt))
    expected = _by_graph(live.quads_for_pattern(None, None, None, None))
    assert set(got) == set(expected)
    for graph, triples in expected.items():
        assert isomorphic(got[graph], triples), graph


def test_each_named_graph_has_a_turtle_dump(dumped: Path) -> None:
    folder = dumps.current_dir(dumped)
    assert folder is not None
    live = Store.read_only(str(store.live_dir(dumped)))
    graphs = [g.value for g in live.named_graphs() if isinstance(g, NamedNode)]
    assert NS.graph("data") in graphs
    for graph in graphs:
        got = rdflib.Graph().parse(folder / dumps.graph_file(graph, NS), format="turtle")
        expected = _rdflib_graph(q.triple for q in live.quads_for_pattern(
            None, None, None, NamedNode(graph)))
        assert isomorphic(got, expected), graph


def test_dumps_are_reproducible(dumped: Path, tmp_path: Path) -> None:
    live = Store.read_only(str(store.live_dir(dumped)))
    dumps.write_dumps(live, tmp_path / "dumps" / "again", NS)
    folder = dumps.current_dir(dumped)
    assert folder is not None
    assert dumps.read_sums(tmp_path / "dumps" / "again") == dumps.read_sums(folder)


def test_dumps_are_served_with_their_listing(dumped: Path) -> None:
    client = create_app(load_settings(env={}, store=dumped)).test_client()
    listing = client.get("/dumps/").get_data(as_text=True)
    folder = dumps.current_dir(dumped)
    assert folder is not None
    for name, digest in dumps.read_sums(folder).items():
        assert name in listing and digest in listing
        with client.get(f"/dumps/{name}") as response:
            assert hashlib.sha256(response.data).hexdigest() == digest
    with client.get("/dumps/SHA256SUMS") as response:
        assert response.status_code == 200
    assert client.get("/dumps/..%2Fversion").status_code == 404
    assert client.get("/dumps/nothing.ttl").status_code == 404


def test_void_links_the_dumps() -> None:
    quads = dumps.void_quads(NS, [NS.graph("data")])
    objects = {q.object.value for q in quads}
    assert NS.base + "dumps/" + dumps.NQUADS in objects
    assert NS.base + "dumps/graph-data.ttl" in objects
