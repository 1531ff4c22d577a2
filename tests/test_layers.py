"""The layers of ``server/`` (issue 14): which package may import which, checked on the source.

Every ``import`` and ``from ... import`` under ``server/`` is read with ``ast`` (module level and
inside functions alike) and mapped to the layer it comes from and the one it goes to; an edge
not in :data:`ALLOWED` fails, and so does a relative import (absolute imports keep the layer of
every import visible) or a cycle between layers. The table is the one the packages' docstrings
state.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

SERVER = Path(__file__).resolve().parent.parent / "server"
FOUNDATION = {"errors", "paths"}
#: layer -> the layers it may import (besides itself). ``app`` is ``server/__init__.py``, the
#: application factory.
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "paths": set(),
    "rdf": FOUNDATION,
    "config": FOUNDATION | {"rdf"},
    "sparql": FOUNDATION | {"rdf", "config"},
    "catalogue": FOUNDATION | {"rdf", "config", "sparql"},
    "http": FOUNDATION | {"rdf", "config", "sparql"},
    "pages": FOUNDATION | {"rdf", "config", "sparql", "catalogue"},
    "views": FOUNDATION | {"rdf", "config", "sparql", "catalogue", "http", "pages"},
    "app": FOUNDATION | {"rdf", "config", "sparql", "http", "views"},
    "build": FOUNDATION | {"rdf", "config", "sparql", "catalogue"},
    "serving": FOUNDATION | {"rdf", "config", "sparql", "http", "app"},
    "cli": FOUNDATION | {"rdf", "config", "build", "serving"},
}


def _layer(module: str) -> str:
    """``server.http.envelope`` -> ``http``; ``server.errors`` -> ``errors``; ``server`` -> app."""
    parts = module.split(".")
    if len(parts) == 1:
        return "app"
    return parts[1]


def _module(path: Path) -> str:
    parts = list(path.relative_to(SERVER.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, imported module) for every import of k2d3 code in ``path``."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}:{node.lineno}: relative import"
            module = node.module or ""
            if module == "server":   # from server import paths / create_app
                found += [(node.lineno, f"server.{a.name}") for a in node.names]
            elif module.startswith("server."):
                found.append((node.lineno, module))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("server.")]
    return found


def _edges() -> dict[tuple[str, str], list[str]]:
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for path in sorted(SERVER.rglob("*.py")):
        source = _layer(_module(path))
        for line, module in _imports(path):
            target = _layer(module)
            if target == "create_app":
                target = "app"
            if target != source:
                edges[(source, target)].append(f"{path.relative_to(SERVER.parent)}:{line}")
    return edges


def test_every_module_is_in_a_known_layer() -> None:
    layers = {_layer(_module(p)) for p in SERVER.rglob("*.py")}
    assert layers <= set(ALLOWED), sorted(layers - set(ALLOWED))


def test_layers_import_only_downwards() -> None:
    wrong = {f"{a} -> {b}": where for (a, b), where in _edges().items()
             if b not in ALLOWED[a]}
    assert not wrong, wrong


def test_the_allowed_table_has_no_cycle() -> None:
    """If the table allowed a cycle, the test above could not rule one out."""
    seen: dict[str, int] = {}

    def visit(layer: str, stack: tuple[str, ...]) -> None:
        assert layer not in stack, " -> ".join((*stack, layer))
        if seen.get(layer):
            return
        for below in ALLOWED[layer]:
            visit(below, (*stack, layer))
        seen[layer] = 1

    for layer in ALLOWED:
        visit(layer, ())


def test_the_checker_sees_a_wrong_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from server.http.envelope import Envelope\n", encoding="utf-8")
    assert _imports(bad) == [(2, "server.http.envelope")]
    assert "http" not in ALLOWED["sparql"]
