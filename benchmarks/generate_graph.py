#!/usr/bin/env python3
"""A synthetic evidence graph of the article's shape, of any size, streamed to N-Quads.

The article's own data (``graph_data/*.ttl`` and the committed inferences) is the template:
claims with subject, predicate and object, evidence lines with design, certainty and studies,
quotations as W3C Web Annotations with TextQuoteSelectors, entities labelled in English and
Chinese, all in k2d3's ontology terms. The output is k2d3's ontology (graph ``ontology``) and
then copies of the template until the size asked for is reached:

- Statements (claims, evidence lines and gaps, recommendations, studies, annotations and
  their targets and selectors) are new in every copy: ``claim-x`` becomes ``claim-x-c7``
  and their strings get `` [c7]``, so the store holds that many distinct texts.
- Entities (vitamins, supplements, outcomes, populations, drugs, agents, documents...) come
  in *worlds*: about one world per 20 copies, each with its own copy of every entity
  (``bmd-w3``). Each copy draws its world with a Zipf-like skew (world 0 is the most used),
  and 5 % of its entities from another world, so entities are shared by many claims and
  joins cross copies as in a real evidence base.
- Copy 0 in world 0 is the article itself, unrenamed: the canned queries' default
  parameters (``k2di:bmd``, ``k2di:osteocalcin``, ``k2di:warfarin``...) match, and every
  canned query returns rows at any size.
- Value sets of the ontology (verdicts, relations, designs, certainty ratings) are shared.

Memory is constant (the template and one copy's entity map); lines are written as they are
made. Typed literals (years, ages) are kept as they are; only strings get the copy's tag.

    python benchmarks/generate_graph.py --triples 1m --out /tmp/g-1m.nq [--gzip] [--seed 1]
        [--format nq|nt] [--graphs https://example.org/synthetic/graph/]
"""

from __future__ import annotations

import argparse
import gzip
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from pyoxigraph import BlankNode, Literal, NamedNode, RdfFormat, Triple, parse

ROOT = Path(__file__).resolve().parent.parent
ID = "https://w3id.org/k2d3/id/"
GRAPH = "https://w3id.org/k2d3/graph/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
#: Classes whose instances are statements about the evidence: new in every copy.
STATEMENT_CLASSES = {
    "https://w3id.org/k2d3/ontology#" + name for name in
    ("Claim", "EvidenceLine", "EvidenceGap", "Recommendation", "Study")
} | {"http://www.w3.org/ns/oa#" + name for name in
     ("Annotation", "SpecificResource", "TextQuoteSelector")}
COPIES_PER_WORLD = 20
STRAY = 0.05
SIZES = {"k": 1_000, "m": 1_000_000}

# A term of the template: (kind, text). Kinds: "fixed" (written as is), "stmt" (an IRI renamed
# per copy), "entity" (an IRI renamed per world), "string" (a string literal, tagged), and
# "bnode" (renamed per copy).
Term = tuple[str, str]


def size(text: str) -> int:
    """``100k``, ``1m``, ``10M``, ``2500`` -> a number of triples."""
    text = text.strip().lower()
    return int(float(text[:-1]) * SIZES[text[-1]]) if text[-1] in SIZES else int(text)


@dataclass
class Template:
    """The article's triples, split into shared, entity and per-copy parts, pre-classified."""

    shared: list[tuple[Term, Term, Term, str]] = field(default_factory=list)
    entity: list[tuple[Term, Term, Term, str]] = field(default_factory=list)
    statement: list[tuple[Term, Term, Term, str]] = field(default_factory=list)


def read_template() -> Template:
    """Parse ``graph_data``: classify each IRI by its types, each triple by its IRIs."""
    data = [(t, "data") for f in sorted((ROOT / "graph_data").glob("*.ttl"))
            for t in parse(path=str(f), format=RdfFormat.TURTLE)]
    data += [(t, "inferred") for t in
             parse(path=str(ROOT / "graph_data" / "inferred.generated.nt"),
                   format=RdfFormat.N_TRIPLES)]
    typed: dict[str, set[str]] = {}
    for triple, _ in data:
        if triple.predicate.value == RDF_TYPE and isinstance(triple.subject, NamedNode):
            typed.setdefault(triple.subject.value, set()).add(triple.object.value)
    template = Template()
    for triple, graph in data:
        terms = tuple(_term(t, typed) for t in (triple.subject, triple.predicate, triple.object))
        kinds = {kind for kind, _ in terms}
        part = (template.statement if kinds & {"stmt", "bnode"} else
                template.entity if "entity" in kinds else template.shared)
        part.append((*terms, graph))  # type: ignore[arg-type]
    return template


def _term(term: NamedNode | BlankNode | Literal | Triple, typed: dict[str, set[str]]) -> Term:
    if isinstance(term, BlankNode):
        return ("bnode", term.value)
    if isinstance(term, Literal):
        if term.datatype.value in (XSD_STRING, LANG_STRING):
            return ("string", str(term))
        return ("fixed", str(term))
    if isinstance(term, NamedNode) and term.value.startswith(ID) and term.value in typed:
        return ("stmt" if typed[term.value] & STATEMENT_CLASSES else "entity", term.value)
    return ("fixed", str(term))


