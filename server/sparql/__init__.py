"""Running SPARQL: the lexer and pre-check, the executor under limits, result streaming,
the federation policy and sandbox, deadlines and the watchdog, admission of heavy queries,
and the service description.

May import: ``server.rdf``, ``server.config``, ``server.errors``, ``server.paths``.
"""
