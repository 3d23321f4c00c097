#!/usr/bin/env bash
# Set up (idempotent, test tools and chromium included) and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh --test
export GRADIO_ANALYTICS_ENABLED=False HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
for arg in "$@"; do  # tests named on the command line: run just those
    [[ "$arg" != -* ]] && exec .venv/bin/python -m pytest "$@"
done
# The browser tests serve the page from the test process itself; they get a process of their own,
# apart from the servers (uvicorn, MCP, Gradio) and threads the other modules start in theirs:
# in one process, late browser tests timed out in two fresh-clone runs and passed alone.
.venv/bin/python -m pytest "$@" --ignore=tests/test_ui_browser.py
exec .venv/bin/python -m pytest "$@" tests/test_ui_browser.py
