"""Canned queries: ``queries/*.rq`` -> frozen :class:`CannedQuery` objects, and safe binding.

Each file is a SPARQL query preceded by a header of ``#+`` comment lines (the format is
documented in ``queries/README.md``). Parsing is pure: text in, objects out. Parameters are bound
with pyoxigraph's ``substitutions`` (SEP-0007,
https://github.com/w3c/sparql-dev/blob/main/SEP/SEP-0007/sep-0007.md), never spliced into the
query text; a value of the wrong type or outside the allowed values raises :class:`ParamError`,
which the views answer with a 400 naming the parameter. The RDF form of the catalogue (for the
build) is in :mod:`server.canned_rdf`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from pyoxigraph import Literal, NamedNode, Store, Triple, Variable

from . import paths

XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_SUBCLASS = "http://www.w3.org/2000/01/rdf-schema#subClassOf"

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
_PREFIX = re.compile(r"^\s*PREFIX\s+([\w.-]*):\s*<([^>]*)>", re.IGNORECASE | re.MULTILINE)
_INTEGER = re.compile(r"^[+-]?\d{1,18}$")
_DECIMAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_LANGTAG = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$")


class CatalogueError(ValueError):
    """A ``.rq`` file whose header does not follow the format (names the file and line)."""


class ParamError(ValueError):
    """A parameter value of the wrong type or outside the allowed values (a 400)."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(f"parameter {param!r}: {message}")
        self.param = param


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
    topic: str = "other"
    order: int = 100
    params: tuple[Param, ...] = ()
    prefixes: Mapping[str, str] = field(default_factory=dict)

    def title(self, lang: str) -> str:
        return self.titles.get(lang) or self.titles.get("en") or self.name

    def description(self, lang: str) -> str:
        return self.descriptions.get(lang) or self.descriptions.get("en") or ""

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)


def query_kind(text: str) -> str:
    """``select``, ``ask``, ``construct`` or ``describe``: the query form's first keyword."""
    body = re.sub(r"#[^\n]*", " ", text)
    body = re.sub(r"(?is)^\s*((PREFIX\s+[\w.-]*:\s*<[^>]*>|BASE\s*<[^>]*>)\s*)*", "", body)
    word = body.split(None, 1)[0].lower() if body.strip() else ""
    if word not in KINDS:
        raise CatalogueError(f"not a SPARQL query form: {word!r}")
    return word


def expand(value: str, prefixes: Mapping[str, str]) -> str:
    """An IRI from ``<iri>``, ``prefix:local`` (the query's prefixes) or an absolute IRI."""
    value = value.strip()
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
    prefixes = dict(_PREFIX.findall(text))
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
        topic=meta.get("topic", {}).get(None, "other"),
        order=int(meta.get("order", {}).get(None, "100")),
        params=tuple(_param(n, items, prefixes) for n, items in params),
        prefixes=prefixes,
    )


def load_file(path: Path) -> CannedQuery:
    return parse(path.stem, path.read_text(encoding="utf-8"))


@lru_cache(maxsize=4)
def _load_dir(folder: Path, stamp: tuple[tuple[str, int], ...]) -> tuple[CannedQuery, ...]:
    queries = (load_file(folder / name) for name, _ in stamp)
    return tuple(sorted(queries, key=lambda q: (q.order, q.name)))


def catalogue(folder: Path | None = None) -> tuple[CannedQuery, ...]:
    """Every canned query in ``folder`` (default: the shipped ``queries/``), in catalogue order.

    Cached per (folder, file names and modification times).
    """
    folder = folder or paths.queries_dir()
    stamp = tuple((p.name, p.stat().st_mtime_ns) for p in sorted(folder.glob("*.rq")))
    return _load_dir(folder, stamp)


def find(name: str, folder: Path | None = None) -> CannedQuery | None:
    return next((q for q in catalogue(folder) if q.name == name), None)


def catalogue_triples() -> list[Triple]:
    """The catalogue as RDF (SIB sparql-examples vocabulary), for the build's queries graph."""
    from .canned_rdf import triples

    return triples(catalogue())


# --- binding -----------------------------------------------------------------------------------


def coerce(param: Param, raw: str, prefixes: Mapping[str, str]) -> NamedNode | Literal:
    """The RDF term for a raw form value, or :class:`ParamError` when it has the wrong type."""
    raw = raw.strip()
    if param.type == "iri":
        iri = expand(raw, prefixes)
        if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]+$", iri):
            raise ParamError(param.name, f"{raw!r} is not an IRI")
        return NamedNode(iri)
    checks = {"integer": _INTEGER, "decimal": _DECIMAL, "language": _LANGTAG}
    if param.type in checks and not checks[param.type].match(raw):
        raise ParamError(param.name, f"{raw!r} is not a valid {param.type}")
    if param.type == "boolean":
        if raw.lower() not in ("true", "false", "1", "0"):
            raise ParamError(param.name, f"{raw!r} is not true or false")
        raw = "true" if raw.lower() in ("true", "1") else "false"
    if param.type == "integer":
        raw = str(int(raw))
    return Literal(raw, datatype=NamedNode(PARAM_TYPES[param.type] or XSD + "string"))


def allowed_values(store: Store, query: CannedQuery, param: Param) -> list[NamedNode | Literal]:
    """The values ``param`` accepts: its fixed list, its values query, or instances of its class.

    An empty list means any value of the right type.
    """
    if param.values:
        return [coerce(param, v, query.prefixes) for v in param.values]
    if param.values_query:
        rows = store.query(param.values_query, use_default_graph_as_union=True,
                           prefixes=dict(query.prefixes))
        return [row["value"] for row in rows if row["value"] is not None]  # type: ignore[index,union-attr,misc]
    if param.cls:
        rows = store.query(
            f"SELECT DISTINCT ?value {{ ?value <{RDF_TYPE}>/<{RDFS_SUBCLASS}>* ?c }} "
            "ORDER BY ?value", use_default_graph_as_union=True,
            substitutions={Variable("c"): NamedNode(param.cls)})
        return [row["value"] for row in rows]  # type: ignore[index,union-attr,misc]
    return []


def bind(query: CannedQuery, raw: Mapping[str, str], store: Store | None = None
         ) -> dict[Variable, NamedNode | Literal]:
    """Turn raw values (form fields, URL arguments) into SEP-0007 substitutions.

    A missing or empty value takes the parameter's default; an optional parameter with neither
    stays unbound. With a ``store``, values are checked against :func:`allowed_values`.

    Raises:
        ParamError: a required parameter without value, a wrong type, a value not allowed.
    """
    bound: dict[Variable, NamedNode | Literal] = {}
    for param in query.params:
        value = (raw.get(param.name) or "").strip() or param.default
        if not value:
            if param.optional:
                continue
            raise ParamError(param.name, "a value is required")
        term = coerce(param, value, query.prefixes)
        if store is not None:
            allowed = allowed_values(store, query, param)
            if allowed and term not in allowed:
                raise ParamError(param.name, f"{value!r} is not one of the allowed values")
        bound[Variable(param.name)] = term
    return bound


def search(queries: Iterable[CannedQuery], text: str) -> list[CannedQuery]:
    """The queries whose name, titles, descriptions, keywords or topic contain every word."""
    words = [w.casefold() for w in text.split()]
    hits = []
    for q in queries:
        hay = " ".join([q.name, q.topic, *q.titles.values(), *q.descriptions.values(),
                        *q.keywords]).casefold()
        if all(w in hay for w in words):
            hits.append(q)
    return hits
