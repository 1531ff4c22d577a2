"""The answer in plain sentences: the verdict query's rows, told per outcome, from the graph.

The home page and ``/queries/verdict`` open with these sentences, above the table. Everything
in them comes from the store: the canned query ``verdict`` gives the rows (outcome or routine
use, verdict, best certainty, who benefits in the article's words, the claims), and the evidence
gaps of those claims (which study is missing, and how the article qualifies it) are read with one
more query. Only the frame of each sentence is interface text: the ``verdict.*`` strings of the
catalogue (:mod:`server.pages.i18n`), in English and Chinese.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pyoxigraph import Literal, NamedNode, Store

from server.catalogue import canned
from server.pages import i18n
from server.rdf import labels
from server.sparql.execute import Limits, run_query

GAPS = """
PREFIX k2d3: <https://w3id.org/k2d3/ontology#>
SELECT ?claim ?design ?qualifier ?rater WHERE {
  VALUES ?claim { CLAIMS }
  OPTIONAL { ?claim k2d3:hasEvidenceGap ?gap .
             ?gap k2d3:missingDesign ?design .
             OPTIONAL { ?gap k2d3:missingQualifier ?qualifier } }
  OPTIONAL { ?claim k2d3:hasEvidenceLine/k2d3:certaintyRatedBy ?rater }
}"""


@dataclass
class Row:
    """One row of the verdict: an outcome (or routine use in a population) and its verdict."""

    topic: str
    routine: bool
    verdict: str
    certainty: str
    especially: list[str] = field(default_factory=list)
    limited_to: list[str] = field(default_factory=list)
    example: list[str] = field(default_factory=list)
    claims: list[str] = field(default_factory=list)
    gaps: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    raters: list[str] = field(default_factory=list)


def _iris(cell: Any) -> list[str]:
    return cell.value.split() if isinstance(cell, Literal) and cell.value else []


def rows(store: Store, timeout_s: float = 10.0) -> list[Row]:
    """The verdict's rows, each with the gaps and certainty raters of its claims."""
    query = canned.find("verdict")
    assert query is not None, "the canned query 'verdict' ships with k2d3"
    result = run_query(store, query.text, Limits(timeout_s=timeout_s, max_rows=1000))
    out = []
    for r in result.rows:
        topic = r.get("outcome") or r.get("routineUseFor")
        if not isinstance(topic, NamedNode):
            continue
        out.append(Row(topic.value, r.get("outcome") is None, r["verdict"].value,
                       r["certainty"].value, _iris(r.get("especially")),
                       _iris(r.get("limitedTo")), _iris(r.get("example")),
                       _iris(r.get("claims"))))
    claims = sorted({c for row in out for c in row.claims})
    if claims:
        text = GAPS.replace("CLAIMS", " ".join(f"<{c}>" for c in claims))
        details = run_query(store, text, Limits(timeout_s=timeout_s, max_rows=1000)).rows
        for row in out:
            for d in details:
                if d["claim"].value not in row.claims:
                    continue
                if d.get("design") is not None:
                    qualifier = d.get("qualifier")
                    lang = qualifier.language if isinstance(qualifier, Literal) else None
                    gap = (d["design"].value, {lang or "en": qualifier.value} if qualifier else {})
                    merged = dict(row.gaps).get(gap[0], {})
                    row.gaps = [g for g in row.gaps if g[0] != gap[0]] + [
                        (gap[0], {**merged, **gap[1]})]
                if d.get("rater") is not None and d["rater"].value not in row.raters:
                    row.raters.append(d["rater"].value)
    return out


def _join(items: list[str], words: dict[str, str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return words["verdict.list"].join(items[:-1]) + words["verdict.and"] + items[-1]


def sentences(store: Store, found: list[Row], lang: str) -> list[dict[str, Any]]:
    """One sentence per row, with the IRIs it names (for links and badges)."""
    words = i18n.messages(lang)
    iris = {i for r in found for i in (r.topic, r.verdict, r.certainty, *r.especially,
                                        *r.limited_to, *r.example,
                                        *r.raters, *(g[0] for g in r.gaps))}
    names = labels.labels(store, sorted(iris), lang)
    out = []
    for r in found:
        text = words["verdict.routine" if r.routine else "verdict.outcome"].format(
            topic=names[r.topic], verdict=names[r.verdict])
        for key, who in (("verdict.especially", r.especially),
                         ("verdict.limitedTo", r.limited_to), ("verdict.example", r.example)):
            if who:
                text += words[key].format(who=_join([names[b] for b in who], words))
        if not r.certainty.endswith("certainty-not-stated"):
            text += words["verdict.certainty"].format(certainty=names[r.certainty])
            if r.raters:
                text += words["verdict.rated"].format(
                    rater=_join([names[x] for x in r.raters], words))
        for design, qualifier in r.gaps:
            text += words["verdict.gap"].format(
                design=names[design], qualifier=qualifier.get(lang) or qualifier.get("en", ""))
        out.append({"text": text[:1].upper() + text[1:] + words["verdict.end"],
                    "verdict": r.verdict, "certainty": r.certainty, "topic": r.topic,
                    "claims": r.claims})
    return out


LEGEND = """
PREFIX k2d3: <https://w3id.org/k2d3/ontology#>
SELECT ?kind ?value WHERE {
  VALUES ?kind { k2d3:Verdict k2d3:CertaintyRating }
  ?value a ?kind .
}"""
#: The order the legend lists the values in (strongest first).
LEGEND_ORDER = ("verdict-supported", "verdict-weakly-supported", "verdict-plausible",
                "verdict-uncertain", "verdict-not-supported",
                "verdict-unsupported-marketing-claim", "certainty-high", "certainty-moderate",
                "certainty-low", "certainty-very-low", "certainty-not-stated")


def legend(store: Store, lang: str) -> dict[str, list[dict[str, str]]]:
    """What each verdict and certainty badge means, from the ontology, in ``lang``."""
    found = run_query(store, LEGEND, Limits(timeout_s=10, max_rows=100)).rows
    values = sorted({r["value"].value for r in found},
                    key=lambda iri: next((i for i, n in enumerate(LEGEND_ORDER)
                                          if iri.endswith("/" + n)), len(LEGEND_ORDER)))
    names = labels.labels(store, values, lang)
    out: dict[str, list[dict[str, str]]] = {"verdict": [], "certainty": []}
    for iri in values:
        badge = iri.rsplit("/", 1)[-1]
        kind = "verdict" if badge.startswith("verdict-") else "certainty"
        out[kind].append({"iri": iri, "badge": badge, "label": names[iri],
                          "definition": labels.definition(store, iri, lang) or ""})
    return out
