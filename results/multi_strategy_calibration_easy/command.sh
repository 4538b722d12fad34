#!/usr/bin/env bash
# The calibration sample of data/multi_strategy_easy (`--level easy`): SmolLM2-135M-Instruct, the first
# 24 test problems x 8 samples, T = 0.7, top-p 1, 128 new tokens, chat template (the same zero-shot user turn as
# data/easy_arith), float32, one torch thread. Run once from the repository root (made with this script).
set -euo pipefail
export HF_HUB_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1
PY=${PY:-python}
$PY scripts/make_multi_strategy.py --level easy   # data/multi_strategy_easy/{train,test}.jsonl (committed)
$PY -m harness.cli sample --config configs/sample_gsm8k_smollm2.yaml \
  --set source=data/multi_strategy_easy/test.jsonl --set limit=24 --set n=8 --set temperature=0.7 \
  --set max_new_tokens=128 --set batch_size=16 --set dtype=float32 \
  --set out=results/multi_strategy_calibration_easy/run --threads 1
# Analysis (strategy matching by derived values, and the path table with that clustering):
$PY scripts/multi_strategy_calibration.py results/multi_strategy_calibration_easy/run \
  --data data/multi_strategy_easy/test.jsonl --out results/multi_strategy_calibration_easy
# Path table with the package core's clustering (harness.paths.cluster_paths), which was not on this branch: it was run
# with harness/paths/{__init__,arith,latex,numbers}.py copied from /work/main at commit f54a101 onto a copy of this
# branch's harness/ (PYTHONPATH=<that copy>:<repo>), writing paths_core/:
# $PY -m harness.cli paths results/multi_strategy_calibration_easy/run --out results/multi_strategy_calibration_easy/paths_core
