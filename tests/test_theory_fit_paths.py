"""Fitted TMCs from reasoning-path clusters: share recovery, masses = harness.paths.mass, JSON round trip and
`tmc theory run`, selectors = tmc_theory's laws, the tmc bon side-by-side, trajectories matched by movement."""

from __future__ import annotations

import json
import random

import numpy as np
import pandas as pd
import pytest

from harness.paths.synthetic import make_problem, render
from harness.theory_fit.path_tree import CATEGORIES, PathTreeConfig, fit_path_tree, fit_path_trees
from harness.theory_fit.predict import PredictConfig, predict_problem
from harness.theory_fit.tree import ProblemTree, fit_problem_tree, tree_metrics

SHARES = {"marbles": {"per_colour": 0.55, "per_bag": 0.15, "wrong_forgot_bags": 0.30},
          "wages": {"daily_pay": 0.7, "total_hours": 0.1, "wrong_no_hours": 0.2}}


def synthetic_rows(n: int, seed: int = 0) -> tuple[pd.DataFrame, dict]:
    """n completions per problem drawn from known strategy shares, rendered with varied wording."""
    rng, nr = random.Random(seed), np.random.default_rng(seed)
    rows, probs = [], {}
    for fam, shares in SHARES.items():
        p = make_problem(fam, rng)
        probs[fam] = p
        names = list(shares)
        for i, j in enumerate(nr.choice(len(names), size=n, p=list(shares.values()))):
            s = names[j]
            rows.append({"problem_id": fam, "sample_idx": i, "question": p.question, "strategy": s,
                         "completion": render(p, s, rng), "correct": not s.startswith("wrong")})
    return pd.DataFrame(rows), probs


def strategy_probs(tree: ProblemTree, df: pd.DataFrame) -> dict:
    """Fitted probability of each strategy: the leaf holding most of its completions."""
    from harness.paths import reasoning_path

    g = df[df.problem_id == tree.problem_id]
    leaf = {lab[0]: j for j, lab in enumerate(tree.labels[1])}
    out = {}
    for s, gs in g.groupby("strategy"):
        keys = [reasoning_path(q, c).as_text() for q, c in zip(gs.question, gs.completion)]
        top = max(set(keys), key=keys.count)
        out[s] = float(tree.tmc.kernels[0][0, leaf[top]])
    return out


@pytest.mark.parametrize("n", [100, 800])
def test_fitted_path_probabilities_recover_known_shares(n):
    df, _ = synthetic_rows(n)
    for t in fit_path_trees(df, PathTreeConfig(alpha=0.0)):
        got = strategy_probs(t, df)
        for s, p in SHARES[t.problem_id].items():
            assert abs(got[s] - p) <= 4 * np.sqrt(p * (1 - p) / n), (t.problem_id, s, got[s], p)
        # per-path correctness by the majority rule: wrong strategies are wrong leaves
        leaf = {lab[0]: j for j, lab in enumerate(t.labels[1])}
        assert abs(sum(t.tmc.kernels[0][0, j] for j, r in enumerate(t.roles) if r == "wrong")
                   - sum(v for s, v in got.items() if s.startswith("wrong"))) < 0.02
        assert len(leaf) >= len(SHARES[t.problem_id])


def test_unseen_prior_and_masses_equal_paths_mass():
    from harness.paths.mass import path_mass

    df, _ = synthetic_rows(60, seed=3)
    pm = path_mass(df)["per_problem"]
    a = 0.5
    for t0, ta in zip(fit_path_trees(df, PathTreeConfig(alpha=0.0)), fit_path_trees(df, PathTreeConfig(alpha=a))):
        m0 = tree_metrics(t0, t0.tmc.kernels)["mass"]
        ma = tree_metrics(ta, ta.tmc.kernels)["mass"]
        ref = pm[t0.problem_id]["mass"]
        for c in CATEGORIES:
            assert m0[c] == pytest.approx(ref[c], abs=1e-12)
            expect = ref[c] * t0.n / (t0.n + a) + (a / (t0.n + a) if c == "new_wrong" else 0.0)
            assert ma[c] == pytest.approx(expect, abs=1e-12)
        assert ta.tmc.kernels[0][0, -1] == pytest.approx(a / (ta.n + a))
        assert ta.roles[-1] == "unseen" and ta.tmc.kernels[1][-1].tolist() == [0.0, 1.0]


