"""server/build/load.py: every format (and .gz), --graph, blank nodes across blocks, bad input
(file, line, column; the store unchanged), loaded graphs kept by a build, progress output.

Named ``test_loader``: ``tests/live/test_load.py`` (the server under load) has the basename."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pytest
from pyoxigraph import (
    BlankNode,
    CanonicalizationAlgorithm,
    Dataset,
    DefaultGraph,
    Literal,
    NamedNode,
    Quad,
)

from server.build import load as load_mod
from server.build import pipeline
from server.build.progress import Progress
from server.config import Settings, load_settings
from server.rdf import graphs, snapshots, store
from server.rdf.namespaces import Namespaces

NS = Namespaces()
EX = "http://example.org/"
S, P, Q = NamedNode(EX + "s"), NamedNode(EX + "p"), NamedNode(EX + "q")
G1, G2 = NamedNode(EX + "g1"), NamedNode(EX + "g2")

#: The same statements in each format: (s p "one"), (s p _:b), (_:b q 2); quads in G1/G2.
TEXTS = {
    ".nt": f'<{EX}s> <{EX}p> "one" .\n<{EX}s> <{EX}p> _:b .\n_:b <{EX}q> "2"^^'
           '<http://www.w3.org/2001/XMLSchema#integer> .\n',
    ".ttl": f'@prefix ex: <{EX}> .\nex:s ex:p "one" ;\n  ex:p [ ex:q 2 ] .\n',
    ".nq": f'<{EX}s> <{EX}p> "one" <{EX}g1> .\n<{EX}s> <{EX}p> _:b <{EX}g2> .\n_:b <{EX}q> "2"^^'
           f'<http://www.w3.org/2001/XMLSchema#integer> <{EX}g2> .\n',
    ".trig": f'@prefix ex: <{EX}> .\nex:g1 {{ ex:s ex:p "one" }}\nex:g2 {{ ex:s ex:p _:b . '
             '_:b ex:q 2 }\n',
}


def expected(suffix: str, graph: NamedNode | DefaultGraph) -> Dataset:
    b = BlankNode("b")
    two = Literal("2", datatype=NamedNode("http://www.w3.org/2001/XMLSchema#integer"))
    if suffix in (".nq", ".trig"):
        g1, g2 = G1, G2
    else:
        g1 = g2 = graph  # type: ignore[assignment]
    return canonical([Quad(S, P, Literal("one"), g1), Quad(S, P, b, g2), Quad(b, Q, two, g2)])


def canonical(quads: list[Quad]) -> Dataset:
    ds = Dataset(quads)
    ds.canonicalize(CanonicalizationAlgorithm.UNSTABLE)
    return ds


def user_quads(root: Path) -> list[Quad]:
    """Every quad but k2d3's own graphs and the load record."""
    mine = {*NS.build_graphs().values(), NS.graph(graphs.LOADS)}
    db = store.StoreReader(root).get()
    return [q for q in db.quads_for_pattern(None, None, None, None)
            if not (isinstance(q.graph_name, NamedNode) and q.graph_name.value in mine)]


def write(path: Path, text: str) -> Path:
    data = text.encode()
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)
    return path


def settings_for(root: Path) -> Settings:
    return load_settings(env={}, store=root)


def quiet() -> Progress:
    return Progress(io.StringIO(), tty=False)


@pytest.mark.parametrize("suffix", [".nt", ".ttl", ".nq", ".trig"])
@pytest.mark.parametrize("gz", ["", ".gz"])
def test_every_format_loads_into_a_new_store(tmp_path: Path, suffix: str, gz: str) -> None:
    file = write(tmp_path / f"data{suffix}{gz}", TEXTS[suffix])
    report = load_mod.load(settings_for(tmp_path / "store"), [file], progress=quiet())
    assert canonical(user_quads(tmp_path / "store")) == expected(suffix, DefaultGraph())
    assert report.triples == (3 if suffix in (".nt", ".nq") else 0)


