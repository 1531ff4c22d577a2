"""A Virtuoso open source server for the tests: Debian's ``virtuoso-opensource`` on loopback,
its database under a temporary folder, with k2d3's graphs pushed into it.

It reuses ``benchmarks/virtuoso.py`` (install, settings, start, stop: one harness for the
benchmarks and the tests). ``make test`` installs the package (``scripts/setup.sh --test``);
a test using it is skipped, saying why, only where Virtuoso can be neither found nor installed
(no root) or does not start.

Virtuoso's endpoints (7.2.5, a new database, user ``dba`` with password ``dba``):

- ``/sparql``: queries, anonymous; SPARQL Update there needs the ``SPARQL_UPDATE`` role, which
  the anonymous user lacks (``SR186: No permission to execute procedure
  DB.DBA.SPARQL_INSERT_DICT_CONTENT``);
- ``/sparql-auth``: queries and updates, HTTP digest authentication;
- ``/sparql-graph-crud-auth``: the Graph Store protocol, digest (``/sparql-graph-crud`` is
  anonymous and read-only: a PUT gets 403).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import virtuoso as harness  # noqa: E402

USER = PASSWORD = "dba"


@dataclass
class Engine:
    """A running Virtuoso and its URLs."""

    server: harness.Virtuoso
    version: str

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.http_port}"

    @property
    def query_url(self) -> str:
        return self.base + "/sparql"

    @property
    def auth_url(self) -> str:
        return self.base + "/sparql-auth"

    @property
    def store_url(self) -> str:
        return self.base + "/sparql-graph-crud-auth"

    def restart(self) -> None:
        """Stop and start again over the same database (new ports)."""
        self.server.stop()
        self.server = start(self.server.folder)


def start(folder: Path) -> harness.Virtuoso:
    """A small Virtuoso (20,000 buffers, 160 MB) over ``folder``; skip if it cannot start."""
    try:
        return harness.Virtuoso.start(folder, buffers=20_000, threads=8, timeout=60)
    except (harness.VirtuosoError, OSError) as exc:
        pytest.skip(f"Virtuoso does not start here: {exc}")


def installed() -> str:
    """Virtuoso's version line; skip when it is missing and cannot be installed."""
    try:
        return harness.ensure_installed()
    except (harness.VirtuosoError, subprocess.CalledProcessError, OSError) as exc:
        pytest.skip(f"Virtuoso open source cannot be installed here ({exc}); "
                    "install it with: apt-get install virtuoso-opensource")


@pytest.fixture(scope="module")
def virtuoso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A new, empty Virtuoso for the module, stopped (only its own process) after."""
    version = installed()
    engine = Engine(start(tmp_path_factory.mktemp("virtuoso") / "db"), version)
    try:
        yield engine
    finally:
        engine.server.stop()
