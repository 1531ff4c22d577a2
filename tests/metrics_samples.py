"""Read a ``/metrics`` answer with ``prometheus_client``'s own parser, for the tests.

Label order and number formatting are the exposition library's business, not the tests': a
sample is found by its name and labels.
"""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

Key = tuple[str, frozenset[tuple[str, str]]]


def samples(text: str) -> dict[Key, float]:
    """(sample name, its labels) -> value, for every sample in the exposition ``text``."""
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(found: dict[Key, float], name: str, **labels: str) -> float:
    """The sample ``name`` with exactly ``labels``, or 0 when there is none (yet)."""
    return found.get((name, frozenset(labels.items())), 0.0)
