"""Everything that renders HTML or SVG for people: resource, ontology, shapes and source
pages, the verdict, the evidence map, the editor, highlighting, result tables, search, and
the interface strings in both languages.

May import: ``server.catalogue``, ``server.sparql``, ``server.rdf``, ``server.config``,
``server.errors``, ``server.paths``. Not ``server.http``: pages are made from data, and
views turn them into responses.
"""
