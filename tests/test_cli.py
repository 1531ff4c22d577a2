"""server/cli.py: the ``k2d3`` command's subcommands, options, store resolution and errors."""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import re
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
    for command in ("build", "validate", "reason", "query", "serve", "load", "graphs"):
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


def test_load_then_graphs_and_a_bad_file(tmp_path: Path) -> None:
    """``k2d3 load`` and ``k2d3 graphs`` as run from a shell, on a new store."""
    store = tmp_path / "store"
    nt = tmp_path / "people.nt.gz"
    nt.write_bytes(gzip.compress("".join(
        f"<http://example.org/p{i}> <http://example.org/name> \"p{i}\" .\n"
        for i in range(25)).encode()))
    trig = tmp_path / "more.trig"
    trig.write_text("@prefix ex: <http://example.org/> .\n"
                    "ex:g { ex:a ex:b ex:c . ex:a ex:b ex:d }\n")
    done = k2d3("load", str(nt), str(trig), "--graph", "http://example.org/people",
                "--store", str(store))
    assert done.returncode == 1 and "names its own graphs" in done.stderr
    done = k2d3("load", str(nt), "--graph", "http://example.org/people", "--store", str(store))
    assert done.returncode == 0, done.stderr
    assert "25 triples" in done.stdout and "http://example.org/people" in done.stdout
    assert k2d3("load", str(trig), "--store", str(store)).returncode == 0
    listing = k2d3("graphs", "--store", str(store))
    assert listing.returncode == 0, listing.stderr
    lines = [re.split(r"\s{2,}", line.strip()) for line in listing.stdout.splitlines()]
    assert lines[0] == ["graph", "triples", "origin"]
    rows = {row[0]: row[1:] for row in lines[1:]}
    assert rows == {"(default graph)": ["0", "default"],
                    "http://example.org/people": ["25", f"loaded from {nt.as_uri()}"],
                    "http://example.org/g": ["2", f"loaded from {trig.as_uri()}"],
                    # two statements for each graph loaded: its file and the time
                    "https://w3id.org/k2d3/graph/loads": ["4", "k2d3 (load records)"]}
    bad = tmp_path / "bad.nq"
    bad.write_text('<http://example.org/s> <http://example.org/p> "x" <http://example.org/g> .\n'
                   '<http://example.org/s> <http://example.org/p> "y" <http://example.org/g> x .\n')
    failed = k2d3("load", str(bad), "--store", str(store))
    assert failed.returncode == 1
    assert failed.stderr.startswith(f"k2d3 load: {bad}:2:")
    assert failed.stderr.rstrip().endswith("the store is as it was")
    assert k2d3("graphs", "--store", str(store)).stdout == listing.stdout


def load_in_child(file: Path, store: Path) -> tuple[float, int]:
    """CPU seconds and peak RSS (KiB) of a ``k2d3 load`` of ``file`` in a process of its own
    (a child of a fresh interpreter, so no earlier child's peak counts), with 1 MiB blocks so
    that both sizes measured span many blocks."""
    code = (
        "import resource, subprocess, sys\n"
        "subprocess.run([sys.executable, '-c', 'import sys; import server.build.load as l; "
        "l.BLOCK = 1 << 20; from server.cli import main; sys.exit(main(sys.argv[1:]))', "
        f"'load', {str(file)!r}, '--store', {str(store)!r}], check=True, "
        "stdout=subprocess.DEVNULL)\n"
        "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(u.ru_utime + u.ru_stime, u.ru_maxrss)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                         timeout=300, check=True).stdout.split()
    return float(out[0]), int(out[1])


def test_load_time_grows_linearly_and_memory_does_not(tmp_path: Path) -> None:
    measured = {}
    for n in (50_000, 250_000):
        file = tmp_path / f"{n}.nt"
        with open(file, "w") as out:
            for i in range(n):
                out.write(f'<http://e.org/s{i}> <http://e.org/p{i % 50}> "{i}" .\n')
        measured[n] = load_in_child(file, tmp_path / f"store-{n}")
    (small_cpu, small_rss), (big_cpu, big_rss) = measured[50_000], measured[250_000]
    assert big_cpu < 5 * small_cpu * 1.6, measured  # 5x the data; quadratic would be 25x
    assert big_rss < small_rss * 1.25 + 20_000, measured  # KiB
