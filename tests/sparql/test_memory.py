"""``server.sparql.memory``: the process's own RSS, and the heap's free pages given back."""

from __future__ import annotations

import resource

from server.sparql.memory import give_back_freed_memory, own_rss_kib


def test_the_rss_is_this_process_and_follows_what_it_touches() -> None:
    before = own_rss_kib()
    assert 0 < before <= resource.getrusage(resource.RUSAGE_SELF).ru_maxrss + 1024
    block = bytearray(64 * 1024 * 1024)      # zeroed: every page touched
    assert own_rss_kib() >= before + 60 * 1024
    del block
    give_back_freed_memory()                 # a large block goes back at once; trim is safe
    assert own_rss_kib() < before + 32 * 1024
