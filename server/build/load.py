"""``k2d3 load``: bulk-load RDF files into the store as user graphs, all or nothing.

The files are loaded in one write transaction (``server.rdf.store.writer``): a checkpoint of
the live snapshot (hard links), filled with pyoxigraph's bulk loader, published only when
every file has loaded; a bad file, a full disk, Ctrl-C or ``kill -9`` leave the live store as
it was. A running ``k2d3 serve`` on the same store answers from the new snapshot at its next
request (readers follow ``current``), without a restart. The writer lock is held for the
whole load, so SPARQL Update and Graph Store writes wait for it.

N-Triples and N-Quads (one statement a line) are cut into blocks of ``BLOCK`` bytes at line
ends and each block is given to ``Store.bulk_load`` as bytes, ``THREADS`` at a time: memory
stays bounded by the blocks in flight, the count of triples is exact (lines) and a block's
errors are placed by adding the lines before it. Measured here on 1M generated N-Quads
(207 MB): 6.3 s and 195 MiB peak RSS in 16 MB blocks, against 13.0 s and 929 MiB for one
``bulk_load(path=...)`` (2M: 1,495 MiB; pyoxigraph's loader holds batches of a million quads
per thread); 10M through ``k2d3 load`` peaked at 279 MiB (one thread) and 374 MiB (two; see
``benchmarks/RESULTS.md``). pyoxigraph gives the blank
nodes of each ``bulk_load`` call fresh identifiers, so a block that mentions one (``_:``) is
parsed with its labels kept and given them prefixed per file instead, through Python objects
(slower, but ``_:x`` stays one node across blocks as within a file).

Turtle and TriG cannot be cut anywhere (prefixes, multi-line statements): they go to the
loader in one piece, read through a stream (progress in bytes), and its batches bound memory.
A ``.gz`` file is decompressed as it is read.
"""

from __future__ import annotations

import gzip
import os
import re
import uuid
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, cast

from pyoxigraph import BlankNode, DefaultGraph, NamedNode, Quad, RdfFormat, Store, Triple, parse

from server.build.progress import Progress
from server.config import Settings
from server.rdf import graphs, store

#: Bytes of N-Triples / N-Quads given to the bulk loader at a time (see the docstring).
BLOCK = 16 << 20
#: Blocks loaded at once: 1M generated quads in 29-39 s with two threads against 59-66 s with
#: one, alternated, on the 2-core test machine while other jobs kept it at load 11.
THREADS = max(1, min(4, os.cpu_count() or 1))
FORMATS = {".nt": RdfFormat.N_TRIPLES, ".nq": RdfFormat.N_QUADS, ".ttl": RdfFormat.TURTLE,
           ".trig": RdfFormat.TRIG}
LINE_FORMATS = (RdfFormat.N_TRIPLES, RdfFormat.N_QUADS)


class LoadError(Exception):
    """A file could not be loaded; nothing was changed."""


@dataclass
class LoadReport:
    files: list[Path]
    triples: int  # lines of N-Triples / N-Quads (Turtle and TriG are not counted)
    seconds: float
    version: str = ""
    #: (graph filled, file): ``None`` for the default graph
    filled: list[tuple[str | None, Path]] = field(default_factory=list)


def file_format(path: Path) -> RdfFormat:
    """The format named by the file's extension (``.nt .nq .ttl .trig``, each with an optional
    ``.gz``)."""
    name = path.name.lower().removesuffix(".gz")
    suffix = "." + name.rpartition(".")[2] if "." in name else ""
    if suffix not in FORMATS:
        raise LoadError(f"{path}: unknown format: the file name must end in .nt, .nq, .ttl or "
                        ".trig (N-Triples, N-Quads, Turtle, TriG), optionally followed by .gz")
    return FORMATS[suffix]


def check(files: Sequence[Path], graph: str | None, settings: Settings) -> NamedNode | None:
    """Every file readable with a known format, and ``--graph`` usable; the target graph.

    Raises:
        LoadError: what is wrong, before anything is read into the store.
    """
    target = None
    if graph is not None:
        try:
            target = NamedNode(graph)
        except ValueError as exc:
            raise LoadError(f"--graph {graph}: not an IRI ({exc})") from None
        if graph in settings.ns.build_graphs().values() or graph == settings.ns.graph(
                graphs.LOADS):
            raise LoadError(f"--graph {graph} is one of k2d3's own graphs, which `k2d3 build` "
                            "replaces: pick another IRI")
    for path in files:
        fmt = file_format(path)
        if not path.is_file():
            raise LoadError(f"{path}: no such file")
        if target is not None and fmt.supports_datasets:
            raise LoadError(f"{path}: --graph applies to triples (.nt, .ttl); this "
                            f"{fmt.name} file names its own graphs: load it without --graph")
    return target


