"""A plain ``pip install .`` gives a ``k2d3`` that works from any directory."""

from __future__ import annotations

import subprocess
import sysconfig
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with k2d3 installed from this checkout (not editable)."""
    env_dir = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(with_pip=True).create(env_dir)
    # The dependencies come from the test run's own environment: a plain path in a .pth file
    # (its own .pth files, such as an editable install's finder, are not processed).
    site = subprocess.run([env_dir / "bin" / "python", "-c",
                           "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    parents = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    Path(site, "k2d3_test_deps.pth").write_text("\n".join(sorted(parents)) + "\n")
    subprocess.run([env_dir / "bin" / "python", "-m", "pip", "install", "-q", "--no-deps",
                    str(REPO)], check=True, cwd=env_dir)
    return env_dir


def run(installed: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": f"{installed / 'bin'}:/usr/bin:/bin", "HOME": str(cwd)}
    return subprocess.run([str(installed / "bin" / "k2d3"), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_the_package_ships_its_data(installed: Path, tmp_path: Path) -> None:
    code = ("import server.paths as p; print(p.ontology_dir()); print(p.source_article().exists())")
    out = subprocess.run([str(installed / "bin" / "python"), "-c", code], cwd=tmp_path,
                         capture_output=True, text=True, check=True).stdout.split()
    assert str(REPO) not in out[0], "the installed package must not read the checkout"
    assert out[1] == "True"


def test_build_and_query_from_elsewhere(installed: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    assert run(installed, "--help", cwd=tmp_path).returncode == 0
    built = run(installed, "build", "--store", str(store), cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    query = ("SELECT (COUNT(*) AS ?n) WHERE { GRAPH <https://w3id.org/k2d3/graph/data> "
             "{ ?s ?p ?o } }")
    answer = run(installed, "query", "--store", str(store), "--format", "csv", query,
                 cwd=tmp_path)
    assert answer.returncode == 0, answer.stderr
    assert int(answer.stdout.splitlines()[1]) > 100


def test_default_store_is_the_per_user_data_directory(installed: Path, tmp_path: Path) -> None:
    built = run(installed, "build", cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    assert (tmp_path / ".local" / "share" / "k2d3" / "store" / "current").is_dir()



def test_installed_app_serves_its_templates_and_static_files(installed: Path,
                                                             tmp_path: Path) -> None:
    store = tmp_path / "store"
    assert run(installed, "build", "--store", str(store), cwd=tmp_path).returncode == 0
    code = (
        "import sys\n"
        "from server import create_app, load_settings\n"
        f"app = create_app(load_settings(env={{}}, store={str(store)!r}))\n"
        "client = app.test_client()\n"
        "for path in ('/', '/queries', '/ontology', '/source', '/static/k2d3.css',\n"
        "             '/static/yasgui/yasgui.min.js'):\n"
        "    response = client.get(path, headers={'Accept': 'text/html'})\n"
        "    print(path, response.status_code)\n"
        "    response.close()\n"
    )
    done = subprocess.run([str(installed / "bin" / "python"), "-c", code], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    statuses = dict(line.rsplit(" ", 1) for line in done.stdout.splitlines())
    assert statuses == {path: "200" for path in statuses} and len(statuses) == 6, statuses
