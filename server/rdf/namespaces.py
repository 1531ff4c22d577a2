"""The IRIs k2d3 mints, derived from one configurable base IRI.

The Turtle sources are written with the default base ``https://w3id.org/k2d3/``; a deployment
with another base gets every IRI rewritten at build time (see ``build.rebase``).
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_BASE = "https://w3id.org/k2d3/"

#: Named graphs the build owns and replaces; every other graph belongs to users.
BUILD_GRAPHS = ("ontology", "shapes", "data", "inferred", "queries", "void")


@dataclass(frozen=True)
class Namespaces:
    """The namespaces under one base IRI (always ending in ``/``)."""

    base: str = DEFAULT_BASE

    @property
    def ontology(self) -> str:
        """The ontology's IRI (terms are ``ontology#Term``)."""
        return self.base + "ontology"

    @property
    def vocab(self) -> str:
        return self.base + "ontology#"

    @property
    def resource(self) -> str:
        """Instances: entities, claims, evidence lines, quotations, studies, the source."""
        return self.base + "id/"

    @property
    def queries(self) -> str:
        """Canned queries: ``queries/<name>`` is both the IRI and the page."""
        return self.base + "queries/"

    def graph(self, name: str) -> str:
        """The IRI of the named graph ``name`` (one of :data:`BUILD_GRAPHS` for the build's own)."""
        return self.base + "graph/" + name

    def build_graphs(self) -> dict[str, str]:
        return {name: self.graph(name) for name in BUILD_GRAPHS}

    @property
    def dataset(self) -> str:
        """The VoID dataset's IRI."""
        return self.base + "dataset"
