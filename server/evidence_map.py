"""The evidence map and the mechanism diagram, drawn as SVG on the server (no JavaScript).

The evidence map puts outcomes (rows) against interventions (columns); each cell shows the
direction of the effect the article reports, the certainty of the evidence and the number of
evidence lines, and links to the claims behind it. The mechanism diagram draws the chain the
article describes: vitamin -> protein -> calcium -> bone or vessel. Both read the graph with the
SPARQL in :mod:`server.evidence_queries`; every text is escaped (``markupsafe``), so a label
holding markup shows as text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from markupsafe import Markup, escape
from pyoxigraph import NamedNode, Store, Variable

from . import labels
from .evidence_queries import (
    CELLS,
    CERTAINTY_ORDER,
    MECHANISM,
    POPULATIONS,
    PREFIXES,
    VERDICT_ORDER,
    colour,
    symbol,
)
from .iris import linkable
from .linked_data import local_path
from .namespaces import Namespaces

CELL_W, CELL_H, HEAD_W, HEAD_H = 180, 64, 250, 64


@dataclass(frozen=True)
class Cell:
    """One cell of the evidence map: an (outcome, intervention) pair and what the graph says."""

    outcome: str
    intervention: str
    direction: str | None
    """The claims' direction of effect, or ``None`` when they state none or disagree."""
    certainty: str | None
    """The best certainty among the cell's evidence lines."""
    verdict: str | None
    """The strongest verdict among the cell's claims."""
    lines: int
    claims: int


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
        out.append(Cell(
            outcome, intervention,
            direction=directions.pop() if len(directions) == 1 else None,
            certainty=_first({r.get("certainty", "") for r in rows}, CERTAINTY_ORDER),
            verdict=_first({r.get("verdict", "") for r in rows}, VERDICT_ORDER),
            lines=len({r["line"] for r in rows if "line" in r}),
            claims=len({r["claim"] for r in rows}),
        ))
    return out


def _text(x: float, y: float, content: str, cls: str = "", anchor: str = "start",
          size: int = 13, weight: str = "normal") -> str:
    return (f'<text x="{x:.0f}" y="{y:.0f}" font-size="{size}" text-anchor="{anchor}" '
            f'font-weight="{weight}" fill="#222"{f" class={cls!r}" if cls else ""}>'
            f"{escape(content)}</text>")


