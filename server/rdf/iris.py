"""Request data -> IRIs: the one place a client's string becomes a ``NamedNode``.

``pyoxigraph.NamedNode`` raises ``ValueError`` on anything that is not an absolute IRI
(RFC 3987: a scheme, no spaces or ``<>"{}|\\^`` characters, valid ``%`` escapes). Left to
itself that is a 500; :func:`to_iri` turns it into a 400 that names the parameter instead.
Callers for which a bad IRI means something else catch :class:`InvalidIri` (a linked-data path
that is not an IRI is simply not known: 404; a canned-query parameter answers its own 400).

:func:`linkable` is the template test that keeps an IRI from the data from becoming a
``javascript:`` (or ``data:``...) link: only ``http(s)`` IRIs and local paths are linked.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pyoxigraph import NamedNode

from server.errors import BadRequest

__all__ = ["InvalidIri", "linkable", "to_iri"]

#: URL schemes a page may link to; an IRI in any other scheme is shown as text.
LINK_SCHEMES = frozenset({"http", "https"})


class InvalidIri(BadRequest):
    """A value that should be an absolute IRI is not one (400 unless the caller decides)."""

    def __init__(self, value: str, what: str, reason: str) -> None:
        super().__init__(f"{what}: {value!r} is not an absolute IRI ({reason})")
        self.value, self.what, self.reason = value, what, reason


def to_iri(value: str, what: str) -> NamedNode:
    """``value`` as a ``NamedNode``, or :class:`InvalidIri` (a 400) naming ``what`` it was.

    ``what`` names where the value came from, e.g. ``"default-graph-uri"`` or
    ``"parameter 'outcome'"``; the message also quotes pyoxigraph's reason.

    Raises:
        InvalidIri: ``value`` is relative, or not an IRI at all.
    """
    try:
        return NamedNode(value)
    except ValueError as exc:
        raise InvalidIri(value, what, str(exc) or "rejected by the IRI parser") from None


def linkable(href: object) -> bool:
    """Whether a page may put ``href`` in an ``<a href>``: a local path or fragment
    (``/id/x``, ``#Claim``) or an ``http``/``https`` IRI; never ``javascript:``, ``data:``..."""
    if not isinstance(href, str) or not href:
        return False
    if href.startswith("#") or (href.startswith("/") and not href.startswith("//")):
        return True
    try:
        parts = urlsplit(href)
    except ValueError:
        return False
    return parts.scheme.lower() in LINK_SCHEMES and bool(parts.netloc)
