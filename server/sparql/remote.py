"""A client for a remote SPARQL 1.1 engine: query, update and the Graph Store protocol.

k2d3 can run over an engine elsewhere (Virtuoso, QLever, Fuseki, ...) instead of its embedded
store, and ``k2d3 push`` loads its graphs into one. This module speaks to such an engine with the
standard library only:

- queries and updates as the SPARQL 1.1 Protocol says
  (https://www.w3.org/TR/sparql11-protocol/#query-operation, ``#update-operation``): POST of an
  HTML form (``query=`` / ``update=`` with the dataset IRIs), which every engine accepts, or
  with ``form=False`` POST with the text as the body (``application/sparql-query`` /
  ``application/sparql-update``) and the dataset IRIs in the URL. The form is the default
  because Virtuoso 7.2.5 never answers a query POSTed as ``application/sparql-query`` (measured
  here: no byte in 60 s; curl the same), while it answers the form at once;
- whole graphs with the Graph Store HTTP Protocol's indirect identification
  (https://www.w3.org/TR/sparql11-http-rdf-update/#indirect-graph-identification): ``PUT`` and
  ``DELETE`` on ``STORE_URL?graph=IRI``;
- HTTP basic or digest authentication, whichever the engine's challenge asks for, from one user
  and password (``K2D3_BACKEND_USER`` / ``K2D3_BACKEND_PASSWORD``, see :meth:`RemoteEndpoint.
  from_env`). Each request gets its own opener, because urllib's digest handler keeps the
  nonce count on itself and is not safe to share between threads; with digest every request
  therefore costs two round trips (the challenge, then the answer). A request with a body
  learns the challenge from a bodiless ``HEAD`` first (see ``_authorise_ahead``). Connections
  are not kept alive between requests (urllib opens one per request). Proxies from the
  environment are not used: the engine is a peer of this server, not a site on the web.

Every failure is a :class:`server.errors.K2D3Error`: an engine that cannot be reached or answers
5xx is a 502 (:class:`RemoteUnavailable`) that names the URL without any user information; one
that takes too long is a 504 (:class:`RemoteTimeout`); a 401/403 is a 502 that says the
credentials are missing or wrong (:class:`RemoteAuthFailed`); a 400 quotes the engine's message
(:class:`RemoteRejected`). The password is never put in a message, a ``repr`` or a log.
"""

from __future__ import annotations

import base64
import re
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from http.client import HTTPException
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from server import config
from server.errors import BadGateway, BadRequest, QueryTimeout

#: Default seconds to wait for the engine to connect and for each read from it.
DEFAULT_TIMEOUT_S = 60.0
#: The most of an engine's error body quoted in a message.
_QUOTE_CHARS = 600


class RemoteUnavailable(BadGateway):
    """The engine could not be reached, or answered with a server error or an unexpected
    status (502)."""


class RemoteAuthFailed(BadGateway):
    """The engine answered 401 or 403: k2d3's credentials for it are missing or wrong (502:
    the fault is in this server's configuration, not in the client's request)."""


class RemoteRejected(BadRequest):
    """The engine refused the request as malformed (400); ``engine_message`` is its text."""

    def __init__(self, url: str, engine_message: str) -> None:
        super().__init__(f"the SPARQL engine at {url} refused the request: {engine_message}")
        self.engine_message = engine_message


class RemoteTimeout(QueryTimeout):
    """The engine did not answer within the time limit (504 Gateway Timeout)."""

    status, title = 504, "Gateway Timeout"

    def __init__(self, url: str, seconds: float) -> None:
        super().__init__(seconds)
        self.message = f"the SPARQL engine at {url} did not answer within {seconds:g} s"
        self.args = (self.message,)


