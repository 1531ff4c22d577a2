"""HTTP request -> a typed SPARQL operation, or the precise 4xx the protocol names.

Follows the SPARQL 1.1 Protocol (https://www.w3.org/TR/sparql11-protocol/): query by GET
(section 2.1.1), POST form-encoded (2.1.2) or POST ``application/sparql-query`` (2.1.3);
update by POST form-encoded (2.2.1) or ``application/sparql-update`` (2.2.2). Takes a werkzeug
``Request``, reads no Flask globals, and is tested case by case in ``tests/http/test_protocol.py``.

A ``timeout=`` below :data:`MIN_TIMEOUT_S` is refused: every query that outlives its deadline
costs the server a worker process (``server.serving.serve`` retires it), so a client asking for
hundredths of a second could recycle every worker with a handful of requests. The server's
default and maximum timeouts are settings (``query_timeout``, ``max_query_timeout``).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from urllib.parse import parse_qsl

from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request

from server.errors import (
    BadRequest,
    Forbidden,
    MethodNotAllowed,
    Unauthorized,
    UnsupportedMediaType,
)
from server.rdf.iris import to_iri
from server.sparql import text as sparql_text

FORM = "application/x-www-form-urlencoded"
QUERY_TYPE = "application/sparql-query"
UPDATE_TYPE = "application/sparql-update"
#: The shortest ``timeout=`` a client may ask for, in seconds (see the module docstring).
MIN_TIMEOUT_S = 1.0


@dataclass(frozen=True)
class SparqlRequest:
    """One request to the endpoint, parsed."""

    operation: str
    """``query``, ``update`` or ``description`` (no query: the service description)."""
    text: str = ""
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    timeout: float | None = None
    """The ``timeout=`` parameter in seconds, when given."""
    format: str | None = None
    """The ``format=`` parameter, when given."""

    @property
    def names_dataset(self) -> bool:
        return bool(self.default_graphs or self.named_graphs)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"the request body is not UTF-8 (byte {exc.start})") from None


def _form(request: Request) -> MultiDict[str, str]:
    body = _decode(request.get_data(cache=True))
    try:
        pairs = parse_qsl(body, keep_blank_values=True, strict_parsing=False,
                          encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise BadRequest("the form-encoded body is not UTF-8") from None
    return MultiDict(pairs)


def _one(params: MultiDict[str, str], name: str) -> str | None:
    values = params.getlist(name)
    if len(values) > 1:
        raise BadRequest(f"the `{name}` parameter is given {len(values)} times; give it once")
    return values[0] if values else None


def _timeout(params: MultiDict[str, str]) -> float | None:
    raw = _one(params, "timeout")
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        raise BadRequest(f"timeout must be a number of seconds, not {raw!r}") from None
    if not value >= MIN_TIMEOUT_S:  # also refuses NaN
        raise BadRequest(f"timeout must be at least {MIN_TIMEOUT_S:g} second, not {raw!r}")
    return value


def _media_type(request: Request) -> str:
    if not request.content_type:
        raise UnsupportedMediaType("a POST needs a Content-Type: application/x-www-form-urlencoded"
                                   f", {QUERY_TYPE} or {UPDATE_TYPE}")
    return request.mimetype


def parse(request: Request) -> SparqlRequest:
    """Parse a request to ``/sparql``.

    Raises:
        BadRequest: a parameter given twice, both or neither of query and update in a form,
            a body that is not UTF-8, a ``timeout`` that is not a number of seconds of at
            least :data:`MIN_TIMEOUT_S`, a ``using-graph-uri`` / ``using-named-graph-uri``
            that is not an absolute IRI.
        MethodNotAllowed: a method other than GET and POST, or an update by GET.
        UnsupportedMediaType: a POST without, or with another, media type.
    """
    url = request.args
    if request.method in {"GET", "HEAD"}:
        if "update" in url:
            raise MethodNotAllowed("SPARQL Update must be sent by POST", "GET, HEAD, POST")
        return _query(url, url, _one(url, "query"))
    if request.method != "POST":
        raise MethodNotAllowed(f"{request.method} is not a SPARQL protocol method",
                               "GET, HEAD, POST")
    media = _media_type(request)
    if media == FORM:
        form = _form(request)
        merged = MultiDict(list(url.items(multi=True)) + list(form.items(multi=True)))
        query, update = _one(form, "query"), _one(form, "update")
        if query is not None and update is not None:
            raise BadRequest("give either `query` or `update`, not both")
        if update is not None:
            return _update(merged, update)
        if query is None:
            raise BadRequest("the form has neither a `query` nor an `update` parameter")
        return _query(merged, merged, query)
    if media == QUERY_TYPE:
        return _query(url, url, _decode(request.get_data(cache=True)))
    if media == UPDATE_TYPE:
        return _update(url, _decode(request.get_data(cache=True)))
    raise UnsupportedMediaType(f"{media} is not a SPARQL request type; send {FORM}, "
                               f"{QUERY_TYPE} or {UPDATE_TYPE}")


def _query(params: MultiDict[str, str], url: MultiDict[str, str],
           text: str | None) -> SparqlRequest:
    fmt, timeout = _one(url, "format"), _timeout(params)
    if text is None:
        if params.getlist("default-graph-uri") or params.getlist("named-graph-uri"):
            raise BadRequest("a dataset is given but no `query`")
        return SparqlRequest("description", format=fmt)
    return SparqlRequest("query", text, tuple(params.getlist("default-graph-uri")),
                         tuple(params.getlist("named-graph-uri")), timeout, fmt)


def _update(params: MultiDict[str, str], text: str) -> SparqlRequest:
    """An update; ``using-graph-uri`` / ``using-named-graph-uri`` are written into its text.

    The protocol forbids them together with USING, USING NAMED or WITH in the update
    (https://www.w3.org/TR/sparql11-protocol/#update-dataset): that is a 400.
    """
    using = params.getlist("using-graph-uri")
    using_named = params.getlist("using-named-graph-uri")
    if using or using_named:
        toks = sparql_text.tokens(text)  # as pyoxigraph reads it; positions are the text's
        if {"USING", "WITH"} & sparql_text.keywords(toks):
            raise BadRequest("using-graph-uri / using-named-graph-uri conflict with USING or "
                             "WITH in the update; give the dataset in one place only")
        clause = " ".join(
            [f"USING <{to_iri(g, 'using-graph-uri').value}>" for g in using]
            + [f"USING NAMED <{to_iri(g, 'using-named-graph-uri').value}>" for g in using_named])
        text = sparql_text.insert_before_where(text, toks, clause)
    return SparqlRequest("update", text, format=_one(params, "format"))


def authorize_write(token: str | None, authorization: str | None) -> None:
    """Let a write through only with ``Authorization: Bearer <the configured token>``.

    Raises:
        Forbidden: no token is configured (writes are off) or the token is wrong.
        Unauthorized: no bearer credentials were sent.
    """
    if not token:
        raise Forbidden("writes are off on this server (no update token is configured)")
    scheme, _, given = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        raise Unauthorized("writes need an `Authorization: Bearer <token>` header")
    if not hmac.compare_digest(given.strip().encode("utf-8"), token.encode("utf-8")):
        raise Forbidden("the bearer token does not allow writes")
