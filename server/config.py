"""Every k2d3 setting, its default, and how it is read from the environment.

Settings come from ``K2D3_*`` environment variables (the only place k2d3 reads ``os.environ``),
then from explicit overrides (command-line options, test fixtures). The README's settings table
is checked against :data:`SETTINGS` by a test.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from server.rdf.namespaces import DEFAULT_BASE, Namespaces

ENV_PREFIX = "K2D3_"


def default_store_path(env: Mapping[str, str] = os.environ) -> Path:
    """The per-user data directory: ``$XDG_DATA_HOME/k2d3/store`` (``~/.local/share/...``)."""
    data_home = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "k2d3" / "store"


@dataclass(frozen=True)
class Settings:
    """k2d3's configuration. Field docs are the README's settings table."""

    store: Path = field(default_factory=default_store_path)
    """Where the Oxigraph store lives (``K2D3_STORE``)."""
    base_iri: str = DEFAULT_BASE
    """The base IRI of everything k2d3 mints (``K2D3_BASE_IRI``)."""
    update_token: str | None = None
    """Bearer token that allows SPARQL Update and Graph Store writes; writes are off without it
    (``K2D3_UPDATE_TOKEN``, or a file named by ``K2D3_UPDATE_TOKEN_FILE``)."""
    query_timeout: float = 30.0
    """Default query time limit in seconds (``K2D3_QUERY_TIMEOUT``)."""
    max_query_timeout: float = 30.0
    """The most a request may ask for with ``timeout=`` (``K2D3_MAX_QUERY_TIMEOUT``)."""
    max_rows: int = 10_000
    """Result rows (or triples) returned at most; more are cut and flagged (``K2D3_MAX_ROWS``)."""
    max_body_bytes: int = 10 * 1024 * 1024
    """Largest request body accepted (``K2D3_MAX_BODY_BYTES``)."""
    max_request_line: int = 64 * 1024
    """Longest request line (method, URL with its query string, version) accepted; a longer
    one is answered 414, saying to send the query by POST (``K2D3_MAX_REQUEST_LINE``)."""
    read_copy_max_quads: int = 50_000
    """Answer reads from an in-memory copy of the store when it holds at most this many quads
    (per process, about 600 bytes and 10 µs to copy each, after every write); 0 reads the disk
    store directly (``K2D3_READ_COPY_MAX_QUADS``)."""
    union_default_graph: bool = True
    """Query the union of all graphs as the default graph (``K2D3_UNION_DEFAULT_GRAPH``)."""
    federation_allow: tuple[str, ...] = ()
    """IRI prefixes that SERVICE and LOAD may fetch; empty means off
    (``K2D3_FEDERATION_ALLOW``, space-separated)."""
    workers: int = 2
    """WSGI worker processes for ``k2d3 serve`` (``K2D3_WORKERS``)."""
    threads: int = 8
    """Threads per worker (``K2D3_THREADS``)."""
    worker_memory_mib: int = 768
    """Memory (RSS, MiB) a worker process may use; past it, the queries it is evaluating are
    answered 503 and the process is replaced (``server.sparql.watchdog``). The server then
    stays under about ``workers`` times this, plus its master process; 0 turns the bound off
    (``K2D3_WORKER_MEMORY_MIB``)."""
    keepalive_inline_ms: float = 0.0
    """Answer a keep-alive client's next request in the same thread when it arrives within this
    many milliseconds; 0 hands the connection back to the poller after every response
    (``K2D3_KEEPALIVE_INLINE_MS``)."""
    client_timeout: float = 10.0
    """Seconds a client has to send a request's head (from its first byte, or from connecting),
    and the longest pause allowed in its body; a slower one gets 408 and is closed. The request
    is read before a thread is given to it (``K2D3_CLIENT_TIMEOUT``)."""
    heavy_queries: int = 2
    """Client queries not yet known to be quick that a worker process runs at once; more are
    answered 503 with Retry-After; 0 turns the bound off (``K2D3_HEAVY_QUERIES``)."""
    answer_cache_bytes: int = 64 * 1024 * 1024
    """Bytes of answers each server process keeps by the store's version, so that a slow query
    asked again is not evaluated again (``server.http.answer_cache``); 0 turns it off
    (``K2D3_ANSWER_CACHE_BYTES``)."""
    answer_cache_min_ms: float = 20.0
    """Only answers that took the engine at least this many milliseconds are kept
    (``K2D3_ANSWER_CACHE_MIN_MS``)."""
    answer_cache_disk_bytes: int = 1024 * 1024 * 1024
    """Bytes of answers the worker processes share in ``answer_cache_dir``, answers too large
    for memory among them, up to a quarter of this each (``K2D3_ANSWER_CACHE_DISK_BYTES``)."""
    answer_cache_dir: str | None = None
    """A folder where the worker processes share kept answers (up to
    ``answer_cache_disk_bytes``), written and read by this server alone: its files are pickles
    (``server.http.answer_files``). ``k2d3 serve`` makes a private one when unset
    (``K2D3_ANSWER_CACHE_DIR``)."""
    public_url: str | None = None
    """The server's own public address, when it differs from the request's
    (``K2D3_PUBLIC_URL``)."""
    allowed_hosts: tuple[str, ...] = ()
    """Host names a request's ``Host`` may give besides localhost, the bound address and the
    public URL's host; ``.example.org`` admits its subdomains too, ``*`` any host
    (``K2D3_ALLOWED_HOSTS``, space-separated; see ``server.http.hosts``)."""

    backend: str | None = None
    """The query URL of a remote SPARQL 1.1 engine to serve instead of the embedded store
    (``K2D3_BACKEND``; ``k2d3 serve --backend``); credentials from ``K2D3_BACKEND_USER`` and
    ``K2D3_BACKEND_PASSWORD``."""
    backend_update: str | None = None
    """The remote engine's SPARQL Update URL; without it the server is read-only
    (``K2D3_BACKEND_UPDATE``)."""
    backend_store: str | None = None
    """The remote engine's Graph Store protocol URL, for ``k2d3 push`` (``K2D3_BACKEND_STORE``)."""
    backend_version_seconds: float = 10.0
    """With a remote engine, how long an answer may be cached or revalidated by its ETag after
    the engine's data changed by other means than this server (``K2D3_BACKEND_VERSION_SECONDS``)."""

    @property
    def ns(self) -> Namespaces:
        base = self.base_iri if self.base_iri.endswith("/") else self.base_iri + "/"
        return Namespaces(base)

    def with_overrides(self, **overrides: Any) -> Settings:
        """A copy with the given (non-``None``) values replaced (``store`` may be a string)."""
        values = {k: v for k, v in overrides.items() if v is not None}
        if "store" in values:
            values["store"] = Path(values["store"]).expanduser()
        return replace(self, **values)


