"""How often does the paired bootstrap's 95% CI exclude 0 when nothing changed? (the few-discordant warning)

    python scripts/null_bootstrap_sim.py [--problems 64] [--max-m 30] [--boot 10000] [--mc-draws 2000] \
        [--json results/stats/null_bootstrap_sim.json] [--md results/stats/null_bootstrap_sim.md]

Null model: P problems, of which m are discordant (pass@n solved by one side only) with a random sign each (+1 or
-1 with probability 1/2, independently: H0 of the exact sign test), the other P - m with difference 0. For each m:

* ``bootstrap``: the rate at which ``bootstrap_mean`` (the percentile bootstrap over problems that
  ``paired_pass_at_k_diff`` uses, ``--boot`` replicates) gives a 95% interval excluding 0. The interval depends
  only on how many of the m signs are +1 (j), so the rate is computed exactly over the null's sign distribution:
  sum_j Binomial(m, j; 1/2) * [CI of the data with j plus and m - j minus signs excludes 0] (one bootstrap per j,
  seed 0, as the reports use);
* ``bootstrap_mc``: for m = 4 and 10, the same rate by plain Monte Carlo (``--mc-draws`` null data sets, each with
  its own bootstrap seed), a check that the seed-0 enumeration is not a fluke of one seed;
* ``sign_test``: the exact sign test's rejection rate at 0.05, sum_j Binomial(m, j; 1/2) [p(j) <= 0.05], which is
  <= 0.05 for every m by construction.

The warning threshold ``harness.metrics.exact_tests.FEW_DISCORDANT`` is read from this table.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from scipy import stats

from harness.metrics.bootstrap import bootstrap_mean
from harness.metrics.exact_tests import sign_test


def _data(problems: int, m: int, j: int) -> np.ndarray:
    return np.concatenate([np.ones(j), -np.ones(m - j), np.zeros(problems - m)])


def excludes_zero(problems: int, m: int, j: int, n_boot: int, seed: int = 0) -> bool:
    """Does the percentile bootstrap 95% CI of the mean exclude 0 for j plus and m - j minus signs?"""
    _, lo, hi = bootstrap_mean(_data(problems, m, j), n_boot=n_boot, seed=seed)
    return bool(lo > 0 or hi < 0)


def null_rates(problems: int, m: int, n_boot: int) -> dict:
    """Exact-over-signs null rates of the bootstrap CI excluding 0 and of the sign test rejecting (docstring)."""
    w = stats.binom.pmf(np.arange(m + 1), m, 0.5)
    boot = sum(wj for j, wj in enumerate(w) if excludes_zero(problems, m, j, n_boot))
    sign = sum(wj for j, wj in enumerate(w)
               if sign_test(np.r_[np.zeros(j), np.ones(m - j)], np.r_[np.ones(j), np.zeros(m - j)])["p"] <= 0.05)
    return {"m": m, "bootstrap": float(boot), "sign_test": float(sign)}


def monte_carlo(problems: int, m: int, n_boot: int, draws: int, seed: int = 1) -> float:
    """Plain Monte-Carlo null rate of the bootstrap CI excluding 0 (fresh signs and bootstrap seed per draw)."""
    rng = np.random.default_rng(seed)
    hits = 0
    for i in range(draws):
        j = int(rng.binomial(m, 0.5))
        hits += excludes_zero(problems, m, j, n_boot, seed=1000 + i)
    return hits / draws


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--problems", type=int, default=64)
    p.add_argument("--max-m", type=int, default=30)
    p.add_argument("--boot", type=int, default=10000)
    p.add_argument("--mc-draws", type=int, default=2000)
    p.add_argument("--json")
    p.add_argument("--md")
    args = p.parse_args(argv)
    if not 1 <= args.max_m <= args.problems:
        raise SystemExit(f"--max-m must be in 1..--problems ({args.problems}), got {args.max_m}")
    rows = [null_rates(args.problems, m, args.boot) for m in range(1, args.max_m + 1)]
    mc = {str(m): monte_carlo(args.problems, m, args.boot, args.mc_draws) for m in (4, 10) if m <= args.max_m}
    lines = [f"Null: {args.problems} problems, m discordant with random signs; paired percentile bootstrap "
             f"({args.boot} replicates) vs the exact sign test, nominal level 5%.", "",
             "| discordant m | bootstrap 95% CI excludes 0 | exact sign test p <= 0.05 |", "|---:|---:|---:|"]
    lines += [f"| {r['m']} | {r['bootstrap']:.3f} | {r['sign_test']:.3f} |" for r in rows]
    lines += ["", "Plain Monte Carlo check of the bootstrap column (" + str(args.mc_draws) + " null data sets, "
              "fresh bootstrap seed each): " + ", ".join(f"m = {m}: {v:.3f}" for m, v in mc.items())]
    text = "\n".join(lines)
    print(text)
    if args.md:
        Path(args.md).write_text("# Null simulation: the paired bootstrap with few discordant problems\n\n"
                                 "Made by `python scripts/null_bootstrap_sim.py --json " + str(args.json) +
                                 " --md " + args.md + "`.\n\n" + text + "\n")
    if args.json:
        Path(args.json).write_text(json.dumps({"problems": args.problems, "boot": args.boot, "rows": rows,
                                               "monte_carlo": mc, "mc_draws": args.mc_draws}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
