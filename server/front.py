"""Read each request's head and body in the worker's poller, before a thread is given to it.

gunicorn's gthread worker hands a connection to a thread as soon as it is accepted (or as soon
as a kept-alive one turns readable); the thread then blocks reading the rest of the request.
Sixteen clients sending one byte each held every thread of a 2 x 8 server for as long as they
liked, and forty slow-header clients held it for 75 s (issue 12 §4). Here the worker's main
thread reads without blocking into a buffer, with a deadline per connection, until the request
is complete (its head, and a body framed by ``Content-Length`` or chunked coding), and only
then submits it to a thread, which parses it from the buffer. A client too slow for the
deadline (``settings.client_timeout``: the head within that time of its first byte or of the
connection, then no pause longer than that in the body) is answered ``408`` and closed.

``server.framing`` finds where a request ends, fed the bytes as they arrive. Anything it cannot
frame (a bad length, an unknown coding, a head past the size limits) ends reading at once:
gunicorn's own parser then answers it, from bytes that are all in the buffer, so the thread
still never waits on the client (:class:`FrontUnreader` bounds its reads if it ever does).
``Expect: 100-continue`` is answered here, as the body is read here (the header is then
dropped, so gunicorn does not send a second ``100``). A body past ``SPOOL_ABOVE`` bytes goes
to a temporary file, as nginx does with ``client_body_buffer_size``, so a worker's memory
does not grow with its clients' uploads.
"""

from __future__ import annotations

import contextlib
import errno
import select
import socket
import tempfile
import time
from typing import IO, Any

from gunicorn.http.unreader import SocketUnreader

from .errors import K2D3Error
from .framing import Framing, Unframeable

#: Body bytes kept in memory per connection; the rest is spooled to a temporary file.
SPOOL_ABOVE = 1024 * 1024
#: Bytes read from the socket at a time.
READ_SIZE = 64 * 1024
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
#: At most this many bytes are read and dropped from a connection being closed.
LINGER_BYTES = 64 * 1024


class Reading:
    """One connection whose request the poller is reading (see the module docstring)."""

    def __init__(self, sock: socket.socket, framing: Framing, timeout_s: float,
                 buffered: bytes = b"") -> None:
        self.sock = sock
        self.framing = framing
        self.timeout_s = timeout_s
        self.deadline = time.monotonic() + timeout_s
        self.parts: list[bytes] = []
        self.held = 0
        self.spool: IO[bytes] | None = None
        self.done = False
        self.unframeable = False
        self.pending = buffered

    def step(self) -> bool:
        """Read what the socket has (and what was buffered already); True once the request is
        complete (or unframeable: reading stops). Raises EOFError if the client has gone."""
        if self.pending:
            data, self.pending = self.pending, b""
            if self._take(data):
                return True
        while True:
            try:
                data = self.sock.recv(READ_SIZE)
            except (BlockingIOError, InterruptedError):
                return False
            except OSError as exc:
                if exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK):
                    return False
                raise EOFError(str(exc)) from None
            if not data:
                raise EOFError("closed by the client")
            if self._take(data):
                return True

    def _take(self, data: bytes) -> bool:
        in_head = self.framing.phase == "head"
        try:
            used = self.framing.feed(data)
        except Unframeable:
            self.unframeable = self.done = True
            self._keep(data)
            return True
        if in_head and self.framing.phase != "head":
            self._head_done()
        elif self.framing.phase != "head":
            self.deadline = time.monotonic() + self.timeout_s  # the body made progress
        self._keep(data)
        if used is None:
            return False
        self.done = True
        return True

    def _head_done(self) -> None:
        """Answer ``Expect: 100-continue`` once the head is in and the body is not."""
        self.deadline = time.monotonic() + self.timeout_s
        if self.framing.expects_continue and self.framing.phase != "done":
            with contextlib.suppress(OSError):
                self.sock.send(CONTINUE)

    def _keep(self, data: bytes) -> None:
        if self.spool is None and self.held + len(data) > SPOOL_ABOVE:
            self.spool = tempfile.TemporaryFile()  # noqa: SIM115 - handed on to the parser
        if self.spool is not None:
            self.spool.write(data)
        else:
            self.parts.append(data)
        self.held += len(data)

    @property
    def started(self) -> bool:
        """Whether any byte of the request has arrived."""
        return self.framing.received > 0

    def buffered(self) -> bytes:
        """The bytes held in memory, the head without ``Expect`` when this answered it."""
        data = b"".join(self.parts)
        if self.framing.expects_continue and not self.unframeable:
            end = len(self.framing.head)
            if data[:end] == bytes(self.framing.head):
                data = self.framing.head_without_expect() + data[end:]
        return data

    def hand_to(self, parser: Any) -> None:
        """Give what was read to gunicorn's ``parser``, so that it reads it before the socket
        (and reads the socket itself, should it ever need to, with a time limit)."""
        spool, self.spool = self.spool, None
        size = 0
        if spool is not None:
            size = spool.tell()
            spool.seek(0)
        parser.unreader = FrontUnreader(self.sock, spool, size, self.timeout_s)
        parser.unreader.unread(self.buffered())

    def discard(self) -> None:
        if self.spool is not None:
            self.spool.close()
            self.spool = None


