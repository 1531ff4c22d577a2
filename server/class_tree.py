"""The class tree of the ontology page: direct parents from subclass edges, then a forest.

Pure functions over IRIs. The ontology page feeds them every subclass edge it knows between
named classes: the asserted ``rdfs:subClassOf``, the named members of a defined class's
``owl:equivalentClass [ owl:intersectionOf (...) ]`` and the reasoner's inferences (which are a
transitive closure). :func:`direct_parents` keeps only the nearest parents, so a defined class
such as ``HighQualityRCTSupportedClaim`` sits under ``RCTSupportedClaim`` and not also under
``Claim``, its grandparent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any


def ancestors(start: str, parents: Mapping[str, Iterable[str]]) -> set[str]:
    """Every class above ``start`` (not ``start`` itself unless a cycle leads back to it)."""
    seen: set[str] = set()
    todo = list(parents.get(start, ()))
    while todo:
        iri = todo.pop()
        if iri not in seen:
            seen.add(iri)
            todo.extend(parents.get(iri, ()))
    return seen


def direct_parents(parents: Mapping[str, Iterable[str]]) -> dict[str, set[str]]:
    """The transitive reduction of ``parents`` (child -> its superclasses).

    A parent ``p`` of ``c`` is dropped when another parent ``q`` of ``c`` lies strictly below
    ``p`` (``p`` is an ancestor of ``q`` and not the other way round, which would make them
    equivalent). Self-loops are dropped.
    """
    above = {child: ancestors(child, parents) for child in parents}
    out: dict[str, set[str]] = {}
    for child, ps in parents.items():
        ps = {p for p in ps if p != child}
        out[child] = {p for p in ps if not any(
            q != p and p in above.get(q, set()) and q not in above.get(p, set()) for q in ps)}
    return out


def forest(classes: Iterable[str], parents: Mapping[str, Iterable[str]],
           view: Callable[[str], dict[str, Any]], sort_key: Callable[[dict[str, Any]], Any]
           ) -> list[dict[str, Any]]:
    """The tree of ``classes`` as nested ``{"term": view(iri), "children": [...]}``.

    ``parents`` holds direct parents (see :func:`direct_parents`); edges to classes outside
    ``classes`` are ignored, so a class whose parents are all outside is a root. A class with
    several parents appears under each. A cycle stops where it would repeat a class, and
    classes that only a cycle reaches are roots as well, so every class appears.
    """
    known = set(classes)
    children: dict[str, list[str]] = {}
    rooted = set()
    for child in known:
        for parent in parents.get(child, ()):
            if parent in known:
                children.setdefault(parent, []).append(child)
                rooted.add(child)

    def node(iri: str, seen: frozenset[str]) -> dict[str, Any]:
        kids = [] if iri in seen else children.get(iri, [])
        built = [node(k, seen | {iri}) for k in kids]
        return {"term": view(iri), "children": sorted(built, key=sort_key)}

    roots = known - rooted
    reached = set(roots)
    todo = list(roots)
    while todo:
        for kid in children.get(todo.pop(), ()):
            if kid not in reached:
                reached.add(kid)
                todo.append(kid)
    # Classes only reachable from each other (a cycle of equivalent classes) become roots too.
    roots |= known - reached
    return sorted((node(iri, frozenset()) for iri in roots), key=sort_key)
