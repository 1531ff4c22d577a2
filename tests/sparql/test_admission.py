"""server/sparql/admission.py: which client queries may start, and the table of quick ones.

The table is shared across fork (the arbiter makes it; every worker reads and writes it), a
key is the query with its context, and the slots refuse the excess at once with a Retry-After
that says when the soonest holder's time is up.
"""

from __future__ import annotations

import os
import time

import pytest

from server.sparql.admission import Overloaded, QuickTable, Slots, query_key


def test_a_key_depends_on_the_text_and_the_context_and_is_the_same_in_a_fork() -> None:
    assert query_key("ASK {}") == query_key("ASK {}")
    assert query_key("ASK {}") != query_key("ASK { }")
    assert query_key("ASK {}", True, "['a']") != query_key("ASK {}", True, "['b']")
    assert query_key("ASK {}", True) != query_key("ASK {}", False)
    assert query_key("\ud800 lone surrogate") != 0
    key = query_key("SELECT * { ?s ?p ?o }", True, None)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:   # a worker is a fork of the arbiter: the same hash seed, the same key
        os.write(write, str(query_key("SELECT * { ?s ?p ?o }", True, None)).encode())
        os._exit(0)
    os.waitpid(pid, 0)
    assert int(os.read(read, 100)) == key


def test_the_table_remembers_forgets_and_is_shared_across_fork() -> None:
    table = QuickTable(64)
    keys = [query_key(f"q{i}") for i in range(20)]
    table.add(keys[0])
    assert keys[0] in table and keys[1] not in table
    pid = os.fork()
    if pid == 0:  # the child learns one and forgets one; the parent must see both
        table.add(keys[1])
        table.discard(keys[0])
        os._exit(0)
    os.waitpid(pid, 0)
    assert keys[1] in table and keys[0] not in table


def test_a_full_neighbourhood_overwrites_rather_than_refuses() -> None:
    table = QuickTable(8)
    keys = [3 + 8 * i for i in range(1, 13)]      # one home, so one neighbourhood of 8
    for key in keys:
        table.add(key)
        assert key in table               # the newest is always there
    assert sum(key in table for key in keys) == 8


def test_slots_refuse_the_excess_at_once_with_a_retry_after() -> None:
    slots = Slots(2)
    now = time.monotonic()
    slots.take(1, now + 2.5)
    slots.take(2, now + 10)
    started = time.monotonic()
    with pytest.raises(Overloaded) as refused:
        slots.take(3, now + 30)
    assert time.monotonic() - started < 0.01
    err = refused.value
    assert err.status == 503 and err.headers["Retry-After"] == "3"   # the soonest holder
    assert "2 per process" in err.message
    slots.give_back(1)
    slots.take(3, now + 30)
    assert slots.held() == 2


def test_a_holder_past_its_deadline_means_retry_after_one_second() -> None:
    slots = Slots(1)
    slots.take(1, time.monotonic() - 5)  # stuck past its deadline: its worker retires soon
    with pytest.raises(Overloaded) as refused:
        slots.take(2, time.monotonic() + 30)
    assert refused.value.headers["Retry-After"] == "1"
