"""HTTP plumbing: header constants, errors as responses, the WSGI envelope, the fast GET
path, content negotiation, conditional requests, the protocol parser, the query answer,
request limits, Graph Store bodies, metrics, the OpenAPI description, linked-data responses.

May import: ``server.sparql``, ``server.rdf``, ``server.config``, ``server.errors``,
``server.paths``.
"""