def _wrap(text: str, width: int) -> list[str]:
    """Split a label into at most two lines of about ``width`` characters (CJK counts double)."""
    def size(s: str) -> int:
        return sum(2 if ord(ch) > 0x2E80 else 1 for ch in s)

    if size(text) <= width:
        return [text]
    cut = len(text)
    while cut > 1 and size(text[:cut]) > width:
        cut -= 1
    space = text.rfind(" ", 0, cut)
    cut = space if space > width // 3 else cut
    rest = text[cut:].strip()
    return [text[:cut].strip(), rest if size(rest) <= width else rest[: max(1, width // 2)] + "…"]


def _href(iri: str, ns: Namespaces, lang: str) -> str | None:
    """The link for ``iri``: its page here, else the IRI if a page may link it (http or
    https, :func:`server.iris.linkable`), else None (a ``javascript:`` IRI is no link)."""
    path = local_path(iri, ns) or iri
    if not linkable(path):
        return None
    return path + ("?lang=zh" if lang == "zh" and path.startswith("/") else "")


def _open_link(href: str | None) -> str:
    """The start of a link to ``href``, or of a plain group when there is none (closed by
    ``</a>`` or ``</g>``: :func:`_close_link`)."""
    return f'<a href="{escape(href)}">' if href is not None else "<g>"


def _close_link(href: str | None) -> str:
    return "</a>" if href is not None else "</g>"


def render_map(store: Store, grid: list[Cell], lang: str, ns: Namespaces,
               claims_query: str = "claims-about") -> Markup:
    """The evidence map as an ``<svg>`` element (titled, with a link in every cell)."""
    outcomes = sorted({c.outcome for c in grid})
    interventions = sorted({c.intervention for c in grid})
    names = labels.labels(store, outcomes + interventions + [c.certainty or "" for c in grid
                                                              if c.certainty]
                          + [c.direction or "" for c in grid if c.direction], lang)
    width = HEAD_W + CELL_W * max(1, len(interventions)) + 10
    height = HEAD_H + CELL_H * max(1, len(outcomes)) + 40
    title = "Evidence map" if lang == "en" else "证据图"
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="map-title">',
           f'<title id="map-title">{escape(title)}</title>']
    for j, iri in enumerate(interventions):
        x = HEAD_W + j * CELL_W + CELL_W / 2
        for k, line in enumerate(_wrap(names[iri], 26)):
            out.append(_text(x, 18 + 16 * k, line, anchor="middle", weight="bold", size=12))
    by_pair = {(c.outcome, c.intervention): c for c in grid}
    for i, outcome in enumerate(outcomes):
        y = HEAD_H + i * CELL_H
        href = _href(outcome, ns, lang)
        out.append(_open_link(href))
        for k, line in enumerate(_wrap(names[outcome], 34)):
            out.append(_text(4, y + 26 + 16 * k, line, weight="bold", size=12))
        out.append(_close_link(href))
        for j, intervention in enumerate(interventions):
            cell = by_pair.get((outcome, intervention))
            out.append(_cell_svg(cell, HEAD_W + j * CELL_W, y, names, lang, claims_query))
    out.append(_legend(store, lang, height - 22))
    out.append("</svg>")
    return Markup("".join(out))


def _legend(store: Store, lang: str, y: float) -> str:
    """Colour swatches for the verdicts, in a row under the map."""
    names = labels.labels(store, VERDICT_ORDER, lang)
    out, x = [], 4.0
    for verdict in VERDICT_ORDER:
        out.append(f'<rect x="{x:.0f}" y="{y:.0f}" width="14" height="14" fill="{colour(verdict)}" '
                   'stroke="#888"/>')
        out.append(_text(x + 18, y + 12, names[verdict], size=11))
        x += 30 + 7 * len(names[verdict]) if names[verdict].isascii() else 30 + 12 * len(
            names[verdict])
    return "".join(out)


def _cell_svg(cell: Cell | None, x: float, y: float, names: dict[str, str], lang: str,
              claims_query: str) -> str:
    if cell is None:
        return (f'<rect x="{x + 2}" y="{y + 2}" width="{CELL_W - 4}" height="{CELL_H - 4}" '
                'fill="#f4f4f4" stroke="#ddd"/>')
    direction = names[cell.direction] if cell.direction else (
        "no direction stated" if lang == "en" else "未说明方向")
    certainty = names.get(cell.certainty or "", "—")
    unit = ("line" if cell.lines == 1 else "lines") if lang == "en" else "条证据线"
    lines = f"{cell.lines} {unit}"
    args = {"outcome": cell.outcome, "intervention": cell.intervention}
    if lang == "zh":
        args["lang"] = "zh"
    href = f"/queries/{claims_query}?{urlencode(args)}"
    tip = f"{names.get(cell.outcome, '')} × {names.get(cell.intervention, '')}: " \
          f"{direction}; {certainty}; {lines}"
    return "".join([
        f'<a href="{escape(href)}"><title>{escape(tip)}</title>',
        f'<rect x="{x + 2}" y="{y + 2}" width="{CELL_W - 4}" height="{CELL_H - 4}" rx="4" '
        f'fill="{colour(cell.verdict)}" stroke="#888"/>',
        _text(x + 10, y + 22, f"{symbol(cell.direction)} {direction}", size=12, weight="bold"),
        _text(x + 10, y + 39, certainty, size=12),
        _text(x + 10, y + 55, lines, size=11),
        "</a>",
    ])


CALCIUM = "https://w3id.org/k2d3/id/calcium"
BOX_W, BOX_H, GAP_X, GAP_Y = 180, 46, 90, 36
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
            colour, dash = ACTION_STYLE.get(relation, ("#555", ""))
            edges.append((source, CALCIUM, "", colour, dash))
            edges.append((CALCIUM, target, relation, colour, dash))
    return edges


def _mechanism_layout(rows: list[dict[str, str]]) -> dict[str, tuple[int, float]]:
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


def _edge_svg(x1: float, y1: float, x2: float, y2: float, label: str, colour: str,
              dash: str) -> str:
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    out = (f'<line x1="{x1:.0f}" y1="{y1:.0f}" x2="{x2:.0f}" y2="{y2:.0f}" stroke="{colour}" '
           f'stroke-width="2"{dash_attr} marker-end="url(#arrow)"/>')
    if label:
        mx, my = x1 + (x2 - x1) * 0.6, y1 + (y2 - y1) * 0.6
        width = 7 * len(label) if label.isascii() else 13 * len(label)
        out += (f'<rect x="{mx - width / 2:.0f}" y="{my - 11:.0f}" width="{width}" height="15" '
                f'fill="#fff" opacity="0.85"/>' + _text(mx, my, label, anchor="middle", size=11))
    return out


def render_mechanism(store: Store, lang: str, ns: Namespaces) -> Markup:
    """The mechanism as an ``<svg>``: vitamin, protein, calcium, tissue, linked by arrows."""
    rows = _rows(store, MECHANISM)
    edges, layout = _mechanism_edges(rows), _mechanism_layout(rows)
    names = labels.labels(store, list(layout) + [e[2] for e in edges if e[2]], lang)
    pos = {node: (10 + col * (BOX_W + GAP_X), 20 + row * (BOX_H + GAP_Y))
           for node, (col, row) in layout.items()}
    height = 40 + BOX_H + max((y for _, y in pos.values()), default=0)
    width = 20 + 4 * BOX_W + 3 * GAP_X
    title = "Mechanism: vitamin, protein, calcium, tissue" if lang == "en" else \
        "作用机制:维生素、蛋白质、钙、组织"
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height:.0f}" '
           f'viewBox="0 0 {width} {height:.0f}" role="img" aria-labelledby="mech-title">',
           f'<title id="mech-title">{escape(title)}</title>',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
           'markerHeight="7" orient="auto"><path d="M0,0L10,5L0,10z" fill="#555"/></marker>'
           "</defs>"]
    for source, target, relation, stroke, dash in edges:
        (x1, y1), (x2, y2) = pos[source], pos[target]
        out.append(_edge_svg(x1 + BOX_W, y1 + BOX_H / 2, x2, y2 + BOX_H / 2,
                             names.get(relation, "") if relation else "", stroke, dash))
    for node, (x, y) in pos.items():
        href = _href(node, ns, lang)
        out.append(_open_link(href) + f'<rect x="{x}" y="{y:.0f}" width="{BOX_W}" '
                   f'height="{BOX_H}" rx="6" fill="#eef4fb" stroke="#4a78a8"/>')
        for k, line in enumerate(_wrap(names[node], 26)):
            out.append(_text(x + BOX_W / 2, y + 19 + 15 * k, line, anchor="middle", size=12))
        out.append(_close_link(href))
    out.append("</svg>")
    return Markup("".join(out))
