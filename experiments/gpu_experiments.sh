#!/usr/bin/env bash
# GPU experiments of the harness issues (base pass@k on GSM8K test; GRPO / GRPO-KL / RL-rej with LoRA and
# pass@k over checkpoints), written as stages so that a run can be launched, watched and collected in pieces.
# The results recorded in docs/gpu_results.md were produced with this script on one H100.
#
#   bash experiments/gpu_experiments.sh launch  ROOT   # start base eval + three trainings in the background
#   bash experiments/gpu_experiments.sh status  ROOT   # progress of every job
#   bash experiments/gpu_experiments.sh evalckpt ROOT  # (after training) sample the checkpoints on the eval subset
#   bash experiments/gpu_experiments.sh report  ROOT   # pass@k tables: base (tmc eval) + pass@k vs steps (passk_vs_steps.md)
#   bash experiments/gpu_experiments.sh collect ROOT DEST  # tarball of metrics/figures/logs into DEST
#   bash experiments/gpu_experiments.sh snapshot ROOT DEST # base metrics so far (tmc eval on the partial store) + collect
#   bash experiments/gpu_experiments.sh stoptrain ROOT     # stop the trainings (their saved checkpoints stay)
#   bash experiments/gpu_experiments.sh pack ROOT DEST     # the sample stores as <=15 MB tar pieces (to resume elsewhere)
#   bash experiments/gpu_experiments.sh packckpt ROOT DEST # each training's last checkpoint (~60 MB each) as 15 MB pieces
#
# Knobs (environment): MODEL (smollm2), BASE_LIMIT (all 1319 test problems), EVAL_N (64), EVAL_LIMIT for checkpoints (200), BATCH (1024 rows),
# MAXTOK (256), TEMP (0.7), TOP_P of the checkpoint evals (1.0, as the base eval), EVAL_STEPS (all checkpoints;
# "last" = each run's latest; or a list), NO_BASE (1: checkpoint evals do not re-sample the base model),
# BASE_RUN (a finished base sample run with the same decoding: the checkpoint evals take step 0 from it, restricted
# to their problems, instead of sampling it), BASE_EVAL (1; 0 = launch starts the trainings only),
# TRAIN_STEPS (150), SAVE_STEPS (50), LR (5e-5), PDB (per-device batch in completions, 8) and GA (gradient
# accumulation, 1): one optimizer step sees PDB*GA/8 prompts x 8 completions, BETA_KL (0.05), METHODS
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
PDB=${PDB:-8}
GA=${GA:-1}
TOP_P=${TOP_P:-1.0}
EVAL_STEPS=${EVAL_STEPS:-}
NO_BASE=${NO_BASE:-0}
BASE_RUN=${BASE_RUN:-}
BASE_EVAL=${BASE_EVAL:-1}
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
  [ "$BASE_EVAL" = 1 ] && bg base_eval $TMC sample --config configs/sample_gsm8k_smollm2.yaml \
      --set model=$MODEL --set n=$EVAL_N --set batch_size=$BATCH --set max_new_tokens=$MAXTOK \
      --set temperature=$TEMP ${BASE_LIMIT:+--set limit=$BASE_LIMIT} --out "$ROOT/base_gsm8k_test"
  for m in $METHODS; do
    extra=""
    [ "$m" = grpo_kl ] && extra="--set beta=$BETA_KL"
    [ "$m" = rl_rej ] && extra="--set rej_mode=$REJ_MODE"
    bg "train_$m" $TMC train --config configs/train_grpo_gsm8k_smollm2.yaml --set method=$m --set model=$MODEL \
        --set max_steps=$TRAIN_STEPS --set save_steps=$SAVE_STEPS --set learning_rate=$LR \
        --set max_completion_length=$MAXTOK --set temperature=$TEMP --set output_dir="$ROOT/train_$m" \
        --set per_device_train_batch_size=$PDB --set gradient_accumulation_steps=$GA $extra
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
    base_flag="--no-base"; [ $first = 1 ] && [ "$NO_BASE" = 0 ] && base_flag=""; first=0
    [ -n "$BASE_RUN" ] && base_flag="--base-run $BASE_RUN"
    steps=$EVAL_STEPS
    if [ "$steps" = last ]; then
      steps=$(ls -d "$ROOT/train_$m"/checkpoint-* 2>/dev/null | sed 's/.*checkpoint-//' | sort -n | tail -n 1)
      [ -n "$steps" ] || { echo "train_$m: no checkpoint yet"; continue; }
    fi
    bg "evalckpt_$m" $TMC eval-checkpoints "$ROOT/train_$m" --limit $EVAL_LIMIT --n $EVAL_N \
        --batch-size $BATCH --temperature $TEMP --top-p $TOP_P --max-new-tokens $MAXTOK $base_flag \
        ${steps:+--steps $steps}
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
snapshot)  # what exists now, whatever is still running: base metrics on the finished problems + collect
  dest=${3:?snapshot needs a destination folder}
  [ -d "$ROOT/base_gsm8k_test/samples" ] && $TMC eval "$ROOT/base_gsm8k_test" --out "$ROOT/report_base" | tail -n 12
  bash "$0" collect "$ROOT" "$dest"
  ;;
stoptrain)
  pkill -f "harness.cli train" && sleep 5
  pgrep -fa "harness.cli train" || echo "no training running"
  ;;
pack)  # every sample store under ROOT (base eval, checkpoint evals, training completions) in <=15 MB pieces
  dest=${3:?pack needs a destination folder}
  (cd "$ROOT" && find . \( -path '*/samples/*' -o -name run.json \) -not -path '*/checkpoint-*' -print0 \
     | tar cf - --null -T - | split -b 15M -d - "$dest/stores.tar.part")
  ls -la "$dest"
  ;;
packckpt)  # to continue the trainings in a later lease: carry the pieces in, join, untar into ROOT, launch again
  dest=${3:?packckpt needs a destination folder}
  (cd "$ROOT" && for d in train_*; do ls -d "$d"/checkpoint-* 2>/dev/null | sort -t- -k2 -n | tail -n 1; done \
     | tar cf - -T - | split -b 15M -d - "$dest/ckpt.tar.part")
  ls -la "$dest"
  ;;
*) echo "unknown stage $stage; allowed: launch status evalckpt report collect snapshot stoptrain pack packckpt" >&2
   exit 2 ;;
esac
