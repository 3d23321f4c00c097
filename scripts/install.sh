#!/usr/bin/env bash
# Installs everything into .venv/ in the project root. Idempotent: a second run reuses what is there.
#   scripts/install.sh          the app
#   scripts/install.sh --test   the app, the test tools, and Debian's chromium for the browser tests
set -euo pipefail
cd "$(dirname "$0")/.."
want_test=0
[[ "${1:-}" == "--test" ]] && want_test=1

if [[ $want_test == 1 ]] && ! command -v chromium >/dev/null 2>&1; then
    echo "== installing Debian's chromium (browser tests)"
    sudo_cmd=""
    [[ $(id -u) != 0 ]] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium >/dev/null
fi

if [[ ! -x .venv/bin/python ]]; then
    echo "== creating .venv"
    python3.11 -m venv .venv 2>/dev/null || python3 -m venv .venv
fi
py=.venv/bin/python

# torch first, pinned to the CPU build: a bare "torch" requirement would pull several GB of CUDA.
if ! $py -c "import torch" 2>/dev/null; then
    echo "== installing torch (CPU build)"
    $py -m pip install -q --upgrade pip
    $py -m pip install -q torch==2.13.0
fi

extras=""
[[ $want_test == 1 ]] && extras="[test]"
stamp=".venv/.installed-$(cat pyproject.toml | sha1sum | cut -c1-12)${extras:+-test}"
if [[ ! -f $stamp ]]; then
    echo "== installing the project${extras} (llama-cpp-python builds from source the first time: ~11 min)"
    $py -m pip install -q -e ".${extras}"
    touch "$stamp"
fi
