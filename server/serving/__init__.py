"""``k2d3 serve``: gunicorn's settings, the worker, the front that reads requests before
a thread is given, framing, request-line limits, balancing between workers, and what a worker
that cannot start does.

May import: the application factory (``server.create_app``), ``server.http``,
``server.sparql``, ``server.rdf``, ``server.config``, ``server.errors``, ``server.paths``.
Never ``server.views`` directly nor ``server.build``.
"""
