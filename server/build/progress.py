"""Progress of a long load: a one-line bar redrawn on a terminal, plain lines otherwise.

On a terminal the line (file, triples, rate, elapsed, and how far through the file) is
redrawn at most every ``REDRAW`` seconds with a carriage return; written to a file or a pipe
(a log, CI), a plain line is printed every ``LINE_EVERY`` seconds instead, so a log is not
flooded and still shows that the load moves.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

REDRAW = 0.2
LINE_EVERY = 5.0


def _si(n: float) -> str:
    return f"{n:,.0f}"


class Progress:
    """Counts triples (or, for formats read in one piece, bytes) and reports them.

    ``update`` is cheap when nothing is due (one clock read), so a reader may call it for
    every block it reads.
    """

    def __init__(self, out: TextIO | None = None, *, tty: bool | None = None,
                 every: float | None = None) -> None:
        self.out = out if out is not None else sys.stderr
        self.tty = self.out.isatty() if tty is None else tty
        self.every = every if every is not None else (REDRAW if self.tty else LINE_EVERY)
        self.started = time.monotonic()
        self._last = self.started
        self._drawn = False
        self.name = ""
        self.triples = 0  # of all files so far (line formats: one triple a line)
        self.bytes = 0  # read from files whose triples are not counted (Turtle, TriG)
        self.fraction: float | None = None

    def start(self, name: str) -> None:
        """A new file begins."""
        self.name = name
        self.fraction = None

    def update(self, triples: int = 0, fraction: float | None = None, *,
               size: int = 0) -> None:
        """``triples`` more read (or ``size`` bytes of a file read in one piece);
        ``fraction`` of the current file read (if known)."""
        self.triples += triples
        self.bytes += size
        if fraction is not None:
            self.fraction = fraction
        now = time.monotonic()
        if now - self._last >= self.every:
            self._last = now
            self._draw(now)

    def line(self, now: float | None = None) -> str:
        elapsed = (now or time.monotonic()) - self.started
        rate = self.triples / elapsed if elapsed > 0 else 0.0
        where = f" {self.fraction:4.0%} of" if self.fraction is not None else ""
        if self.bytes and not self.triples:  # Turtle/TriG alone: their triples are not counted
            speed = self.bytes / 1e6 / elapsed if elapsed > 0 else 0.0
            return (f"loading{where} {self.name}: {self.bytes / 1e6:,.1f} MB, "
                    f"{speed:,.1f} MB/s, {elapsed:.1f} s")
        read = f" and {self.bytes / 1e6:,.1f} MB of Turtle/TriG" if self.bytes else ""
        return (f"loading{where} {self.name}: {_si(self.triples)} triples{read}, "
                f"{_si(rate)} triples/s, {elapsed:.1f} s")

    def _draw(self, now: float) -> None:
        if self.tty:
            self.out.write("\r\x1b[K" + self.line(now))
            self._drawn = True
        else:
            self.out.write(self.line(now) + "\n")
        self.out.flush()

    def done(self) -> None:
        """End the bar's line (on a terminal) before anything else is printed."""
        if self.tty and self._drawn:
            self.out.write("\r\x1b[K")
            self.out.flush()
            self._drawn = False

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started