SETTINGS = tuple(f.name for f in fields(Settings))


def backend_credentials(env: Mapping[str, str] | None = None) -> tuple[str | None, str | None]:
    """The user and password for a remote SPARQL engine (``K2D3_BACKEND_USER``,
    ``K2D3_BACKEND_PASSWORD``; None where unset or empty).

    They are kept out of :class:`Settings` so that the password is never part of a printed or
    logged settings object.
    """
    env = os.environ if env is None else env
    user = env.get(ENV_PREFIX + "BACKEND_USER") or None
    password = env.get(ENV_PREFIX + "BACKEND_PASSWORD") or None
    return user, password


def _coerce(name: str, raw: str) -> Any:
    kind = {f.name: f.type for f in fields(Settings)}[name]
    if name == "store":
        return Path(raw).expanduser()
    if name in {"federation_allow", "allowed_hosts"}:
        return tuple(raw.split())
    if kind == "bool":
        if raw.lower() in {"1", "true", "yes", "on"}:
            return True
        if raw.lower() in {"0", "false", "no", "off"}:
            return False
        raise ValueError(f"{ENV_PREFIX}{name.upper()} must be true or false, not {raw!r}")
    if kind == "int":
        return int(raw)
    if kind == "float":
        return float(raw)
    return raw


def load_settings(env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Read settings from ``env`` (default ``os.environ``), then apply ``overrides``.

    Raises:
        ValueError: a variable that does not parse, naming the variable.
    """
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    for name in SETTINGS:
        raw = env.get(ENV_PREFIX + name.upper())
        if raw is None or raw == "":
            continue
        try:
            values[name] = _coerce(name, raw)
        except ValueError as exc:
            raise ValueError(f"{ENV_PREFIX}{name.upper()}: {exc}") from None
    if "store" not in values:
        values["store"] = default_store_path(env)
    token_file = env.get(ENV_PREFIX + "UPDATE_TOKEN_FILE")
    if token_file and "update_token" not in values:
        values["update_token"] = Path(token_file).read_text(encoding="utf-8").strip() or None
    return Settings(**values).with_overrides(**overrides)
