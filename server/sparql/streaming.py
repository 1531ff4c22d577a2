"""Binary file objects for pyoxigraph's serializers: a stream of chunks, and a row cap.

pyoxigraph's serializers write to a binary file object; a WSGI response wants an iterator.
:func:`stream_writes` turns a function that writes to a file into an iterator of byte chunks: a
producer thread runs the serializer against a writer that buffers 64 KiB chunks into a bounded
queue; the response iterates the queue. When the client goes away (the iterator is closed) the
writer raises on its next write, which stops the producer. :class:`RowCap` keeps the first
rows of a line-based serialisation (SPARQL TSV, N-Triples) and stops the evaluation past
them.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

CHUNK = 64 * 1024
_DONE = object()


class _Cancelled(Exception):
    pass


class _QueueWriter:
    """A write-only binary file whose chunks go to a bounded queue."""

    def __init__(self, chunks: queue.Queue[Any], cancelled: threading.Event) -> None:
        self._chunks = chunks
        self._cancelled = cancelled
        self._buffer = bytearray()

    def write(self, data: bytes) -> int:
        self._buffer += data
        if len(self._buffer) >= CHUNK:
            self._put(bytes(self._buffer))
            self._buffer.clear()
        return len(data)

    def flush(self) -> None:
        """Buffered chunks leave on size or at the end, not on flush."""

    def close(self) -> None:
        if self._buffer:
            self._put(bytes(self._buffer))
            self._buffer.clear()

    def _put(self, item: Any) -> None:
        while not self._cancelled.is_set():
            try:
                self._chunks.put(item, timeout=0.5)
                return
            except queue.Full:
                continue
        raise _Cancelled()


def stream_writes(write_all: Callable[[Any], Any], depth: int = 8) -> Iterator[bytes]:
    """Run ``write_all(file)`` in a thread and yield what it writes, chunk by chunk."""
    chunks: queue.Queue[Any] = queue.Queue(maxsize=depth)
    cancelled = threading.Event()
    writer = _QueueWriter(chunks, cancelled)

    def produce() -> None:
        try:
            write_all(writer)
            writer.close()
            writer._put(_DONE)
        except _Cancelled:
            pass
        except Exception as exc:  # handed to the consumer, which re-raises it
            with contextlib.suppress(_Cancelled):
                writer._put(exc)

    threading.Thread(target=produce, name="k2d3-serialize", daemon=True).start()
    try:
        while True:
            item = chunks.get()
            if item is _DONE:
                return
            if isinstance(item, Exception):
                raise item
            yield item
    finally:
        cancelled.set()


class RowCapFull(Exception):
    """Raised from :class:`RowCap` to stop pyoxigraph once the row limit is passed."""


class RowCap:
    """A binary file for a line-based serializer (SPARQL TSV, N-Triples) keeping
    ``header_lines`` lines and then ``max_rows`` rows.

    Every TSV or N-Triples line ends in a newline (terms escape theirs), so lines count rows.
    A line beyond the limit means the answer is truncated: ``write`` raises, which ends the
    evaluation.
    """

    def __init__(self, max_rows: int, header_lines: int = 1) -> None:
        self.parts: list[bytes] = []
        self.lines = 0
        self.limit = max_rows + header_lines
        self.truncated = False

    def write(self, data: bytes) -> int:
        if not data:
            return 0
        count = data.count(b"\n")
        room = self.limit - self.lines
        # A chunk may end inside a line (pyoxigraph's N-Triples writer cuts at 8 KiB): with no
        # room left after its last whole line, that partial line is the first one too many.
        if count < room or (count == room and data.endswith(b"\n")):
            self.parts.append(bytes(data))
            self.lines += count
            return len(data)
        end = -1
        for _ in range(self.limit - self.lines):
            end = data.index(b"\n", end + 1)
        self.parts.append(bytes(data[:end + 1]))
        self.lines, self.truncated = self.limit, True
        raise RowCapFull()

    def flush(self) -> None:
        """Nothing to flush: the parts stay in memory."""


class MarkCap:
    """A binary file keeping what is written while a one-byte ``marker`` is seen at most
    ``most`` times; past that, ``write`` raises :class:`RowCapFull` (and ``full`` is set).

    An upper bound on rows for output that cannot be counted exactly as it is written: each
    row of SPARQL JSON opens at least one ``{``, of XML at least one ``<``, and each CSV row
    ends in a newline.
    """

    def __init__(self, marker: bytes, most: int) -> None:
        self.parts: list[bytes] = []
        self.marker, self.most = marker, most
        self.seen = 0
        self.full = False

    def write(self, data: bytes) -> int:
        self.seen += data.count(self.marker)
        if self.seen > self.most:
            self.full = True
            raise RowCapFull()
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        """Nothing to flush: the parts stay in memory."""
