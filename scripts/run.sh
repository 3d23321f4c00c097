#!/usr/bin/env bash
# Set up (idempotent), index seeds/ into the embedded store (only what changed), answer a sample question.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
export GRADIO_ANALYTICS_ENABLED=False
.venv/bin/rag ingest seeds/
.venv/bin/rag ask "How many prisoners did each side exchange in Istanbul?"
