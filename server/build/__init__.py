"""``k2d3 build`` and ``k2d3 validate``: the sources, the checks, identifiers, reasoning
(HermiT), VoID, and the pipeline that writes a store.

May import: ``server.catalogue``, ``server.sparql``, ``server.rdf``, ``server.config``,
``server.errors``, ``server.paths``. Never ``server.views`` nor ``server.http``.
"""
