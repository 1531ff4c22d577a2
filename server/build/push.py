"""``k2d3 push``: copy k2d3's own graphs from the store into a remote SPARQL engine.

Only the graphs the build owns (:data:`server.rdf.namespaces.BUILD_GRAPHS` under the base IRI)
are written; the engine's other graphs are left alone. Each is replaced whole, one after the
other:

- with a Graph Store URL, by one ``PUT`` of the graph as N-Triples (the Graph Store HTTP
  Protocol's "replace"; a graph the store has no triples in is ``DELETE``d);
- otherwise by SPARQL Update: ``DROP SILENT GRAPH`` and then ``INSERT DATA`` in chunks of
  about ``chunk`` triples. A blank node's label means the same node only within one request
  (SPARQL 1.1 Update §3.1.1), so the triples a chain of blank nodes connects (an OWL
  restriction, an RDF list) always go in the same chunk; a chunk with blank nodes is an
  ``INSERT { ... } WHERE {}`` (the same triples, fresh nodes), which Virtuoso 7.2.5 accepts
  where it refuses blank nodes in ``INSERT DATA``.

Pushing twice leaves the engine as pushing once does (every graph is replaced, never added
to). While a graph is being replaced by Update, the engine's readers may see it part-written;
a ``PUT`` is one request.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from pyoxigraph import BlankNode, NamedNode, RdfFormat, Store, Triple, serialize

from server.rdf.namespaces import Namespaces
from server.sparql.remote import RemoteEndpoint

#: Triples per ``INSERT DATA`` request (about 100-200 kB of N-Triples for k2d3's graphs).
DEFAULT_CHUNK = 500


def endpoint(query_url: str, update_url: str | None = None, store_url: str | None = None,
             timeout_s: float = 300.0) -> RemoteEndpoint:
    """The engine to push to, with credentials from ``K2D3_BACKEND_USER`` /
    ``K2D3_BACKEND_PASSWORD``; updates go to the query URL unless ``update_url`` is given."""
    return RemoteEndpoint.from_env(query_url, update_url or query_url, store_url,
                                   timeout_s=timeout_s)


@dataclass(frozen=True)
class Pushed:
    """One graph written to the engine."""

    graph: str
    triples: int
    requests: int
    seconds: float


def push(store: Store, ns: Namespaces, remote: RemoteEndpoint, *, chunk: int = DEFAULT_CHUNK,
         progress: Callable[[str], None] = lambda line: None) -> list[Pushed]:
    """Replace each of k2d3's graphs on ``remote`` with its triples in ``store``.

    Uses the Graph Store protocol when ``remote.store_url`` is set, else SPARQL Update at
    ``remote.update_url``. ``progress`` gets one line per graph (graph, triples, seconds).

    Raises:
        server.errors.K2D3Error: the engine refused a request or could not be reached (graphs
            pushed before it stay pushed; pushing again finishes the job).
    """
    done = []
    for iri in ns.build_graphs().values():
        started = time.perf_counter()
        triples = [q.triple for q in store.quads_for_pattern(None, None, None, NamedNode(iri))]
        if remote.store_url:
            requests = _put(remote, iri, triples)
        else:
            requests = _replace_by_update(remote, iri, triples, chunk)
        pushed = Pushed(iri, len(triples), requests, time.perf_counter() - started)
        progress(f"{iri}: {pushed.triples} triples in {pushed.seconds:.2f} s "
                 f"({pushed.requests} request{'s' if pushed.requests != 1 else ''})")
        done.append(pushed)
    return done


def _put(remote: RemoteEndpoint, iri: str, triples: list[Triple]) -> int:
    if not triples:
        remote.delete_graph(iri)
    else:
        remote.put_graph(iri, _n_triples(triples), "application/n-triples")
    return 1


def _replace_by_update(remote: RemoteEndpoint, iri: str, triples: list[Triple],
                       chunk: int) -> int:
    remote.update(f"DROP SILENT GRAPH <{iri}>")
    requests = 1
    for part in chunks(triples, chunk):
        text = _n_triples(part).decode("utf-8")
        if any(isinstance(n, BlankNode) for t in part for n in (t.subject, t.object)):
            # a template makes a fresh node per label, as INSERT DATA should; Virtuoso 7.2.5
            # refuses blank nodes in INSERT DATA (SP031 "not allowed in a constant clause")
            remote.update(f"INSERT {{ GRAPH <{iri}> {{\n{text}}} }} WHERE {{}}")
        else:
            remote.update(f"INSERT DATA {{ GRAPH <{iri}> {{\n{text}}} }}")
        requests += 1
    return requests


def _n_triples(triples: list[Triple]) -> bytes:
    return serialize(triples, format=RdfFormat.N_TRIPLES) or b""


def chunks(triples: Iterable[Triple], size: int) -> Iterator[list[Triple]]:
    """``triples`` in lists of about ``size``, never splitting the triples that blank nodes
    connect (a group larger than ``size`` is a list of its own)."""
    groups = _blank_node_groups(list(triples))
    part: list[Triple] = []
    for group in groups:
        if part and len(part) + len(group) > size:
            yield part
            part = []
        part.extend(group)
    if part:
        yield part


def _blank_node_groups(triples: list[Triple]) -> list[list[Triple]]:
    """The triples grouped so that two triples sharing a blank node are in one group (union-find
    over blank nodes; a triple without any is a group of its own), in first-seen order."""
    parent: dict[BlankNode, BlankNode] = {}

    def root(node: BlankNode) -> BlankNode:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for t in triples:
        blanks = [n for n in (t.subject, t.object) if isinstance(n, BlankNode)]
        for other in blanks[1:]:
            parent[root(other)] = root(blanks[0])
    groups: dict[object, list[Triple]] = {}
    for i, t in enumerate(triples):
        blank = next((n for n in (t.subject, t.object) if isinstance(n, BlankNode)), None)
        groups.setdefault(i if blank is None else root(blank), []).append(t)
    return list(groups.values())
