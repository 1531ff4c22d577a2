"""The canned queries of ``queries/*.rq`` as plain text, for running them on any engine.

Benchmarks read the files themselves instead of importing ``server.catalogue.canned``, so that they
keep working while ``server/`` is restructured and so that they show exactly the text an
engine is sent. The header (lines starting with ``#+``, see ``queries/README.md``) is
metadata; a parameter takes its ``default:`` value, or stays unbound when it has none.

A bound parameter is written as a trailing ``VALUES`` clause (SPARQL 1.1 §10.2.2), the only
text form that needs no edit of the query body: k2d3 itself binds by SEP-0007 substitution,
which other engines do not offer. The two agree when the parameter is projected, as
``queries/README.md`` requires of every parameter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ROOT / "queries"
_HEADER = re.compile(r"^#\+(\s*)([A-Za-z][\w-]*)(?:@[\w-]+)?\s*:\s?(.*)$")
_PREFIX = re.compile(r"^\s*PREFIX\s+([\w.-]*):\s*<([^>]*)>", re.IGNORECASE | re.MULTILINE)
_WHERE = re.compile(r"\bWHERE\s*\{", re.IGNORECASE)
_KIND = re.compile(r"^\s*(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", re.IGNORECASE | re.MULTILINE)
#: Prefixes a default value may use besides the query's own (as ``server/catalogue/canned.py``).
DEFAULT_PREFIXES = {"k2di": "https://w3id.org/k2d3/id/", "k2d3": "https://w3id.org/k2d3/ontology#"}


@dataclass(frozen=True)
class Canned:
    """One canned query: its name, its SPARQL text (no header) and its bound defaults."""

    name: str
    body: str
    kind: str
    #: variable -> the default value as an N-Triples term (``<iri>``); unbound ones absent.
    bindings: dict[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The query with its defaults bound by a trailing ``VALUES`` clause."""
        return with_values(self.body, self.bindings)

    @property
    def inline_text(self) -> str:
        """The query with its defaults bound by a ``VALUES`` block opening its ``WHERE``."""
        return inline_values(self.body, self.bindings)


def with_values(body: str, bindings: dict[str, str]) -> str:
    """``body`` followed by ``VALUES (?a ?b) { (t1 t2) }``, or ``body`` alone."""
    if not bindings:
        return body
    names = " ".join("?" + name for name in bindings)
    terms = " ".join(bindings.values())
    return f"{body.rstrip()}\nVALUES ({names}) {{ ({terms}) }}\n"


def inline_values(body: str, bindings: dict[str, str]) -> str:
    """``VALUES ?a { t }`` as the first element of the query's (outermost) ``WHERE`` group.

    The same answer as a trailing ``VALUES`` for a projected variable, and the form Virtuoso
    7.2.5 evaluates correctly (it ignores a trailing one after a ``BIND``, and refuses one
    after a ``CONSTRUCT``; see ``RESULTS.md``). The outermost group is the first
    ``WHERE {`` of k2d3's queries (a ``CONSTRUCT`` template has none; subqueries come after).
    """
    if not bindings:
        return body
    match = _WHERE.search(body)
    if not match:
        raise ValueError("no WHERE { in the query: cannot bind its parameters inline")
    block = " ".join(f"VALUES ?{name} {{ {term} }}" for name, term in bindings.items())
    return f"{body[:match.end()]}\n  {block}{body[match.end():]}"


def expand(value: str, prefixes: dict[str, str]) -> str:
    """A default written as ``<iri>``, a full IRI or a CURIE -> ``<iri>``."""
    value = value.strip()
    if value.startswith("<"):
        return value
    prefix, sep, local = value.partition(":")
    if sep and prefix in prefixes and not local.startswith("//"):
        return f"<{prefixes[prefix]}{local}>"
    return f"<{value}>"


def parse(path: Path) -> Canned:
    """Read one ``.rq`` file: split the header from the query, collect the defaults."""
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next((i for i, line in enumerate(lines) if not line.startswith("#+")), len(lines))
    body = "\n".join(lines[start:]) + "\n"
    prefixes = {**DEFAULT_PREFIXES, **dict(_PREFIX.findall(body))}
    defaults: dict[str, str] = {}
    param = None
    for line in lines[:start]:
        match = _HEADER.match(line)
        if not match:
            continue
        indent, key, value = match.groups()
        if len(indent) < 2 and key == "param":
            param = value.strip()
        elif len(indent) >= 2 and param and key == "default":
            defaults[param] = expand(value, prefixes)
    kind = _KIND.search(re.sub(r"#[^\n]*", "", body))
    return Canned(path.stem, body, kind.group(1).lower() if kind else "select", defaults)


def catalogue(folder: Path = QUERIES) -> list[Canned]:
    """Every canned query of ``folder`` (not ``checks/``), by name."""
    return [parse(path) for path in sorted(folder.glob("*.rq"))]
