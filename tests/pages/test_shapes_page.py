"""server/pages/shapes.py: ``/shapes`` documents every SHACL shape under its own anchor.

The expected shapes and messages are read from ``ontology/shapes.ttl`` with rdflib, not from
the store the page is built from.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import rdflib

SHAPES = Path(__file__).resolve().parents[2] / "ontology" / "shapes.ttl"
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")


def _sections(page: str) -> dict[str, str]:
    parts = re.split(r'<section class="term shape" id="([^"]+)"', page)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_every_node_shape_has_a_section_with_its_messages(client: Any) -> None:
    graph = rdflib.Graph().parse(SHAPES)
    shapes = set(graph.subjects(rdflib.RDF.type, SH.NodeShape))
    page = client.get("/shapes", headers={"Accept": "text/html"})
    assert page.status_code == 200
    sections = _sections(page.get_data(as_text=True))
    assert set(sections) == {str(s).rpartition("#")[2] for s in shapes}
    for shape in shapes:
        text = html.unescape(sections[str(shape).rpartition("#")[2]])
        assert str(shape) in text
        for message in graph.objects(shape, SH.message):
            assert str(message) in text


def test_the_page_speaks_chinese_and_rdf_is_still_negotiated(client: Any) -> None:
    zh = client.get("/shapes", headers={"Accept": "text/html", "Accept-Language": "zh"})
    assert "SHACL 形状校验图数据" in zh.get_data(as_text=True)
    turtle = client.get("/shapes", headers={"Accept": "text/turtle"})
    assert turtle.status_code == 200
    parsed = rdflib.Graph().parse(data=turtle.get_data(as_text=True), format="turtle")
    assert (None, rdflib.RDF.type, SH.NodeShape) in parsed
