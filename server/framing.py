"""Where an HTTP/1.x request ends, found from its bytes as they arrive (for ``server.front``).

:class:`Framing` is fed a connection's bytes in pieces and says at which byte the request
(its head, then a body framed by ``Content-Length`` or chunked coding, RFC 9112 §6) ends; the
rest belongs to the next, pipelined, request. It checks only what it needs for that: anything
it cannot frame (two different lengths, a coding that does not end with ``chunked``, a bad
chunk size, a head past the size limits) raises :class:`Unframeable`, and gunicorn's own
parser then answers the request from the bytes read so far. Pure: no I/O. Each byte is looked
at a bounded number of times, so the time grows linearly with the request.
"""

from __future__ import annotations

#: The longest chunk-size line (with extensions) or trailer section accepted while framing.
CHUNK_LINE_MAX = 4096
TRAILERS_MAX = 16 * 1024


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
