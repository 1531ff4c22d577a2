"""The ``k2d3`` command: build, validate, reason, query and serve the knowledge graph, load
users' RDF files and list the graphs.

Every command finds the store the same way: ``--store PATH``, else ``K2D3_STORE``, else the
per-user data directory (``$XDG_DATA_HOME/k2d3/store``, by default ``~/.local/share/k2d3/store``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from server.config import Settings, load_settings
from server.rdf.formats import FORMAT_NAMES, query_format

STORE_HELP = (
    "the store folder (default: $K2D3_STORE, else $XDG_DATA_HOME/k2d3/store, "
    "i.e. ~/.local/share/k2d3/store)"
)


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(store=getattr(args, "store", None))


def cmd_build(args: argparse.Namespace) -> int:
    from server.build.pipeline import BuildError, build

    try:
        report = build(_settings(args))
    except BuildError as exc:
        print(f"k2d3 build: {exc}", file=sys.stderr)
        return 1
    counts = ", ".join(f"{name} {n}" for name, n in report.quads.items())
    print(f"built {report.store} (version {report.version}) in {report.seconds:.2f} s: {counts}")
    return 0


def validation_problems() -> list[str]:
    """Every check ``k2d3 validate`` runs, as one line per problem (empty when all pass)."""
    from server.build import reason, sources, validate

    problems = validate.validate_all().lines()
    src = sources.Sources.load()
    try:
        inferred = reason.to_ntriples(reason.infer(src.ontology + src.data))
    except reason.ReasonerError as exc:
        return [*problems, f"reasoner: {exc}"]
    if inferred != sources.inferred_file().read_text(encoding="utf-8"):
        problems.append(f"reasoner: {sources.inferred_file().name} is out of date: "
                        "run `k2d3 reason`")
    return problems


def cmd_validate(args: argparse.Namespace) -> int:
    from server.build import sources
    from server.rdf import coverage

    problems = validation_problems()
    for line in problems:
        print(line)
    print(coverage.summary(sources.Sources.load().data, sources.article_text()))
    checks = ("SHACL, HermiT consistency and inferences, quotations, coverage of the article, "
              "identifiers, data checks, the canned-query catalogue")
    print(f"{len(problems)} problem(s)" if problems else f"valid: {checks}")
    return 1 if problems else 0


def cmd_reason(args: argparse.Namespace) -> int:
    from server.build import reason, sources

    src = sources.Sources.load()
    try:
        inferred = reason.infer(src.ontology + src.data)
    except reason.ReasonerError as exc:
        print(f"k2d3 reason: {exc}", file=sys.stderr)
        return 1
    target = args.output or sources.inferred_file()
    Path(target).write_text(reason.to_ntriples(inferred), encoding="utf-8")
    print(f"wrote {len(inferred)} inferred triples to {target}")
    return 0


def _read_query(text: str) -> str:
    if text.startswith("@"):
        return Path(text[1:]).read_text(encoding="utf-8")
    if text == "-":
        return sys.stdin.read()
    return text


def cmd_query(args: argparse.Namespace) -> int:
    from pyoxigraph import QueryBoolean, QueryResultsFormat, QuerySolutions, RdfFormat

    from server.rdf.store import StoreMissing, StoreReader

    settings = _settings(args)
    try:
        store = StoreReader(settings.store).get()
        result = store.query(
            _read_query(args.query), use_default_graph_as_union=settings.union_default_graph
        )
    except StoreMissing as exc:
        print(f"k2d3 query: {exc}", file=sys.stderr)
        return 2
    except SyntaxError as exc:
        print(f"k2d3 query: syntax error: {exc}", file=sys.stderr)
        return 2
    out = sys.stdout.buffer
    if isinstance(result, QuerySolutions | QueryBoolean):
        fmt = query_format(args.format, graph=False) if args.format else QueryResultsFormat.TSV
        if not isinstance(fmt, QueryResultsFormat):
            print(f"k2d3 query: {args.format} is not a format for SELECT/ASK", file=sys.stderr)
            return 2
        result.serialize(out, fmt)
    else:
        rdf = query_format(args.format, graph=True) if args.format else RdfFormat.TURTLE
        if isinstance(rdf, RdfFormat) and rdf.supports_datasets:
            rdf = RdfFormat.N_TRIPLES
        if not isinstance(rdf, RdfFormat):
            print(f"k2d3 query: {args.format} is not a format for CONSTRUCT", file=sys.stderr)
            return 2
        result.serialize(out, rdf)
    out.flush()
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from server.build.apart import build_apart
    from server.build.pipeline import is_stale
    from server.serving import serve

    settings = _settings(args).with_overrides(backend=args.backend,
                                              backend_update=args.backend_update,
                                              backend_store=args.backend_store)
    try:  # before a build that may take a while, so a taken port is said at once
        serve.check_port(args.host, args.port)
    except serve.PortTaken:
        return _port_taken(args)
    if not settings.backend and is_stale(settings):
        print(f"building the store at {settings.store} ...", file=sys.stderr)
        if status := build_apart(settings):  # never in this process: it forks the workers
            return status
    try:
        serve.run(settings, host=args.host, port=args.port, debug=args.debug)
    except serve.PortTaken:
        return _port_taken(args)
    return 0


def cmd_load(args: argparse.Namespace) -> int:
    from server.build.load import LoadError, load
    from server.rdf.store import StoreFull

    settings = _settings(args)
    try:
        report = load(settings, args.files, args.graph, base_iri=args.base)
    except (LoadError, StoreFull) as exc:
        print(f"k2d3 load: {exc}; the store is as it was", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("k2d3 load: interrupted; the store is as it was", file=sys.stderr)
        return 130
    rate = report.triples / report.seconds if report.seconds > 0 else 0.0
    counted = f"{report.triples:,} triples ({rate:,.0f}/s), " if report.triples else ""
    into = ", ".join(sorted(g or "the default graph" for g in {g for g, _ in report.filled}))
    print(f"loaded {len(report.files)} file(s), {counted}in {report.seconds:.1f} s into "
          f"{settings.store} (version {report.version}): {into or 'no new graph'}")
    return 0


def cmd_graphs(args: argparse.Namespace) -> int:
    from server.rdf.graphs import list_graphs
    from server.rdf.store import StoreMissing, StoreReader

    settings = _settings(args)
    try:
        store = StoreReader(settings.store).get()
    except StoreMissing as exc:
        print(f"k2d3 graphs: {exc}", file=sys.stderr)
        return 2
    rows = [(g.iri or "(default graph)", f"{g.triples:,}",
             g.origin + (f" from {', '.join(g.sources)}" if g.sources else ""))
            for g in list_graphs(store, settings.ns)]
    width = [max(len(r[i]) for r in [("graph", "triples", ""), *rows]) for i in range(2)]
    print(f"{'graph':<{width[0]}}  {'triples':>{width[1]}}  origin")
    for iri, n, origin in rows:
        print(f"{iri:<{width[0]}}  {n:>{width[1]}}  {origin}")
    return 0


def _port_taken(args: argparse.Namespace) -> int:
    print(f"k2d3 serve: port {args.port} on {args.host} is already in use; pick another with "
          f"--port (for example: k2d3 serve --port {args.port + 1})", file=sys.stderr)
    return 1


# --- k2d3 push (issue 15): k2d3's graphs into a remote SPARQL engine -----------------------

def cmd_push(args: argparse.Namespace) -> int:
    from server.build.push import endpoint, push
    from server.errors import K2D3Error
    from server.rdf.store import StoreMissing, StoreReader

    if args.graph_store and not args.graph_store.startswith(("http://", "https://")):
        print(f"k2d3 push: --store is the engine's Graph Store URL, not {args.graph_store!r} "
              "(the k2d3 store to push from is --from PATH or K2D3_STORE)", file=sys.stderr)
        return 2
    settings = load_settings(store=args.source)
    remote = endpoint(args.target, args.update, args.graph_store, timeout_s=args.timeout)
    try:
        store = StoreReader(settings.store).get()
        pushed = push(store, settings.ns, remote, progress=lambda line: print(line, flush=True))
    except StoreMissing:
        print(f"k2d3 push: no store at {settings.store}: run `k2d3 build --store "
              f"{settings.store}` first, or name another with --from PATH", file=sys.stderr)
        return 2
    except K2D3Error as exc:
        print(f"k2d3 push: {exc.message}", file=sys.stderr)
        return 1
    total = sum(p.triples for p in pushed)
    print(f"pushed {len(pushed)} graphs, {total} triples, to {remote.query_url}")
    return 0


def _push_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("push", help="replace k2d3's own graphs in a remote SPARQL engine",
                       description="Copy k2d3's graphs from the store into a SPARQL engine, "
                       "graph by graph, replacing only those graphs. Credentials come from "
                       "K2D3_BACKEND_USER and K2D3_BACKEND_PASSWORD (basic or digest).")
    p.add_argument("--target", required=True, metavar="QUERY_URL",
                   help="the engine's SPARQL query endpoint")
    p.add_argument("--update", metavar="URL",
                   help="its SPARQL Update endpoint (default: the query URL)")
    p.add_argument("--store", dest="graph_store", metavar="URL",
                   help="its Graph Store protocol endpoint; when given, each graph is one PUT "
                   "instead of DROP + INSERT DATA")
    p.add_argument("--from", dest="source", type=Path, metavar="PATH", help=STORE_HELP)
    p.add_argument("--timeout", type=float, default=300.0,
                   help="seconds to wait for each request to the engine (default 300)")
    p.set_defaults(func=cmd_push)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="k2d3",
        description="A knowledge graph and SPARQL service on whether vitamin K2 should be "
        "taken with vitamin D3. Settings come from K2D3_* environment variables "
        "(see the README); --store overrides K2D3_STORE.",
    )
    sub = top.add_subparsers(dest="command", required=True)

    b = sub.add_parser("build", help="validate the sources and (re)build the store")
    b.add_argument("--store", type=Path, help=STORE_HELP)
    b.set_defaults(func=cmd_build)

    v = sub.add_parser("validate", help="SHACL, HermiT, quotations, identifiers and data checks")
    v.set_defaults(func=cmd_validate)

    r = sub.add_parser("reason", help="rerun HermiT and rewrite the committed inferences file")
    r.add_argument("--output", type=Path, help="where to write (default: the committed file)")
    r.set_defaults(func=cmd_reason)

    q = sub.add_parser("query", help="run a SPARQL query on the store and print the results")
    q.add_argument("query", help="the query text, @FILE to read it from a file, or - for stdin")
    q.add_argument("--store", type=Path, help=STORE_HELP)
    q.add_argument("--format", choices=sorted(set(FORMAT_NAMES) - {"html"}),
                   help="results format (default tsv for SELECT/ASK, turtle for CONSTRUCT)")
    q.set_defaults(func=cmd_query)

    s = sub.add_parser("serve", help="build if needed, then serve the SPARQL endpoint and pages")
    s.add_argument("--store", type=Path, help=STORE_HELP)
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    s.add_argument("--port", type=int, default=7878, help="port (default 7878)")
    s.add_argument("--debug", action="store_true",
                   help="Flask's development server with the debugger (never in production)")
    s.add_argument("--backend", metavar="QUERY_URL",
                   help="serve a remote SPARQL 1.1 engine's data instead of the store (its "
                        "query URL; credentials from K2D3_BACKEND_USER / K2D3_BACKEND_PASSWORD)")
    s.add_argument("--backend-update", metavar="URL",
                   help="the remote engine's SPARQL Update URL (without it: read-only)")
    s.add_argument("--backend-store", metavar="URL",
                   help="the remote engine's Graph Store protocol URL")
    s.set_defaults(func=cmd_serve)

    _push_parser(sub)

    ld = sub.add_parser("load", help="bulk-load RDF files into the store as user graphs")
    ld.add_argument("files", nargs="+", type=Path, metavar="FILE",
                    help="N-Triples .nt, N-Quads .nq, Turtle .ttl or TriG .trig, each "
                    "optionally .gz")
    ld.add_argument("--graph", metavar="IRI",
                    help="the named graph for triples (.nt, .ttl; default: the default graph); "
                    "quads files keep their own graphs")
    ld.add_argument("--base", metavar="IRI", help="base IRI for relative IRIs in Turtle/TriG")
    ld.add_argument("--store", type=Path, help=STORE_HELP)
    ld.set_defaults(func=cmd_load)

    gr = sub.add_parser("graphs", help="list the store's graphs, triple counts and origins")
    gr.add_argument("--store", type=Path, help=STORE_HELP)
    gr.set_defaults(func=cmd_graphs)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
