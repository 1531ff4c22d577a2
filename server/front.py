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

:class:`Framing` finds where a request ends, fed the bytes as they arrive; it checks only what
it needs for that. Anything it cannot frame (a bad length, an unknown coding, a head past the
size limits) ends reading at once: gunicorn's own parser then answers it, from bytes that are
all in the buffer, so the thread still never waits on the client. ``Expect: 100-continue`` is
answered here, as the body is read here (the header is then dropped, so gunicorn does not send
a second ``100``). A body past ``SPOOL_ABOVE`` bytes goes to a temporary file, as nginx does
with ``client_body_buffer_size``, so a worker's memory does not grow with its clients' uploads.
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

#: Body bytes kept in memory per connection; the rest is spooled to a temporary file.
SPOOL_ABOVE = 1024 * 1024
#: Bytes read from the socket at a time.
READ_SIZE = 64 * 1024
#: The longest chunk-size line (with extensions) or trailer section accepted while framing.
CHUNK_LINE_MAX = 4096
TRAILERS_MAX = 16 * 1024
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


class Unframeable(Exception):
    """The request cannot be framed: gunicorn's parser gets it as it is, and answers it."""


class Framing:
    """Where one HTTP/1.x request ends, fed its bytes in pieces (:meth:`feed`).

    ``head_max`` is the most bytes a head may take (gunicorn's request-line and header limits);
    ``body_max`` the largest ``Content-Length`` worth reading ahead: a larger body is the app's
    to refuse (413) and is not read here.
    """

    def __init__(self, head_max: int, body_max: int) -> None:
        self.head_max = head_max
        self.body_max = body_max
        self.head = bytearray()
        self.phase = "head"
        self.remaining = 0            # body bytes (or chunk bytes and CRLF) still to come
        self.line = bytearray()       # a chunk-size or trailer line being read
        self.trailers = 0
        self.expects_continue = False
        self.received = 0

    def feed(self, data: bytes) -> int | None:
        """Take the next bytes; return how many of them end this request (the rest belong to
        the next one), or None when more are needed.

        Raises:
            Unframeable: the request has no framing this can follow.
        """
        self.received += len(data)
        if self.phase == "head":
            used = self._feed_head(data)
            if used is None:
                return None
            rest = self._feed_body(data[used:])
            return None if rest is None else used + rest
        return self._feed_body(data)

    def _feed_head(self, data: bytes) -> int | None:
        start = max(len(self.head) - 3, 0)
        self.head += data
        end = _head_end(self.head, start)
        if end is None:
            if len(self.head) > self.head_max:
                raise Unframeable("head too large")
            return None
        used = len(data) - (len(self.head) - end)
        del self.head[end:]
        self._frame(bytes(self.head))
        return used

    def _frame(self, head: bytes) -> None:
        """Read the body's framing from the head; set the phase to what comes next."""
        lowered = head.lower()
        if (b"content-length" not in lowered and b"transfer-encoding" not in lowered
                and b"expect" not in lowered):
            self.phase = "done"  # most requests: a GET with no body
            return
        lines = head.replace(b"\r\n", b"\n").split(b"\n")
        length: bytes | None = None
        coding: bytes | None = None
        for line in lines[1:]:
            name, sep, value = line.partition(b":")
            if not sep:
                continue
            name, value = name.strip().lower(), value.strip()
            if name == b"content-length":
                if length is not None and length != value:
                    raise Unframeable("two lengths")
                length = value
            elif name == b"transfer-encoding":
                coding = (coding + b"," if coding else b"") + value.lower()
            elif name == b"expect" and value.lower() == b"100-continue":
                self.expects_continue = lines[0].rstrip().endswith(b"HTTP/1.1")
        if coding is not None:
            if length is not None or coding.replace(b" ", b"").split(b",")[-1] != b"chunked":
                raise Unframeable("transfer coding")
            self.phase = "size"
            return
        if length is None:
            self.phase = "done"
            return
        if not length.isdigit() or int(length) > self.body_max:
            raise Unframeable("length")
        self.remaining = int(length)
        self.phase = "body" if self.remaining else "done"

    def _feed_body(self, data: bytes) -> int | None:
        """Consume body bytes; the count that completes the request, or None."""
        used = 0
        while self.phase != "done":
            if used >= len(data):
                return None
            if self.phase in ("body", "data"):
                take = min(self.remaining, len(data) - used)
                used += take
                self.remaining -= take
                if self.remaining == 0:
                    self.phase = "done" if self.phase == "body" else "size"
                continue
            used = self._feed_line(data, used)
        return used

    def _feed_line(self, data: bytes, used: int) -> int:
        """Read a chunk-size or trailer line from ``data[used:]``; return the new offset."""
        newline = data.find(b"\n", used)
        piece = data[used:] if newline < 0 else data[used:newline]
        self.line += piece
        limit = CHUNK_LINE_MAX if self.phase == "size" else TRAILERS_MAX
        if len(self.line) > limit:
            raise Unframeable("chunk line too long")
        if newline < 0:
            return len(data)
        line = bytes(self.line).rstrip(b"\r")
        self.line.clear()
        if self.phase == "size":
            size = line.split(b";", 1)[0].strip()
            if not size or size.strip(b"0123456789abcdefABCDEF"):
                raise Unframeable("chunk size")
            self.remaining = int(size, 16) + 2
            self.phase = "data" if self.remaining > 2 else "trailer"
        else:
            self.trailers += len(line) + 2
            if self.trailers > TRAILERS_MAX:
                raise Unframeable("trailers")
            if not line:
                self.phase = "done"
        return newline + 1

    def head_without_expect(self) -> bytes:
        """The head with its ``Expect`` line removed (the ``100`` was sent from here)."""
        lines = bytes(self.head).split(b"\n")
        kept = [line for line in lines
                if not line.lower().lstrip().startswith(b"expect:")]
        return b"\n".join(kept)


def _head_end(buf: bytearray, start: int) -> int | None:
    """The offset just past the blank line ending a head (CRLF, or bare LF, which gunicorn
    refuses: reading stops there so that it can), or None."""
    crlf = buf.find(b"\r\n\r\n", start)
    bare = buf.find(b"\n\n", start)
    ends = [i + n for i, n in ((crlf, 4), (bare, 2)) if i >= 0]
    return min(ends) if ends else None


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
