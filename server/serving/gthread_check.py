"""Whether the installed gunicorn still has the gthread internals ``K2D3Worker`` builds on.

``server.serving.worker.K2D3Worker`` overrides or calls parts of gunicorn's gthread worker that
are not a public API (the methods below with their parameters, ``nr_conns``, the connection's
parser and the unreader's buffer). A gunicorn release that renames or reshapes one of them
would break the worker at its first request; :func:`missing` finds that before it serves:
``k2d3 serve`` then runs the stock gthread worker instead (``server.serving.serve``, logged once;
slow clients and balancing are then gunicorn's own), and the test suite fails
(``tests/serving/test_gthread_check.py``, which also checks the newest gunicorn on the package
index in a throwaway environment).

This module imports nothing from ``server`` so that it runs on its own against any gunicorn:
``python server/serving/gthread_check.py`` prints what is missing and exits 1, or exits 0.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable
from typing import Any

#: ThreadWorker methods the worker overrides or calls, with their parameters.
METHODS = {
    "enqueue_req": ["self", "conn"], "handle": ["self", "conn"],
    "finish_request": ["self", "conn", "fs"], "murder_pending": ["self"],
    "_keepalive_after": ["self", "conn", "keepalive"], "accept": ["self", "listener"],
    "handle_exit": ["self", "sig", "frame"], "run": ["self"], "init_process": ["self"],
}
#: (what, where, text that must be in its source): behaviour the overrides rely on.
SOURCES = [
    ("run loops on murder_pending and waits on nr_conns", "ThreadWorker.run",
     ("self.murder_pending()", "while self.nr_conns > 0")),
    ("finish_request re-enqueues kept-alive connections", "ThreadWorker.finish_request",
     ("self.enqueue_req(conn)",)),
    ("handle waits for data when it is not ready", "ThreadWorker.handle",
     ("not conn.data_ready",)),
    ("the worker keeps a count, a poller and a method queue", "ThreadWorker.__init__",
     ("self.nr_conns = 0", "self.method_queue", "self.poller")),
    ("a connection holds its parser, state and socket", "TConn.__init__",
     ("parser", "initialized", "data_ready", "is_http2", "sock", "client")),
    ("a connection makes its HTTP/1 parser", "TConn.init",
     ("http.get_parser(self.cfg, self.sock, self.client)",)),
    ("a worker is booted once it has loaded the app (server.serving.boot)", "base.Worker",
     ("self.booted = True",)),
]
UNREADER = {"take_buffered", "unread", "read", "chunk"}


def _source(obj: Callable[..., Any] | None) -> str:
    if obj is None:
        return ""
    try:
        return inspect.getsource(obj)
    except (OSError, TypeError):
        return ""


def missing() -> list[str]:
    """What ``K2D3Worker`` needs and the installed gunicorn lacks (empty when all is there)."""
    try:
        from gunicorn.http.unreader import SocketUnreader, Unreader
        from gunicorn.workers import gthread
    except ImportError as exc:
        return [f"gunicorn's gthread worker cannot be imported: {exc}"]
    found: list[str] = []
    for name, params in METHODS.items():
        method = getattr(gthread.ThreadWorker, name, None)
        if method is None or list(inspect.signature(method).parameters) != params:
            found.append(f"ThreadWorker.{name}({', '.join(params)})")
    for what, where, texts in SOURCES:
        owner, _, attr = where.partition(".")
        source = _source(getattr(getattr(gthread, owner, None), attr, None))
        found += [f"{where}: {what} ({text!r})" for text in texts if text not in source]
    found += [f"Unreader.{name}" for name in sorted(UNREADER - set(vars(Unreader)))]
    chunk = getattr(SocketUnreader, "chunk", None)
    if chunk is None or list(inspect.signature(chunk).parameters) != ["self", "size_hint"]:
        found.append("SocketUnreader.chunk(self, size_hint)")
    return found


if __name__ == "__main__":
    import gunicorn

    lacking = missing()
    print(f"gunicorn {gunicorn.__version__}: " + ("; ".join(lacking) if lacking else "all there"))
    sys.exit(1 if lacking else 0)
