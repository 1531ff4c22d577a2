"""Request lines longer than gunicorn allows, still with a bound, and a 414 that says what to do.

Researchers paste long queries into URLs (``GET /sparql?query=...``): two canned queries sent
with their header comments pass 4 KB. gunicorn's ``limit_request_line`` defaults to 4,094
bytes and caps any value at ``gunicorn.http.message.MAX_REQUEST_LINE`` (8,190); only 0 lifts
the cap, and then nothing bounds the line (its Python parser copies the buffer once per read,
so a line of megabytes also costs quadratic time). :func:`gunicorn_limit` raises that cap to
``K2D3_MAX_REQUEST_LINE`` (64 KiB by default), so the setting is a real bound, and has a line
past it answered ``414`` with a message that names the limit and says to send the query by
POST. Both are module attributes of ``gunicorn.http.message`` (gunicorn 27, pinned), set in
the master before the workers fork; ``tests/live/test_request_line.py`` checks them on a real
server.
"""

from __future__ import annotations

from gunicorn.http import errors, message


class RequestLineTooLong(errors.LimitRequestLine):
    """gunicorn's ``LimitRequestLine`` (answered 414 by its workers), in words a person can act
    on."""

    def __str__(self) -> str:
        limit = f" (K2D3_MAX_REQUEST_LINE is {self.max_size:,} bytes)" if self.max_size else ""
        return (f"the request line is too long{limit}: send a long query by POST, with "
                "Content-Type: application/sparql-query or a form")


def gunicorn_limit(limit: int) -> int:
    """The value for gunicorn's ``limit_request_line`` that makes ``limit`` bytes the real
    bound (see the module docstring); call it in the master, before the workers fork.

    Raises:
        ValueError: ``limit`` is not positive (gunicorn would read 0 as no bound at all).
    """
    if limit < 1:
        raise ValueError(f"K2D3_MAX_REQUEST_LINE must be a positive number of bytes, not {limit}")
    message.MAX_REQUEST_LINE = max(message.MAX_REQUEST_LINE, limit)
    message.LimitRequestLine = RequestLineTooLong
    return limit
