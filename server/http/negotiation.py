"""Content negotiation: ``Accept`` (or ``?format=``) -> the media type to answer with.

A pure function over strings, table-tested in ``tests/http/test_negotiation.py``. It follows
RFC 9110 section 12.5.1 (https://www.rfc-editor.org/rfc/rfc9110#section-12.5.1): q-values,
``type/*`` and ``*/*`` wildcards, the most specific matching range decides a type's quality, and
``q=0`` refuses a type. Among equally acceptable types the server's order (``offered``) wins.
The media types and ``?format=`` names are ``server.rdf.formats``'s.
"""

from __future__ import annotations

from functools import lru_cache

from server.rdf.formats import FORMAT_NAMES


def _ranges(accept: str) -> list[tuple[str, str, float]]:
    """Parse an Accept header into (type, subtype, q); malformed members are skipped."""
    out = []
    for member in accept.split(","):
        parts = [p.strip() for p in member.split(";")]
        if "/" not in parts[0]:
            continue
        main, _, sub = parts[0].lower().partition("/")
        q = 1.0
        for param in parts[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = max(0.0, min(1.0, float(value.strip())))
                except ValueError:
                    q = 0.0
        out.append((main.strip(), sub.strip(), q))
    return out


def _quality(media_type: str, ranges: list[tuple[str, str, float]]) -> float:
    """The q of the most specific range matching ``media_type`` (0 when none does)."""
    main, _, sub = media_type.lower().partition("/")
    best, best_rank = 0.0, -1
    for r_main, r_sub, q in ranges:
        if r_main == main and r_sub == sub:
            rank = 2
        elif r_main == main and r_sub == "*":
            rank = 1
        elif r_main == "*" and r_sub == "*":
            rank = 0
        else:
            continue
        if rank > best_rank:
            best, best_rank = q, rank
    return best


#: A client sends the same ``Accept`` with every request, so answers are cached for headers
#: up to this long (longer ones are worked out each time, so the cache stays small).
CACHE_ACCEPT_LIMIT = 1024


def negotiate(accept: str | None, format_param: str | None, offered: list[str]) -> str | None:
    """Choose one of ``offered`` for this request, or ``None`` (answer 406 Not Acceptable).

    ``format_param`` (the ``?format=`` query parameter: a short name from :data:`FORMAT_NAMES`
    or a media type) overrides ``Accept``. A missing or empty ``Accept`` means ``*/*``.
    """
    if len(accept or "") + len(format_param or "") > CACHE_ACCEPT_LIMIT:
        return _negotiate(accept, format_param, tuple(offered))
    return _cached_negotiate(accept, format_param, tuple(offered))


@lru_cache(maxsize=256)
def _cached_negotiate(accept: str | None, format_param: str | None,
                      offered: tuple[str, ...]) -> str | None:
    return _negotiate(accept, format_param, offered)


def _negotiate(accept: str | None, format_param: str | None,
               offered: tuple[str, ...]) -> str | None:
    if format_param:
        wanted = FORMAT_NAMES.get(format_param.strip().lower(), (format_param.strip().lower(),))
        offered_lower = [o.lower() for o in offered]
        for candidate in wanted:
            if candidate.split(";")[0].strip() in offered_lower:
                return offered[offered_lower.index(candidate.split(";")[0].strip())]
        return None
    if not accept or not accept.strip():
        return offered[0] if offered else None
    ranges = _ranges(accept)
    best, best_q = None, 0.0
    for media_type in offered:
        q = _quality(media_type, ranges)
        if q > best_q:
            best, best_q = media_type, q
    return best