@pytest.mark.parametrize("suffix", [".nt", ".ttl"])
def test_graph_option_puts_triples_in_that_graph(tmp_path: Path, suffix: str) -> None:
    file = write(tmp_path / f"data{suffix}", TEXTS[suffix])
    load_mod.load(settings_for(tmp_path / "store"), [file], EX + "mine", progress=quiet())
    assert canonical(user_quads(tmp_path / "store")) == expected(suffix, NamedNode(EX + "mine"))


@pytest.mark.parametrize("suffix", [".nq", ".trig"])
def test_graph_option_on_a_quads_file_is_refused(tmp_path: Path, suffix: str) -> None:
    file = write(tmp_path / f"data{suffix}", TEXTS[suffix])
    with pytest.raises(load_mod.LoadError, match="names its own graphs"):
        load_mod.load(settings_for(tmp_path / "store"), [file], EX + "mine", progress=quiet())
    assert not store.exists(tmp_path / "store")


@pytest.mark.parametrize("name", ["data.rdf", "data.nt.bz2", "data", "data.gz"])
def test_an_unknown_extension_is_a_clear_error(tmp_path: Path, name: str) -> None:
    file = write(tmp_path / name, TEXTS[".nt"])
    with pytest.raises(load_mod.LoadError, match=r"\.nt, \.nq, \.ttl or \.trig"):
        load_mod.load(settings_for(tmp_path / "store"), [file], progress=quiet())


def test_a_graph_of_k2d3_own_is_refused(tmp_path: Path) -> None:
    file = write(tmp_path / "data.nt", TEXTS[".nt"])
    with pytest.raises(load_mod.LoadError, match="k2d3's own graphs"):
        load_mod.load(settings_for(tmp_path / "store"), [file], NS.graph("data"),
                      progress=quiet())


def big_ntriples(lines: int, bad_line: int | None = None) -> str:
    out = [f'<{EX}s{i}> <{EX}p> "value {i}" .\n' for i in range(1, lines + 1)]
    if bad_line is not None:
        out[bad_line - 1] = f'<{EX}s{bad_line}> <{EX}p> oops .\n'
    return "".join(out)


def test_blank_nodes_stay_one_node_across_blocks(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(load_mod, "BLOCK", 256)  # dozens of blocks
    text = f"_:x <{EX}p> \"first\" .\n" + big_ntriples(40) + f"_:x <{EX}p> \"last\" .\n"
    file = write(tmp_path / "data.nt", text)
    load_mod.load(settings_for(tmp_path / "store"), [file], progress=quiet())
    subjects = {q.subject for q in user_quads(tmp_path / "store")
                if isinstance(q.subject, BlankNode)}
    assert len(subjects) == 1
    assert len(user_quads(tmp_path / "store")) == 42


@pytest.mark.parametrize("block", [256, load_mod.BLOCK])
def test_bad_ntriples_names_file_line_column_and_changes_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: int) -> None:
    monkeypatch.setattr(load_mod, "BLOCK", block)
    root = tmp_path / "store"
    first = write(tmp_path / "first.nt", TEXTS[".nt"])
    load_mod.load(settings_for(root), [first], EX + "kept", progress=quiet())
    version, before = store.read_version(root), canonical(user_quads(root))
    named_before = set(store.StoreReader(root).get().named_graphs())
    good = write(tmp_path / "good.nq", TEXTS[".nq"])
    bad = write(tmp_path / "bad.nt.gz", big_ntriples(500, bad_line=377))
    column = len(f"<{EX}s377> <{EX}p> ") + 1  # where "oops" starts
    with pytest.raises(load_mod.LoadError) as caught:
        load_mod.load(settings_for(root), [good, bad], progress=quiet())
    assert str(caught.value) == (f"{bad}:377:{column}: The object of a triple must be an IRI, "
                                 "a blank node or a literal")
    assert store.read_version(root) == version
    assert canonical(user_quads(root)) == before
    assert set(store.StoreReader(root).get().named_graphs()) == named_before
    assert [p.name for p in root.iterdir() if p.name.startswith(snapshots.PREFIX)] == [
        f"{snapshots.PREFIX}{version}"]


