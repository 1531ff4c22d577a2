"""The evidence map and the mechanism diagram: their data, and where everything goes on the page.

The evidence map puts outcomes (rows) against interventions (columns); each cell shows the
direction of the effect the article reports, the certainty of the evidence and the number of
evidence lines, and links to the claims behind it. The mechanism diagram draws the chain the
article describes: vitamin -> protein -> calcium -> bone or vessel. Both read the graph with the
SPARQL in :mod:`server.pages.evidence_queries`.

This module computes plain layouts (positions, the lines of each wrapped label, links); the
SVG is written by the Jinja templates ``svg/evidence_map.svg`` and ``svg/mechanism.svg``, with
autoescaping, so a label holding markup shows as text. Headers wrap onto as many lines as they
need; the mechanism's edge labels are placed so that no two of them, and no label and box,
overlap (:func:`place_labels`).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from pyoxigraph import NamedNode, Store, Variable

from server.pages import i18n
from server.pages.evidence_queries import (
    CELLS,
    CERTAINTY_ORDER,
    MECHANISM,
    POPULATIONS,
    PREFIXES,
    VERDICT_ORDER,
    colour,
    symbol,
)
from server.rdf import labels
from server.rdf.dereference import local_path
from server.rdf.iris import linkable
from server.rdf.namespaces import Namespaces

AFFECTS = "https://w3id.org/k2d3/id/relation-affects"
CELL_W, CELL_H, HEAD_W, LINE_H = 180, 82, 250, 16
#: Characters a header line holds (CJK characters count double), and the most lines it takes.
COLUMN_CHARS, ROW_CHARS, CELL_CHARS, MAX_LINES = 24, 32, 24, 6


@dataclass(frozen=True)
class Cell:
    """One cell of the evidence map: an (outcome, intervention) pair and what the graph says."""

    outcome: str
    intervention: str
    relation: str | None
    """The claims' relation (``relation-affects``, ``relation-rarely-causes``...), or ``None``
    when they differ."""
    direction: str | None
    """The claims' direction of effect, or ``None`` when they state none or disagree."""
    certainty: str | None
    """The best certainty among the cell's evidence lines."""
    verdict: str | None
    """The strongest verdict among the cell's claims."""
    lines: int
    claims: int
    populations: tuple[str, ...] = ()
    """The populations the cell's claims are about (a claim about "people taking warfarin"
    must not read as one about everyone)."""

    def as_dict(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "intervention": self.intervention,
                "relation": self.relation, "direction": self.direction, "certainty": self.certainty,
                "verdict": self.verdict, "lines": self.lines, "claims": self.claims,
                "populations": list(self.populations)}


def _rows(store: Store, query: str, subs: dict[str, Any] | None = None) -> list[dict[str, str]]:
    bindings = {Variable(k): v for k, v in (subs or {}).items()}
    answer: Any = store.query(PREFIXES + query, use_default_graph_as_union=True,
                              substitutions=bindings)
    names = [v.value for v in answer.variables]
    return [{n: t.value for n, t in zip(names, row, strict=True) if t is not None}
            for row in answer]


def populations(store: Store, lang: str) -> list[tuple[str, str]]:
    """The populations claims are about, as (IRI, label), sorted by label."""
    iris = [row["population"] for row in _rows(store, POPULATIONS)]
    names = labels.labels(store, iris, lang)
    return sorted(names.items(), key=lambda item: item[1].casefold())


def _first(values: set[str], order: list[str]) -> str | None:
    return next((v for v in order if v in values), None)


def cells(store: Store, population: str | None = None) -> list[Cell]:
    """The map's cells, optionally only from claims about ``population`` (an IRI)."""
    subs = {"population": NamedNode(population)} if population else None
    groups: dict[tuple[str, str], list[dict[str, str]]] = {}
    for row in _rows(store, CELLS, subs):
        groups.setdefault((row["outcome"], row["intervention"]), []).append(row)
    out = []
    for (outcome, intervention), rows in sorted(groups.items()):
        directions = {r.get("direction") for r in rows}
        relations = {r["relation"] for r in rows}
        out.append(Cell(
            outcome, intervention,
            relation=relations.pop() if len(relations) == 1 else None,
            direction=directions.pop() if len(directions) == 1 else None,
            certainty=_first({r.get("certainty", "") for r in rows}, CERTAINTY_ORDER),
            verdict=_first({r.get("verdict", "") for r in rows}, VERDICT_ORDER),
            lines=len({r["line"] for r in rows if "line" in r}),
            claims=len({r["claim"] for r in rows}),
            populations=tuple(sorted({r["about"] for r in rows if "about" in r})),
        ))
    return out


