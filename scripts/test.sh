#!/usr/bin/env bash
# Install everything the tests need, run the test suite, then gate on the dev-set metrics.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1 GRADIO_ANALYTICS_ENABLED=False
.venv/bin/python -m pytest -q "$@"
.venv/bin/assistant eval evals/dev.jsonl --check evals/thresholds.json
