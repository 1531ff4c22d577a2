#!/usr/bin/env python3
"""Every canned query on Virtuoso and on pyoxigraph over the same graphs, answers compared.

The article's store (``k2d3 build``) is dumped by the build as N-Quads
(``dumps/*/k2d3.nq.gz``); Virtuoso bulk-loads that file, so each named graph keeps its IRI.
pyoxigraph answers from the store itself with the union of the graphs as the default graph,
as k2d3 serves it. Each query is sent as text, defaults bound by a trailing ``VALUES`` (see
``canned_text.py``); pyoxigraph also answers with SEP-0007 substitutions, as k2d3 binds them,
and a difference between the two is reported.

Answers are compared as multisets (``answers.py``): exactly, and once more with the pieces
of ``GROUP_CONCAT`` cells sorted (their order is undefined in SPARQL). ``--queries DIR`` runs
the ``.rq`` files of ``DIR`` (for example rewrites of the canned queries) on both engines and
compares each with the answer pyoxigraph gives to the canned query of the same name.

    python benchmarks/virtuoso_portability.py [--store BUILT_STORE] [--queries DIR]
        [--json OUT.json] [--keep]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import answers  # noqa: E402
import canned_text  # noqa: E402
from pyoxigraph import NamedNode, Store, Variable  # noqa: E402
from virtuoso import Virtuoso, ensure_installed, post_query  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
#: Virtuoso 7.2.5 answers some property-path queries wrongly (0 rows) in the first session of
#: a new database, right after a restart (openlink/virtuoso-opensource#929; RESULTS.md): the
#: comparison restarts it after the load unless ``--fresh``.
FRESH = "first session"
ACCEPT = {"select": "application/sparql-results+xml", "ask": "application/sparql-results+xml",
          "construct": "text/turtle", "describe": "text/turtle"}


def build_store(folder: Path) -> Path:
    """``k2d3 build`` of the article into ``folder`` (with the worktree's own k2d3)."""
    k2d3 = Path(sys.executable).with_name("k2d3")
    subprocess.run([str(k2d3), "build", "--store", str(folder)], check=True,
                   stdout=subprocess.DEVNULL)
    return folder


def dump_of(store: Path) -> Path:
    """The build's N-Quads dump of the live snapshot."""
    live = (store / "current").resolve().name
    return store / "dumps" / live / "k2d3.nq.gz"


def oxigraph_answer(store: Store, query: canned_text.Canned, text: str | None = None,
                    substitute: bool = False) -> Counter[answers.Row]:
    """pyoxigraph's answer, union default graph; ``substitute`` binds defaults as k2d3 does."""
    if substitute:
        subs: dict[Variable, Any] = {Variable(k): NamedNode(v[1:-1])
                                     for k, v in query.bindings.items()}
        result = store.query(query.body, use_default_graph_as_union=True, substitutions=subs)
    else:
        result = store.query(text or query.text, use_default_graph_as_union=True)
    if query.kind in ("construct", "describe"):
        return answers.from_triples(result)
    return answers.from_solutions(result)


def endpoint_answer(url: str, kind: str, text: str) -> tuple[Counter[answers.Row] | None,
                                                             str, float]:
    """An endpoint's answer, or None with its error message; and the seconds it took."""
    started = time.perf_counter()
    status, body, headers = post_query(url, text, ACCEPT[kind])
    elapsed = time.perf_counter() - started
    if status != 200:
        return None, f"HTTP {status}: {body.decode('utf-8', 'replace').strip()[:400]}", elapsed
    partial = headers.get("X-SQL-State") or headers.get("X-SPARQL-MaxRows")
    note = f"partial answer ({partial})" if partial else ""
    return answers.from_document(body, kind), note, elapsed


def compare(reference: Counter[answers.Row], got: Counter[answers.Row] | None, text: str,
            note: str = "") -> dict[str, Any]:
    """How an answer relates to the reference: rows on each side, a verdict, a diff."""
    row: dict[str, Any] = {"rows": None if got is None else sum(got.values()), "note": note}
    if got is None:
        row["verdict"] = "error"
        return row
    columns = answers.concat_columns(text)
    if got == reference:
        row["verdict"] = "same"
    elif answers.loosen(got, columns) == answers.loosen(reference, columns):
        row["verdict"] = "same up to GROUP_CONCAT order"
    else:
        row["verdict"] = "different"
        row["diff"] = answers.diff(answers.loosen(reference, columns),
                                   answers.loosen(got, columns))
    return row


def check_one(store: Store, url: str, query: canned_text.Canned,
              rewrite: canned_text.Canned | None) -> dict[str, Any]:
    """One canned query: pyoxigraph's answer (substituted) against the endpoint's.

    ``trailing``: the text with a trailing ``VALUES``; ``inline``: bound by a ``VALUES``
    opening the ``WHERE`` (only for queries with parameters); ``rewrite``: the rewritten
    query, bound inline, on both engines.
    """
    reference = oxigraph_answer(store, query, substitute=True)
    row: dict[str, Any] = {"query": query.name, "oxigraph_rows": sum(reference.values())}
    if oxigraph_answer(store, query) != reference:
        row["oxigraph_note"] = "pyoxigraph: VALUES-bound answer differs from the substituted one"
    got, note, seconds = endpoint_answer(url, query.kind, query.text)
    row["trailing"] = compare(reference, got, query.text, note)
    row["seconds"] = round(seconds, 4)
    if query.bindings:
        got, note, _ = endpoint_answer(url, query.kind, query.inline_text)
        row["inline"] = compare(reference, got, query.inline_text, note)
    if rewrite is not None:
        own = oxigraph_answer(store, rewrite, text=rewrite.inline_text)
        # the GROUP_CONCAT columns are the canned query's (a rewrite may compute them apart)
        row["rewrite_oxigraph"] = compare(reference, own, query.body)
        got, note, _ = endpoint_answer(url, rewrite.kind, rewrite.inline_text)
        row["rewrite_endpoint"] = compare(reference, got, query.body, note)
    return row


def run(store_dir: Path, url: str, queries: list[canned_text.Canned],
        rewrites: dict[str, canned_text.Canned]) -> list[dict[str, Any]]:
    store = Store.read_only(str((store_dir / "current").resolve()))
    return [check_one(store, url, query, rewrites.get(query.name)) for query in queries]


def _cell(result: dict[str, Any] | None) -> str:
    if not result:
        return ""
    text = f"{result['verdict']} ({result['rows']})"
    return f"{text} {result['note'][:60]}".strip()


def print_table(report: list[dict[str, Any]]) -> None:
    print("| query | pyoxigraph rows | endpoint, trailing VALUES | endpoint, inline VALUES "
          "| rewrite on pyoxigraph | rewrite on endpoint |")
    print("|---|---:|---|---|---|---|")
    for row in report:
        cells = [_cell(row.get(key)) for key in ("trailing", "inline", "rewrite_oxigraph",
                                                 "rewrite_endpoint")]
        print(f"| {row['query']} | {row['oxigraph_rows']} | " + " | ".join(cells) + " |")


def against_virtuoso(store_dir: Path, tmp: Path, fresh: bool, queries: list[canned_text.Canned],
                     rewrites: dict[str, canned_text.Canned]) -> list[dict[str, Any]]:
    """Load the store's dump into a new Virtuoso and compare (after a restart unless fresh)."""
    dump = dump_of(store_dir)
    folder = tmp / "virtuoso"
    with Virtuoso.start(folder, data_dirs=[dump.parent], buffers=100_000) as server:
        server.bulk_load([dump], "urn:k2d3:unused")
        if fresh:
            return run(store_dir, server.sparql_url, queries, rewrites)
    with Virtuoso.start(folder, data_dirs=[dump.parent], buffers=100_000) as server:
        return run(store_dir, server.sparql_url, queries, rewrites)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, help="a built k2d3 store (default: build one)")
    parser.add_argument("--queries", type=Path, help="rewritten .rq files to compare as well")
    parser.add_argument("--json", type=Path, help="write the full report here")
    parser.add_argument("--sparql", help="compare with this endpoint (already loaded with the "
                        "store's graphs) instead of starting Virtuoso")
    parser.add_argument("--fresh", action="store_true",
                        help="query in the session that created the database (see FRESH)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    if not args.sparql:
        print(ensure_installed(), file=sys.stderr)
    tmp = Path(tempfile.mkdtemp(prefix="k2d3-virtuoso-"))
    store_dir = args.store or build_store(tmp / "store")
    rewrites = {q.name: q for q in canned_text.catalogue(args.queries)} if args.queries else {}
    queries = canned_text.catalogue()
    if args.sparql:
        report = run(store_dir, args.sparql, queries, rewrites)
    else:
        report = against_virtuoso(store_dir, tmp, args.fresh, queries, rewrites)
    print_table(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, ensure_ascii=False))
    if not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
