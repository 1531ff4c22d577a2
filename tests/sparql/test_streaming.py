"""server/sparql/streaming.py: the row cap on line-based output, however the writer cuts its
chunks."""

from __future__ import annotations

import pytest
from pyoxigraph import Literal, NamedNode, Quad, RdfFormat, Store, parse

from server.sparql.execute import Limits, run_query
from server.sparql.results import serialize
from server.sparql.streaming import RowCap, RowCapFull


def _feed(cap: RowCap, chunks: list[bytes]) -> bytes:
    try:
        for chunk in chunks:
            cap.write(chunk)
    except RowCapFull:
        pass
    return b"".join(cap.parts)


@pytest.mark.parametrize(("chunks", "kept", "truncated"), [
    ([b"a\nb\n", b"c\n"], b"a\nb\n", True),
    ([b"a\nb\nc"], b"a\nb\n", True),            # a chunk ending inside the third line
    ([b"a\nb", b"\nc\n"], b"a\nb\n", True),
    ([b"a\n", b"", b"b\n"], b"a\nb\n", False),  # an empty write is not a line
    ([b"a\nb\n"], b"a\nb\n", False),
    ([b"a\nb\n", b""], b"a\nb\n", False),
])
def test_the_cap_keeps_whole_lines_only(chunks: list[bytes], kept: bytes,
                                        truncated: bool) -> None:
    cap = RowCap(2, header_lines=0)
    assert (_feed(cap, chunks), cap.truncated) == (kept, truncated)


def test_a_graph_cut_where_pyoxigraph_cuts_its_chunk_still_parses() -> None:
    """pyoxigraph writes N-Triples in 8 KiB chunks that split lines; cap at the first one."""
    store = Store()
    for i in range(2000):
        store.add(Quad(NamedNode(f"http://example.org/s{i}"), NamedNode("http://example.org/p"),
                       Literal(f"value number {i}")))
    chunks: list[bytes] = []

    class Spy:
        def write(self, data: bytes) -> int:
            chunks.append(bytes(data))
            return len(data)

        def flush(self) -> None:
            pass

    store.query("CONSTRUCT WHERE { ?s ?p ?o }").serialize(Spy(), format=RdfFormat.N_TRIPLES)
    assert not chunks[0].endswith(b"\n"), "the case needs a chunk that ends inside a line"
    max_rows = chunks[0].count(b"\n")
    result = run_query(store, "CONSTRUCT WHERE { ?s ?p ?o }",
                       Limits(timeout_s=5, max_rows=max_rows), media_type="application/n-triples")
    body = b"".join(serialize(result, "application/n-triples"))
    assert result.truncated
    assert len(list(parse(body, format=RdfFormat.N_TRIPLES))) == max_rows