def test_bad_turtle_names_file_line_column(tmp_path: Path) -> None:
    text = f"@prefix ex: <{EX}> .\nex:s ex:p 1 .\nex:s ex:p ex:q ex:r .\n"
    bad = write(tmp_path / "bad.ttl", text)
    with pytest.raises(load_mod.LoadError) as caught:
        load_mod.load(settings_for(tmp_path / "store"), [bad], progress=quiet())
    assert str(caught.value).startswith(f"{bad}:3:16: ")
    assert not store.exists(tmp_path / "store")


def test_a_corrupt_gzip_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "data.nt.gz"
    bad.write_bytes(gzip.compress(TEXTS[".nt"].encode())[:-12])
    with pytest.raises(load_mod.LoadError, match=f"{bad}: cannot be read"):
        load_mod.load(settings_for(tmp_path / "store"), [bad], progress=quiet())


def test_loaded_graphs_survive_a_build(built_store: Path, tmp_path: Path) -> None:
    from conftest import copy_store

    root = copy_store(built_store, tmp_path / "store")
    own_before = {g: graphs.count(store.StoreReader(root).get(), NamedNode(iri))
                  for g, iri in NS.build_graphs().items()}
    load_mod.load(settings_for(root), [write(tmp_path / "a.nt", TEXTS[".nt"])], EX + "mine",
                  progress=quiet())
    load_mod.load(settings_for(root), [write(tmp_path / "b.nq", TEXTS[".nq"])], progress=quiet())
    loaded = canonical(user_quads(root))
    pipeline.build(settings_for(root))
    assert canonical(user_quads(root)) == loaded
    after = store.StoreReader(root).get()
    assert {g: graphs.count(after, NamedNode(iri)) for g, iri in NS.build_graphs().items()
            if g != "void"} == {g: n for g, n in own_before.items() if g != "void"}
    assert graphs.loaded_sources(after, NS)[EX + "mine"] == ((tmp_path / "a.nt").as_uri(),)


def test_a_store_made_only_by_load_keeps_its_data_when_built(tmp_path: Path) -> None:
    """What ``k2d3 serve`` does to a store ``k2d3 build`` never made: it builds it (stale)."""
    root = tmp_path / "store"
    load_mod.load(settings_for(root), [write(tmp_path / "a.nt", TEXTS[".nt"])], progress=quiet())
    loaded = canonical(user_quads(root))
    assert pipeline.is_stale(settings_for(root))
    pipeline.build(settings_for(root), validate=False)
    assert canonical(user_quads(root)) == loaded
    assert graphs.count(store.StoreReader(root).get(), NamedNode(NS.graph("data"))) > 1000


def test_progress_redraws_one_line_on_a_terminal_and_prints_lines_otherwise() -> None:
    tty, plain = io.StringIO(), io.StringIO()
    for out, is_tty in ((tty, True), (plain, False)):
        progress = Progress(out, tty=is_tty, every=0)
        progress.start("x.nt")
        progress.update(1000, 0.5)
        progress.update(500, 1.0)
        progress.done()
    assert tty.getvalue().count("\r") >= 3 and "\n" not in tty.getvalue()
    assert "1,500 triples" in tty.getvalue() and "100% of x.nt" in tty.getvalue()
    lines = plain.getvalue().splitlines()
    assert len(lines) == 2 and "\r" not in plain.getvalue()
    assert "1,000 triples" in lines[0] and "triples/s" in lines[0] and " s" in lines[0]


def test_quads_in_k2d3_own_graphs_are_refused(tmp_path: Path) -> None:
    root = tmp_path / "store"
    load_mod.load(settings_for(root), [write(tmp_path / "a.nt", TEXTS[".nt"])], progress=quiet())
    version = store.read_version(root)
    own = NS.graph("data")
    file = write(tmp_path / "dump.nq", f'<{EX}s> <{EX}p> "x" <{EX}g1> .\n'
                                       f'<{EX}s> <{EX}p> "x" <{own}> .\n')
    with pytest.raises(load_mod.LoadError, match=f"{file}: has quads in k2d3's own graph"):
        load_mod.load(settings_for(root), [file], progress=quiet())
    assert store.read_version(root) == version
