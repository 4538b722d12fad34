"""Exact paired tests, the seed t-interval, Holm's correction and the null simulation, against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from harness.metrics import holm, paired_exact_test, paired_pass_at_k_diff, seed_t_interval, sign_flip_test, sign_test
from harness.metrics.exact_tests import FEW_DISCORDANT
from harness.testing.scripts import load_script


def _pairs(a_better: int, b_better: int, ties: int = 0):
    """Binary outcomes: a_better problems solved by A only, b_better by B only, ties solved by both."""
    a = [1] * a_better + [0] * b_better + [1] * ties
    b = [0] * a_better + [1] * b_better + [1] * ties
    return a, b


@pytest.mark.parametrize("a_better, b_better, p", [
    (4, 0, 2 / 2 ** 4),                         # 0.125: "GRPO seed 3 squeezes" in the issue
    (0, 4, 2 / 2 ** 4),                         # two-sided: symmetric
    (1, 7, 2 * (1 + 8) / 2 ** 8),               # 0.0703: 7 of 8 discordant one way
    (2, 9, 2 * (1 + 11 + 55) / 2 ** 11),        # 0.0654: 9 of 11
    (3, 3, 1.0),
    (0, 6, 2 / 2 ** 6),                         # 0.03125: the first m at which p < 0.05 is reachable
])
def test_sign_test_matches_hand_computed_binomial_tails(a_better, b_better, p):
    r = sign_test(*_pairs(a_better, b_better, ties=50))
    assert r["p"] == pytest.approx(p, rel=1e-12)
    assert (r["discordant"], r["a_better"], r["b_better"]) == (a_better + b_better, a_better, b_better)


def test_sign_test_warns_below_threshold_and_refuses_non_binary():
    assert sign_test([0] * 5, [0] * 5) == {"p": 1.0, "test": "sign (exact binomial)", "discordant": 0, "b_better": 0,
                                           "a_better": 0, "warning": sign_test([0], [0])["warning"]}
    few = sign_test(*_pairs(0, FEW_DISCORDANT - 1))
    assert "only 11 discordant" in few["warning"] and "0.000977" in few["warning"]
    assert sign_test(*_pairs(0, FEW_DISCORDANT))["warning"] is None
    with pytest.raises(ValueError, match="x_b must be binary.*found 0.5"):
        sign_test([0, 1], [0, 0.5])
    with pytest.raises(ValueError, match="pair problem by problem"):
        sign_test([0, 1], [0])


def test_sign_flip_exact_hand_computed():
    # +-0.5 +-0.25 +-0.125: |T*| in {0.875, 0.625, 0.375, 0.125}, each twice; T = 0.625 -> 4 of 8 patterns
    r = sign_flip_test([0.5, 0.25, -0.125, 0.0, 0.0])
    assert r["p"] == pytest.approx(0.5) and r["discordant"] == 3 and r["test"] == "sign-flip (exact)"
    assert (r["b_better"], r["a_better"]) == (2, 1)
    # all three the same way: only the all-plus and all-minus patterns reach |T| -> 2/8
    assert sign_flip_test([1.0, 0.5, 0.25])["p"] == pytest.approx(0.25)
    assert sign_flip_test([0.0, 0.0])["p"] == 1.0


def test_sign_flip_equals_sign_test_on_binary_and_scipy_permutation_test():
    d = np.array([1.0] * 7 + [-1.0] + [0.0] * 20)
    assert sign_flip_test(d)["p"] == pytest.approx(sign_test((d < 0).astype(int), (d > 0).astype(int))["p"])
    x = np.random.default_rng(3).normal(0.2, 1.0, size=12)
    ref = stats.permutation_test((x,), np.sum, permutation_type="samples", n_resamples=np.inf,
                                 alternative="two-sided").pvalue
    assert sign_flip_test(x)["p"] == pytest.approx(ref, abs=1e-9)


def test_sign_flip_monte_carlo_is_close_to_the_exact_tail_and_never_zero():
    d = np.array([1.0] * 20 + [-1.0] * 10)  # 30 nonzero: Monte Carlo
    r = sign_flip_test(d, n_draws=20000, seed=1)
    assert r["test"] == "sign-flip (Monte Carlo, 20000 draws)" and r["n_draws"] == 20000
    assert r["p"] == pytest.approx(stats.binomtest(20, 30).pvalue, abs=0.01)  # exact 0.0987
    assert sign_flip_test(np.ones(40), n_draws=10000)["p"] == pytest.approx(1 / 10001)
    with pytest.raises(ValueError, match="n_draws must be >= 10000"):
        sign_flip_test(d, n_draws=999)


def test_paired_exact_test_picks_the_test_by_the_values():
    assert paired_exact_test([1, -1, 0, 1])["test"] == "sign (exact binomial)"
    assert paired_exact_test([0.5, -1, 0])["test"] == "sign-flip (exact)"


def test_paired_pass_at_k_diff_carries_the_exact_test():
    # 64 problems; B loses 4 problems solved (c = 2 of 8) by A, the rest equal: pass@8 sign test 4/0 -> 0.125
    n = np.full(64, 8)
    c_a = np.r_[[2] * 4, [5] * 60]
    c_b = np.r_[[0] * 4, [5] * 60]
    d = paired_pass_at_k_diff(n, c_a, n, c_b, [1, 8], n_boot=2000)
    assert d["8"]["p_exact"] == pytest.approx(0.125) and d["8"]["discordant"] == 4
    assert d["8"]["test"] == "sign (exact binomial)" and "anti-conservative" in d["8"]["warning"]
    assert d["1"]["test"] == "sign-flip (exact)" and d["1"]["p_exact"] == pytest.approx(0.125)
    assert d["1"]["diff"] == pytest.approx(-4 * 2 / 8 / 64)


def test_seed_t_interval_hand_computed():
    # the k = 8 gains of the t = 0.5 rule over three seeds: mean 0.1147, sd 0.1263, t_{0.975,2} = 4.3027
    r = seed_t_interval([0.250, 0.000, 0.094])
    assert r["mean"] == pytest.approx(0.344 / 3)
    assert r["sd"] == pytest.approx(0.12627, abs=1e-5)
    assert r["lo"] == pytest.approx(0.114667 - 4.302653 * 0.126275 / 3 ** 0.5, abs=1e-5)  # -0.1990
    assert (round(r["lo"], 2), round(r["hi"], 2)) == (-0.20, 0.43)
    assert r["p"] == pytest.approx(0.2564, abs=1e-4)
    two = seed_t_interval([0.1, 0.3])  # mean 0.2, sd 0.1414, t_{0.975,1} = 12.706 -> +-1.2706
    assert (two["lo"], two["hi"]) == pytest.approx((0.2 - 1.27062, 0.2 + 1.27062), abs=1e-4)
    assert seed_t_interval([0.2]) == {"seeds": 1, "mean": 0.2, "sd": None, "lo": None, "hi": None, "p": None}
    same = seed_t_interval([0.031, 0.031])   # sd 0: an infinite t, but no evidence; no interval, no p
    assert (same["lo"], same["hi"], same["p"], same["identical"]) == (None, None, None, True)
    with pytest.raises(ValueError, match="no per-seed differences"):
        seed_t_interval([])


def test_holm_on_a_known_list():
    # sorted 0.005, 0.01, 0.03, 0.04 -> x4, x3, x2, x1 = 0.02, 0.03, 0.06, 0.04 -> monotone: 0.02, 0.03, 0.06, 0.06
    r = holm([0.01, 0.04, 0.03, 0.005])
    assert r["adjusted"] == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert r["reject"] == [True, False, False, True] and r["m"] == 4
    r = holm([0.5, None, 0.2])  # None: no test; m = 2
    assert r["adjusted"][0] == pytest.approx(0.5) and r["adjusted"][2] == pytest.approx(0.4)
    assert r["adjusted"][1] is None
    assert holm([0.9, 0.4])["adjusted"] == pytest.approx([0.9, 0.8])  # 0.4 x 2, then 0.9 x 1
    assert holm([0.7, 0.6])["adjusted"] == pytest.approx([1.0, 1.0])  # 1.2 capped at 1; monotone
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        holm([0.2, 1.5])


def test_null_simulation_reproduces_the_anticonservative_bootstrap():
    sim = load_script("null_bootstrap_sim")
    r4 = sim.null_rates(64, 4, n_boot=2000)
    assert r4["bootstrap"] == pytest.approx(0.125)  # the 12% of the issue: all four signs agree, 2/16
    assert r4["sign_test"] == 0.0  # 4 discordant problems can never reach p <= 0.05
    r6 = sim.null_rates(64, 6, n_boot=2000)
    assert r6["sign_test"] == pytest.approx(2 / 64) and r6["sign_test"] <= 0.05


def test_eval_checkpoints_shape_table_tests_lost_against_gained_with_holm_over_steps():
    from harness.train.eval_checkpoints import shape_table

    def step(lost, gained):
        return {"finish_reason": {"stop": 1}, "grade_status": {"correct": 1}, "mean_tokens": 10.0, "n_solved": 5,
                "vs_base": {"n_lost": lost, "n_gained": gained}}

    rows = shape_table({0: step(0, 0), 10: step(0, 6), 50: step(4, 0)}).splitlines()
    # step 10: 6 gained / 0 lost -> 2/2^6 = 0.03125; step 50: 4 lost -> 0.125; Holm: 2 x 0.03125, then 0.125
    assert rows[2].endswith("| 0 | 0 | - |")
    assert rows[3].endswith("| 0 | 6 | 0.0312 (0.0625) |") and rows[4].endswith("| 4 | 0 | 0.125 (0.125) |")
