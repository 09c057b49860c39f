#!/usr/bin/env bash
# Quick start: install, then open the chat (the clause index is built on first run).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/assistant chat "$@"
