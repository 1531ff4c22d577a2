"""RDF 1.2 triple terms (``<<( s p o )>>``), which pyoxigraph 0.5.13 cannot write as JSON-LD.

Its JSON-LD serializer raises ``OSError: JSON-LD does not support RDF 1.2 yet`` on a triple
that holds one, which was a 500 for any client asking JSON-LD of a graph a writer had put a
triple term in (found by ``benchmarks/fuzz.py``). A JSON-LD answer is therefore checked first:
a 406 that names the formats that can carry it, and the JSON-LD block of an HTML page leaves
such triples out (the page shows them).
"""

from __future__ import annotations

from collections.abc import Iterable

from pyoxigraph import RdfFormat, Triple

from .errors import NotAcceptable


def holds_triple_term(triple: Triple) -> bool:
    return isinstance(triple.subject, Triple) or isinstance(triple.object, Triple)


def check_writable(triples: Iterable[Triple], fmt: RdfFormat | None) -> None:
    """Raise a 406 when ``fmt`` is JSON-LD and a triple holds a triple term."""
    if fmt == RdfFormat.JSON_LD and any(holds_triple_term(t) for t in triples):
        raise NotAcceptable("this answer holds RDF 1.2 triple terms, which JSON-LD cannot "
                            "carry yet; ask for Turtle, TriG, N-Triples, N-Quads or RDF/XML")


def json_ld_writable(triples: Iterable[Triple]) -> list[Triple]:
    """The triples JSON-LD can carry."""
    return [t for t in triples if not holds_triple_term(t)]
