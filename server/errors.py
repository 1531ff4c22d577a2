"""Error types: every expected failure, with the HTTP status it is answered with.

Every expected failure is a :class:`K2D3Error` with the status the SPARQL 1.1 Protocol
(https://www.w3.org/TR/sparql11-protocol/#query-failure) or HTTP names for it. Any layer may
raise them; ``server.http.problems`` turns them into responses. This module imports nothing
from k2d3.
"""

from __future__ import annotations

from http import HTTPStatus


class K2D3Error(Exception):
    """An expected failure with its HTTP status and a message for the client.

    A ``status`` given to the constructor brings its standard title along (a 400 raised as a
    plain ``K2D3Error`` was titled "Internal Server Error"), so the two always agree.
    """

    status = 500
    title = "Internal Server Error"

    def __init__(self, message: str, *, status: int | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None and status != self.status:
            self.status, self.title = status, HTTPStatus(status).phrase
        self.headers = headers or {}


class BadRequest(K2D3Error):
    status, title = 400, "Bad Request"


class QuerySyntaxError(BadRequest):
    """The query or update does not parse; ``message`` quotes the parser (with position)."""

    def __init__(self, parser_message: str, *, kind: str = "query") -> None:
        super().__init__(f"SPARQL {kind} syntax error: {parser_message}")
        self.parser_message = parser_message


class Unauthorized(K2D3Error):
    status, title = 401, "Unauthorized"

    def __init__(self, message: str) -> None:
        super().__init__(message, headers={"WWW-Authenticate": 'Bearer realm="k2d3"'})


class Forbidden(K2D3Error):
    status, title = 403, "Forbidden"


class FederationRefused(Forbidden):
    """SERVICE or LOAD names an address outside ``federation_allow``."""


class NotFound(K2D3Error):
    status, title = 404, "Not Found"


class MethodNotAllowed(K2D3Error):
    status, title = 405, "Method Not Allowed"

    def __init__(self, message: str, allow: str) -> None:
        super().__init__(message, headers={"Allow": allow})


class NotAcceptable(K2D3Error):
    status, title = 406, "Not Acceptable"


class PayloadTooLarge(K2D3Error):
    status, title = 413, "Payload Too Large"


class UnsupportedMediaType(K2D3Error):
    status, title = 415, "Unsupported Media Type"


class PreconditionFailed(K2D3Error):
    status, title = 412, "Precondition Failed"


#: The starts and ends of pyoxigraph's messages (0.5) for a request that asks for something it
#: cannot evaluate: an unknown function, a SERVICE name that is no IRI.
_ENGINE_REFUSALS = (("The custom function ", "The variable encoding the service name"),
                    (" is not a valid service name",))


def refused_by_engine(exc: RuntimeError) -> BadRequest | None:
    """A 400 for pyoxigraph's refusal of what the request asks (it names the function or the
    service), or None when ``exc`` is something else (a storage failure stays a 500).

    The recommendation makes an unknown function an evaluation error (an unbound value in a
    ``BIND``, false in a ``FILTER``); pyoxigraph refuses the whole query instead, so the client
    is told which function, rather than being answered 500.
    """
    message = str(exc)
    starts, ends = _ENGINE_REFUSALS
    if not (message.startswith(starts) or message.endswith(ends)):
        return None
    return BadRequest(f"{message[0].lower()}{message[1:]} by this endpoint (it has the "
                      "functions of SPARQL 1.1 and the XSD casts)")


class QueryTimeout(K2D3Error):
    """The query ran past its deadline (503, as Fuseki answers a timed-out query)."""

    status, title = 503, "Service Unavailable"

    def __init__(self, seconds: float) -> None:
        super().__init__(f"query timed out after {seconds:g} s", headers={"Retry-After": "1"})
        self.seconds = seconds


class MemoryLimit(K2D3Error):
    """A query made its server process use more memory than it may (503, as a timeout): the
    process is replaced, so the memory is given back."""

    status, title = 503, "Service Unavailable"

    def __init__(self, limit_mib: int) -> None:
        super().__init__(
            f"the query needed more memory than a server process may use ({limit_mib} MiB, "
            "K2D3_WORKER_MEMORY_MIB): ask for less (a LIMIT, a more selective pattern, no "
            "ORDER BY or GROUP BY over everything), or run it on a server with a higher limit")
        self.limit_mib = limit_mib


class QueryAbandoned(QueryTimeout):
    """The watchdog has already answered this timed-out request on its socket (``serve``)."""


class BadGateway(K2D3Error):
    """A remote this server called on the client's behalf (an allow-listed ``SERVICE``)
    failed (https://www.rfc-editor.org/rfc/rfc9110#section-15.6.3)."""

    status, title = 502, "Bad Gateway"


class InsufficientStorage(K2D3Error):
    """The disk is full; the write was not applied (RFC 4918 section 11.5)."""

    status, title = 507, "Insufficient Storage"
