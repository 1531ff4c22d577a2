"""Canned queries: ``queries/*.rq`` -> frozen :class:`CannedQuery` objects.

Each file is a SPARQL query preceded by a header of ``#+`` comment lines (the format is
documented in ``queries/README.md``). Parsing is pure: text in, objects out. Binding parameter
values (safely, by substitution) is :mod:`server.catalogue.params`; the RDF form of the catalogue
(for the build) is :mod:`server.catalogue.rdf`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from server import paths
from server.rdf.namespaces import DEFAULT_BASE
from server.rdf.vocab import XSD
from server.sparql.text import prefixes as declared_prefixes
from server.sparql.text import query_form, tokens

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_SUBCLASS = "http://www.w3.org/2000/01/rdf-schema#subClassOf"
#: Prefixes a parameter value may always use, besides the query's own (``k2di:osteocalcin``).
DEFAULT_PREFIXES = {"k2di": DEFAULT_BASE + "id/", "k2d3": DEFAULT_BASE + "ontology#"}

#: Parameter types -> the XSD datatype of their values (``iri`` values are IRIs, not literals).
PARAM_TYPES = {
    "iri": None,
    "string": XSD + "string",
    "integer": XSD + "integer",
    "decimal": XSD + "decimal",
    "boolean": XSD + "boolean",
    "language": XSD + "language",
}
KINDS = ("select", "ask", "construct", "describe")
_HEADER = re.compile(r"^#\+(\s*)([A-Za-z][\w-]*)(?:@([a-z]{2}(?:-[A-Za-z0-9]+)*))?\s*:\s?(.*)$")


class CatalogueError(ValueError):
    """A ``.rq`` file whose header does not follow the format (names the file and line)."""


@dataclass(frozen=True)
class Param:
    """One parameter: the query variable of the same name, bound by substitution."""

    name: str
    type: str = "string"
    labels: Mapping[str, str] = field(default_factory=dict)
    descriptions: Mapping[str, str] = field(default_factory=dict)
    cls: str | None = None
    default: str | None = None
    optional: bool = False
    values: tuple[str, ...] = ()
    values_query: str | None = None

    @property
    def datatype(self) -> str | None:
        return PARAM_TYPES[self.type]

    def label(self, lang: str) -> str:
        return self.labels.get(lang) or self.labels.get("en") or self.name


@dataclass(frozen=True)
class CannedQuery:
    """A canned query: its metadata (title, description... by language) and its text."""

    name: str
    kind: str
    text: str
    titles: Mapping[str, str]
    descriptions: Mapping[str, str]
    keywords: tuple[str, ...] = ()
    """The keywords in English (``#+ keywords:``)."""
    translated_keywords: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Keywords in other languages, by language (``#+ keywords@zh:``)."""
    topic: str = "other"
    order: int = 100
    params: tuple[Param, ...] = ()
    prefixes: Mapping[str, str] = field(default_factory=dict)

    def title(self, lang: str) -> str:
        return self.titles.get(lang) or self.titles.get("en") or self.name

    def description(self, lang: str) -> str:
        return self.descriptions.get(lang) or self.descriptions.get("en") or ""

    def keywords_in(self, lang: str) -> tuple[str, ...]:
        """The keywords in ``lang``, else in English."""
        return self.translated_keywords.get(lang) or self.keywords

    def all_keywords(self) -> tuple[str, ...]:
        """The keywords in every language (what a search looks through)."""
        return self.keywords + tuple(k for ks in self.translated_keywords.values() for k in ks)

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)


def query_kind(text: str) -> str:
    """``select``, ``ask``, ``construct`` or ``describe``: the query's form, read by the
    endpoint's own lexer (``server.sparql.text``), so prologue, comments and strings are
    skipped exactly as the endpoint skips them."""
    form = query_form(tokens(text))
    if form is None:
        raise CatalogueError("not a SPARQL query: no SELECT, ASK, CONSTRUCT or DESCRIBE")
    return form.lower()


def expand(value: str, prefixes: Mapping[str, str]) -> str:
    """An IRI from ``<iri>``, ``prefix:local`` (the query's prefixes) or an absolute IRI."""
    value = value.strip()
    prefixes = {**DEFAULT_PREFIXES, **prefixes}
    if value.startswith("<") and value.endswith(">"):
        return value[1:-1]
    prefix, sep, local = value.partition(":")
    if sep and prefix in prefixes and not local.startswith("//"):
        return prefixes[prefix] + local
    return value


def _split_list(raw: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in raw.split(",") if v.strip())


def _param(name: str, items: list[tuple[str, str | None, str]], prefixes: Mapping[str, str]
           ) -> Param:
    fields_: dict[str, object] = {"name": name, "labels": {}, "descriptions": {}}
    for key, lang, value in items:
        if key in ("label", "description"):
            fields_[key + "s"][lang or "en"] = value  # type: ignore[index]
        elif key == "type":
            if value not in PARAM_TYPES:
                raise CatalogueError(f"param {name}: unknown type {value!r}")
            fields_["type"] = value
        elif key == "class":
            fields_["cls"] = expand(value, prefixes)
        elif key == "default":
            fields_["default"] = value
        elif key == "optional":
            fields_["optional"] = value.lower() in ("true", "yes", "1")
        elif key == "values":
            fields_["values"] = _split_list(value)
        elif key == "values-query":
            fields_["values_query"] = value
        else:
            raise CatalogueError(f"param {name}: unknown key {key!r}")
    param = Param(**fields_)  # type: ignore[arg-type]
    if param.cls and param.type != "iri":
        raise CatalogueError(f"param {name}: class given but type is {param.type}")
    return param


def parse(name: str, source: str) -> CannedQuery:
    """Parse one ``.rq`` file's text (header + query) into a :class:`CannedQuery`.

    Raises:
        CatalogueError: a malformed header line, an unknown key, a missing English title.
    """
    lines = source.splitlines()
    header: list[tuple[bool, str, str | None, str]] = []
    body_start = 0
    for number, line in enumerate(lines):
        if not line.startswith("#+"):
            body_start = number
            break
        match = _HEADER.match(line)
        if not match:
            raise CatalogueError(f"{name}.rq line {number + 1}: not `#+ key: value`")
        indent, key, lang, value = match.groups()
        header.append((len(indent) > 1, key, lang, value.strip()))
    else:
        body_start = len(lines)
    text = "\n".join(lines[body_start:]).strip() + "\n"
    prefixes = declared_prefixes(tokens(text))  # as the endpoint's lexer reads the prologue
    meta: dict[str, dict[str | None, str]] = {}
    params: list[tuple[str, list[tuple[str, str | None, str]]]] = []
    for nested, key, lang, value in header:
        if key == "param":
            params.append((value, []))
        elif nested and params:
            params[-1][1].append((key, lang, value))
        else:
            meta.setdefault(key, {})[lang] = value
    return _query(name, text, meta, params, prefixes)


def _query(name: str, text: str, meta: dict[str, dict[str | None, str]],
           params: list[tuple[str, list[tuple[str, str | None, str]]]],
           prefixes: dict[str, str]) -> CannedQuery:
    known = {"title", "description", "keywords", "topic", "order"}
    if unknown := set(meta) - known:
        raise CatalogueError(f"{name}.rq: unknown header keys {sorted(unknown)}")
    titles = {lang or "en": v for lang, v in meta.get("title", {}).items()}
    if "en" not in titles:
        raise CatalogueError(f"{name}.rq: no title@en")
    try:
        kind = query_kind(text)
    except CatalogueError as exc:
        raise CatalogueError(f"{name}.rq: {exc}") from None
    return CannedQuery(
        name=name,
        kind=kind,
        text=text,
        titles=titles,
        descriptions={lang or "en": v for lang, v in meta.get("description", {}).items()},
        keywords=_split_list(meta.get("keywords", {}).get(None, "")),
        translated_keywords={lang: _split_list(v) for lang, v in meta.get("keywords", {}).items()
                             if lang not in (None, "en")},
        topic=meta.get("topic", {}).get(None, "other"),
        order=int(meta.get("order", {}).get(None, "100")),
        params=tuple(_param(n, items, prefixes) for n, items in params),
        prefixes=prefixes,
    )


def load_file(path: Path, base: str = DEFAULT_BASE) -> CannedQuery:
    """Parse one file; its IRIs under the default base are moved to ``base`` (as the build does)."""
    return parse(path.stem, path.read_text(encoding="utf-8").replace(DEFAULT_BASE, base))


@lru_cache(maxsize=4)
def _load_dir(folder: Path, stamp: tuple[tuple[str, int], ...], base: str
              ) -> tuple[CannedQuery, ...]:
    queries = (load_file(folder / name, base) for name, _ in stamp)
    return tuple(sorted(queries, key=lambda q: (q.order, q.name)))


def catalogue(folder: Path | None = None, base: str = DEFAULT_BASE) -> tuple[CannedQuery, ...]:
    """Every canned query in ``folder`` (default: the shipped ``queries/``), in catalogue order.

    ``base`` is the deployment's base IRI. Cached per (folder, file names and modification
    times, base).
    """
    folder = folder or paths.queries_dir()
    stamp = tuple((p.name, p.stat().st_mtime_ns) for p in sorted(folder.glob("*.rq")))
    return _load_dir(folder, stamp, base)


def find(name: str, folder: Path | None = None, base: str = DEFAULT_BASE) -> CannedQuery | None:
    return next((q for q in catalogue(folder, base) if q.name == name), None)


def search(queries: Iterable[CannedQuery], text: str) -> list[CannedQuery]:
    """The queries whose name, titles, descriptions, keywords or topic contain every word."""
    words = [w.casefold() for w in text.split()]
    hits = []
    for q in queries:
        hay = " ".join([q.name, q.topic, *q.titles.values(), *q.descriptions.values(),
                        *q.all_keywords()]).casefold()
        if all(w in hay for w in words):
            hits.append(q)
    return hits


@lru_cache(maxsize=1)
def _column_labels() -> dict[str, dict[str, str]]:
    """``queries/columns.tsv``: variable -> {lang: header}."""
    out: dict[str, dict[str, str]] = {}
    lines = (paths.queries_dir() / "columns.tsv").read_text(encoding="utf-8").splitlines()
    rows = [line.split("\t") for line in lines if line and not line.startswith("#")]
    header, body = rows[0], rows[1:]
    for row in body:
        out[row[0]] = dict(zip(header[1:], row[1:], strict=True))
    return out


def column_label(variable: str, lang: str) -> str:
    """The human header of a result column (``queries/columns.tsv``), else the variable."""
    labels = _column_labels().get(variable, {})
    return labels.get(lang) or labels.get("en") or variable
