"""server/sparql_text.py: the lexer's view of prefixes, as used for RDF output."""

from __future__ import annotations

import pytest

from server.sparql_text import output_prefixes, tokens


@pytest.mark.parametrize(("query", "expected"), [
    ("PREFIX foaf: <http://xmlns.com/foaf/0.1/> CONSTRUCT WHERE { ?s a foaf:Document }",
     {"foaf": "http://xmlns.com/foaf/0.1/"}),
    ("prefix : <http://example.org/> PREFIX ex2: <urn:x:> DESCRIBE :a",
     {"": "http://example.org/", "ex2": "urn:x:"}),
    # relative to BASE: the parser resolves it, a Turtle writer cannot declare it as it stands
    ("BASE <http://example.org/> PREFIX rel: <things/> CONSTRUCT WHERE { ?s ?p ?o }", {}),
    # in a string or a comment, PREFIX declares nothing
    ('CONSTRUCT { ?s ?p "PREFIX x: <http://x/>" } WHERE { ?s ?p ?o } # PREFIX y: <http://y/>',
     {}),
    ("PREFIX ex.: <http://example.org/> CONSTRUCT WHERE { ?s ?p ?o }", {}),
])
def test_output_prefixes(query: str, expected: dict[str, str]) -> None:
    assert output_prefixes(tokens(query)) == expected
