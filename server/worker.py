"""The gunicorn worker of ``k2d3 serve``: gthread, balanced across processes, optionally inline.

``server.serve`` configures gunicorn to use :class:`K2D3Worker`; the arbiter's hooks there give
each worker its slot on the :class:`~server.balance.Board`.
"""

from __future__ import annotations

import os
import select
import time
from typing import Any

from gunicorn.workers.gthread import ThreadWorker

from .balance import Board, should_wait


class SettledConfig:
    """gunicorn's ``Config`` for a running worker, each setting looked up once.

    gunicorn reads its settings through ``Config.__getattr__`` (a dictionary lookup and the
    setting's ``get``) about twenty times a request. A worker's settings no longer change once
    it runs, so each is kept as a plain attribute the first time it is read.
    """

    def __init__(self, cfg: Any) -> None:
        self.__dict__["_cfg"] = cfg

    def __getattr__(self, name: str) -> Any:
        value = getattr(self.__dict__["_cfg"], name)
        self.__dict__[name] = value
        return value


class K2D3Worker(ThreadWorker):
    """gthread, with accepting balanced across workers and, optionally, inline keep-alive.

    Accepting is balanced through the arbiter's :class:`~server.balance.Board` (see that
    module): the worker publishes its connection count whenever it changes, and leaves a new
    client to a less busy worker for a few milliseconds at most.

    Inline keep-alive (``settings.keepalive_inline_ms`` > 0): the stock worker hands each
    keep-alive connection back to its main thread's poller after every response, and the
    poller hands it to a thread again when the next request arrives: two thread switches under
    the GIL per request, most of the fixed cost of a small query. With the setting, a client
    that sends its next request at once (a script in a loop, a benchmark) is answered by the
    same thread if that request is there in time; otherwise the connection goes back to the
    poller as before, so an idle client still holds no thread. ``MAX_INLINE`` bounds how long
    one connection can keep a thread from the others. It is off by default: it makes a single
    connection nearly as fast as a core allows, so on two cores eight connections no longer
    get twice the throughput of one (the issue's target; see ``scripts/bench_http.py``).
    """

    MAX_INLINE = 100
    #: How long the poller pauses when it leaves a client to another worker.
    YIELD_S = 0.0002
    #: A pause this long between such calls means the client was taken and another has come.
    EPISODE_GAP_S = 0.02

    cfg: Any
    k2d3_slot: int | None = None
    _connections = 0
    _waiting_since: float | None = None
    _last_wait = 0.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cfg = SettledConfig(self.cfg)

    @property
    def nr_conns(self) -> int:
        return self._connections

    @nr_conns.setter
    def nr_conns(self, value: int) -> None:
        self._connections = value
        if self._board is not None and self.k2d3_slot is not None:
            self._board.publish(self.k2d3_slot, value)

    @property
    def _board(self) -> Board | None:
        return getattr(self.app, "board", None)

    def run(self) -> None:
        if self._board is not None and self.k2d3_slot is not None:
            self._board.join(self.k2d3_slot, os.getpid())
        try:
            super().run()
        finally:
            self.leave_board()

    def leave_board(self) -> None:
        """Stop being offered new clients (the worker is stopping or retiring)."""
        if self._board is not None and self.k2d3_slot is not None:
            self._board.leave(self.k2d3_slot)

    def handle_exit(self, sig: int, frame: Any) -> None:
        self.leave_board()
        super().handle_exit(sig, frame)

    def accept(self, listener: Any) -> None:
        board, slot = self._board, self.k2d3_slot
        if board is not None and slot is not None:
            now = time.monotonic()
            if self._waiting_since is None or now - self._last_wait > self.EPISODE_GAP_S:
                self._waiting_since = now  # a new client is waiting (the last was taken)
            if should_wait(self.nr_conns, board.fewest_elsewhere(slot), now - self._waiting_since):
                self._last_wait = now
                time.sleep(self.YIELD_S)
                return
        self._waiting_since = None
        super().accept(listener)

    @property
    def inline_wait_s(self) -> float:
        settings = getattr(self.app, "settings", None)
        return settings.keepalive_inline_ms / 1000 if settings is not None else 0.0

    def handle(self, conn: Any) -> Any:
        result = super().handle(conn)
        served, wait_s = 1, self.inline_wait_s
        while (wait_s > 0 and result is True and self.alive and served < self.MAX_INLINE
               and _next_request_ready(conn, wait_s)):
            result = super().handle(conn)
            served += 1
        return result


def _next_request_ready(conn: Any, wait_s: float) -> bool:
    """Whether the connection's next request is already here, or arrives within ``wait_s``."""
    if conn.parser is None:
        return False
    if conn.parser.unreader.buf.getvalue():
        return True
    try:
        readable, _, _ = select.select([conn.sock], [], [], wait_s)
    except (OSError, ValueError):
        return False
    return bool(readable)
