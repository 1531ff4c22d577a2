"""server/cli.py: the ``k2d3`` command's subcommands, options, store resolution and errors."""

from __future__ import annotations

import csv
import io
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DATA_GRAPH = "https://w3id.org/k2d3/graph/data"
COUNT = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{DATA_GRAPH}> {{ ?s ?p ?o }} }}"


def k2d3(*args: str, env: dict[str, str] | None = None, stdin: str | None = None,
         cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("K2D3_")}
    return subprocess.run([sys.executable, "-m", "server.cli", *args], cwd=cwd,
                          env=base | (env or {}), input=stdin, capture_output=True, text=True,
                          timeout=600)


def test_help_names_every_command() -> None:
    out = k2d3("--help").stdout
    for command in ("build", "validate", "reason", "query", "serve"):
        assert command in out
    assert "K2D3_STORE" in k2d3("build", "--help").stdout
    assert "--format" in k2d3("query", "--help").stdout


@pytest.mark.parametrize(
    ("fmt", "check"),
    [
        ("json", lambda out: int(json.loads(out)["results"]["bindings"][0]["n"]["value"])),
        ("csv", lambda out: int(list(csv.reader(io.StringIO(out)))[1][0])),
        ("tsv", lambda out: int(out.splitlines()[1].split("^^")[0].strip('"'))),
        ("xml", lambda out: int(out.split("<literal")[1].split(">")[1].split("<")[0])),
    ],
)
def test_query_formats(built_store: Path, fmt: str, check) -> None:  # type: ignore[no-untyped-def]
    done = k2d3("query", "--store", str(built_store), "--format", fmt, COUNT)
    assert done.returncode == 0, done.stderr
    assert check(done.stdout) > 100


def test_query_from_file_and_stdin_and_environment(built_store: Path, tmp_path: Path) -> None:
    rq = tmp_path / "count.rq"
    rq.write_text(COUNT)
    from_file = k2d3("query", "--format", "csv", f"@{rq}", env={"K2D3_STORE": str(built_store)})
    from_stdin = k2d3("query", "--store", str(built_store), "--format", "csv", "-", stdin=COUNT)
    assert from_file.returncode == 0 and from_stdin.returncode == 0, from_file.stderr
    assert from_file.stdout == from_stdin.stdout


def test_construct_prints_turtle(built_store: Path) -> None:
    done = k2d3("query", "--store", str(built_store),
                "CONSTRUCT { ?s a ?c } WHERE { GRAPH <https://w3id.org/k2d3/graph/ontology> "
                "{ ?s a ?c } } LIMIT 3")
    assert done.returncode == 0, done.stderr
    import rdflib

    assert len(rdflib.Graph().parse(data=done.stdout, format="turtle")) == 3


def test_query_errors_are_clear(built_store: Path, tmp_path: Path) -> None:
    bad = k2d3("query", "--store", str(built_store), "SELECT ?x WHERE { ?x ")
    assert bad.returncode == 2
    assert "syntax error" in bad.stderr and "Traceback" not in bad.stderr
    missing = k2d3("query", "--store", str(tmp_path / "none"), "ASK {}")
    assert missing.returncode == 2
    assert "k2d3 build" in missing.stderr and "Traceback" not in missing.stderr
    wrong = k2d3("query", "--store", str(built_store), "--format", "turtle", "ASK {}")
    assert wrong.returncode == 2 and "not a format" in wrong.stderr


def test_build_reports_and_uses_the_environment(tmp_path: Path) -> None:
    done = k2d3("build", env={"K2D3_STORE": str(tmp_path / "env-store")})
    assert done.returncode == 0, done.stderr
    assert "built" in done.stdout and "data" in done.stdout
    assert (tmp_path / "env-store" / "current").is_dir()


def test_validate_passes_on_the_shipped_sources() -> None:
    done = k2d3("validate")
    assert done.returncode == 0, done.stdout + done.stderr


def test_serve_says_where_it_serves_once_ready(built_store: Path) -> None:
    """First contact: the URL on standard output when gunicorn listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "server.cli", "serve", "--store",
                             str(built_store), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    with proc:
        try:
            line = proc.stdout.readline()  # type: ignore[union-attr]
            assert line.startswith(f"k2d3 is serving on http://127.0.0.1:{port}/"), line
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def test_serve_on_a_taken_port_says_so_in_one_line(built_store: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "server.cli", "serve", "--store",
                               str(built_store), "--port", str(port)],
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert time.monotonic() - started < 20, "no retries"
    lines = done.stderr.strip().splitlines()
    assert lines == [f"k2d3 serve: port {port} on 127.0.0.1 is already in use; pick another "
                     f"with --port (for example: k2d3 serve --port {port + 1})"]
