"""scripts/audit.py: a known vulnerability fails ``make test``; an audit that could not reach
its service says it was skipped instead of passing in silence."""

from __future__ import annotations

import importlib.util
import json
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "audit.py"


@pytest.fixture()
def audit() -> ModuleType:
    spec = importlib.util.spec_from_file_location("audit_script", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def reporting(stdout: str, stderr: str = "", code: int = 0) -> Any:
    def run(*_args: Any, **_kwargs: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess([], code, stdout, stderr)
    return run


VULNERABLE = {"dependencies": [
    {"name": "flask", "version": "3.1.3", "vulns": []},
    {"name": "oldlib", "version": "1.0", "vulns": [
        {"id": "PYSEC-2099-1", "fix_versions": ["1.1"], "aliases": [], "description": "x"}]},
], "fixes": []}
NOT_AUDITED = {"dependencies": [
    {"name": "flask", "skip_reason": "Dependency not found on PyPI and could not be audited"},
], "fixes": []}
CLEAN = {"dependencies": [{"name": "flask", "version": "3.1.3", "vulns": []}], "fixes": []}


@pytest.mark.parametrize(("stdout", "stderr", "code", "said"), [
    (json.dumps(VULNERABLE), "", 1, "oldlib 1.0: PYSEC-2099-1 (fixed in 1.1)"),
    (json.dumps(NOT_AUDITED), "", 0, "SKIPPED"),
    ("", "ConnectionError: Failed to resolve 'api.osv.dev'", 0, "SKIPPED"),
    (json.dumps(CLEAN), "", 0, "1 dependencies audited, no known vulnerabilities"),
], ids=["vulnerable", "service-unreachable", "network-error", "clean"])
def test_the_audit_fails_only_on_a_known_vulnerability(
        audit: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        stdout: str, stderr: str, code: int, said: str) -> None:
    monkeypatch.setattr(audit.subprocess, "run", reporting(stdout, stderr, code))
    assert audit.main() == code
    assert said in capsys.readouterr().out