class FrontUnreader(SocketUnreader):
    """gunicorn's socket unreader, reading a spooled body from its file before the socket, and
    the socket with a time limit per read (a thread should find everything buffered; this is
    the guard for a case the framing did not foresee). The file is closed once read."""

    def __init__(self, sock: socket.socket, spool: IO[bytes] | None, size: int,
                 timeout_s: float) -> None:
        super().__init__(sock)
        self.spool = spool
        self.left = size
        self.timeout_s = timeout_s

    def chunk(self, size_hint: int | None = None) -> bytes:
        if self.spool is not None:
            data = self.spool.read(min(max(size_hint or 0, READ_SIZE), self.left))
            self.left -= len(data)
            if self.left <= 0 or not data:
                self.spool.close()
                self.spool = None
            if data:
                return data
        readable, _, _ = select.select([self.sock], [], [], self.timeout_s)
        if not readable:
            raise TimeoutError(f"no data from the client for {self.timeout_s:g} s")
        return super().chunk(size_hint)

    def unspool(self) -> None:
        """Move what is left in the file (bytes of a next, pipelined request: at most one
        read's worth) into the buffer, where gthread looks for a next request."""
        if self.spool is not None:
            rest = self.spool.read()
            self.spool.close()
            self.spool = None
            if rest:  # after what the buffer holds, which came from the file before it
                self.buf.seek(0, 2)
                self.buf.write(rest)


class BodyNotHeld(K2D3Error):
    """A body could not be spooled (the temporary folder is full or unwritable)."""

    status, title = 503, "Service Unavailable"

    def __init__(self, reason: str) -> None:
        super().__init__(f"the server could not hold the request body ({reason}); "
                         "try again later", headers={"Retry-After": "10"})


class RequestTimeout(K2D3Error):
    """The request did not arrive within ``settings.client_timeout``."""

    status, title = 408, "Request Timeout"


def head_limit(cfg: Any) -> int:
    """The most bytes a request head may take under gunicorn's limits (0 means its maximum)."""
    line = cfg.limit_request_line if cfg.limit_request_line > 0 else 1024 * 1024
    fields = cfg.limit_request_fields if cfg.limit_request_fields > 0 else 32768
    size = cfg.limit_request_field_size if cfg.limit_request_field_size > 0 else 8190
    return line + 2 + fields * (size + 2) + 2


def drain(sock: socket.socket) -> bool:
    """Read and drop what ``sock`` has; True when the client has closed (or past the cap)."""
    drained = 0
    while drained < LINGER_BYTES:
        try:
            data = sock.recv(16384, socket.MSG_DONTWAIT)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            return True
        if not data:
            return True
        drained += len(data)
    return True


def next_request_ready(conn: Any, wait_s: float, head_max: int, body_max: int) -> bool:
    """Whether the connection's next request is here complete, or arrives so within ``wait_s``
    (its bytes are then in the parser's buffer). An incomplete one goes back to the poller,
    which reads the rest (see ``server.worker.K2D3Worker.enqueue_req``)."""
    if conn.parser is None:
        return False
    unreader = conn.parser.unreader
    data = unreader.take_buffered()
    if not data:
        try:
            readable, _, _ = select.select([conn.sock], [], [], wait_s)
        except (OSError, ValueError):
            return False
        if not readable:
            return False
    with contextlib.suppress(BlockingIOError, InterruptedError, OSError):
        data += conn.sock.recv(65536, socket.MSG_DONTWAIT)
    unreader.unread(data)
    if not data:
        return False
    try:
        return Framing(head_max, body_max).feed(data) is not None
    except Unframeable:
        return True  # gunicorn answers it from the buffer
