#!/usr/bin/env bash
# Pilot of a longer design (log/2026-12-07.md, fifth session, pre-registered): GRPO for 48 steps instead of 16 (same
# warm start, data, batch and lr 1e-4; linear decay over 48 steps, so not a continuation of the 16-step runs),
# 2 seeds side by side (one torch thread each), evaluated at steps 16, 32, 48 against the same base samples
# (runs/ms/base_test); step 48 is the step compared, fixed before the runs. Resumable: each stage skips what exists.
#   bash experiments/multi_strategy_rl/long48.sh [train|eval|tables|all]
set -euo pipefail
TMC=${TMC:-.venv/bin/tmc}
export HF_HUB_OFFLINE=1 PYTHONPATH=${PYTHONPATH:-$PWD}
R=runs/ms48
BASE=runs/ms/base_test
OUT=results/multi_strategy_rl/long48
CFG=configs/train_grpo_multistrategy_cpu.yaml
SEEDS=${SEEDS:-"0 1"}
stage=${1:-all}
mkdir -p "$R" "$OUT"
if [[ $stage == train || $stage == all ]]; then
  pids=()
  for s in $SEEDS; do
    [[ -d $R/grpo_s$s/checkpoint-48 ]] && continue
    OMP_NUM_THREADS=1 $TMC train --config $CFG --set seed="$s" --set max_steps=48 --set save_steps=16 \
      --set output_dir="$R/grpo_s$s" > "$R/grpo_s$s.train.log" 2>&1 & pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
fi
if [[ $stage == eval || $stage == all ]]; then
  for s in $SEEDS; do
    $TMC eval-checkpoints "$R/grpo_s$s" --steps 16 32 48 --source data/multi_strategy/test.jsonl --limit 64 --n 8 \
      --temperature 0.7 --top-p 1.0 --max-new-tokens 64 --seed 0 --base-run $BASE --batch-size 64 --threads 2
  done
fi
if [[ $stage == tables || $stage == all ]]; then
  dirs=(); for s in $SEEDS; do dirs+=("$R/grpo_s$s"); done
  $TMC eval-checkpoints "${dirs[0]}" --table "${dirs[@]:1}" > $OUT/steps_table.md
  for d in "${dirs[@]}"; do
    mkdir -p "$OUT/$(basename "$d")"
    cp "$d"/eval_report/*.json "$d"/eval_report/*.png "$d"/eval_report/*.md "$d"/train_run.json \
      "$OUT/$(basename "$d")/" 2>/dev/null || true
  done
  $TMC analyze strategy_mass "${dirs[@]}" --base $BASE --data data/multi_strategy/test.jsonl \
    --warmstart runs/ms/warmstart_mix75/warmstart.json --out $OUT/strategy_mass
  # theory beside the runs (as analyze.sh): trees fitted to the base's paths, path mass vs prediction at equal movement
  rargs=(); for d in "${dirs[@]}"; do rargs+=("$d/eval_report/checkpoints_metrics.json=$d"); done
  $TMC theory-fit $BASE --out $OUT/theory_fit_runs --methods grpo --group-size 8 --beta 0.1 --selector-n \
    --runs "${rargs[@]}"
fi
