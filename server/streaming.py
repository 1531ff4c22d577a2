"""Turn a function that writes to a file into an iterator of byte chunks, for streaming.

pyoxigraph's serializers write to a binary file object; a WSGI response wants an iterator. A
producer thread runs the serializer against a writer that buffers 64 KiB chunks into a bounded
queue; the response iterates the queue. When the client goes away (the iterator is closed) the
writer raises on its next write, which stops the producer.
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