def public_url(url: str) -> str:
    """``url`` without user information (``http://u:p@host/x`` -> ``http://host/x``), for
    messages."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


class RemoteEndpoint:
    """One remote engine: its query URL and, where it has them, update and Graph Store URLs.

    Args:
        query_url: the SPARQL query endpoint.
        update_url: the SPARQL Update endpoint (default: none; :meth:`update` then fails).
        store_url: the Graph Store protocol endpoint (default: none).
        user, password: credentials for basic or digest authentication, offered to the engine
            only when it challenges for them.
        timeout_s: seconds allowed to connect and for each read.
        form: send queries and updates as ``application/x-www-form-urlencoded`` forms (the
            default, see above); False sends the text itself as the body.
    """

    def __init__(self, query_url: str, update_url: str | None = None,
                 store_url: str | None = None, user: str | None = None,
                 password: str | None = None, timeout_s: float = DEFAULT_TIMEOUT_S,
                 form: bool = True) -> None:
        self.query_url, self.update_url, self.store_url = query_url, update_url, store_url
        self.user, self.timeout_s, self.form = user, timeout_s, form
        self._passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
        if user is not None:
            for url in (query_url, update_url, store_url):
                if url:
                    self._passwords.add_password(None, url, user, password or "")

    @classmethod
    def from_env(cls, query_url: str, update_url: str | None = None,
                 store_url: str | None = None, *, env: Mapping[str, str] | None = None,
                 **options: Any) -> RemoteEndpoint:
        """An endpoint whose credentials come from ``K2D3_BACKEND_USER`` and
        ``K2D3_BACKEND_PASSWORD`` (read by :func:`server.config.backend_credentials`)."""
        user, password = config.backend_credentials(env)
        return cls(query_url, update_url, store_url, user=user, password=password, **options)

    def __repr__(self) -> str:
        user = f", user={self.user!r}" if self.user is not None else ""
        return f"RemoteEndpoint({public_url(self.query_url)!r}{user})"

    def query(self, text: str, accept: str, *, default_graph: Sequence[str] | None = None,
              named_graphs: Sequence[str] | None = None) -> tuple[bytes, str]:
        """Run the query ``text``; return the engine's answer and its ``Content-Type``.

        ``default_graph`` / ``named_graphs`` are the protocol's ``default-graph-uri`` and
        ``named-graph-uri`` (none: the engine's own default dataset).
        """
        dataset = [("default-graph-uri", iri) for iri in default_graph or ()]
        dataset += [("named-graph-uri", iri) for iri in named_graphs or ()]
        return self._operation(self.query_url, "query", text, dataset, accept)

    def update(self, text: str) -> None:
        """Run the SPARQL Update ``text`` at the update URL."""
        if not self.update_url:
            raise RemoteUnavailable("no SPARQL Update URL is configured for the remote engine")
        self._operation(self.update_url, "update", text, [], "*/*")

    def put_graph(self, graph_iri: str, data: bytes | Iterable[bytes], content_type: str) -> None:
        """Replace the graph ``graph_iri`` with ``data`` (Graph Store ``PUT``).

        An iterable is joined first: a request that meets an authentication challenge is sent
        again, so its body must be at hand twice.
        """
        body = data if isinstance(data, bytes) else b"".join(data)
        self._send("PUT", self._graph_url(graph_iri), body, {"Content-Type": content_type})

    def delete_graph(self, graph_iri: str) -> bool:
        """Remove the graph ``graph_iri`` (Graph Store ``DELETE``); False when it did not exist."""
        try:
            self._send("DELETE", self._graph_url(graph_iri), None, {})
        except _Missing:
            return False
        return True

    def _graph_url(self, graph_iri: str) -> str:
        if not self.store_url:
            raise RemoteUnavailable("no Graph Store URL is configured for the remote engine")
        joiner = "&" if "?" in self.store_url else "?"
        return f"{self.store_url}{joiner}{urlencode({'graph': graph_iri})}"

    def _operation(self, url: str, kind: str, text: str, params: list[tuple[str, str]],
                   accept: str) -> tuple[bytes, str]:
        """POST a query or update as the protocol says: the text as the body, the dataset in
        the URL; or everything in a form."""
        if self.form:
            body = urlencode([(kind, text), *params]).encode("utf-8")
            media = "application/x-www-form-urlencoded"
        else:
            body, media = text.encode("utf-8"), f"application/sparql-{kind}"
            if params:
                url = f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"
        return self._send("POST", url, body,
                          {"Content-Type": f"{media}; charset=utf-8", "Accept": accept})

    def _opener(self) -> urllib.request.OpenerDirector:
        """A fresh opener (see the module's docstring); without a user, no authentication
        handlers, so that a challenge comes back as the 401 it is."""
        if self.user is None:
            return urllib.request.build_opener(urllib.request.ProxyHandler({}))
        return urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                           _Basic(self._passwords), _Digest(self._passwords))

    def _send(self, method: str, url: str, body: bytes | None,
              headers: dict[str, str]) -> tuple[bytes, str]:
        """One request; the answer's body and ``Content-Type``, or a typed error."""
        request = urllib.request.Request(url, data=body, headers=headers, method=method)
        shown = public_url(url.split("?", 1)[0])
        if self.user is not None and body:
            authorization = self._authorise_ahead(request)
            if authorization:
                request.add_unredirected_header("Authorization", authorization)
        try:
            with self._opener().open(request, timeout=self.timeout_s) as response:
                return response.read(), response.headers.get("Content-Type", "")
        except urllib.error.HTTPError as exc:
            raise _status_error(shown, exc) from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise RemoteTimeout(shown, self.timeout_s) from None
            raise RemoteUnavailable(f"the SPARQL engine at {shown} cannot be reached: "
                                    f"{exc.reason}") from None
        except TimeoutError:
            raise RemoteTimeout(shown, self.timeout_s) from None
        except (HTTPException, ConnectionError) as exc:
            raise RemoteUnavailable(f"the SPARQL engine at {shown} broke off its answer: "
                                    f"{type(exc).__name__} {exc}") from None
        except ValueError as exc:   # urllib: an authentication scheme it does not speak
            raise RemoteAuthFailed(f"the SPARQL engine at {shown} asks for authentication "
                                   f"k2d3 cannot give: {exc}") from None


    def _authorise_ahead(self, request: urllib.request.Request) -> str | None:
        """The ``Authorization`` for ``request`` from the challenge a bodiless ``HEAD`` of its
        URL gets, or None (no challenge, or no answer: the request itself will tell).

        A request with a body must carry its credentials from the start: an engine that
        answers 401 closes the connection without reading the body, and the client, still
        sending, gets a broken pipe instead of the challenge (Virtuoso 7.2.5 did so to a
        Graph Store ``PUT`` of 400 kB here). The probe costs what the refused first attempt
        would have.
        """
        probe = urllib.request.Request(request.full_url, method="HEAD")
        try:
            with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(
                    probe, timeout=self.timeout_s):
                return None
        except urllib.error.HTTPError as exc:
            challenges = exc.headers.get_all("WWW-Authenticate") or []
            exc.close()
        except (OSError, HTTPException):
            return None
        for challenge in sorted(challenges, key=lambda c: not c.lower().startswith("digest")):
            scheme, _, rest = challenge.strip().partition(" ")
            user, password = self._passwords.find_user_password(None, request.full_url)
            if scheme.lower() == "digest" and user is not None:
                fields = urllib.request.parse_keqv_list(
                    [f for f in urllib.request.parse_http_list(rest) if "=" in f])
                digest = urllib.request.HTTPDigestAuthHandler(self._passwords)
                answer = digest.get_authorization(request, fields)
                return f"Digest {answer}" if answer else None
            if scheme.lower() == "basic" and user is not None:
                token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
                return f"Basic {token}"
        return None


class _ClosesChallenges:
    """Closes the 401 answer an authentication handler has answered (urllib leaves it open
    for the garbage collector, one socket per challenge)."""

    def http_error_401(self, req: Any, fp: Any, code: int, msg: str, headers: Any) -> Any:
        try:
            result = super().http_error_401(req, fp, code, msg, headers)  # type: ignore[misc]
        except BaseException:
            fp.close()
            raise
        if result is not None:
            fp.close()
        return result


class _Basic(_ClosesChallenges, urllib.request.HTTPBasicAuthHandler):
    pass


class _Digest(_ClosesChallenges, urllib.request.HTTPDigestAuthHandler):
    pass


class _Missing(RemoteUnavailable):
    """404 from the engine (a graph that does not exist, for ``delete_graph``)."""


def _status_error(url: str, exc: urllib.error.HTTPError) -> BadGateway | BadRequest:
    """The error for the engine's non-2xx answer ``exc`` to a request to ``url``."""
    detail = _engine_message(exc)
    if exc.code in (401, 403):
        return RemoteAuthFailed(
            f"the SPARQL engine at {url} refused k2d3's credentials ({exc.code}): set "
            "K2D3_BACKEND_USER and K2D3_BACKEND_PASSWORD to a user allowed to do this"
            + (f"; it said: {detail}" if detail else ""))
    if exc.code == 400:
        return RemoteRejected(url, detail or "400 Bad Request")
    if exc.code == 404:
        return _Missing(f"the SPARQL engine at {url} answered 404 Not Found"
                        + (f": {detail}" if detail else ""))
    return RemoteUnavailable(f"the SPARQL engine at {url} answered {exc.code} {exc.reason}"
                             + (f": {detail}" if detail else ""))


def _engine_message(exc: urllib.error.HTTPError) -> str:
    """The engine's error text, tags stripped and cut to a readable length."""
    try:
        raw = exc.read()
    except (OSError, ValueError, HTTPException):
        return ""
    finally:
        exc.close()
    text = raw.decode("utf-8", "replace")
    if "html" in (exc.headers.get("Content-Type") or ""):
        text = re.sub(r"<[^>]{0,2000}>", " ", text)
    text = " ".join(text.split())
    return text if len(text) <= _QUOTE_CHARS else text[:_QUOTE_CHARS] + " ..."
