"""Which ``Host`` a request may name: the server's own names only, so that none is reflected.

The ``Host`` a client sends becomes part of the absolute URLs the server writes when
``K2D3_PUBLIC_URL`` is unset: the ``Location`` and the IRI of a graph created by POST, ``Link``
and ``Content-Location``, the endpoint in the service description, werkzeug's redirects. A
client naming another host could have the server mint IRIs, or send redirects and links,
pointing anywhere (cache poisoning, link injection). So the envelope refuses a request whose
``Host`` is not one of the server's names with a 400, before anything reads it. The names are
``localhost`` and the loopback addresses, the address the server is bound to (``SERVER_NAME``
in the WSGI environ), the host of ``K2D3_PUBLIC_URL``, and ``K2D3_ALLOWED_HOSTS``, where
``.example.org`` admits example.org and its subdomains and ``*`` any host (as Django's
``ALLOWED_HOSTS``). Ports are not compared. A request without ``Host`` (HTTP/1.0) names none.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

#: Always the server's own: a client on the same machine.
LOOPBACK = ("localhost", "127.0.0.1", "::1")


def own_names(public_url: str | None, allowed: Iterable[str]) -> frozenset[str]:
    """The names a request's ``Host`` may give (besides the bound address), lower-cased."""
    names = {*LOOPBACK, *(name.lower().strip("[]") for name in allowed)}
    public = urlsplit(public_url).hostname if public_url else None
    return frozenset(names | ({public} if public else set()))


def refusal(environ: dict[str, Any], names: frozenset[str]) -> str | None:
    """Why a request's ``Host`` is refused, or None when it names this server."""
    host = environ.get("HTTP_HOST")
    if host is None or "*" in names:
        return None
    hostname = _hostname(host)
    bound = environ.get("SERVER_NAME", "").lower().strip("[]")
    if hostname is not None and (hostname in names or hostname == bound or any(
            name.startswith(".") and (hostname == name[1:] or hostname.endswith(name))
            for name in names)):
        return None
    return (f"this server does not answer for the host {host[:200]!r}; name it in "
            "K2D3_ALLOWED_HOSTS (or set K2D3_PUBLIC_URL) to serve it under that name")


def _hostname(authority: str) -> str | None:
    """The host of ``host[:port]``, lower-cased, or None when it is not one."""
    try:
        parts = urlsplit("//" + authority)
        _ = parts.port  # raises on a port that is not a number
    except ValueError:
        return None
    if parts.username is not None or "/" in authority or not parts.hostname:
        return None
    return parts.hostname
