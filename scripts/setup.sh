#!/usr/bin/env bash
# Install the assistant into .venv/ (idempotent). torch goes first, pinned, so pip takes the
# local CPU wheel instead of resolving a multi-GB CUDA build for sentence-transformers.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
stamp=.venv/.installed-$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q "torch==2.13.0"
  .venv/bin/pip install -q -e ".[test]"
  rm -f .venv/.installed-* && touch "$stamp"
fi
