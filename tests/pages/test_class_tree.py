"""server/pages/class_tree.py: nearest parents from a closure of subclass edges, and the forest."""

from __future__ import annotations

from typing import Any

import pytest

from server.pages.class_tree import ancestors, direct_parents, forest


def _shape(nodes: list[dict[str, Any]]) -> list[Any]:
    """A forest as nested (name, [children]) pairs, easy to compare."""
    return [(n["term"], _shape(n["children"])) for n in nodes]


def _forest(classes: list[str], parents: dict[str, set[str]]) -> list[Any]:
    return _shape(forest(classes, direct_parents(parents), lambda iri: iri,  # type: ignore[arg-type,return-value]
                         lambda n: n["term"]))


@pytest.mark.parametrize(("parents", "start", "expected"), [
    ({"a": {"b"}, "b": {"c"}}, "a", {"b", "c"}),
    ({"a": {"b"}, "b": {"a"}}, "a", {"a", "b"}),
    ({}, "a", set()),
])
def test_ancestors(parents: dict[str, set[str]], start: str, expected: set[str]) -> None:
    assert ancestors(start, parents) == expected


def test_direct_parents_drop_what_the_closure_adds() -> None:
    # The reasoner's closure: HQ is under RCT, RCT under Claim, so HQ is also under Claim.
    closure = {"HQ": {"RCT", "Claim", "Prop"}, "RCT": {"Claim", "Prop"}, "Claim": {"Prop"}}
    assert direct_parents(closure) == {"HQ": {"RCT"}, "RCT": {"Claim"}, "Claim": {"Prop"}}


def test_direct_parents_keep_two_unrelated_parents_and_drop_self_loops() -> None:
    closure = {"DK": {"D", "K", "Supp", "DK"}, "D": {"Supp"}, "K": {"Supp"}}
    assert direct_parents(closure)["DK"] == {"D", "K"}


def test_equivalent_parents_are_both_kept() -> None:
    # P and Q are equivalent (each under the other): neither lies strictly below the other.
    assert direct_parents({"c": {"P", "Q"}, "P": {"Q"}, "Q": {"P"}})["c"] == {"P", "Q"}


def test_forest_places_a_class_under_each_parent() -> None:
    tree = _forest(["Supp", "D", "K", "DK"],
                   {"DK": {"D", "K", "Supp"}, "D": {"Supp"}, "K": {"Supp"}})
    assert tree == [("Supp", [("D", [("DK", [])]), ("K", [("DK", [])])])]


def test_forest_ignores_parents_outside_the_classes() -> None:
    assert _forest(["a", "b"], {"a": {"owl:Thing"}, "b": {"a"}}) == [("a", [("b", [])])]


def test_a_cycle_neither_loops_nor_loses_its_classes() -> None:
    tree = _forest(["a", "b"], {"a": {"b"}, "b": {"a"}})
    assert tree == [("a", [("b", [("a", [])])]), ("b", [("a", [("b", [])])])]
