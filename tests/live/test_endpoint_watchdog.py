"""The per-process watchdog (server.sparql.watchdog.Watchdog) and the raw 503 it writes on the
socket.

The watchdog lets a query run in the request's own thread: whichever of the request and the
watchdog clears the deadline first decides whether the answer is the result or the 503. A
thread still busy after its late answer is stuck, and the watchdog asks for the worker to retire
until it is told that it does.
"""

from __future__ import annotations

import http.client
import io
import json
import socket
import threading
import time

import pytest

from server.errors import K2D3Error, QueryAbandoned, QueryTimeout
from server.http.problems import raw_error_response, send_and_close
from server.serving.serve import Watchdog
from server.sparql.watchdog import STUCK_AFTER_S


class Events:
    """What the watchdog did, with the thread it did it on."""

    def __init__(self) -> None:
        self.answered: list[str] = []
        self.expired: list[str] = []

    def answer(self, err: K2D3Error) -> None:
        assert isinstance(err, QueryTimeout)
        self.answered.append(threading.current_thread().name)

    def expire(self, urgent: bool) -> bool:
        self.expired.append(threading.current_thread().name)
        return True  # the worker retires: no need to ask again


def test_work_within_its_deadline_runs_in_the_callers_thread() -> None:
    events = Events()
    dog = Watchdog(events.expire)
    assert dog.run(lambda: threading.current_thread().name, 5, answer=events.answer) == \
        threading.current_thread().name
    with pytest.raises(ValueError, match="boom"):
        dog.run(lambda: int("boom"), 5, answer=events.answer)
    time.sleep(0.2)
    assert events.answered == [] and events.expired == []


def late_error() -> None:
    time.sleep(0.4)
    raise ValueError("late")


def test_overdue_work_is_answered_by_the_watchdog_and_abandoned() -> None:
    events = Events()
    dog = Watchdog(events.expire)
    started = time.monotonic()
    with pytest.raises(QueryAbandoned):
        dog.run(lambda: time.sleep(0.3 + STUCK_AFTER_S * 2), 0.2, answer=events.answer)
    assert events.answered == ["k2d3-watchdog"] and events.expired == ["k2d3-watchdog"]
    assert time.monotonic() - started >= 0.3 + STUCK_AFTER_S * 2  # never interrupted
    # An error raised by overdue work is not reported: the 503 has been sent instead.
    with pytest.raises(QueryAbandoned):
        dog.run(late_error, 0.1, answer=events.answer)
    assert len(events.answered) == 2


def test_the_watchdog_answers_at_the_deadline_while_work_still_runs() -> None:
    events = Events()
    dog = Watchdog(events.expire)
    seen: list[float] = []
    started = time.monotonic()

    def work() -> None:
        while not events.answered:
            time.sleep(0.01)
        seen.append(time.monotonic() - started)

    with pytest.raises(QueryAbandoned):
        dog.run(work, 0.3, answer=events.answer)
    assert 0.3 <= seen[0] < 0.6


def parse_raw(raw: bytes) -> http.client.HTTPResponse:
    class Fake:
        def makefile(self, *_args: object) -> io.BytesIO:
            return io.BytesIO(raw)

    resp = http.client.HTTPResponse(Fake())  # type: ignore[arg-type]
    resp.begin()
    return resp


def test_raw_timeout_response_is_valid_http_with_cors_and_negotiated_body() -> None:
    resp = parse_raw(raw_error_response("application/json", QueryTimeout(2)))
    assert resp.status == 503 and resp.getheader("Connection") == "close"
    assert resp.getheader("Access-Control-Allow-Origin") == "*"
    assert resp.getheader("Retry-After") == "1"
    assert json.loads(resp.read())["message"] == "query timed out after 2 s"
    html = parse_raw(raw_error_response("text/html", QueryTimeout(2)))
    assert html.getheader("Content-Security-Policy") and b"timed out" in html.read()
    text = parse_raw(raw_error_response(None, QueryTimeout(2)))
    assert text.read() == b"503 Service Unavailable: query timed out after 2 s\n"


def test_send_and_close_ends_the_connection() -> None:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        send_and_close(ours, b"HTTP/1.1 503 x\r\n\r\n")
        assert theirs.recv(100) == b"HTTP/1.1 503 x\r\n\r\n"
        assert theirs.recv(100) == b""                 # end of stream
        with pytest.raises(OSError):
            ours.sendall(b"late answer")               # the request's own thread cannot write


def test_work_that_ends_soon_after_its_late_answer_retires_nothing() -> None:
    events = Events()
    dog = Watchdog(events.expire)
    with pytest.raises(QueryAbandoned):
        dog.run(lambda: time.sleep(0.25), 0.1, answer=events.answer)
    time.sleep(STUCK_AFTER_S * 2)
    assert events.answered == ["k2d3-watchdog"] and events.expired == []


def test_a_stuck_thread_asks_for_retirement_until_granted() -> None:
    asked: list[bool] = []

    def refuse(urgent: bool) -> bool:
        asked.append(urgent)
        return len(asked) >= 3

    dog = Watchdog(refuse)
    with pytest.raises(QueryAbandoned):
        dog.run(lambda: time.sleep(STUCK_AFTER_S + 0.6), 0.1, answer=lambda _err: None)
    assert asked == [False, False, False]    # refused twice (rationed), then granted


