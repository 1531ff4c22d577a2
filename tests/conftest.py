"""Shared fixtures: a store built once from the real sources, an app over it, a live server.

The live server is the real thing: ``k2d3 serve`` (gunicorn) on a free loopback port, over a
copy of the built store so that tests which write cannot disturb the others.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from server import create_app
from server.build.pipeline import build
from server.config import Settings, load_settings

UPDATE_TOKEN = "test-token"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]


@pytest.fixture(scope="session")
def built_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store built once per session from the shipped sources (validated)."""
    root = tmp_path_factory.mktemp("store") / "store"
    build(load_settings(env={}, store=root))
    return root


def copy_store(source: Path, target: Path) -> Path:
    """A private copy of a built store (the ``current`` symlink is relative, so it survives)."""
    shutil.copytree(source, target, symlinks=True, ignore=shutil.ignore_patterns("lock"))
    return target


@pytest.fixture(scope="session")
def settings(built_store: Path) -> Settings:
    return load_settings(env={}, store=built_store)


@pytest.fixture(scope="session")
def app(settings: Settings):  # type: ignore[no-untyped-def]
    return create_app(settings)


@pytest.fixture()
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(store: Path, env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    """Run ``k2d3 serve`` on a free port over ``store``; return the process and its base URL."""
    port = free_port()
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("K2D3_")}
    child_env |= {"K2D3_UPDATE_TOKEN": UPDATE_TOKEN} | (env or {})
    proc = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--store", str(store), "--port", str(port)],
        env=child_env,
        cwd=Path(__file__).resolve().parent.parent,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_up(proc, url)
    except RuntimeError:
        proc.kill()
        raise
    return proc, url


def wait_up(proc: subprocess.Popen, url: str, seconds: float = 60) -> None:
    """Wait until the server at ``url`` answers a query (or its process exits)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        try:
            if requests.get(url + "/sparql", params={"query": "ASK {}"}, timeout=2).ok:
                return
        except (requests.ConnectionError, requests.Timeout):  # not up, or still booting
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the server did not come up within {seconds} s")


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def live_server(built_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a real ``k2d3 serve`` over a copy of the built store, token ``test-token``."""
    store = copy_store(built_store, tmp_path_factory.mktemp("live") / "store")
    proc, url = start_server(store)
    yield url
    stop_server(proc)


@pytest.fixture(scope="session")
def chromium():  # type: ignore[no-untyped-def]
    """Debian's Chromium, headless, driven by Playwright."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (see .ci/run)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Groups to run apart (``pytest -m live``, ``-m "not live"``, ``-m browser``, ``-m w3c``):
    everything under ``tests/live/`` or using a real server is ``live``; Chromium tests are
    ``browser``; the W3C suites are ``w3c``."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        path = Path(str(item.fspath))
        if "live" in path.parts or fixtures & {"live_server", "open_page", "endpoint"}:
            item.add_marker(pytest.mark.live)
        if fixtures & {"open_page", "browser"}:
            item.add_marker(pytest.mark.browser)
        if path.name.startswith("test_w3c_"):
            item.add_marker(pytest.mark.w3c)
