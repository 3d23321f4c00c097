#!/usr/bin/env bash
# Set up (idempotent) and index seeds/ into the embedded store (only what changed is embedded).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
export GRADIO_ANALYTICS_ENABLED=False
.venv/bin/rag ingest seeds/
