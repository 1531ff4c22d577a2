"""A build in a child process, for ``k2d3 serve``: the process that forks gunicorn's workers
must never have opened a store.

Opening a pyoxigraph store for writing starts RocksDB's background threads, and RocksDB keeps
them in a process-wide environment that outlives the store. A worker forked afterwards inherits
that environment but not its threads; when the worker exits, RocksDB's destructors join threads
that do not exist in it, and the worker dies of SIGSEGV (measured here: every worker of a
``k2d3 serve`` that had just built its store crashed so on exit, in ``__pthread_clockjoin_ex``
or ``__nptl_deallocate_stack``; none did once the store existed). A lock held by one of those
threads at the fork would also be held for ever in the worker.

So the build runs in a forked child, which exits without running those destructors
(``multiprocessing`` ends a child with ``os._exit``), and the server process forks its workers
from a process RocksDB has never run in.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys

from server.build.pipeline import BuildError, build
from server.config import Settings

#: The child's exit status when the sources do not validate (it has said why on stderr).
BUILD_FAILED = 1
#: ... and when it was interrupted (Ctrl-C), as a shell reports SIGINT.
INTERRUPTED = 128 + signal.SIGINT


def build_apart(settings: Settings) -> int:
    """Build the store at ``settings.store`` in a child process; 0 when it was built, else the
    status for ``k2d3 serve`` to exit with (the reason said on standard error).

    The child prints a :class:`BuildError` itself. On Ctrl-C the child (in the same process
    group) stops too and cleans up; this waits for it (telling it to stop if it was not
    told), then re-raises.
    """
    child = multiprocessing.get_context("fork").Process(
        target=_build, args=(settings,), name="k2d3-build")
    child.start()
    try:
        child.join()
    except KeyboardInterrupt:
        if child.is_alive() and child.pid is not None:
            os.kill(child.pid, signal.SIGINT)
        child.join()
        raise
    code = child.exitcode
    if code is not None and code < 0:  # killed: say so, as a shell would have
        name = signal.Signals(-code).name
        print(f"k2d3 serve: the build was stopped by {name}; the store is as it was",
              file=sys.stderr, flush=True)
        return 128 - code
    return code or 0


def _build(settings: Settings) -> None:
    try:
        build(settings)
    except BuildError as exc:
        print(f"k2d3 serve: {exc}", file=sys.stderr, flush=True)
        sys.exit(BUILD_FAILED)
    except KeyboardInterrupt:  # the build has cleaned up after itself; no traceback
        sys.exit(INTERRUPTED)


__all__ = ["BUILD_FAILED", "INTERRUPTED", "build_apart"]
