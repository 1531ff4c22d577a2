"""A query answer as a table a person can read: headers in words, labels for IRIs, pages.

For the canned-query pages (``/queries/<name>``): the columns get their headers from the
catalogue (``queries/columns.tsv``, in English and Chinese) instead of variable names; IRIs show
their label and link to the local page when they are k2d3's; a cell holding a list of IRIs (a
``GROUP_CONCAT`` of them) becomes a list of links; verdicts and certainty ratings become badges;
a quotation (Chinese, the source's words) carries the curators' English translation on English
pages, marked as a translation. Long answers are cut into pages (``?page=`` and ``?size=``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pyoxigraph import Literal, NamedNode, Store

from server.catalogue import canned
from server.rdf import labels
from server.rdf.dereference import local_path
from server.rdf.namespaces import Namespaces
from server.sparql.results import QueryResult

#: Rows per page by default, and the most a page may show.
PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
#: How the cells of a GROUP_CONCAT of quotations are separated (the canned queries' " | ").
QUOTE_SEPARATOR = " | "
#: Values shown as badges: IRIs under ``<base>id/`` with these prefixes.
BADGES = ("verdict-", "certainty-")

TRANSLATIONS = """
PREFIX oa: <http://www.w3.org/ns/oa#>
PREFIX k2d3: <https://w3id.org/k2d3/ontology#>
SELECT ?exact ?gloss WHERE {
  ?annotation k2d3:curatedTranslation ?gloss ; oa:hasTarget/oa:hasSelector/oa:exact ?exact .
  FILTER(LANGMATCHES(LANG(?gloss), "en"))
}"""


@dataclass(frozen=True)
class Page:
    """Which rows a page shows: ``number`` from 1, ``size`` rows a page, of ``total``."""

    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def first(self) -> int:
        """Index of the page's first row (0-based)."""
        return (self.number - 1) * self.size

    @property
    def last(self) -> int:
        """Index after the page's last row."""
        return min(self.total, self.first + self.size)


def page(total: int, number: str | None, size: str | None) -> Page:
    """The page asked for (``?page=``, ``?size=``), kept within range; ValueError if not numbers."""
    wanted_size = PAGE_SIZE if not size else int(size)
    wanted = 1 if not number else int(number)
    if wanted_size < 1 or wanted < 1:
        raise ValueError("page and size count from 1")
    size_ = min(wanted_size, MAX_PAGE_SIZE)
    pages = max(1, -(-total // size_))
    return Page(min(wanted, pages), size_, total)


#: The language of the curators' translations of the source's quotations: pages in it show
#: them under each quotation (pages in the source's own language need none).
GLOSS_LANG = "en"


def translations(store: Store) -> dict[str, str]:
    """Each quotation's text -> the curators' English translation of it."""
    rows = store.query(TRANSLATIONS, use_default_graph_as_union=True)
    return {r["exact"].value: r["gloss"].value for r in rows}  # type: ignore[union-attr]


class Table:
    """Builds the cells of one answer in one language."""

    def __init__(self, store: Store, ns: Namespaces, lang: str) -> None:
        self.store, self.ns, self.lang = store, ns, lang
        self._glosses: dict[str, str] | None = None

    def build(self, result: QueryResult, shown: Page) -> dict[str, Any]:
        """Headers and the rows of one page, with every IRI labelled once."""
        if result.kind == "graph":
            variables = ["subject", "predicate", "object"]
            rows = [dict(zip(variables, (t.subject, t.predicate, t.object), strict=True))
                    for t in result.triples[shown.first:shown.last]]
        else:
            variables = list(result.variables)
            rows = list(result.rows[shown.first:shown.last])
        iris = {i for row in rows for term in row.values() for i in _iris_in(term)}
        names = labels.labels(self.store, sorted(iris), self.lang)
        headers = [{"name": v, "label": canned.column_label(v, self.lang)} for v in variables]
        return {"headers": headers,
                "rows": [[self.cell(v, row.get(v), names) for v in variables] for row in rows]}

    def cell(self, variable: str, term: Any, names: dict[str, str]) -> dict[str, Any]:
        """One value: text, link, badge, a list of links, or a quotation with its gloss."""
        if term is None:
            return {"text": ""}
        if isinstance(term, NamedNode):
            return self.iri(term.value, names)
        if isinstance(term, Literal):
            listed = _iri_list(term)
            if listed:
                return {"text": "", "list": [self.iri(i, names) for i in listed]}
            if variable == "quote" or variable.endswith("Wording"):
                return self.quotation(term)
            return {"text": term.value, "lang": term.language}
        return {"text": str(term)}

    def iri(self, iri: str, names: dict[str, str]) -> dict[str, Any]:
        local = local_path(iri, self.ns)
        cell: dict[str, Any] = {"text": names.get(iri, iri), "href": local or iri, "iri": iri}
        rest = iri[len(self.ns.resource):] if iri.startswith(self.ns.resource) else ""
        if rest.startswith(BADGES):
            cell["badge"] = rest
        return cell

    def quotation(self, term: Literal) -> dict[str, Any]:
        """The source's words (Chinese) and, on English pages, their curated translation."""
        parts = [p for p in term.value.split(QUOTE_SEPARATOR) if p]
        if self.lang != GLOSS_LANG:
            return {"text": term.value, "lang": term.language or "zh", "quotes": [
                {"text": p} for p in parts]}
        if self._glosses is None:
            self._glosses = translations(self.store)
        return {"text": term.value, "lang": term.language or "zh", "quotes": [
            {"text": p, "gloss": self._glosses.get(p)} for p in parts]}


def _iri_list(term: Literal) -> list[str]:
    """The IRIs of a literal that is nothing but IRIs separated by spaces (a GROUP_CONCAT)."""
    parts = term.value.split()
    if parts and all(p.startswith(("http://", "https://")) and "<" not in p for p in parts):
        return parts
    return []


def _iris_in(term: Any) -> list[str]:
    if isinstance(term, NamedNode):
        return [term.value]
    if isinstance(term, Literal):
        return _iri_list(term)
    return []
