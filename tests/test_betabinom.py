"""Beta-binomial pass@K extrapolation: formulas against Monte Carlo, likelihood normalisation,
parameter recovery from simulated counts, and the held-out command on a small synthetic report."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats

from harness.metrics.betabinom import count_loglik, expected_pass_at_k, fit, subsample_counts


@pytest.mark.parametrize("a,b,s", [(0.4, 6.0, 1.0), (0.7, 2.5, 0.3), (2.0, 1.5, 0.8)])
def test_prediction_equals_monte_carlo(a, b, s):
    rng = np.random.default_rng(0)
    p = s * rng.beta(a, b, 400_000)
    for k in (1, 7, 64, 1000, 10_000, 50_000):
        mc = 1 - (1 - p) ** k
        se = mc.std() / np.sqrt(len(p))
        assert expected_pass_at_k(a, b, k, s)[0] == pytest.approx(mc.mean(), abs=5 * se + 1e-6)


def test_scaled_formulas_reduce_to_the_beta_binomial_at_s_one():
    a, b = 0.6, 3.2
    ks = np.array([1, 5, 50, 500])
    from scipy import special

    assert np.allclose(1 - special.hyp2f1(-ks, a, a + b, 1.0), expected_pass_at_k(a, b, ks, 1.0), atol=1e-10)
    # the quadrature of eq. (3) agrees with the hypergeometric polynomial where scipy evaluates it, and near s = 1
    assert np.allclose(expected_pass_at_k(a, b, ks, 0.4), 1 - special.hyp2f1(-ks, a, a + b, 0.4), atol=1e-8)
    assert np.allclose(expected_pass_at_k(a, b, ks, 1 - 1e-9), expected_pass_at_k(a, b, ks, 1.0), atol=1e-6)
    n, c = np.full(9, 8), np.arange(9)
    assert np.allclose(count_loglik(n, c, a, b, 1.0), stats.betabinom.logpmf(c, 8, a, b), atol=1e-10)
    assert np.allclose(count_loglik(n, c, a, b, 1 - 1e-12), stats.betabinom.logpmf(c, 8, a, b), atol=1e-8)


@pytest.mark.parametrize("s", [1.0, 0.35])
def test_count_likelihood_is_a_distribution_and_matches_simulation(s):
    a, b, n = 0.8, 2.0, 12
    c = np.arange(n + 1)
    pmf = np.exp(count_loglik(np.full(n + 1, n), c, a, b, s))
    assert pmf.sum() == pytest.approx(1.0, abs=1e-10)
    rng = np.random.default_rng(1)
    sim = np.bincount(rng.binomial(n, s * rng.beta(a, b, 200_000)), minlength=n + 1) / 200_000
    assert np.abs(sim - pmf).max() < 0.005


def test_fit_recovers_a_known_beta():
    rng = np.random.default_rng(2)
    a, b, n = 0.5, 4.0, 16
    p = rng.beta(a, b, 6000)
    c = rng.binomial(n, p)
    f = fit(np.full_like(c, n), c, "beta")
    assert f.a == pytest.approx(a, rel=0.12) and f.b == pytest.approx(b, rel=0.15)
    # the prediction far beyond n is what the fit is for: pass@1024 of the true Beta
    assert f.pass_at_k(1024)[0] == pytest.approx(expected_pass_at_k(a, b, 1024)[0], abs=0.03)


def test_fit_recovers_a_known_scaled_beta():
    rng = np.random.default_rng(3)
    a, b, s, n = 1.5, 2.0, 0.3, 32
    c = rng.binomial(n, s * rng.beta(a, b, 8000))
    f = fit(np.full_like(c, n), c, "scaled_beta")
    assert f.s == pytest.approx(s, abs=0.06)
    assert f.a == pytest.approx(a, rel=0.3)
    ks = [1, 64, 4096]
    assert np.allclose(f.pass_at_k(ks), expected_pass_at_k(a, b, ks, s), atol=0.02)
    # the plain Beta cannot cap p at s: its pass@4096 heads to 1, the truth stays below
    assert fit(np.full_like(c, n), c, "scaled_beta").loglik > fit(np.full_like(c, n), c, "beta").loglik + 5


def test_subsample_and_errors():
    rng = np.random.default_rng(4)
    n = np.full(20000, 64)
    c = rng.integers(0, 65, 20000)
    sub = subsample_counts(n, c, 8, rng)
    assert sub.min() >= 0 and (sub <= np.minimum(8, c)).all()
    assert sub.mean() == pytest.approx((8 * c / 64).mean(), rel=0.02)
    with pytest.raises(ValueError, match="cannot keep m=8"):
        subsample_counts(np.array([4]), np.array([1]), 8, rng)
    with pytest.raises(ValueError, match="problem 1: need n >= 1 and 0 <= c <= n"):
        fit([8, 8], [1, 9])
    with pytest.raises(ValueError, match="allowed values: beta, scaled_beta"):
        fit([8], [1], "gamma")


def test_cli_held_out_on_a_synthetic_report(tmp_path):
    from harness.metrics.betabinom_cli import build_parser, run

    rng = np.random.default_rng(5)
    c = rng.binomial(32, rng.beta(0.5, 5.0, 400))
    rep = {"runs": {"synthetic": {"per_problem": {f"p{i}": {"n": 32, "c": int(x)} for i, x in enumerate(c)}}}}
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps(rep))
    args = build_parser().parse_args([str(path), "--fit-n", "8", "--subsample-seeds", "0", "--models", "beta",
                                      "--n-boot", "20", "--extrapolate-ks", "256", "--out", str(tmp_path / "o")])
    assert run(args) == 0
    res = json.loads((tmp_path / "o" / "betabinom.json").read_text())
    held = res["held_out"]["beta"][0]
    # the fit on 8 of 32 samples predicts the measured pass@32 within its CI widths
    meas = res["measured"]
    width = (meas["hi"][31] - meas["lo"][31]) + (held["hi"][31] - held["lo"][31])
    assert abs(held["mean"][31] - meas["mean"][31]) < width
    assert (tmp_path / "o" / "passk_extrapolation.png").exists()
