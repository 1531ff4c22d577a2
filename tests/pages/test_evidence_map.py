"""server/pages/evidence_map.py: the map's cells against the article, and layouts that do not
overlap.

The expected cells are written once in ``tests/data/evidence-map-cells.tsv`` and compared
as a multiset (a repeated cell is a failure). The layout tests read the real graph in both
languages: every label fits where it is drawn and no two edge labels, or a label and a box,
overlap.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyoxigraph import Store

from server.pages import evidence_map
from server.pages.evidence_map import Box, Label
from server.pages.i18n import MESSAGES
from server.rdf import store
from server.rdf.namespaces import Namespaces

ID = "https://w3id.org/k2d3/id/"
EXPECTED = Path(__file__).parents[1] / "data" / "evidence-map-cells.tsv"
NS = Namespaces("https://w3id.org/k2d3/")


def _expected() -> Counter[tuple[str, ...]]:
    lines = [line for line in EXPECTED.read_text(encoding="utf-8").splitlines()
             if not line.startswith("#")]
    rows = list(csv.DictReader(io.StringIO("\n".join(lines)), delimiter="\t"))
    return Counter((r["outcome"], r["intervention"], r["relation"], r["direction"],
                    r["verdict"], r["populations"]) for r in rows)


def _short(iri: str | None) -> str:
    return (iri or "").removeprefix(ID)


@pytest.fixture(scope="module")
def graph(built_store: Path) -> Iterator[Store]:
    reader = store.StoreReader(built_store)
    yield reader.get()


def test_the_cells_are_the_articles_effect_claims(graph: Store) -> None:
    got = Counter((_short(c.outcome), _short(c.intervention), _short(c.relation),
                   _short(c.direction), _short(c.verdict),
                   " ".join(_short(p) for p in c.populations))
                  for c in evidence_map.cells(graph))
    assert got == _expected()


def test_a_population_keeps_only_claims_about_it_or_a_part_of_it(graph: Store) -> None:
    cells = evidence_map.cells(graph, ID + "pop-postmenopausal-women")
    assert {_short(c.outcome) for c in cells} == {"bmd", "bone-indices", "bone-turnover-markers"}


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_mechanism_labels_overlap_no_box_and_no_other_label(graph: Store, lang: str) -> None:
    m = evidence_map.mechanism_layout(graph, lang, NS, MESSAGES[lang])
    boxes = [(n["x"], n["y"], n["x"] + m["box_w"], n["y"] + m["box_h"]) for n in m["nodes"]]
    placed = [lb["box"] for lb in m["labels"]]
    assert len(placed) >= 5  # activates x2, promotes absorption, directs, inhibits x2
    for i, a in enumerate(placed):
        assert not any(_overlap(a, b) for b in boxes), m["labels"][i]["text"]
        assert not any(_overlap(a, b) for b in placed[i + 1:]), m["labels"][i]["text"]
        assert a[0] >= 0 and a[2] <= m["width"] and a[1] >= 0 and a[3] <= m["height"]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_map_headers_wrap_inside_their_column_and_the_svg(graph: Store, lang: str) -> None:
    m = evidence_map.map_layout(graph, evidence_map.cells(graph), lang, NS, MESSAGES[lang])
    for column in m["columns"]:
        assert all(evidence_map.label_size(line)[0] <= m["cell_w"] + 20
                   for line in column["lines"]), column["lines"]
        assert not any(line.endswith("…") for line in column["lines"]), column["lines"]
    assert m["legend_y"] > max(r["y"] for r in m["rows"]) + m["cell_h"] - 1
    assert m["width"] >= max(lg["x"] for lg in m["legend"]) + 20


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_cell_says_which_population_its_claims_are_about(graph: Store, lang: str) -> None:
    m = evidence_map.map_layout(graph, evidence_map.cells(graph), lang, NS, MESSAGES[lang])
    tips = [c["tip"] for r in m["rows"] for c in r["cells"] if not c["empty"]]
    warfarin = "people taking vitamin K antagonists" if lang == "en" else "维生素 K 拮抗剂"
    clots = "blood clots" if lang == "en" else "血栓"
    assert any(clots in t and warfarin in t for t in tips), tips


# --- pure functions -----------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "width"), [
    ("combined vitamin D3 and K2 supplementation", 24),
    ("consistent vitamin K intake (from diet, and from supplements if taken)", 24),
    ("通过饮食(以及如果服用补充剂)持续摄入维生素 K", 24),
    ("a" * 100, 10),
])
def test_wrap_keeps_every_line_within_the_width(text: str, width: int) -> None:
    lines = evidence_map.wrap(text, width, max_lines=20)
    assert all(evidence_map.width_of(line) <= width for line in lines), lines
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")


def test_wrap_cuts_at_max_lines_with_an_ellipsis() -> None:
    lines = evidence_map.wrap("one two three four five six seven", 5, max_lines=2)
    assert len(lines) == 2 and lines[-1].endswith("…")


def test_wrap_prefers_spaces() -> None:
    assert evidence_map.wrap("combined vitamin D3 and K2", 12) == [
        "combined", "vitamin D3", "and K2"]


def test_place_labels_moves_a_label_off_a_box_and_off_another_label() -> None:
    box: Box = (40.0, 30.0, 60.0, 70.0)  # a box across the middle of both edges
    first = Label("label one", 0, 50, 100, 50)
    second = Label("label two", 0, 50, 100, 50)  # the same edge: must not sit on the first
    placed = evidence_map.place_labels([first, second], [box])
    assert not _overlap(placed[0].box, box) and not _overlap(placed[1].box, box)
    assert not _overlap(placed[0].box, placed[1].box)


def test_place_labels_with_no_free_spot_takes_the_least_overlap() -> None:
    wall: Box = (-1000.0, -1000.0, 1000.0, 1000.0)
    [label] = evidence_map.place_labels([Label("x", 0, 0, 10, 0)], [wall])
    assert label.box != (0.0, 0.0, 0.0, 0.0)


def test_csv_joins_lists_and_leaves_missing_values_empty() -> None:
    record = dict.fromkeys(evidence_map.DATA_COLUMNS, None)
    record.update({"outcome": ID + "bmd", "populations": [ID + "a", ID + "b"], "lines": 3})
    rows = list(csv.DictReader(io.StringIO(evidence_map.to_csv([record]))))
    assert rows[0]["populations"] == f"{ID}a | {ID}b"
    assert rows[0]["direction"] == "" and rows[0]["lines"] == "3"