def test_majority_rule_and_roles():
    # path 0: 3 of 4 correct (correct), path 1: 1 of 2 (tie: correct), path 2: 0 of 2 (wrong)
    t = fit_path_tree("x", [0, 0, 0, 0, 1, 1, 2, 2], [1, 1, 1, 0, 1, 0, 0, 0], PathTreeConfig(alpha=0.0))
    assert t.tmc.kernels[1].tolist() == [[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]
    assert t.roles == ["easy", "common", "wrong"]
    t = fit_path_tree("x", [0, 0, 0, 0, 1, 1, 2, 2], [1, 1, 1, 0, 1, 0, 0, 0],
                      PathTreeConfig(alpha=0.0, correct_rule="all"))
    assert t.tmc.kernels[1][:, 0].tolist() == [0.0, 0.0, 0.0]


def test_json_round_trip_and_tmc_theory_run(tmp_path, capsys):
    from harness.cli import main
    from tmc_theory.fitted import load_fitted

    df, _ = synthetic_rows(30, seed=1)
    src = tmp_path / "rows.jsonl"
    src.write_text("\n".join(json.dumps(r) for r in df.to_dict("records")))
    out = tmp_path / "fit"
    assert main(["theory-fit", str(src), "--out", str(out), "--methods", "grpo", "--steps", "10"]) == 0
    fit = json.loads((out / "fit.json").read_text())
    assert fit["tree"] == "paths"
    direct = {t.problem_id: t for t in fit_path_trees(df, PathTreeConfig(alpha=0.5))}
    loaded = load_fitted(out)
    assert len(loaded) == len(direct)
    for d, tmc, task in loaded:
        t = direct[d["problem_id"]]
        for a, b in zip(tmc.kernels, t.tmc.kernels):
            assert np.array_equal(a, b)
        back = ProblemTree.from_json(d)
        assert back.roles == t.roles and all(np.array_equal(a, b) for a, b in zip(back.tmc.high, t.tmc.high))
    assert main(["theory", "run", "--tmc", str(out), "--method", "grpo", "--steps", "10", "--selectors", "prm_bon",
                 "--out", str(tmp_path / "run")]) == 0
    res = json.loads((tmp_path / "run" / "run.json").read_text())
    assert res["methods"]["grpo"][-1]["correct"] > res["methods"]["grpo"][0]["correct"]
    pred = json.loads((out / "predict.json").read_text())["methods"]["grpo"]["mean"]
    assert res["methods"]["grpo"][-1]["correct"] == pytest.approx(pred[-1]["correct"], abs=1e-12)


def test_bad_fitted_file_names_file_and_field(tmp_path):
    from tmc_core.config import ConfigError
    from tmc_theory.fitted import load_fitted

    t = fit_path_tree("x", [0, 0, 1], [1, 1, 0])
    d = t.to_json()
    bad = tmp_path / "bad.json"
    for mutate, field in [(lambda x: x.pop("kernels"), "kernels"),
                          (lambda x: x["kernels"][1].__setitem__(0, [0.5, 0.2]), "kernels[1]"),
                          (lambda x: x["task"].__setitem__("target", 7), "task.target"),
                          (lambda x: x.__setitem__("format", "other"), "format")]:
        dd = json.loads(json.dumps(d))
        mutate(dd)
        bad.write_text(json.dumps(dd))
        with pytest.raises(ConfigError, match=rf"bad\.json: field '{field.replace('[', '.').replace(']', '.')}'"):
            load_fitted(bad)


# ------------------------------------------------------------------------------------------------- selectors
KEYS = ("soft_bon", "orm_bon", "prm_bon", "dprm_bon", "dprm_as")


def _trees():
    pt = fit_path_tree("p", [0, 0, 0, 0, 1, 1, 2, 3, 0, 4], [1, 1, 1, 0, 0, 0, 1, 1, 1, 0], PathTreeConfig(alpha=0.5))
    st = fit_problem_tree("s", [(["a", "x"], True), (["a", "y"], False), (["b", "x"], True), (["a", "x"], True),
                                (["c"], False)], 2, 0.5)
    ut = fit_path_tree("u", [0, 0, 1], [0, 0, 0], PathTreeConfig(alpha=0.5))  # no correct path: every V = 0
    return pt, st, ut


@pytest.mark.parametrize("key", KEYS)
def test_selector_prediction_equals_tmc_theory_on_directly_built_tree(key):
    from tmc_theory.inference.common import InferenceConfig
    from tmc_theory.registry import get_inference
    from tmc_theory.tmc import TMC, Task

    from harness.theory_fit.selectors import base_law, generic_distribution, path_reward, selector_distribution

    for tree in _trees():
        direct = TMC([k.copy() for k in tree.tmc.kernels], [h.copy() for h in tree.tmc.high], [Task("t", 0, 0)])
        kw = {"k": 1} if key == "orm_bon" else {}
        ref = get_inference(key).exact_distribution(direct, "t", InferenceConfig(n_candidates=4, lam=0.5,
                                                                                 estimator="exact"), **kw)
        assert np.array_equal(selector_distribution(tree, key, "population", 4, 0.5, support_only=False), ref)
        # the prediction (walks restricted to the base's support) never outputs a path the base cannot produce
        for rw in ("population", "instance"):
            out = selector_distribution(tree, key, rw, 4, 0.5)
            assert out.sum() == pytest.approx(1.0) and out[base_law(tree)[1] == 0].sum() == 0.0
        # the generic law with r = R_out reproduces tmc_theory's V = a B2 / Doob h / top-1 / subset programme
        np.testing.assert_allclose(generic_distribution(tree, key, path_reward(tree, "population"), 4, 0.5), ref,
                                   atol=1e-12)


def test_prefix_scores_equal_prm_potential_and_doob_h():
    from tmc_theory import exact

    from harness.theory_fit.selectors import path_reward, prefix_score

    for tree in _trees():
        r = path_reward(tree, "population")
        paths = tree.tmc.enumerate_paths()
        for ln in range(1, paths.shape[1] + 1):
            pre = np.unique(paths[:, :ln], axis=0)
            np.testing.assert_allclose(prefix_score(tree, "V", r)(pre), exact.prm_potential(tree.tmc, tree.task, pre),
                                       atol=1e-12)
            np.testing.assert_allclose(prefix_score(tree, "h", r, 0.5)(pre),
                                       exact.doob_h(tree.tmc, tree.task, pre, 0.5), atol=1e-12)


def test_instance_reward_closed_forms():
    from harness.theory_fit.selectors import predict_selectors, shares_of, selector_distribution

    pt, _, _ = _trees()
    c = tree_metrics(pt, pt.tmc.kernels)["correct"]
    n = 4
    acc = {k: shares_of(pt, selector_distribution(pt, k, "instance", n))["correct"] for k in KEYS}
    assert acc["orm_bon"] == pytest.approx(1 - (1 - c) ** n, abs=1e-12)   # any correct among N wins
    assert acc["prm_bon"] == pytest.approx(1.0) and acc["dprm_bon"] == pytest.approx(1.0)
    # prm_bon with the verifier: uniform over the correct paths the base can produce (all tie at V = 1)
    sh = shares_of(pt, selector_distribution(pt, "prm_bon", "instance", n))
    n_ok = sum(r in ("easy", "common", "rare") for r in pt.roles)
    assert sh["easy"] == pytest.approx(1 / n_ok)
    # population PRM picks the modal correct path (the paper's "100% easy")
    assert shares_of(pt, selector_distribution(pt, "prm_bon", "population", n))["easy"] == pytest.approx(1.0)
    # DPRM-AS (instance, base support): child prop. to h = 1 + (e^lam - 1) [correct]
    w = np.array([np.exp(0.5) if r in ("easy", "common", "rare") else 1.0 for r in pt.roles])
    assert acc["dprm_as"] == pytest.approx(w[[r in ("easy", "common", "rare") for r in pt.roles]].sum() / w.sum())
    pr = predict_selectors([pt], ["orm_bon"], [1, n], ["instance"])
    assert pr["orm_bon"]["instance"]["1"]["accuracy"] == pytest.approx(c)


def test_bon_side_by_side_exact_test(tmp_path):
    from harness.theory_fit.selectors import bon_side_by_side, selector_distribution, shares_of

    pt, _, _ = _trees()
    p = shares_of(pt, selector_distribution(pt, "orm_bon", "instance", 4))["correct"]
    rng = np.random.default_rng(0)
    for name, prob in (("right", p), ("wrong", 0.2)):
        d = tmp_path / name
        d.mkdir()
        ok = rng.random(200) < prob
        rows = [{"problem_id": "p", "entry": "orm_bon", "reward": "oracle", "run": i, "correct": bool(o)}
                for i, o in enumerate(ok)]
        (d / "selections.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
        m = float(ok.mean())
        (d / "results.json").write_text(json.dumps({"config": {"n_candidates": 4, "lam": 0.5}, "selectors": {
            "orm_bon": {"oracle": {"pass_at_k": {"1": {"mean": m, "lo": m, "hi": m}}, "path_shares": {
                "scheme": "grader_outcome", "n": 200, "correct": m, "wrong": 1 - m, "easy": None,
                "rare_correct": None}}}}}))
        (row,) = bon_side_by_side(d, [pt])
        assert row["predicted"]["accuracy"] == pytest.approx(p)
        assert (row["exact_test_p"] > 0.01) if name == "right" else (row["exact_test_p"] < 1e-6)


# ------------------------------------------------------------------------------------------------ trajectories
SPECS = {"a": ([0] * 10 + [1] * 3 + [2] * 2 + [3], [1] * 10 + [0] * 3 + [1] * 2 + [1]),
         "b": ([0] * 6 + [1] * 6 + [2] * 3 + [3], [0] * 6 + [1] * 6 + [1] * 3 + [0]),
         "c": ([0] * 8 + [1] * 4 + [2] * 4, [1] * 8 + [1] * 4 + [0] * 4)}


def _measured(trees, method, lr, steps=(0, 5, 10, 20, 40), n=4096, **kw):
    cfg = PredictConfig(method=method, lr=lr, steps=max(steps), eval_every=1, **kw)
    hs = {t.problem_id: predict_problem(t, cfg) for t in trees}
    return {s: {p: {"mass": {c: h[s][f"mass_{c}"] for c in CATEGORIES}, "n": n, "c": int(round(h[s]["correct"] * n))}
                for p, h in hs.items()} for s in steps}


def test_trajectory_by_movement_agrees_and_detects_mutated_method():
    from harness.theory_fit.trajectory import compare_run

    trees = [fit_path_tree(k, *v, PathTreeConfig(alpha=0.0)) for k, v in SPECS.items()]
    meas = _measured(trees, "grpo", lr=0.2)  # a slower clock than the prediction's: only movement can match them
    ok = compare_run(trees, meas, PredictConfig(method="grpo", lr=0.5, steps=150))
    assert ok["verdict"] == "agree" and ok["max_abs_diff"] < 0.01
    assert abs(ok["crossover"]["measured"] - ok["crossover"]["predicted"]) <= 1
    at_step = compare_run(trees, {s: meas[s] for s in (0, 40)}, PredictConfig(method="grpo", lr=0.5, steps=40))
    assert at_step["rows"][-1]["theory_step"] < 40  # matched earlier than the equal step
    bad = compare_run(trees, meas, PredictConfig(method="rl_rej", lr=0.5, steps=150))
    assert bad["verdict"] == "disagree"
    kl = compare_run(trees, meas, PredictConfig(method="grpo_kl", beta=5.0, lr=0.5, steps=150))
    assert kl["verdict"] == "disagree"


def test_triple_sums_to_one_with_new_paths():
    from harness.theory_fit.trajectory import triple

    m = dict(zip(CATEGORIES, (0.3, 0.1, 0.1, 0.2, 0.15, 0.15)))
    t = triple(m)
    assert sum(t.values()) == pytest.approx(1.0) and t["rare_correct"] == pytest.approx(0.35)


def test_run_settings_and_files(tmp_path):
    from harness.theory_fit.trajectory import run_settings, write_run_comparison

    trees = [fit_path_tree(k, *v, PathTreeConfig(alpha=0.0)) for k, v in SPECS.items()]
    run = tmp_path / "train"
    (run / "eval_report").mkdir(parents=True)
    (run / "train_run.json").write_text(json.dumps({"method": "grpo_kl", "config": {
        "num_generations": 6, "beta": 0.1, "kl_estimator": "k2"}}))
    cfg, notes = run_settings(run)
    assert (cfg.method, cfg.group_size, cfg.beta) == ("grpo_kl", 6, 0.1) and "k2" in notes[0]
    meas = _measured(trees, "grpo_kl", lr=0.2, beta=0.1, group_size=6)
    (run / "eval_report" / "checkpoints_metrics.json").write_text(json.dumps({"steps": {
        str(s): {"path_mass": {"per_problem": v}} for s, v in meas.items()}}))
    md = write_run_comparison([str(run / "eval_report")], trees, tmp_path, steps=150)
    assert "verdict **agree**" in md and (tmp_path / "runs_vs_theory.png").exists()
    from harness.report import kind_of, theory_fit_section

    (tmp_path / "fit.json").write_text("{}")
    assert kind_of(tmp_path) == "theory_fit"
    out = tmp_path / "rep"
    out.mkdir()
    text, figs = theory_fit_section(tmp_path, out, 0)
    assert "verdict" in text and figs


def test_cli_runs_and_report(tmp_path):
    from harness.cli import main

    df, _ = synthetic_rows(40, seed=2)
    src = tmp_path / "rows.jsonl"
    src.write_text("\n".join(json.dumps(r) for r in df.to_dict("records")))
    out = tmp_path / "fit"
    assert main(["theory-fit", str(src), "--out", str(out), "--methods", "grpo", "--steps", "5", "--alpha", "0",
                 "--selector-n", "4"]) == 0
    trees = [ProblemTree.from_json(json.loads(f.read_text())) for f in sorted((out / "trees").glob("*.json"))]
    run = tmp_path / "train"
    run.mkdir()
    (run / "train_run.json").write_text(json.dumps({"method": "grpo", "config": {"num_generations": 8}}))
    meas = _measured(trees, "grpo", lr=0.2, n=40)
    (run / "checkpoints_metrics.json").write_text(json.dumps({"steps": {
        str(s): {"path_mass": {"per_problem": v}} for s, v in meas.items()}}))
    assert main(["theory-fit", str(src), "--out", str(out), "--methods", "grpo", "--steps", "5", "--alpha", "0",
                 "--selector-n", "--runs", str(run / "checkpoints_metrics.json"), "--compare-steps", "150"]) == 0
    res = json.loads((out / "runs_vs_theory.json").read_text())
    assert next(iter(res.values()))["verdict"] == "agree"
    assert main(["report", str(out), "--out", str(tmp_path / "rep")]) == 0
    assert "verdict **agree**" in (tmp_path / "rep" / "report.md").read_text()


def test_population_clock_agrees_and_is_not_fooled_by_sampling_noise():
    from harness.theory_fit.trajectory import compare_run

    trees = [fit_path_tree(k, *v, PathTreeConfig(alpha=0.0)) for k, v in SPECS.items()]
    meas = _measured(trees, "grpo", lr=0.2)
    ok = compare_run(trees, meas, PredictConfig(method="grpo", lr=0.5, steps=150), metric="l1_pop")
    assert ok["verdict"] == "agree" and ok["max_abs_diff"] < 0.01
    assert compare_run(trees, meas, PredictConfig(method="rl_rej", lr=0.5, steps=150),
                       metric="l1_pop")["verdict"] == "disagree"
    # an UNCHANGED model resampled with n = 8 per problem: per-problem L1 moves far, the population clock barely
    rng = np.random.default_rng(0)
    base = _measured(trees, "grpo", lr=0.2, steps=(0,))[0]
    many = {f"{p}_{i}": v for i in range(40) for p, v in base.items()}     # 120 problems, same trees
    trees120 = [fit_path_tree(f"{k}_{i}", *v, PathTreeConfig(alpha=0.0)) for i in range(40) for k, v in SPECS.items()]
    noisy = {}
    for p, v in many.items():
        m = np.array([v["mass"][c] for c in CATEGORIES])
        draw = rng.multinomial(8, m / m.sum()) / 8
        noisy[p] = {"mass": dict(zip(CATEGORIES, draw.tolist())), "n": 8, "c": 0}
    cfg = PredictConfig(method="grpo", lr=0.5, steps=50)
    per = compare_run(trees120, {0: many, 1: noisy}, cfg, metric="l1")["rows"][1]["movement"]
    pop = compare_run(trees120, {0: many, 1: noisy}, cfg, metric="l1_pop")["rows"][1]["movement"]
    assert per > 0.2 and pop < 0.1 and pop < per / 3


def test_measured_masses_carry_a_bootstrap_ci_over_problems():
    from harness.theory_fit.trajectory import TRIPLE, compare_run, markdown

    trees = [fit_path_tree(k, *v, PathTreeConfig(alpha=0.0)) for k, v in SPECS.items()]
    meas = _measured(trees, "grpo", lr=0.2)
    res = compare_run(trees, meas, PredictConfig(method="grpo", lr=0.5, steps=150), metric="l1_pop")
    for r in res["rows"]:
        for k in TRIPLE:
            lo, hi = r["measured_ci"][k]
            assert lo <= r["measured"][k] + 1e-12 and r["measured"][k] <= hi + 1e-12
            per = [meas[r["step"]][p]["mass"] for p in sorted(meas[r["step"]])]
            vals = [m["easy"] if k == "easy" else (m["wrong"] + m["new_wrong"]) if k == "wrong"
                    else m["common"] + m["rare"] + m["new_correct"] for m in per]
            assert lo >= min(vals) - 1e-12 and hi <= max(vals) + 1e-12   # a CI of the mean lies within the values
    assert "[" in markdown("run", res).split("| 5 |")[1]
