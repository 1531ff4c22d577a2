"""The documentation cannot rot: settings, commands and folders named in code are in the docs."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.cli import parser
from server.config import ENV_PREFIX, SETTINGS

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", SETTINGS)
def test_every_setting_is_in_the_readme(name: str) -> None:
    assert f"`{ENV_PREFIX}{name.upper()}`" in README


def test_every_command_is_in_the_readme() -> None:
    sub = next(a for a in parser()._actions if a.dest == "command")
    for command in sub.choices:  # type: ignore[union-attr]
        assert f"`k2d3 {command}" in README, command


@pytest.mark.parametrize("folder", ["ontology", "graph_data", "queries"])
def test_every_data_folder_has_a_readme(folder: str) -> None:
    assert (REPO / folder / "README.md").exists()


def test_the_two_commands_are_make_targets() -> None:
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    for target in ("serve", "test"):
        assert f"make {target}" in README
        assert f"\n{target}:" in makefile
    assert "make test" in (REPO / ".ci" / "run").read_text(encoding="utf-8")


def test_every_route_is_in_the_readme(app) -> None:  # type: ignore[no-untyped-def]
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or ".<ext>" in rule.rule:
            continue
        assert f"`{rule.rule.replace('<path:', '<')}`" in README, rule.rule
