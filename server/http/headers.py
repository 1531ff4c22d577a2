"""Header values every response carries, and the keys views leave in the WSGI environ.

Their own module because the envelope (which adds them to answers) and the error rendering
(which adds them to responses written straight to a socket) both need them.
"""

from __future__ import annotations

#: CORS headers every response carries (https://fetch.spec.whatwg.org/#http-responses).
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "ETag, Location, Content-Type, K2D3-Truncated, "
    "X-Result-Truncated, Retry-After, Server-Timing",
}
#: What only a preflight (OPTIONS) answer needs; a browser ignores them on other responses.
PREFLIGHT_HEADERS = {
    "Access-Control-Allow-Methods": "GET, HEAD, POST, PUT, DELETE, OPTIONS",
    "Access-Control-Allow-Headers": "Accept, Authorization, Content-Type, If-None-Match, "
    "If-Match, Cache-Control, X-Requested-With",
    "Access-Control-Max-Age": "86400",
}

#: Scripts and styles only from this server (YASGUI is vendored); inline styles are allowed
#: because YASGUI's table and editor set element styles.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
       "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'")

#: ``time.perf_counter()`` when the request came in.
STARTED = "k2d3.started"
#: The query's fingerprint for the access log.
QUERY_HASH = "k2d3.query_hash"
#: Set when the query ran past its deadline.
TIMED_OUT = "k2d3.timed_out"
#: Set when the query was stopped by its process's memory limit.
OVER_MEMORY = "k2d3.over_memory"
#: Set when the watchdog has answered (and counted) the request itself.
ANSWERED = "k2d3.answered"
#: The route label of a request answered without Flask (``server.http.fast_get``).
ROUTE = "k2d3.route"
#: Set once the request is counted.
COUNTED = "k2d3.counted"
