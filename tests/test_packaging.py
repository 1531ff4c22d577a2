"""pyproject.toml: what a wheel of k2d3 carries.

An editable install (``make serve``) reads templates and static files from the checkout, so a
file the package data leaves out only goes missing from an installed wheel, far from here. Each
file under ``server/templates`` and ``server/static`` must match a package-data pattern of its
package, and each Python package under ``server/`` must be listed.
"""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOL = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]


def _package_of(path: Path) -> tuple[str, str]:
    """The listed package holding ``path`` (the deepest), and the path relative to it."""
    parts = path.relative_to(ROOT).parts
    for depth in range(len(parts) - 1, 0, -1):
        name = ".".join(parts[:depth])
        if name in TOOL["packages"]:
            return name, "/".join(parts[depth:])
    raise AssertionError(f"{path} is in no listed package")


def test_every_template_and_static_file_is_package_data() -> None:
    missing = []
    for folder in ("server/templates", "server/static"):
        for path in (ROOT / folder).rglob("*"):
            if path.is_dir() or "__pycache__" in path.parts or path.suffix == ".py":
                continue
            package, rest = _package_of(path)
            patterns = TOOL["package-data"].get(package, [])
            if not any(fnmatch.fnmatch(rest, p) for p in patterns):
                missing.append(f"{path.relative_to(ROOT)} ({package}: {patterns})")
    assert not missing, missing


def test_every_python_package_is_listed() -> None:
    packages = {".".join(p.parent.relative_to(ROOT).parts)
                for p in (ROOT / "server").rglob("__init__.py")}
    assert packages <= set(TOOL["packages"]), sorted(packages - set(TOOL["packages"]))