def render(term: Term, copy: int, world_of: dict[str, int]) -> str:
    """One term in N-Triples for ``copy``; ``world_of`` gives each entity's world."""
    kind, text = term
    if kind == "fixed":
        return text
    if kind == "stmt":
        return f"<{text}-c{copy}>" if copy else f"<{text}>"
    if kind == "entity":
        world = world_of[text]
        return f"<{text}-w{world}>" if world else f"<{text}>"
    if kind == "bnode":
        return f"_:{text}c{copy}"
    if not copy:  # a string literal: tag it before its closing quote
        return text
    head, quote, tail = text.rpartition('"')
    return f"{head} [c{copy}]{quote}{tail}"


def world_strings(term: Term, world: int) -> Term:
    """Entities' own strings get the world's tag (world 0: the article's)."""
    kind, text = term
    if kind != "string" or not world:
        return term
    head, quote, tail = text.rpartition('"')
    return ("fixed", f"{head} [w{world}]{quote}{tail}")


class Writer:
    """N-Quads or N-Triples lines to a file (gzip by name), counted; stops at ``limit``."""

    def __init__(self, out: IO[bytes], limit: int, quads: bool, graphs: str = GRAPH) -> None:
        self.out, self.limit, self.quads, self.graphs = out, limit, quads, graphs
        self.count = 0
        self.buffer: list[str] = []

    @property
    def full(self) -> bool:
        return self.count >= self.limit

    def add(self, s: str, p: str, o: str, graph: str) -> None:
        if self.count >= self.limit:
            return
        self.buffer.append(f"{s} {p} {o} <{self.graphs}{graph}> .\n" if self.quads
                           else f"{s} {p} {o} .\n")
        self.count += 1
        if len(self.buffer) >= 20_000:
            self.flush()

    def flush(self) -> None:
        self.out.write("".join(self.buffer).encode("utf-8"))
        self.buffer.clear()


def ontology_triples() -> Iterator[tuple[str, str, str]]:
    """k2d3's ontology, its blank nodes labelled in order (the parser's labels are random)."""
    labels: dict[str, str] = {}

    def text(term: NamedNode | BlankNode | Literal | Triple) -> str:
        if isinstance(term, BlankNode):
            return labels.setdefault(term.value, f"_:o{len(labels)}")
        return str(term)

    for t in parse(path=str(ROOT / "ontology" / "k2d3.ttl"), format=RdfFormat.TURTLE):
        yield text(t.subject), str(t.predicate), text(t.object)


def generate(out: IO[bytes], triples: int, seed: int = 1, quads: bool = True,
             graphs: str = GRAPH) -> dict[str, int]:
    """Write ``triples`` lines to ``out`` (graph IRIs ``graphs`` + ``ontology``, ``data``...);
    return counts (copies, worlds, triples)."""
    template = read_template()
    writer = Writer(out, triples, quads, graphs)
    for subject, predicate, obj in ontology_triples():
        writer.add(subject, predicate, obj, "ontology")
    for s, p, o, g in template.shared:
        writer.add(s[1], p[1], o[1], g)
    copies = max(1, (triples - writer.count) // max(1, len(template.statement)))
    worlds = max(1, round(copies / COPIES_PER_WORLD))
    entities = {text for tr in template.entity + template.statement for kind, text in tr[:3]
                if kind == "entity"}
    for world in range(worlds):
        same = dict.fromkeys(entities, world)
        for s, p, o, g in template.entity:
            writer.add(render(s, 0, same), render(p, 0, same),
                       render(world_strings(o, world), 0, same), g)
    rng = random.Random(seed)
    weights = [1 / (w + 1) for w in range(worlds)]
    copy = 0
    while not writer.full:
        world = 0 if copy == 0 else rng.choices(range(worlds), weights)[0]
        world_of = {e: (rng.randrange(worlds) if copy and rng.random() < STRAY else world)
                    for e in entities}
        for s, p, o, g in template.statement:
            writer.add(render(s, copy, world_of), render(p, copy, world_of),
                       render(o, copy, world_of), g)
        copy += 1
    writer.flush()
    return {"triples": writer.count, "copies": copy, "worlds": worlds}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--triples", type=size, required=True, help="100k, 1m, 10m, ...")
    parser.add_argument("--out", type=Path, required=True, help="FILE.nq, FILE.nt (+ .gz)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--gzip", action="store_true", help="compress (also when --out ends .gz)")
    parser.add_argument("--format", choices=("nq", "nt"), help="default: from --out's name")
    parser.add_argument("--graphs", default=GRAPH,
                        help=f"prefix of the graph IRIs (default {GRAPH}, k2d3's own graphs; "
                        "`k2d3 load` wants others)")
    args = parser.parse_args(argv)
    name = args.out.name.removesuffix(".gz")
    quads = (args.format or name.rsplit(".", 1)[-1]) != "nt"
    started = time.perf_counter()
    compress = args.gzip or args.out.name.endswith(".gz")
    with open(args.out, "wb") as raw:
        out = gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=1, mtime=0) if compress else raw
        counts = generate(out, args.triples, args.seed, quads,  # type: ignore[arg-type]
                          args.graphs)
        out.close()
    seconds = time.perf_counter() - started
    print(f"{args.out}: {counts['triples']:,} triples, {counts['copies']:,} copies of the "
          f"article in {counts['worlds']:,} worlds, {args.out.stat().st_size:,} bytes, "
          f"{seconds:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
