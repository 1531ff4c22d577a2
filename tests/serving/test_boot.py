"""server/serving/boot.py: when a worker that failed to start is tried again, and when the
server stops instead. The decision is a pure function; the board's count is checked across a
real fork. tests/live/test_worker_boot.py runs it in a real server.
"""

from __future__ import annotations

import os

import pytest

from server.serving.balance import Board
from server.serving.boot import (
    BACKOFF_MAX_S,
    TRIES_WITH_NONE_SERVING,
    TRY_AGAIN_EXIT,
    failed_to_start,
    retry_delay,
)


@pytest.mark.parametrize(("failures", "alone", "ever_served", "delay"), [
    (1, 1, False, None),     # the server is starting: a wrong setting stops it at once
    (1, 0, False, None),     # even if another worker came up meanwhile, nothing has joined yet
    (1, 0, True, 0.5),       # one failure while another serves: try again soon
    (2, 0, True, 1.0),       # ... then later and later
    (3, 0, True, 2.0),
    (20, 0, True, BACKOFF_MAX_S),  # but never more than this apart
    (10**6, 0, True, BACKOFF_MAX_S),  # however long it lasts (2.0 ** 1025 overflows a float)
    (1, 1, True, 0.5),       # nothing else serves: a few tries ...
    (TRIES_WITH_NONE_SERVING - 1, TRIES_WITH_NONE_SERVING - 1, True,
     0.5 * 2 ** (TRIES_WITH_NONE_SERVING - 2)),
    (TRIES_WITH_NONE_SERVING, TRIES_WITH_NONE_SERVING, True, None),  # ... then stop, for a
    (500, TRIES_WITH_NONE_SERVING, True, None),                      # supervisor to restart
    # many failures while another served, then the first with none serving: tried again
    (501, 1, True, BACKOFF_MAX_S),
])
def test_a_failed_start_is_tried_again_while_the_server_serves(
        failures: int, alone: int, ever_served: bool, delay: float | None) -> None:
    assert retry_delay(failures, alone, ever_served) == delay


def test_the_board_counts_failed_starts_until_a_worker_joins() -> None:
    board = Board(slots=4)
    assert not board.ever_joined
    assert board.boot_failed(serving=0) == (1, 1)
    pid = os.fork()
    if pid == 0:  # a worker that fails too, in another process
        os._exit(sum(board.boot_failed(serving=0)))
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 2 + 2
    assert board.boot_failed(serving=1) == (3, 0)  # another serves: no longer alone
    assert board.boot_failed(serving=0) == (4, 1)
    board.join(1, 4242)
    assert board.ever_joined
    assert board.boot_failed(serving=1) == (1, 0)  # counted afresh since the join
    board.leave(1)
    assert board.ever_joined  # stays true once a worker has started


def test_a_failed_start_while_the_server_stops_leaves_quietly() -> None:
    board = Board(slots=4)
    board.join(0, 4242)
    with pytest.raises(SystemExit) as stopped:
        failed_to_start(board, 1, OSError("gone"), wanted=lambda: False)
    assert stopped.value.code == TRY_AGAIN_EXIT  # not gunicorn's 3, which would halt
    assert board.boot_failed(serving=1) == (1, 0)  # and it was not counted
