"""RDF foundations: vocabulary IRIs and namespaces, the on-disk store and its snapshots, IRI
minting and checking, labels, answer formats, dumps, and what dereferencing an IRI returns.

May import: ``server.errors``, ``server.paths``. Nothing here knows about HTTP or SPARQL
requests.
"""