def load(settings: Settings, files: Sequence[Path], graph: str | None = None, *,
         base_iri: str | None = None, progress: Progress | None = None) -> LoadReport:
    """Load ``files`` into the store at ``settings.store`` (created if missing), in one
    transaction; triples go to ``graph`` (default: the default graph), quads keep theirs.

    Raises:
        LoadError: a file is missing, of an unknown format, or not valid RDF (the message
            names the file, line and column); the store is unchanged.
        store.StoreFull: the disk filled up; the store is unchanged.
    """
    target = check(files, graph, settings)
    progress = progress or Progress()
    report = LoadReport(list(files), 0, 0.0)
    try:
        with store.writer(settings.store, create=True) as writable:
            own = _own_counts(writable, settings)
            for path in files:
                progress.start(path.name)
                before = _graph_names(writable)
                report.triples += _load_file(writable, path, target, base_iri, progress)
                _check_own(writable, settings, own, path)
                report.filled += [(g, path) for g in _filled(writable, before, target, path)]
            when = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
            writable.extend([q for g, path in report.filled for q in graphs.record_quads(
                settings.ns, g, path.resolve().as_uri(), when)])
    finally:
        progress.done()  # the bar's line ends before any message
    report.version = store.read_version(settings.store)
    report.seconds = progress.elapsed
    return report


def _own_counts(target: Store, settings: Settings) -> dict[str, int]:
    """Quads in each of k2d3's own graphs and the load record (small: milliseconds)."""
    iris = [*settings.ns.build_graphs().values(), settings.ns.graph(graphs.LOADS)]
    return {iri: graphs.count(target, NamedNode(iri)) for iri in iris}


def _check_own(target: Store, settings: Settings, own: dict[str, int], path: Path) -> None:
    """Refuse a quads file that added to k2d3's own graphs: ``k2d3 build`` would drop it."""
    if not file_format(path).supports_datasets:
        return
    grown = [iri for iri, n in _own_counts(target, settings).items() if n != own[iri]]
    if grown:
        raise LoadError(f"{path}: has quads in k2d3's own graph(s) {', '.join(grown)}, which "
                        "`k2d3 build` replaces: give them other graph names")


def _graph_names(target: Store) -> set[str]:
    return {g.value for g in target.named_graphs() if isinstance(g, NamedNode)}


def _filled(target: Store, before: set[str], graph: NamedNode | None,
            path: Path) -> list[str | None]:
    """The graphs one file filled, for the record: ``--graph`` or the default graph for a
    triples file; for a quads file, the named graphs it made (one that existed before keeps
    its origin)."""
    if not file_format(path).supports_datasets:
        return [graph.value if graph is not None else None]
    return [*sorted(_graph_names(target) - before)]


def _load_file(target: Store, path: Path, graph: NamedNode | None, base_iri: str | None,
               progress: Progress) -> int:
    """Load one file; the lines of N-Triples / N-Quads read (0 for Turtle and TriG)."""
    fmt = file_format(path)
    with open(path, "rb") as raw:
        stream = cast(IO[bytes], gzip.GzipFile(fileobj=raw, mode="rb") if path.name.endswith(
            ".gz") else raw)
        size = max(path.stat().st_size, 1)
        try:
            if fmt in LINE_FORMATS:
                loaded = [0]

                def step(done: int, read: int) -> None:  # the file is read ahead of the loads
                    progress.update(done - loaded[0], raw.tell() / size * done / max(read, 1))
                    loaded[0] = done

                return _load_lines(target, stream, fmt, graph, base_iri, step)
            reader = _Reader(stream, lambda n: progress.update(size=n,
                                                               fraction=raw.tell() / size))
            target.bulk_load(cast(IO[bytes], reader), fmt, base_iri=base_iri, to_graph=graph)
            return 0
        except SyntaxError as exc:
            raise LoadError(syntax_message(path, exc, 0)) from None
        except _BlockError as exc:
            raise LoadError(syntax_message(path, exc.error, exc.lines_before)) from None
        except (OSError, EOFError) as exc:
            if store.snapshots.is_disk_full(exc):
                raise
            raise LoadError(f"{path}: cannot be read: {exc}") from None


