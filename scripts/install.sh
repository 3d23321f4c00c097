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

# llama-cpp-python has no wheel on the registry, so pip compiles llama.cpp. By default that build
# targets the build machine's CPU (GGML_NATIVE), and such a binary dies with SIGILL ("Illegal
# instruction") on another CPU, or even on the same one: Intel Xeons advertise AMX that their VMs
# don't allow. So build for a fixed, portable baseline instead: x86-64-v3 (AVX2, FMA, F16C, BMI2),
# which every AMD EPYC and Intel Xeon of the last decade runs; no AVX-512, no AMX. llama.cpp's
# run-time CPU dispatch (GGML_BACKEND_DL + GGML_CPU_ALL_VARIANTS) would compile ggml's CPU code
# once per variant, several times the build time on two cores.
# pip caches built wheels by version, not by CMAKE_ARGS, so a cached native build would be reused:
# the build skips pip's cache and is stamped with its flags, and a change of flags rebuilds.
llama_version="0.3.36"
llama_cmake="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
[[ $(uname -m) != x86_64 ]] && llama_cmake="-DGGML_NATIVE=OFF"
llama_stamp=".venv/.llama-cpp-$(echo "$llama_version $llama_cmake" | sha1sum | cut -c1-12)"
if [[ ! -f $llama_stamp ]]; then
    echo "== building llama-cpp-python $llama_version for a portable CPU baseline (~5 min on 2 cores)"
    CMAKE_ARGS="$llama_cmake" $py -m pip install -q --no-cache-dir --force-reinstall \
        --no-binary llama-cpp-python "llama-cpp-python[server]==$llama_version"
    rm -f .venv/.llama-cpp-*
    touch "$llama_stamp"
fi

extras=""
[[ $want_test == 1 ]] && extras="[test]"
stamp=".venv/.installed-$(cat pyproject.toml | sha1sum | cut -c1-12)${extras:+-test}"
if [[ ! -f $stamp ]]; then
    echo "== installing the project${extras}"
    $py -m pip install -q -e ".${extras}"
    touch "$stamp"
fi
