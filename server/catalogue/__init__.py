"""The canned-query catalogue: the model read from ``queries/*.rq``, its parameters, and
its RDF (the SIB sparql-examples vocabulary).

May import: ``server.sparql`` (its lexer), ``server.rdf``, ``server.config``,
``server.errors``, ``server.paths``.
"""
