"""What ``SERVICE`` and ``LOAD`` may fetch: the allow-list, checked on a request's text.

pyoxigraph fetches those addresses itself, so the server refuses a request before running it
unless every address it fetches is allow-listed (``K2D3_FEDERATION_ALLOW``). The text is read
by ``server.sparql.text``; where that is all that stands between a request and the network
(federation on, or a worker that could not cut itself off it, see ``server.sparql.sandbox``), the
stricter rule of :func:`check_federation` applies.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from server.errors import FederationRefused
from server.sparql import text as sparql_text

#: Why a request is refused where the server's workers keep the network (see check_federation).
STRICT_RULE = ("where this server can fetch addresses (federation on), a request may have the "
               "letters `service` or `load` only as its SERVICE and LOAD keywords (not in names, "
               "IRIs, strings or comments), each followed by an IRI written out in full, and no "
               "\\u or \\U escapes, so that what it fetches can be checked")
#: What a client is told when a fetch the text check missed was stopped by server.sparql.sandbox.
FETCH_STOPPED = ("this request makes the server fetch an address, and SERVICE and LOAD may "
                 "only fetch addresses listed in K2D3_FEDERATION_ALLOW")


def check_federation(text: str, allow: Sequence[str], strict: bool = False) -> list[str]:
    """Refuse ``SERVICE`` / ``LOAD`` whose address does not start with an allowed prefix.

    Returns the addresses ``text`` fetches (all allowed; empty when it fetches nothing).
    ``strict`` when nothing else stops a fetch the lexer could miss (federation on, or a
    worker that could not cut itself off the network, see ``server.sparql.sandbox``): then a text
    with the letters ``service`` or ``load`` anywhere but in the keywords read is refused too.

    Raises:
        FederationRefused: naming the address (or saying it is not known before running).
    """
    shape = sparql_text.outline(text)
    fetched: list[str] = []
    for iri in shape.fetched:
        if iri is None:
            raise FederationRefused("SERVICE and LOAD need a literal absolute IRI here")
        if not any(allows(prefix, iri) for prefix in allow):
            raise FederationRefused(f"fetching <{iri}> is not allowed (SERVICE and LOAD may only "
                                    "fetch addresses listed in K2D3_FEDERATION_ALLOW)")
        fetched.append(iri)
    if strict and (shape.mentions > shape.fetch_words or not shape.literal_targets
                   or "\\u" in text or "\\U" in text):
        raise FederationRefused(STRICT_RULE)
    return fetched


def allows(prefix: str, iri: str) -> bool:
    """Whether the allow-list entry ``prefix`` admits ``iri``: the same scheme, host and port,
    no user information, and the entry ends at a boundary of the IRI, so ``http://a.org``
    admits ``http://a.org/sparql`` but not ``http://a.org.elsewhere.net/`` nor
    ``http://a.org:1@elsewhere.net/``."""
    if not iri.startswith(prefix):
        return False
    try:
        entry, wanted = urlsplit(prefix), urlsplit(iri)
        if ((entry.scheme, entry.hostname, entry.port) != (wanted.scheme, wanted.hostname,
                                                           wanted.port)
                or wanted.username is not None or wanted.password is not None):
            return False
    except ValueError:  # a port that is not a number
        return False
    rest = iri[len(prefix):]
    return not rest or prefix.endswith(("/", "#", "?", "=", "&")) or rest[0] in "/?#"
