"""Screenshots of k2d3's main pages at a desktop and a phone width, in English and Chinese.

    .venv/bin/python scripts/screenshots.py [--store PATH] [--out build/screenshots]

Starts ``k2d3 serve`` on a free local port (over ``--store``, else a store built into a
temporary folder), opens each page in Debian's Chromium (``/usr/bin/chromium``, headless) at
1280 x 800 and 390 x 844, in both languages, and writes full-page PNGs named
``<page>-<width>-<lang>.png``, so anyone can look at the pages without running a browser.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
WIDTHS = {"1280": {"width": 1280, "height": 800}, "390": {"width": 390, "height": 844}}
PAGES = {
    "home": "/", "verdict": "/queries/verdict", "catalogue": "/queries",
    "author-positions": "/queries/author-positions", "evidence-gaps": "/queries/evidence-gaps",
    "evidence-map": "/queries/evidence-map", "claim": "/id/claim-d3-k2-fractures",
    "source": "/source", "search": "/search?q=fracture", "editor": "/sparql",
    "ontology": "/ontology", "api": "/openapi",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(store: Path, port: int) -> subprocess.Popen[bytes]:
    k2d3 = Path(sys.executable).with_name("k2d3")
    proc = subprocess.Popen([str(k2d3), "serve", "--store", str(store), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return proc
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(f"k2d3 serve exited with {proc.returncode}") from None
            time.sleep(0.5)
    proc.terminate()
    raise SystemExit("k2d3 serve did not answer /healthz in 300 s")


def shoot(base: str, out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    written = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        for width, viewport in WIDTHS.items():
            for lang in ("en", "zh"):
                context = browser.new_context(viewport=viewport,
                                              locale="zh-CN" if lang == "zh" else "en-GB")
                page = context.new_page()
                for name, path in PAGES.items():
                    url = base + path + (("&" if "?" in path else "?") + "lang=zh"
                                         if lang == "zh" else "")
                    page.goto(url, wait_until="networkidle")
                    target = out / f"{name}-{width}-{lang}.png"
                    page.screenshot(path=str(target), full_page=True)
                    written.append(target)
                context.close()
        browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--store", type=Path, help="a built store (default: build one)")
    parser.add_argument("--out", type=Path, default=Path("build/screenshots"))
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing: install Debian's chromium", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        store = args.store or Path(tmp) / "store"
        port = free_port()
        proc = serve(store, port)
        try:
            written = shoot(f"http://127.0.0.1:{port}", args.out)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    print(f"wrote {len(written)} screenshots to {args.out}{os.sep}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
