#!/usr/bin/env bash
# Install everything the tests need, run the test suite, then gate on the dev-set metrics.
set -euo pipefail
cd "$(dirname "$0")/.."
# The browser tests drive Debian's Chromium (never a downloaded browser) and need CJK fonts.
if [ ! -x /usr/bin/chromium ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk
fi
bash scripts/setup.sh
export HF_HUB_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1 GRADIO_ANALYTICS_ENABLED=False
.venv/bin/python -m pytest -q "$@"
.venv/bin/assistant eval evals/dev.jsonl --check evals/thresholds.json
