#!/usr/bin/env bash
# Tables of the multi-strategy experiment (docs/multi_strategy_rl.md) from finished runs and evaluations.
# Run from the repository root after run.sh train + eval. Step 16 (the last) is the step compared, fixed in advance.
set -euo pipefail
TMC=${TMC:-.venv/bin/tmc}
export HF_HUB_OFFLINE=1
R=runs/ms
OUT=results/multi_strategy_rl
RUNS=${RUNS:-"grpo:0 rej:0 grpo_kl:0 grpo:1 rej:1 grpo_kl:1 rej:2 grpo:2 grpo_kl:2 grpo:3 rej:3 grpo_kl:3"}
# the seed table pairs each rule with GRPO of the same seed (every run in it needs its GRPO partner)
PAIRED_RUNS=${PAIRED_RUNS:-$RUNS}
dirs=(); for rs in $RUNS; do dirs+=("$R/${rs%%:*}_s${rs##*:}"); done
# pass@k and path mass vs step, every run
$TMC eval-checkpoints "${dirs[0]}" --table "${dirs[@]:1}" > $OUT/steps_table.md
for d in "${dirs[@]}"; do
  mkdir -p "$OUT/$(basename "$d")"
  cp "$d"/eval_report/*.json "$d"/eval_report/*.png "$d"/eval_report/*.md "$d"/train_run.json "$OUT/$(basename "$d")/" \
    2>/dev/null || true
done
# ground-truth strategy shares, paired against the base, seeds as the unit
$TMC analyze strategy_mass "${dirs[@]}" --base $R/base_test --data data/multi_strategy/test.jsonl \
  --warmstart $R/warmstart_mix75/warmstart.json --out $OUT/strategy_mass
# rules x seeds at step 16, each rule paired with GRPO of the same seed
args=(); for rs in $PAIRED_RUNS; do args+=(--run "${rs%%:*}" "${rs##*:}" "$R/${rs%%:*}_s${rs##*:}/eval_report"); done
$TMC analyze seed_table "${args[@]}" --step 16 --ref grpo --json $OUT/seed_table_step16.json > $OUT/seed_table_step16.md
# theory beside the runs: trees fitted to the base's paths, each run's path mass vs the prediction at equal movement
rargs=(); for d in "${dirs[@]}"; do rargs+=("$d/eval_report/checkpoints_metrics.json=$d"); done
$TMC theory-fit $R/base_test --out $OUT/theory_fit_runs --methods grpo grpo_kl rl_rej --group-size 8 --beta 0.1 \
  --selector-n --runs "${rargs[@]}"
cks=(); for d in "${dirs[@]}"; do cks+=("$OUT/$(basename "$d")/checkpoints_metrics.json"); done
$TMC report $OUT/theory_fit_runs "${cks[@]}" --out results/reports/multi_strategy_rl
