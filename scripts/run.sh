#!/usr/bin/env bash
# Set up (idempotent), index seeds/ into the embedded store (only what changed), and serve the chat
# page on http://127.0.0.1:7860. Extra arguments go to `rag chat` (e.g. --port 8080, --llm extractive).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
export GRADIO_ANALYTICS_ENABLED=False
.venv/bin/rag ingest seeds/
exec .venv/bin/rag chat "$@"
