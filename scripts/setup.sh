#!/usr/bin/env bash
# Set up everything k2d3 needs on a fresh Debian machine, idempotently.
#   scripts/setup.sh          the service: a virtual environment with k2d3 installed
#   scripts/setup.sh --test   also the test tools: Java (HermiT), Chromium (page tests), wrk,
#                             Virtuoso (remote-engine tests)
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

# apt_install COMMAND:PACKAGE ...  installs PACKAGE where COMMAND is not on the PATH.
apt_install() {
  local missing=()
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

if [ $want_test -eq 1 ]; then
  # HermiT (owlready2) needs a JRE; page tests need Chromium; the benchmark needs wrk; the
  # remote-engine tests (tests/live/test_virtuoso.py) need Virtuoso open source.
  apt_install java:default-jre-headless chromium:chromium wrk:wrk fc-list:fontconfig \
    virtuoso-t:virtuoso-opensource
  # Chinese pages in the browser tests need a CJK font, or Chromium draws boxes.
  if ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then
    sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
    echo "installing Debian packages: fonts-noto-cjk"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends fonts-noto-cjk \
      || { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
           $sudo apt-get install -y -qq --no-install-recommends fonts-noto-cjk; }
  fi
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
# Install only when the project's metadata changed since the last install (or the test tools
# are wanted for the first time): the package is installed in editable mode, so code changes
# need no reinstall, and `make serve` starts at once.
extra=""; [ $want_test -eq 1 ] && extra="[test]"
stamp=.venv/.k2d3-installed
want="$(sha256sum pyproject.toml | cut -d' ' -f1) $extra"
if [ -f "$stamp" ] && { [ "$(cat "$stamp")" = "$want" ] || { [ -z "$extra" ] && [ "$(cat "$stamp")" = "${want}[test]" ]; }; }; then
  exit 0
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".$extra"
echo "$want" > "$stamp"
