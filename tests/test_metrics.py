"""pass@k against brute force over all size-k subsets; bootstrap; maj@k; breakdowns; plot."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from harness.metrics import (
    bootstrap_pass_at_k,
    compare_solved,
    maj_at_k,
    maj_at_k_per_problem,
    pass_at_k,
    pass_at_k_curve,
    pass_at_k_matrix,
    plot_pass_at_k,
    powers_of_two,
)


def brute_pass_at_k(flags: list[bool], k: int) -> float:
    subs = list(itertools.combinations(range(len(flags)), k))
    return sum(any(flags[i] for i in s) for s in subs) / len(subs)


def test_pass_at_k_matches_brute_force_all_subsets():
    rng = np.random.default_rng(1)
    for n in (1, 2, 5, 9):
        for c in range(n + 1):
            flags = [True] * c + [False] * (n - c)
            rng.shuffle(flags)
            for k in range(1, n + 1):
                exact = brute_pass_at_k(flags, k)
                assert pass_at_k(n, c, k) == pytest.approx(exact, abs=1e-12)
                assert pass_at_k_curve([n], [c], [k])[0] == pytest.approx(exact, abs=1e-12)


def test_curve_is_macro_average_with_mixed_n():
    rng = np.random.default_rng(2)
    flags = [list(rng.random(n) < rng.random()) for n in (6, 8, 7, 6, 10)]
    n = np.array([len(f) for f in flags])
    c = np.array([sum(f) for f in flags])
    ks = list(range(1, 7))
    brute = np.array([[brute_pass_at_k(f, k) for k in ks] for f in flags])
    np.testing.assert_allclose(pass_at_k_matrix(n, c, ks), brute, atol=1e-12)
    np.testing.assert_allclose(pass_at_k_curve(n, c, ks), brute.mean(axis=0), atol=1e-12)
    np.testing.assert_allclose(pass_at_k_curve(n, c), brute.mean(axis=0), atol=1e-12)  # ks=None -> 1..min(n)


def test_large_n_no_overflow_and_monotone():
    n = np.full(3, 4096)
    c = np.array([0, 1, 4096])
    m = pass_at_k_matrix(n, c, [1, 64, 4096])
    assert np.isfinite(m).all()
    np.testing.assert_allclose(m[0], 0.0)
    np.testing.assert_allclose(m[2], 1.0)
    np.testing.assert_allclose(m[1], [1 / 4096, 64 / 4096, 1.0], atol=1e-12)  # c=1: pass@k = k/n
    curve = pass_at_k_curve(np.full(50, 100), np.random.default_rng(0).integers(0, 101, 50))
    assert (np.diff(curve) >= -1e-12).all()


def test_bad_inputs():
    with pytest.raises(ValueError, match="1 <= k <= n"):
        pass_at_k(4, 1, 5)
    with pytest.raises(ValueError, match="0 <= c <= n"):
        pass_at_k(4, 5, 1)
    with pytest.raises(ValueError, match=r"min\(n\) = 3"):
        pass_at_k_curve([3, 5], [1, 1], [4])
    with pytest.raises(ValueError, match="problem 1"):
        pass_at_k_curve([3, 5], [1, 6], [1])


def test_bootstrap_equals_resampling_problems():
    rng = np.random.default_rng(3)
    n = np.full(200, 16)
    c = rng.binomial(16, rng.random(200))
    ks = [1, 4, 16]
    b = bootstrap_pass_at_k(n, c, ks, n_boot=2000, seed=0)
    np.testing.assert_allclose(b["mean"], pass_at_k_curve(n, c, ks))
    assert (b["lo"] <= b["mean"]).all() and (b["mean"] <= b["hi"]).all()
    # the naive bootstrap (resample problem indices) gives the same interval up to Monte Carlo error
    per = pass_at_k_matrix(n, c, ks)
    idx = np.random.default_rng(9).integers(0, 200, (2000, 200))
    reps = per[idx].mean(axis=1)
    lo, hi = np.quantile(reps, [0.025, 0.975], axis=0)
    np.testing.assert_allclose(b["lo"], lo, atol=0.02)
    np.testing.assert_allclose(b["hi"], hi, atol=0.02)
    w = b["hi"] - b["lo"]
    assert (w > 0.02).all() and (w < 0.3).all()


def brute_maj(answers, correct, k):
    n = len(answers)
    tot = 0.0
    subs = list(itertools.combinations(range(n), k))
    for s in subs:
        votes: dict[str, int] = {}
        for i in s:
            if answers[i] is not None:
                votes[answers[i]] = votes.get(answers[i], 0) + 1
        if not votes:
            continue
        top = max(votes.values())
        winners = [a for a, v in votes.items() if v == top]
        ok = {answers[i]: correct[i] for i in range(n) if answers[i] is not None}
        tot += sum(ok[a] for a in winners) / len(winners)  # uniform tie-break
    return tot / len(subs)


def test_maj_at_k_matches_exhaustive_expectation():
    answers = [["1", "2", "2", None, "1", "3", "2"], ["5", "5", "4", "4", "4", None, None]]
    correct = [[a == "1" for a in answers[0]], [a == "5" for a in answers[1]]]
    ks = [1, 2, 3, 7]
    est = maj_at_k_per_problem(answers, correct, ks, n_subsets=4000, seed=0)
    exact = np.array([[brute_maj(a, c, k) for k in ks] for a, c in zip(answers, correct)])
    np.testing.assert_allclose(est[:, 0], exact[:, 0], atol=1e-12)  # k = 1 is exact
    np.testing.assert_allclose(est, exact, atol=0.03)
    np.testing.assert_allclose(maj_at_k(answers, correct, ks, n_subsets=4000), exact.mean(axis=0), atol=0.03)
    with pytest.raises(ValueError, match="same number of samples"):
        maj_at_k([["1"], ["1", "2"]], [[True], [True, False]], [1])


def test_powers_and_solved_sets(tmp_path):
    assert powers_of_two(8) == [1, 2, 4, 8] and powers_of_two(12) == [1, 2, 4, 8, 12] and powers_of_two(1) == [1]
    r = compare_solved({"a", "b", "c", "d"}, {"a", "b", "e"})
    assert (r["both"], r["only_a"], r["only_b"]) == (2, 2, 1)
    assert r["srr"] == pytest.approx(0.5) and r["ndr"] == pytest.approx(1 / 3)
    assert r["p_sign"] == pytest.approx(1.0)  # 2 vs 1 discordant: P(|2X - 3| >= 1) = 1
    assert compare_solved({"a", "b", "c", "d"}, set())["p_sign"] == pytest.approx(2 / 16)


def test_plot_writes_png(tmp_path):
    ks = list(range(1, 17))
    cur = {"ks": ks, "mean": [1 - 0.9**k for k in ks], "lo": [1 - 0.92**k for k in ks], "hi": [1 - 0.88**k for k in ks]}
    p = plot_pass_at_k({"base": cur, "rl": {"ks": ks, "mean": [0.3] * 16}}, tmp_path / "f" / "p.png",
                       maj={"base": {"ks": [1, 2, 4], "mean": [0.1, 0.12, 0.15]}})
    assert p.exists() and p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="no curves"):
        plot_pass_at_k({}, tmp_path / "x.png")


def test_majority_votes_numbers_by_value():
    """ "18", "18.0", "18.00", "$18" are one answer class, so they outvote "17" (3 + 1 against 2)."""
    from harness.metrics.majority import encode_answers, vote_key

    answers = [["18", "18.00", "17", "18.0", "17", " 1 8 ", "$18"]]
    correct = [[True, True, False, True, False, True, True]]
    ids, _ = encode_answers(answers, correct)
    assert len(set(ids[0][[0, 1, 3, 5, 6]])) == 1 and ids[0][2] == ids[0][4] != ids[0][0]
    assert maj_at_k_per_problem([["18", "18.00", "17", "17", "18.0"]], [[True] * 2 + [False] * 2 + [True]],
                                [5])[0, 0] == 1.0  # 3 votes for 18 against 2 for 17; by string it would tie 1:1:2
    assert vote_key("1,234") == vote_key("1234.") and vote_key("x+1") == "x+1" and vote_key("  ") is None
    assert vote_key("nan") == "nan" and vote_key("\\frac{1}{2}") != vote_key("0.5")


def test_plot_with_many_curves_puts_the_legend_beside_the_axes(tmp_path):
    """45 curves (a selector x reward grid): the legend goes beside the axes in columns, the figure widens, and
    matplotlib warns nothing (it used to warn that the tight layout could not be applied)."""
    import warnings

    from PIL import Image

    ks = [1, 2, 4, 8]
    curves = [(f"selector{i} x reward{i % 5}", {"ks": ks, "mean": [0.1 + 0.01 * i] * 4}) for i in range(45)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        many = plot_pass_at_k(curves, tmp_path / "many.png")
        few = plot_pass_at_k(curves[:3], tmp_path / "few.png")
    w_many, w_few = Image.open(many).size[0], Image.open(few).size[0]
    assert w_many > 1.8 * w_few  # two legend columns beside the axes