def spin(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def test_a_query_is_quick_by_its_cpu_time_and_bound_by_the_slots_until_then() -> None:
    from server.sparql.admission import QUICK_S, Overloaded, QuickTable, Slots

    dog = Watchdog(lambda _urgent: True, Slots(1), QuickTable(64))
    watch = dog.begin(30, lambda _err: None)
    try:
        dog.evaluate(lambda: time.sleep(QUICK_S * 2), 30, key=1)   # waits, costs no CPU
        dog.evaluate(lambda: spin(QUICK_S * 1.5), 30, key=2)      # costs CPU
        assert 1 in dog.quick and 2 not in dog.quick
        # While key 2 (heavy) holds the one slot in another thread, 3 (new) is refused at
        # once and 1 (quick) runs.
        holding = threading.Event()
        release = threading.Event()

        def heavy() -> None:
            inner = dog.begin(30, lambda _err: None)
            dog.evaluate(lambda: (holding.set(), release.wait(5)), 30, key=2)
            dog.end(inner)

        other = threading.Thread(target=heavy)
        other.start()
        assert holding.wait(5)
        with pytest.raises(Overloaded):
            dog.evaluate(lambda: None, 30, key=3)
        assert dog.evaluate(lambda: "answered", 30, key=1) == "answered"
        release.set()
        other.join()
        assert dog.evaluate(lambda: "now", 30, key=3) == "now"     # the slot is free again
    finally:
        dog.end(watch)


def test_a_wait_before_the_work_is_bounded_by_the_requests_own_limit() -> None:
    """``time_left``: a request that waits (for a claim, the writer lock) is watched by its own
    limit from then on, and its wait ends before that limit; once answered late, it may not
    wait (nor run its work) at all."""
    events = Events()
    dog = Watchdog(events.expire)
    watch = dog.begin(1.0, events.answer)   # the default limit, until the request's is known
    try:
        left = dog.time_left(5.0)
        assert watch.limit == 5.0 and 4.5 < left < 5.0
        time.sleep(0.3)
        assert dog.time_left(5.0) < left - 0.25
        assert dog.time_left(0.1) == 0.0    # nothing left: no waiting
    finally:
        dog.end(watch)
    assert dog.time_left(3.0) == 3.0        # not a watched request: all of it


def test_past_its_memory_the_process_answers_everything_and_is_replaced() -> None:
    """The query being evaluated gets the memory 503, a request not evaluating anything gets
    "restarting" (it may be sent again), the process is replaced once, and the evaluation's
    thread, when it ends, finds its request answered."""
    from server.errors import MemoryLimit
    from server.sparql.watchdog import Restarting

    rss = [100 * 1024]
    replaced: list[str] = []
    answers: dict[str, K2D3Error] = {}
    dog = Watchdog(lambda _urgent: True, memory_limit_kib=200 * 1024,
                   on_memory=lambda: replaced.append(threading.current_thread().name),
                   rss_kib=lambda: rss[0], trim=lambda: None)
    evaluating, waiting = threading.Event(), threading.Event()
    outcome: list[object] = []

    def query() -> None:
        watch = dog.begin(30, lambda err: answers.__setitem__("query", err))
        try:
            def work() -> str:
                evaluating.set()
                while "query" not in answers:      # a large evaluation, until answered
                    time.sleep(0.01)
                return "rows"
            outcome.append(dog.evaluate(work, 30))
        except QueryAbandoned as exc:
            outcome.append(exc)
        dog.end(watch)

    def other() -> None:
        watch = dog.begin(30, lambda err: answers.__setitem__("other", err))
        waiting.set()
        while "other" not in answers:
            time.sleep(0.01)
        dog.end(watch)

    threads = [threading.Thread(target=query), threading.Thread(target=other)]
    for thread in threads:
        thread.start()
    assert evaluating.wait(5) and waiting.wait(5)
    time.sleep(0.2)
    assert answers == {} and replaced == []           # under the limit: nothing happens
    rss[0] = 201 * 1024
    for thread in threads:
        thread.join(5)
    assert isinstance(answers["query"], MemoryLimit)
    assert "200 MiB" in str(answers["query"]) and answers["query"].status == 503
    assert isinstance(answers["other"], Restarting)
    assert len(outcome) == 1 and isinstance(outcome[0], QueryAbandoned)
    time.sleep(0.2)
    assert replaced == ["k2d3-watchdog"]              # once, though still over the limit
    assert dog.in_progress() == []


def test_without_a_memory_limit_the_memory_is_not_read() -> None:
    read: list[int] = []
    dog = Watchdog(lambda _urgent: True, rss_kib=lambda: read.append(1) or 1 << 40)
    assert dog.run(lambda: time.sleep(0.2) or "done", 5, answer=lambda _err: None) == "done"
    assert read == []


def test_memory_the_heap_gives_back_is_not_held_against_the_queries() -> None:
    """Over the limit only until the heap's free pages are returned: nothing is stopped."""
    rss = [300 * 1024]
    trims: list[int] = []

    def trim() -> None:
        trims.append(1)
        rss[0] = 150 * 1024

    replaced: list[int] = []
    dog = Watchdog(lambda _urgent: True, memory_limit_kib=200 * 1024,
                   on_memory=lambda: replaced.append(1), rss_kib=lambda: rss[0], trim=trim)
    assert dog.run(lambda: time.sleep(0.3) or "rows", 5, answer=lambda _err: None) == "rows"
    assert trims == [1] and replaced == []
