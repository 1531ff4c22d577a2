"""Bind canned-query parameters safely: raw form values -> typed RDF terms -> substitutions.

Values are converted to terms of the parameter's declared type and passed to pyoxigraph as
``substitutions`` (SEP-0007, https://github.com/w3c/sparql-dev/blob/main/SEP/SEP-0007/sep-0007.md),
never spliced into the query text. A value of the wrong type, outside the allowed values, or a
missing required value raises :class:`ParamError`, which the views answer with a 400 naming the
parameter.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from pyoxigraph import Literal, NamedNode, Store, Variable

from server.catalogue.canned import (
    PARAM_TYPES,
    RDF_TYPE,
    RDFS_SUBCLASS,
    XSD,
    CannedQuery,
    Param,
    expand,
)
from server.rdf.iris import InvalidIri, to_iri

__all__ = ["ParamError", "allowed_values", "bind", "coerce"]

_INTEGER = re.compile(r"^[+-]?\d{1,18}$")
_DECIMAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_LANGTAG = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$")
_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]+$")


class ParamError(ValueError):
    """A parameter value of the wrong type or outside the allowed values (a 400)."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(f"parameter {param!r}: {message}")
        self.param = param


def coerce(param: Param, raw: str, prefixes: Mapping[str, str]) -> NamedNode | Literal:
    """The RDF term for a raw form value, or :class:`ParamError` when it has the wrong type."""
    raw = raw.strip()
    if param.type == "iri":
        iri = expand(raw, prefixes)
        if not _IRI.match(iri):
            raise ParamError(param.name, f"{raw!r} is not an IRI")
        try:
            return to_iri(iri, f"parameter {param.name!r}")
        except InvalidIri as exc:  # passes the pattern but not the IRI grammar: `a:[b]`, `%zz`
            raise ParamError(param.name, f"{raw!r} is not an absolute IRI ({exc.reason})"
                             ) from None
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
        rows: Any = store.query(param.values_query, use_default_graph_as_union=True,
                                prefixes=dict(query.prefixes))
        return [row["value"] for row in rows if row["value"] is not None]
    if param.cls:
        rows = store.query(  # ?c is projected: pyoxigraph substitutes projected variables only
            f"SELECT DISTINCT ?value ?c {{ ?value <{RDF_TYPE}>/<{RDFS_SUBCLASS}>* ?c }} "
            "ORDER BY ?value", use_default_graph_as_union=True,
            substitutions={Variable("c"): NamedNode(param.cls)})
        return [row["value"] for row in rows]
    return []


def bind(query: CannedQuery, raw: Mapping[str, str], store: Store | None = None,
         allowed: Callable[[Param], list[NamedNode | Literal]] | None = None,
         ) -> dict[str, NamedNode | Literal]:
    """Turn raw values (form fields, URL arguments) into SEP-0007 substitutions (name -> term).

    A missing or empty value takes the parameter's default; an optional parameter with neither
    stays unbound. With a ``store``, values are checked against :func:`allowed_values` (or
    against ``allowed(param)``, for a caller that caches them).

    Raises:
        ParamError: a required parameter without value, a wrong type, a value not allowed.
    """
    bound: dict[str, NamedNode | Literal] = {}
    for param in query.params:
        value = (raw.get(param.name) or "").strip() or param.default
        if not value:
            if param.optional:
                continue
            raise ParamError(param.name, "a value is required")
        term = coerce(param, value, query.prefixes)
        if store is not None or allowed is not None:
            values = allowed(param) if allowed else allowed_values(store, query, param)  # type: ignore[arg-type]
            if values and term not in values:
                raise ParamError(param.name, f"{value!r} is not one of the allowed values")
        bound[param.name] = term
    return bound
