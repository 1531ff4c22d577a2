"""A process's own memory, as the watchdog keeps it (``server.sparql.watchdog``).

Reading ``/proc/self/statm`` takes microseconds, so the watchdog reads it every tick; glibc's
``malloc_trim`` took about 0.1 ms here and runs only when a process is over its limit.
"""

from __future__ import annotations

import contextlib
import ctypes
import os

_PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


def own_rss_kib() -> int:
    """This process's resident memory in KiB (``/proc/self/statm``; 0 where there is none)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE_KIB
    except (OSError, IndexError, ValueError):
        return 0


def give_back_freed_memory() -> None:
    """Return the C heap's free pages to the system (glibc's ``malloc_trim``), so that memory
    an ended evaluation freed no longer counts as the process's; nothing where there is none."""
    with contextlib.suppress(AttributeError, OSError):  # AttributeError: not glibc
        ctypes.CDLL(None).malloc_trim(0)
