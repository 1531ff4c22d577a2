"""A worker that cannot start must not stop a server that is serving.

gunicorn stops the whole server (the arbiter exits, "Worker failed to boot") when a worker
process raises before it is ready: right for a server being started with a wrong setting,
wrong for a server that has been answering for hours and loses one of its processes to a
passing failure (measured here: with its metrics folder removed by a cleaner of ``/tmp``,
the next retirement took the server down while the other worker was answering).

So once a worker has started, a new one that fails logs why and exits with an ordinary
status after a pause that doubles with each failure in a row (:func:`retry_delay`): the
arbiter forks another, and the workers still in service keep answering meanwhile. The server
stops, as gunicorn would, only when none has ever started (a wrong setting says so at once),
or when ``TRIES_WITH_NONE_SERVING`` tries in a row have failed with no other worker in service
(a supervisor should then restart the whole server).

While a worker is missing, the others do not retire for runaway queries (``Board.may_retire``
waits for every worker to be in service), so a stuck query keeps its thread until then.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable

from server.serving.balance import Board

log = logging.getLogger("k2d3.serve")

#: The first pause before a failed worker exits; each failure in a row doubles it.
BACKOFF_S = 0.5
#: The longest pause.
BACKOFF_MAX_S = 30.0
#: Failures in a row, with no other worker in service, after which the server stops.
TRIES_WITH_NONE_SERVING = 5
#: The exit status of a worker that failed and may be tried again: anything but gunicorn's
#: 3 (``WORKER_BOOT_ERROR``) and 4 (``APP_LOAD_ERROR``), which stop the server.
TRY_AGAIN_EXIT = 1


def retry_delay(failures: int, alone: int, ever_served: bool) -> float | None:
    """Seconds a worker that failed to start waits before exiting to be replaced, or None
    when the server should stop instead.

    ``failures``: failed starts since a worker last joined, this one included; ``alone``: of
    those, the last in a row that found no other worker serving; ``ever_served``: whether a
    worker has started since the server began.
    """
    if not ever_served or alone >= TRIES_WITH_NONE_SERVING:
        return None
    return float(min(BACKOFF_S * 2 ** min(failures - 1, 16), BACKOFF_MAX_S))


def failed_to_start(board: Board, slot: int | None, error: BaseException,
                    wanted: Callable[[], bool] = lambda: True) -> None:
    """In a worker whose start raised ``error``: exit to be tried again (after the pause, cut
    short once ``wanted()`` is false: the server is stopping), or return, and the caller
    re-raises so that gunicorn stops the server."""
    if not wanted():  # the server is stopping: leave quietly, it starts no other
        sys.exit(TRY_AGAIN_EXIT)
    try:
        serving = board.live(but=slot)
        failures, alone = board.boot_failed(serving)
        delay = retry_delay(failures, alone, board.ever_joined)
    except Exception:  # noqa: BLE001 - bookkeeping must not turn into gunicorn's halt
        log.exception("worker %s: counting its failed start failed", os.getpid())
        serving, failures, delay = -1, 0, BACKOFF_MAX_S
    if delay is None:
        return
    # the whole traceback for the first failure in a row; the cause alone after it
    log.error("worker %s could not start (%s: %s; %d failure(s) in a row); %d other worker(s) "
              "keep serving; another is tried in %.1f s", os.getpid(), type(error).__name__,
              error, failures, serving, delay, exc_info=error if failures <= 1 else None)
    until = time.monotonic() + delay
    while wanted() and time.monotonic() < until:
        time.sleep(0.05)
    sys.exit(TRY_AGAIN_EXIT)


__all__ = ["TRY_AGAIN_EXIT", "failed_to_start", "retry_delay"]
