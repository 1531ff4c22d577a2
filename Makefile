# The README's two commands are `make serve` and `make test`; the rest are steps of those.
.PHONY: setup setup-test serve build test lint audit reason validate bench clean

setup:
	scripts/setup.sh

setup-test:
	scripts/setup.sh --test

serve: setup
	.venv/bin/k2d3 serve $(ARGS)

build: setup
	.venv/bin/k2d3 build

validate: setup-test
	.venv/bin/k2d3 validate

reason: setup-test
	.venv/bin/k2d3 reason

lint: setup-test
	.venv/bin/ruff check server tests scripts benchmarks
	.venv/bin/mypy

# Known vulnerabilities in the installed dependencies; skips, saying so, without the service.
audit: setup-test
	.venv/bin/python scripts/audit.py

test: setup-test lint audit
	.venv/bin/python -m pytest -q $(ARGS)

bench: build
	.venv/bin/python scripts/bench_build.py
	.venv/bin/python scripts/bench_http.py --store $${K2D3_STORE:-$$HOME/.local/share/k2d3/store}
	.venv/bin/python scripts/bench_pages.py

clean:
	rm -rf .venv build *.egg-info
