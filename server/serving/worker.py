"""The gunicorn worker of ``k2d3 serve``: gthread, reading requests in its poller, balanced.

``server.serving.serve`` configures gunicorn to use :class:`K2D3Worker`; the arbiter's hooks there
give each worker its slot on the :class:`~server.serving.balance.Board` and its watchdog. The worker
extends gthread's internals (``enqueue_req``, ``handle``, ``finish_request``, ``murder_pending``,
``nr_conns``, the connection's parser and its unreader's buffer), which is why gunicorn is pinned
below 28. ``server.serving.gthread_check`` lists what it needs; the tests run that check on the
installed gunicorn and on the newest release on the package index, and ``k2d3 serve`` runs it at
start and falls back to the stock gthread worker, saying so once, when anything is missing.

**Kept rather than gunicorn's ``reuse_port``** (issue 14; 2026-12-07, gunicorn 27.0.1, which
is also the newest release). ``reuse_port`` gives each worker a listener of its own and lets the
kernel spread new connections by a hash. It would replace only the balancing: reading requests
in the poller (the slow-client guarantee) needs the same internals, so the pin and the check
stay either way. ``scripts/bench_http.py`` did not tell the two apart on this shared machine
(load 4 to 17 on 2 cores, alternated runs; medians at 1 / 8 / 32 connections: 1,875 / 3,329 /
3,866 req/s with the Board over 8 runs, 1,757 / 3,196 / 3,637 with ``reuse_port`` over 6, each
within the other's spread; ``benchmarks/RESULTS.md``). What tells them apart is a worker that
does not accept: ``benchmarks/reuse_port_stuck.py`` stops one of two workers and sends 40 new
clients; with one shared listener all 40 are answered within 1 s, with ``reuse_port`` only 20
and 21 (twice): the others wait in the stopped worker's own queue, which no other worker can
take from (and, with Linux's default ``net.ipv4.tcp_migrate_req = 0``, are reset when a
retiring worker closes it: not measured here). A hash also spreads eight keep-alive clients 6-2
or worse about 29 % of the time (binomial), the case ``balance`` exists for.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import socket
import threading
import time
from functools import partial
from typing import Any

from gunicorn.workers.gthread import ThreadWorker

from server.errors import K2D3Error
from server.http.problems import raw_error_response
from server.serving import boot
from server.serving.balance import Board, should_wait
from server.serving.framing import Framing
from server.serving.front import (
    SPOOL_ABOVE,
    BodyNotHeld,
    FrontUnreader,
    Reading,
    RequestTimeout,
    drain,
    head_limit,
    next_request_ready,
)
from server.sparql.watchdog import Restarting

#: How long a connection being closed may take to send its last bytes (then it is closed).
LINGER_S = 2.0
#: How often the poller looks for connections past their deadline.
SWEEP_EVERY_S = 0.1


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
    """gthread, with requests read in the poller, balanced accepting, optional inline keep-alive.

    **Reading in the poller** (``server.serving.front``): a connection gets a thread only once its
    request is complete; a client slower than ``settings.client_timeout`` gets 408. A closing
    connection lingers in the poller too (gthread lingers in its main thread, which a client
    that does not close could stall for 2 s each time).

    **Balanced accepting** through the arbiter's :class:`~server.serving.balance.Board` (see that
    module): the worker publishes its connection count whenever it changes, and leaves a new
    client to a less busy worker for a few milliseconds at most.

    **Inline keep-alive** (``settings.keepalive_inline_ms`` > 0): the stock worker hands each
    keep-alive connection back to its main thread's poller after every response, and the
    poller hands it to a thread again when the next request arrives: two thread switches under
    the GIL per request, most of the fixed cost of a small query. With the setting, a client
    whose next complete request is there in time is answered by the same thread; otherwise the
    connection goes back to the poller as before. ``MAX_INLINE`` bounds how long one
    connection can keep a thread from the others. It is off by default: it makes a single
    connection nearly as fast as a core allows, so on two cores eight connections no longer
    get twice the throughput of one (the issue's target; see ``scripts/bench_http.py``).

    **Retiring** (``server.serving.serve.retire``): gunicorn's graceful stop ends accepting at once
    and serves what the worker holds for ``graceful_timeout``; then :meth:`run` answers whatever is
    left ``503`` with ``Retry-After`` (queued requests, requests still being worked on, requests
    still being read) and, if a thread is still busy, ends the process there.
    """

    MAX_INLINE = 100
    #: How long the poller pauses when it leaves a client to another worker.
    YIELD_S = 0.0002
    #: A pause this long between such calls means the client was taken and another has come.
    EPISODE_GAP_S = 0.02

    cfg: Any
    k2d3_slot: int | None = None
    k2d3_watchdog: Any = None
    k2d3_flush: Any = None
    _connections = 0
    _waiting_since: float | None = None
    _last_wait = 0.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cfg = SettledConfig(self.cfg)
        settings = getattr(self.app, "settings", None)
        self.client_timeout = settings.client_timeout if settings is not None else 10.0
        self.body_max = settings.max_body_bytes if settings is not None else 10 * 1024 * 1024
        self.head_max = min(SPOOL_ABOVE, head_limit(self.cfg))
        self.front = not self.cfg.is_ssl and self.cfg.http2_cleartext not in (
            "prior-knowledge", "both")
        self._reading: dict[Any, Reading] = {}
        self._lingering: dict[socket.socket, float] = {}
        self._next_sweep = 0.0
        self._state_lock = threading.Lock()
        self._queued: set[Any] = set()
        self._running: dict[Any, Any] = {}

    # -- balanced accepting -----------------------------------------------------------------

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

    # -- reading requests in the poller -----------------------------------------------------

    def enqueue_req(self, conn: Any) -> None:
        """Every way a request reaches gthread's pool comes here: read it first."""
        if not self.front or conn.is_http2:
            self._submit(conn)
            return
        if conn.parser is None:
            conn.init()  # the HTTP/1 parser; no I/O without TLS or HTTP/2 (see ``front``)
        buffered = conn.parser.unreader.take_buffered()
        conn.sock.setblocking(False)
        framing = Framing(self.head_max, self.body_max)
        self._go_on(conn, Reading(conn.sock, framing, self.client_timeout, buffered))

    def _go_on(self, conn: Any, reading: Reading) -> None:
        try:
            complete = reading.step()
        except EOFError:
            self._stop_reading(conn, reading, None)
            return
        except OSError as exc:  # the spool file: a full or unwritable temporary folder
            self._stop_reading(conn, reading, BodyNotHeld(exc.strerror or str(exc)))
            return
        if not complete:
            if conn not in self._reading:
                self._reading[conn] = reading
                self.poller.register(conn.sock, selectors.EVENT_READ,
                                     partial(self._readable, conn, reading))
            return
        if self._reading.pop(conn, None) is not None:
            self.poller.unregister(conn.sock)
        reading.hand_to(conn.parser)
        # A body past the limit is not read here: the app refuses it, and it is not drained.
        conn.k2d3_unread_body = reading.unframeable
        self._submit(conn)

    def _readable(self, conn: Any, reading: Reading, _sock: Any) -> None:
        self._go_on(conn, reading)

    def _stop_reading(self, conn: Any, reading: Reading, err: K2D3Error | None) -> None:
        """Give up a connection being read: answer ``err`` if given, close, uncount."""
        if self._reading.pop(conn, None) is not None:
            with contextlib.suppress(KeyError, ValueError, OSError):
                self.poller.unregister(conn.sock)
        reading.discard()
        if err is not None:
            with contextlib.suppress(OSError):
                conn.sock.send(raw_error_response(None, err), socket.MSG_DONTWAIT)
        self.nr_conns -= 1
        self._linger(conn.sock)

    def _submit(self, conn: Any) -> None:
        conn.data_ready = True
        with self._state_lock:
            self._queued.add(conn)
        super().enqueue_req(conn)

    def murder_pending(self) -> None:
        """gthread's sweep of idle connections, plus requests read too slowly (408) and
        connections that have lingered long enough."""
        super().murder_pending()
        now = time.monotonic()
        if now < self._next_sweep:
            return
        self._next_sweep = now + SWEEP_EVERY_S
        for conn, reading in list(self._reading.items()):
            if reading.deadline <= now:
                timeout = RequestTimeout(
                    f"the request did not arrive within {self.client_timeout:g} s")
                self._stop_reading(conn, reading, timeout if reading.started else None)
        for sock, deadline in list(self._lingering.items()):
            if deadline <= now:
                self._end_linger(sock)

    # -- closing without blocking the poller --------------------------------------------------

    def finish_request(self, conn: Any, fs: Any) -> None:
        if getattr(conn, "k2d3_abandoned", False):  # answered by the watchdog, uncounted
            self._linger(conn.sock)
            return
        try:
            result = fs.result() if not fs.cancelled() else False
        except Exception:
            result = False
        if result:
            unreader = getattr(conn.parser, "unreader", None)
            if isinstance(unreader, FrontUnreader):
                unreader.unspool()
            super().finish_request(conn, fs)
            return
        self.nr_conns -= 1
        self._linger(conn.sock)

    def _linger(self, sock: socket.socket) -> None:
        """Close ``sock`` as RFC 9112 §9.6 asks (send FIN, read what the client still sends,
        then close), from the poller instead of gthread's blocking ``close_graceful``."""
        try:
            sock.shutdown(socket.SHUT_WR)
            sock.setblocking(False)
            if drain(sock):
                raise OSError("closed")
            self.poller.register(sock, selectors.EVENT_READ, self._lingered)
        except (OSError, ValueError, KeyError):
            with contextlib.suppress(OSError):
                sock.close()
            return
        self._lingering[sock] = time.monotonic() + LINGER_S

    def _lingered(self, sock: socket.socket) -> None:
        if drain(sock):
            self._end_linger(sock)

    def _end_linger(self, sock: socket.socket) -> None:
        self._lingering.pop(sock, None)
        with contextlib.suppress(KeyError, ValueError, OSError):
            self.poller.unregister(sock)
        with contextlib.suppress(OSError):
            sock.close()

    # -- serving ----------------------------------------------------------------------------

    @property
    def inline_wait_s(self) -> float:
        settings = getattr(self.app, "settings", None)
        return settings.keepalive_inline_ms / 1000 if settings is not None else 0.0

    def handle(self, conn: Any) -> Any:
        with self._state_lock:
            if getattr(conn, "k2d3_refused", False):
                return False
            self._queued.discard(conn)
            self._running[conn.sock] = conn
        try:
            result = super().handle(conn)
            served, wait_s = 1, self.inline_wait_s
            while (wait_s > 0 and result is True and self.alive and served < self.MAX_INLINE
                   and next_request_ready(conn, wait_s, self.head_max, self.body_max)):
                result = super().handle(conn)
                served += 1
            return result
        finally:
            with self._state_lock:
                self._running.pop(conn.sock, None)

    def _keepalive_after(self, conn: Any, keepalive: bool) -> bool:
        """gthread drains a body the app did not read; one that was never read (past the
        limit, or unframeable) is not waited for: the connection closes instead."""
        if getattr(conn, "k2d3_unread_body", False):
            return False
        return bool(super()._keepalive_after(conn, keepalive))

    def forget(self, sock: Any) -> None:
        """The watchdog has answered this request late (any thread): stop counting it, so the
        worker does not wait for it when it stops."""
        self.method_queue.defer(self._forget, sock)

    def _forget(self, sock: Any) -> None:
        conn = self._running.get(sock)
        if conn is not None and not getattr(conn, "k2d3_abandoned", False):
            conn.k2d3_abandoned = True
            self.nr_conns -= 1

    # -- starting and stopping --------------------------------------------------------------

    def init_process(self) -> None:
        try:
            super().init_process()  # starts, then serves until it stops
        except Exception as exc:
            if not self.booted and self._board is not None:
                boot.failed_to_start(self._board, self.k2d3_slot, exc,
                                     lambda: bool(self.alive))  # exits, or:
            raise  # gunicorn stops the server (see server.serving.boot)

    def run(self) -> None:
        if self._board is not None and self.k2d3_slot is not None:
            self._board.join(self.k2d3_slot, os.getpid())
        try:
            super().run()
        finally:
            self.leave_board()
        if self.answer_leftovers() or self._running:
            self.exit_now()

    def answer_leftovers(self) -> int:
        """Answer ``503`` + ``Retry-After`` to every request this worker still holds unanswered:
        being worked on, queued for a thread, or being read. How many there were."""
        answered = self.k2d3_watchdog.answer_all() if self.k2d3_watchdog is not None else 0
        response = raw_error_response(None, Restarting())
        with self._state_lock:
            queued = list(self._queued)
            self._queued.clear()
            for conn in queued:
                conn.k2d3_refused = True
        held = [c.sock for c in queued] + [c.sock for c in self._reading]
        self._reading.clear()
        for sock in held:
            with contextlib.suppress(OSError):
                sock.send(response, socket.MSG_DONTWAIT)
                sock.shutdown(socket.SHUT_WR)
                drain(sock)
        return answered + len(held)

    def exit_now(self) -> None:
        """End the process now (threads stuck in the store never return): answer what is
        left, write the logs and metrics, exit."""
        self.answer_leftovers()
        if self.k2d3_flush is not None:
            self.k2d3_flush()
        os._exit(0)
