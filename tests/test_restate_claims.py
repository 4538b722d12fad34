"""scripts/restate_claims.py on the committed reports: the issue's hand-computed figures come out of the real data."""

from __future__ import annotations

import pytest

from harness.testing.scripts import load_script

rc = load_script("restate_claims")


def test_issue_figures_from_the_committed_reports():
    # "GRPO seed 3 squeezes": 4 problems lost from step 30 to 50, none gained -> sign test 2/2^4
    sq = rc.compare(("grpo s3", 30), ("grpo s3", 50), "seed 3")
    assert (sq["kn"]["lost"], sq["kn"]["gained"]) == (4, 0) and sq["kn"]["p_exact"] == pytest.approx(0.125)
    assert sq["kn"]["diff"] == pytest.approx(-4 / 64) and sq["kn"]["warning"]
    # "rejecting easy groups beats GRPO at k = 8, seed 3": 7 gained / 1 lost -> 2 x 9/256 = 0.0703
    assert rc.compare(("grpo s3", 50), ("t0.5 s3", 50), "x")["kn"]["p_exact"] == pytest.approx(18 / 256)
    # "the 0.99 filter in seed 1": 9 / 2 -> 2 x 67/2048 = 0.0654
    assert rc.compare(("grpo s1", 50), ("t0.99 s1", 50), "x")["kn"]["p_exact"] == pytest.approx(134 / 2048)


def test_seed0_reports_without_counts_still_pair_at_k_n_and_say_so_at_k_1():
    c = rc.compare(("grpo s0", 50), ("grpo-kl b0.04 s0", 50), "step 50")
    assert c["k1"]["p_exact"] is None and "no per-problem counts" in c["k1"]["test"]
    assert (c["kn"]["lost"], c["kn"]["gained"]) == (3, 7) and c["kn"]["diff"] == pytest.approx(4 / 64)
    assert c["polar"] is None


def test_claim_holm_and_seed_interval():
    cl = rc.claim("t05", "x", [rc.compare((f"grpo s{s}", 50), (f"t0.5 s{s}", 50), f"seed {s}") for s in (1, 2, 3)],
                  seeds=["seed 1", "seed 2", "seed 3"])
    t = cl["over_seeds"]["kn"]
    assert t["per_seed"] == pytest.approx([0.25, 0.0, 0.09375])
    assert (round(t["lo"], 2), round(t["hi"], 2)) == (-0.20, 0.43)  # the issue's [-0.20, +0.43]
    ps = [c[k]["p_exact"] for c in cl["comparisons"] for k in ("k1", "kn")]
    smallest = min(range(6), key=lambda i: ps[i])
    holm_ps = [c[k]["p_holm"] for c in cl["comparisons"] for k in ("k1", "kn")]
    assert holm_ps[smallest] == pytest.approx(6 * ps[smallest])  # Holm over 3 seeds x 2 k's
    assert cl["over_seeds"]["polar"]["per_seed"] == [-14, -17, -21]
