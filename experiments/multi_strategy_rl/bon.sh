#!/usr/bin/env bash
# Best-of-N on the multi-strategy experiment's base (docs/multi_strategy_rl.md): train-split samples -> population ORM
# -> outcome-level selectors on the 64 x 8 base pool -> step-level selectors on 4 problems -> learned PRM -> outcome
# selectors with it, step-level selectors on the hard problems (PRM vs mc:oracle) -> the fitted-tree
# prediction beside the measured selectors. Resumable (each command resumes or skips). Run from the repository root
# after experiments/multi_strategy_rl/run.sh base.
set -euo pipefail
TMC=${TMC:-.venv/bin/tmc}
export HF_HUB_OFFLINE=1
OUT=results/multi_strategy_rl
$TMC sample --config configs/sample_multistrategy_train.yaml --threads "${THREADS:-2}"
[[ -f runs/ms/orm/rm.json ]] || $TMC rm train --config configs/rm_multistrategy.yaml --threads "${THREADS:-2}"
$TMC bon --config configs/bon_multistrategy.yaml --out $OUT/bon_outcome --threads "${THREADS:-2}"
$TMC bon --config configs/bon_multistrategy_distinct.yaml --out $OUT/bon_outcome_distinct --threads "${THREADS:-2}"
$TMC bon --config configs/bon_multistrategy_steps.yaml --out $OUT/bon_steps --threads "${THREADS:-2}"
# the learned step-level PRM (Math-Shepherd soft labels from this policy's rollouts) as the population reward
[[ -f runs/ms/prm/rm.json ]] || $TMC rm train --config configs/rm_multistrategy_prm.yaml --threads "${THREADS:-2}"
$TMC bon --config configs/bon_multistrategy_prm.yaml --out $OUT/bon_outcome_prm --threads "${THREADS:-2}"
$TMC bon --config configs/bon_multistrategy_steps_prm.yaml --out $OUT/bon_steps_prm --threads "${THREADS:-2}"
$TMC theory-fit runs/ms/base_test --out $OUT/theory_fit_bon --bon $OUT/bon_outcome $OUT/bon_outcome_distinct \
  $OUT/bon_outcome_prm
# the same without the unseen-branch prior (alpha 0): the fitted law is then the pool's own path shares
$TMC theory-fit runs/ms/base_test --out $OUT/theory_fit_bon_alpha0 --alpha 0 --selector-n 4 \
  --bon $OUT/bon_outcome $OUT/bon_outcome_distinct $OUT/bon_outcome_prm
# the ORM again with its L2 chosen by cross-validation over training problems (as the PRM's), then outcome BoN with it
[[ -f runs/ms/orm_cv/rm.json ]] || $TMC rm train --config configs/rm_multistrategy.yaml \
  --set "l2_grid=[0.01, 0.1, 1.0, 10.0, 100.0]" --set out=runs/ms/orm_cv --threads "${THREADS:-2}"
$TMC bon --config configs/bon_multistrategy.yaml --set orm=runs/ms/orm_cv --out $OUT/bon_outcome_orm_cv \
  --threads "${THREADS:-2}"
# the full matrix once: every selector x every reward source on 2 problems
$TMC bon --config configs/bon_multistrategy_all.yaml --out $OUT/bon_all --threads "${THREADS:-2}"