def syntax_message(path: Path, exc: SyntaxError, lines_before: int) -> str:
    """``FILE:LINE:COLUMN: what is wrong``, with the parser's position made absolute."""
    reason = exc.msg
    if reason.startswith("Parser error") and ": " in reason:  # the position, made absolute below
        reason = re.sub(r" \(line \d+\)$", "", reason.split(": ", 1)[1])
    if exc.lineno is None:
        return f"{path}: {reason}"
    return f"{path}:{exc.lineno + lines_before}:{exc.offset}: {reason}"


class _BlockError(Exception):
    def __init__(self, error: SyntaxError, lines_before: int) -> None:
        super().__init__(str(error))
        self.error, self.lines_before = error, lines_before


def _load_lines(target: Store, stream: IO[bytes], fmt: RdfFormat, graph: NamedNode | None,
                base_iri: str | None, step: Any) -> int:
    """Give the stream's blocks to ``THREADS`` loaders at once (pyoxigraph releases the GIL
    while it loads; at most two blocks each wait in memory); the lines read.

    ``step(loaded, read)`` is called with the lines loaded and read so far as blocks finish.
    """
    salt = uuid.uuid4().hex[:12]
    lines = done = 0  # read, and loaded
    pending: deque[tuple[Future[None], int, int]] = deque()  # (load, lines before, lines)
    with ThreadPoolExecutor(THREADS, thread_name_prefix="k2d3-load") as pool:
        try:
            for block in line_blocks(stream, BLOCK):
                n = block.count(b"\n")
                pending.append((pool.submit(_load_block, target, block, fmt, graph, base_iri,
                                            salt), lines, n))
                lines += n
                while len(pending) > 2 * THREADS or (pending and pending[0][0].done()):
                    done += _finish(pending.popleft())
                    step(done, lines)
            while pending:
                done += _finish(pending.popleft())
                step(done, lines)
        finally:
            for future, _, _ in pending:
                future.cancel()
    return lines


def _finish(entry: tuple[Future[None], int, int]) -> int:
    """Wait for one block's load; its lines (a syntax error placed in the file)."""
    future, before, n = entry
    try:
        future.result()
    except SyntaxError as exc:
        raise _BlockError(exc, before) from None
    return n


def _load_block(target: Store, block: bytes, fmt: RdfFormat, graph: NamedNode | None,
                base_iri: str | None, salt: str) -> None:
    if b"_:" in block:
        quads = parse(block, fmt, base_iri=base_iri, rename_blank_nodes=False)
        target.bulk_extend(_salted(quads, salt, None if fmt.supports_datasets else (
            graph or DefaultGraph())))
    else:
        target.bulk_load(block, fmt, base_iri=base_iri, to_graph=graph)


def line_blocks(stream: IO[bytes], size: int) -> Iterator[bytes]:
    """The stream in blocks of about ``size`` bytes, each ending at a line end (the last one
    may not). A line longer than ``size`` makes one longer block."""
    rest = b""
    while chunk := stream.read(size):
        chunk = rest + chunk
        cut = chunk.rfind(b"\n") + 1
        if cut == 0:
            rest = chunk
            continue
        rest = chunk[cut:]
        yield chunk[:cut]
    if rest:
        yield rest


def _salted(quads: Iterator[Quad], salt: str, graph: Any) -> Iterator[Quad]:
    """The quads with every blank node label prefixed by ``salt``, in ``graph`` unless it is
    ``None`` (then each keeps its own)."""
    for item in quads:
        g = item.graph_name if graph is None else graph
        yield Quad(_term(item.subject, salt), item.predicate, _term(item.object, salt),
                   _term(g, salt))


def _term(term: Any, salt: str) -> Any:
    if isinstance(term, BlankNode):
        return BlankNode(f"b{salt}{term.value}")
    if isinstance(term, Triple):
        return Triple(_term(term.subject, salt), term.predicate, _term(term.object, salt))
    return term


class _Reader:
    """A binary stream that reports each read's size (the loader calls ``read``)."""

    def __init__(self, stream: IO[bytes], step: Any) -> None:
        self.stream, self.step = stream, step

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.step(len(data))
        return data
