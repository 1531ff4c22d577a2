"""server/serving/boot.py: when a worker that failed to start is tried again, and when the
server stops instead. The decision is a pure function; the board's count is checked across a
real fork. tests/live/test_worker_boot.py runs it in a real server.
"""

from __future__ import annotations

import os

import pytest

from server.serving.balance import Board
from server.serving.boot import BACKOFF_MAX_S, TRIES_WITH_NONE_SERVING, retry_delay


@pytest.mark.parametrize(("failures", "ever_served", "serving", "delay"), [
    (1, False, 0, None),     # the server is starting: a wrong setting stops it at once
    (1, False, 1, None),     # even if another worker came up meanwhile, nothing has joined yet
    (1, True, 1, 0.5),       # one failure while another serves: try again soon
    (2, True, 1, 1.0),       # ... then later and later
    (3, True, 1, 2.0),
    (20, True, 1, BACKOFF_MAX_S),  # but never more than this apart
    (1, True, 0, 0.5),       # nothing serves: a few tries ...
    (TRIES_WITH_NONE_SERVING - 1, True, 0, 0.5 * 2 ** (TRIES_WITH_NONE_SERVING - 2)),
    (TRIES_WITH_NONE_SERVING, True, 0, None),  # ... then stop, for a supervisor to restart
    (TRIES_WITH_NONE_SERVING, True, 1, 0.5 * 2 ** (TRIES_WITH_NONE_SERVING - 1)),
])
def test_a_failed_start_is_tried_again_while_the_server_serves(
        failures: int, ever_served: bool, serving: int, delay: float | None) -> None:
    assert retry_delay(failures, ever_served, serving) == delay


def test_the_board_counts_failed_starts_until_a_worker_joins() -> None:
    board = Board(slots=4)
    assert not board.ever_joined
    assert board.boot_failed() == 1
    pid = os.fork()
    if pid == 0:  # a worker that fails too, in another process
        os._exit(board.boot_failed())
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 2
    assert board.boot_failed() == 3
    board.join(1, 4242)
    assert board.ever_joined
    assert board.boot_failed() == 1  # counted afresh since the join
    board.leave(1)
    assert board.ever_joined  # stays true once a worker has started
