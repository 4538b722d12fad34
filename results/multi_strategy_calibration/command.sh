#!/usr/bin/env bash
# The calibration sample of data/multi_strategy: SmolLM2-135M-Instruct, 16 test problems x 8
# samples, T = 0.7, top-p 1, 160 new tokens, chat template, one torch thread. Run once from the repository root.
# The run was made (once) with --set source=data/multi_strategy/test.jsonl at commit 2e2d5f7, before the generator
# redrew problems whose strategies cannot be told apart by their derived values (commit 324f8ba); the 16 problems it
# sampled are problems.jsonl (those lines verbatim). To redo it on the same problems, use source=problems.jsonl as
# below (same records, so the same prompts, problem ids and per-sample seeds; the config hash differs, so
# give another --set out= folder to redo it).
set -euo pipefail
export HF_HUB_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1
python -m harness.cli sample --config configs/sample_gsm8k_smollm2.yaml \
  --set source=results/multi_strategy_calibration/problems.jsonl --set limit=16 --set n=8 --set temperature=0.7 \
  --set max_new_tokens=160 --set batch_size=16 --set dtype=float32 \
  --set out=results/multi_strategy_calibration/run --threads 1
# (took 39 min wall, 8.5 min CPU incl. the one-off model preparation, on the shared 2-core machine; log.txt)
# Analysis (strategy matching by derived values, and the path table with that clustering):
python scripts/multi_strategy_calibration.py results/multi_strategy_calibration/run \
  --data results/multi_strategy_calibration/problems.jsonl --out results/multi_strategy_calibration
