#!/usr/bin/env bash
# GPU experiments of the harness issues (base pass@k on GSM8K test; GRPO / GRPO-KL / RL-rej with LoRA and
# pass@k over checkpoints), written as stages so that a run can be launched, watched and collected in pieces.
# The results recorded in docs/gpu_results.md were produced with this script on one H100.
#
#   bash scripts/gpu_experiments.sh launch  ROOT   # start base eval + three trainings in the background
#   bash scripts/gpu_experiments.sh status  ROOT   # progress of every job
#   bash scripts/gpu_experiments.sh evalckpt ROOT  # (after training) sample the checkpoints on the eval subset
#   bash scripts/gpu_experiments.sh report  ROOT   # pass@k tables: base (tmc eval) + pass@k vs steps (passk_vs_steps.md)
#   bash scripts/gpu_experiments.sh collect ROOT DEST  # tarball of metrics/figures/logs into DEST
#
# Knobs (environment): MODEL (smollm2), BASE_LIMIT (all 1319 test problems), EVAL_N (64), EVAL_LIMIT for checkpoints (200), BATCH (1024 rows),
# MAXTOK (256), TEMP (0.7), TRAIN_STEPS (150), SAVE_STEPS (50), LR (5e-5), BETA_KL (0.05), METHODS
# ("grpo grpo_kl rl_rej"), REJ_MODE (leave_out: the paper's RL-rej rule; or in_loop, the DAPO-style refill used in
# the first GPU run), TMC (command prefix, default `python3 -m harness.cli`).
set -uo pipefail
stage=${1:?stage: launch|status|evalckpt|report}
ROOT=${2:?ROOT output folder}
MODEL=${MODEL:-smollm2}
EVAL_N=${EVAL_N:-64}
EVAL_LIMIT=${EVAL_LIMIT:-200}
BATCH=${BATCH:-1024}
MAXTOK=${MAXTOK:-256}
TEMP=${TEMP:-0.7}
TRAIN_STEPS=${TRAIN_STEPS:-150}
SAVE_STEPS=${SAVE_STEPS:-50}
LR=${LR:-5e-5}
BETA_KL=${BETA_KL:-0.05}
METHODS=${METHODS:-grpo grpo_kl rl_rej}
REJ_MODE=${REJ_MODE:-leave_out}
TMC=${TMC:-python3 -m harness.cli}
mkdir -p "$ROOT"

bg() {  # run "$@" detached in its own session (outlives the calling shell), log to $ROOT/<name>.log
  local name=$1; shift
  setsid nohup bash -c "$* > '$ROOT/$name.log' 2>&1; echo \"EXIT \$?\" >> '$ROOT/$name.log'" >/dev/null 2>&1 &
}

case "$stage" in
launch)
  bg base_eval $TMC sample --config configs/sample_gsm8k_smollm2.yaml \
      --set model=$MODEL --set n=$EVAL_N --set batch_size=$BATCH --set max_new_tokens=$MAXTOK \
      --set temperature=$TEMP ${BASE_LIMIT:+--set limit=$BASE_LIMIT} --out "$ROOT/base_gsm8k_test"
  for m in $METHODS; do
    extra=""
    [ "$m" = grpo_kl ] && extra="--set beta=$BETA_KL"
    [ "$m" = rl_rej ] && extra="--set rej_mode=$REJ_MODE"
    bg "train_$m" $TMC train --config configs/train_grpo_gsm8k_smollm2.yaml --set method=$m --set model=$MODEL \
        --set max_steps=$TRAIN_STEPS --set save_steps=$SAVE_STEPS --set learning_rate=$LR \
        --set max_completion_length=$MAXTOK --set temperature=$TEMP --set output_dir="$ROOT/train_$m" $extra
  done
  ;;
status)
  for f in "$ROOT"/*.log; do
    [ -f "$f" ] || continue
    echo "== $(basename "$f"): $(tail -c 400 "$f" | tr '\r' '\n' | grep -v '^\s*$' | tail -n 2 | tr '\n' ' ')"
  done
  for d in "$ROOT"/train_*; do [ -d "$d" ] && echo "$(basename "$d"): $(ls -d "$d"/checkpoint-* 2>/dev/null | xargs -n1 basename 2>/dev/null | tr '\n' ' ')"; done
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader
  ;;
evalckpt)
  first=1
  for m in $METHODS; do
    base_flag="--no-base"; [ $first = 1 ] && base_flag=""; first=0
    bg "evalckpt_$m" $TMC eval-checkpoints "$ROOT/train_$m" --limit $EVAL_LIMIT --n $EVAL_N \
        --batch-size $BATCH --temperature $TEMP --max-new-tokens $MAXTOK $base_flag
  done
  ;;
report)
  [ -d "$ROOT/base_gsm8k_test" ] && $TMC eval "$ROOT/base_gsm8k_test" --out "$ROOT/report_base"
  runs=()
  for m in $METHODS; do
    [ -f "$ROOT/train_$m/eval_report/checkpoints_metrics.json" ] && runs+=("$ROOT/train_$m")
  done
  if [ ${#runs[@]} -gt 0 ]; then  # the pass@k-vs-steps table (base first), also kept as a file
    $TMC eval-checkpoints "${runs[0]}" --table "${runs[@]:1}" | tee "$ROOT/passk_vs_steps.md"
  fi
  ;;
collect)  # small files only: metrics, figures, logs, training metrics (not the sample stores)
  dest=${3:?collect needs a destination folder}
  (cd "$ROOT" && find . \( -name '*.json' -o -name '*.png' -o -name '*.log' -o -name '*.jsonl' -o -name '*.md' \) \
      -not -path '*/checkpoint-*' -not -path '*/final/*' -print0 | tar czf "$dest/gpu_results.tgz" --null -T -)
  ls -la "$dest"
  ;;
*) echo "unknown stage $stage; allowed: launch status evalckpt report" >&2; exit 2 ;;
esac