def width_of(text: str) -> int:
    """How many Latin characters ``text`` takes up (CJK characters count double)."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def wrap(text: str, width: int, max_lines: int = MAX_LINES) -> list[str]:
    """``text`` cut into lines of about ``width`` characters, at spaces where there are some,
    into at most ``max_lines`` lines (the last one ends with an ellipsis if cut)."""
    lines: list[str] = []
    rest = text.strip()
    while rest and len(lines) < max_lines:
        if width_of(rest) <= width:
            lines.append(rest)
            rest = ""
            break
        cut = len(rest)
        while cut > 1 and width_of(rest[:cut]) > width:
            cut -= 1
        space = rest.rfind(" ", 0, cut + 1)
        cut = space if space > width // 3 else cut
        lines.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    if rest:
        lines[-1] = lines[-1].rstrip() + "…"
    return lines


def href(iri: str, ns: Namespaces, lang: str) -> str | None:
    """The link for ``iri``: its page here (in the page's language), else the IRI if a page
    may link it (http or https, :func:`server.rdf.iris.linkable`), else None (a
    ``javascript:`` IRI is no link)."""
    path = local_path(iri, ns) or iri
    if not linkable(path):
        return None
    return i18n.with_lang(path, lang) if path.startswith("/") else path


def map_layout(store: Store, grid: list[Cell], lang: str, ns: Namespaces,
               words: dict[str, str], claims_query: str = "claims-about") -> dict[str, Any]:
    """Everything ``svg/evidence_map.svg`` draws: headers (wrapped), cells, legend, size."""
    outcomes = sorted({c.outcome for c in grid})
    interventions = sorted({c.intervention for c in grid})
    iris = outcomes + interventions + [x for c in grid
                                       for x in (c.certainty, c.direction, c.relation) if x]
    iris += [p for c in grid for p in c.populations]
    names = labels.labels(store, iris + VERDICT_ORDER, lang)
    column_lines = [wrap(names[i], COLUMN_CHARS) for i in interventions]
    columns = [{"x": HEAD_W + j * CELL_W + CELL_W / 2, "lines": lines, "href": href(i, ns, lang)}
               for j, (i, lines) in enumerate(zip(interventions, column_lines, strict=True))]
    head_h = 12 + LINE_H * max((len(lines) for lines in column_lines), default=1)
    rows, by_pair = [], {(c.outcome, c.intervention): c for c in grid}
    for i, outcome in enumerate(outcomes):
        y = head_h + i * CELL_H
        row_cells = []
        for j, intervention in enumerate(interventions):
            cell = by_pair.get((outcome, intervention))
            row_cells.append(_cell(cell, HEAD_W + j * CELL_W, y, names, lang, words,
                                   claims_query))
        rows.append({"y": y, "lines": wrap(names[outcome], ROW_CHARS, CELL_H // LINE_H - 1),
                     "href": href(outcome, ns, lang), "cells": row_cells})
    width = HEAD_W + CELL_W * max(1, len(interventions)) + 10
    height = head_h + CELL_H * max(1, len(outcomes)) + 40
    legend, x = [], 4.0
    for verdict in VERDICT_ORDER:
        legend.append({"x": x, "colour": colour(verdict), "label": names[verdict]})
        x += 30 + 7 * width_of(names[verdict])
    return {"width": max(width, x + 10), "height": height, "columns": columns, "rows": rows,
            "legend": legend, "legend_y": height - 22, "cell_w": CELL_W, "cell_h": CELL_H,
            "title": words["queries.map"]}


def _cell(cell: Cell | None, x: float, y: float, names: dict[str, str], lang: str,
          words: dict[str, str], claims_query: str) -> dict[str, Any]:
    if cell is None:
        return {"x": x, "y": y, "empty": True}
    direction = names[cell.direction] if cell.direction else words["queries.map.no_direction"]
    if cell.relation not in (None, AFFECTS):  # "rarely causes", "is associated with"...
        direction = names[cell.relation] + (f" ({names[cell.direction]})" if cell.direction
                                            else "")
    certainty = words["queries.map.certainty"].format(c=names.get(cell.certainty or "", "—"))
    lines = words["queries.map.line" if cell.lines == 1 else "queries.map.lines"].format(
        n=cell.lines)
    args = {"outcome": cell.outcome, "intervention": cell.intervention}
    if lang != i18n.DEFAULT_LANG:
        args["lang"] = lang
    who = words["queries.map.in"].format(p=", ".join(names.get(p, p) for p in cell.populations)) \
        if cell.populations else ""
    text = [f"{symbol(cell.direction)} {direction}", certainty, lines]
    return {"x": x, "y": y, "empty": False, "fill": colour(cell.verdict),
            "href": f"/queries/{claims_query}?{urlencode(args)}",
            "tip": f"{names.get(cell.outcome, '')} × {names.get(cell.intervention, '')}: "
                   + "; ".join([direction, certainty, lines] + ([who] if who else [])),
            "text": text + (wrap(who, CELL_CHARS, 1) if who else [])}


CALCIUM = "https://w3id.org/k2d3/id/calcium"
BOX_W, BOX_H, GAP_Y = 180, 46, 40
#: Each column's left edge: vitamins, proteins, calcium, sites. The gap before the sites is
#: wide enough for the longest edge label ("inhibits calcium deposition in", 30 characters).
COLUMN_X = (10, 10 + BOX_W + 120, 10 + 2 * BOX_W + 230, 10 + 3 * BOX_W + 470)
ACTION_STYLE = {  # property -> (stroke colour, dash pattern)
    "https://w3id.org/k2d3/ontology#directsCalciumTo": ("#2e7d32", ""),
    "https://w3id.org/k2d3/ontology#inhibitsCalciumDepositionIn": ("#c62828", "6 4"),
}


def _mechanism_edges(rows: list[dict[str, str]]) -> list[tuple[str, str, str, str, str]]:
    """Edges (source, target, label property, colour, dash): vitamin, protein, calcium, site."""
    edges = []
    for r in sorted(rows, key=lambda r: (r["kind"], r["source"], r["target"])):
        kind, source, relation, target = r["kind"], r["source"], r["relation"], r["target"]
        if kind == "activates":
            edges.append((source, target, relation, "#555", ""))
        elif kind == "absorption":
            edges.append((source, CALCIUM, relation, "#555", ""))
        else:
            stroke, dash = ACTION_STYLE.get(relation, ("#555", ""))
            edges.append((source, CALCIUM, "", stroke, dash))
            edges.append((CALCIUM, target, relation, stroke, dash))
    return edges


def _mechanism_grid(rows: list[dict[str, str]]) -> dict[str, tuple[int, float]]:
    """Each node's (column, row): vitamin D above the proteins, each vitamin K level with the
    proteins it activates, calcium in the middle, the sites spread around it."""
    proteins = sorted({r["source"] for r in rows if r["kind"] == "action"})
    sites = sorted({r["target"] for r in rows if r["kind"] == "action"})
    place: dict[str, tuple[int, float]] = {p: (1, i + 1.0) for i, p in enumerate(proteins)}
    for k, r in enumerate(sorted(r["source"] for r in rows if r["kind"] == "absorption")):
        place.setdefault(r, (0, -float(k)))
    for vitamin in sorted({r["source"] for r in rows if r["kind"] == "activates"}):
        targets = [place[r["target"]][1] for r in rows
                   if r["kind"] == "activates" and r["source"] == vitamin and r["target"] in place]
        place.setdefault(vitamin, (0, sum(targets) / len(targets) if targets else 1.0))
    middle = sum(row for _, row in place.values()) / len(place) if place else 0.0
    place[CALCIUM] = (2, middle)
    for j, site in enumerate(sites):
        place[site] = (3, middle - (len(sites) - 1) / 2 + j)
    top = min(row for _, row in place.values())
    return {node: (col, row - top) for node, (col, row) in place.items()}


Box = tuple[float, float, float, float]


#: Where along an edge a label may go (fractions of its length), in order of preference.
LABEL_SPOTS = (0.5, 0.35, 0.65, 0.25, 0.75, 0.15, 0.85)


@dataclass
class Label:
    text: str
    x1: float
    y1: float
    x2: float
    y2: float
    box: Box = field(default=(0.0, 0.0, 0.0, 0.0))


def _overlap_area(a: Box, b: Box) -> float:
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


def label_size(text: str) -> tuple[float, float]:
    """A label's box at font size 11: about 6.2 px a Latin character (DejaVu Sans, Noto Sans
    CJK's Latin), 11 px a CJK one, plus padding; measured in Chromium, rounded up."""
    return 6.2 * width_of(text) + 10, 16.0


def place_labels(labels_: list[Label], boxes: list[Box]) -> list[Label]:
    """Put each edge's label at the first spot along the edge, or above or below it, where it
    overlaps no box and no label placed before it; where every spot overlaps something, at the
    spot that overlaps least."""
    taken = list(boxes)
    for label in labels_:
        w, h = label_size(label.text)
        spots = [(label.x1 + (label.x2 - label.x1) * t, label.y1 + (label.y2 - label.y1) * t
                  + dy) for dy in (0, -18, 18, -36, 36) for t in LABEL_SPOTS]
        best, best_area = (0.0, 0.0, 0.0, 0.0), float("inf")
        for cx, cy in spots:
            box = (cx - w / 2, cy - h + 4, cx + w / 2, cy + 4)
            area = sum(_overlap_area(box, other) for other in taken)
            if area < best_area:
                best, best_area = box, area
            if area == 0:
                break
        label.box = best
        taken.append(best)
    return labels_


def mechanism_layout(store: Store, lang: str, ns: Namespaces,
                     words: dict[str, str]) -> dict[str, Any]:
    """Everything ``svg/mechanism.svg`` draws: boxes, arrows, labels placed apart, size."""
    rows = _rows(store, MECHANISM)
    edges, grid = _mechanism_edges(rows), _mechanism_grid(rows)
    names = labels.labels(store, list(grid) + [e[2] for e in edges if e[2]], lang)
    pos = {node: (COLUMN_X[col], 20 + row * (BOX_H + GAP_Y))
           for node, (col, row) in grid.items()}
    boxes: list[Box] = [(x, y, x + BOX_W, y + BOX_H) for x, y in pos.values()]
    arrows, pending = [], []
    for source, target, relation, stroke, dash in edges:
        (x1, y1), (x2, y2) = pos[source], pos[target]
        start, end = (x1 + BOX_W, y1 + BOX_H / 2), (float(x2), y2 + BOX_H / 2)
        arrows.append({"x1": start[0], "y1": start[1], "x2": end[0], "y2": end[1],
                       "stroke": stroke, "dash": dash})
        if relation:
            pending.append(Label(names.get(relation, ""), *start, *end))
    placed = place_labels(pending, boxes)
    nodes = [{"x": x, "y": y, "href": href(node, ns, lang),
              "lines": wrap(names[node], 26, 2)} for node, (x, y) in pos.items()]
    height = 40 + BOX_H + max((y for _, y in pos.values()), default=0)
    return {"width": COLUMN_X[-1] + BOX_W + 10, "height": height, "arrows": arrows,
            "labels": [{"text": lb.text, "box": lb.box} for lb in placed], "nodes": nodes,
            "box_w": BOX_W, "box_h": BOX_H, "title": words["queries.mechanism.title"]}


#: The columns of the map's data downloads (JSON objects have the same keys).
DATA_COLUMNS = ("outcome", "outcomeLabel", "intervention", "interventionLabel", "relation",
                "relationLabel", "direction",
                "directionLabel", "certainty", "certaintyLabel", "verdict", "verdictLabel",
                "lines", "claims", "populations", "populationLabels", "claimsPage")


def cell_records(store: Store, grid: list[Cell], lang: str,
                 claims_query: str = "claims-about") -> list[dict[str, Any]]:
    """The cells as flat records (IRIs, their labels in ``lang``, counts, the claims page)."""
    iris = [i for c in grid for i in (c.outcome, c.intervention, c.relation, c.direction,
                                      c.certainty, c.verdict, *c.populations) if i]
    names = labels.labels(store, iris, lang)
    records = []
    for cell in grid:
        record: dict[str, Any] = cell.as_dict()
        for key in ("outcome", "intervention", "relation", "direction", "certainty", "verdict"):
            record[key + "Label"] = names.get(record[key]) if record[key] else None
        record["populationLabels"] = [names.get(p, p) for p in cell.populations]
        args = {"outcome": cell.outcome, "intervention": cell.intervention}
        record["claimsPage"] = f"/queries/{claims_query}?{urlencode(args)}"
        records.append({key: record[key] for key in DATA_COLUMNS})
    return records


def to_csv(records: list[dict[str, Any]]) -> str:
    """The records as CSV (RFC 4180, CRLF line ends, empty for a missing value, a list's
    members joined by " | ")."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=DATA_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({k: _csv_value(v) for k, v in r.items()} for r in records)
    return out.getvalue()


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    return " | ".join(value) if isinstance(value, list) else value
