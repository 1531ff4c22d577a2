"""The routes, one blueprint per URL family, each module exposing ``bp``; thin: they read the
request, call ``server.pages``, ``server.catalogue``, ``server.sparql`` and ``server.rdf``, and
answer through ``server.http``.

May import anything in ``server`` except ``server.build``, ``server.serving`` and ``server.cli``.
"""
