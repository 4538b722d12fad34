"""Fitting a TMC to sampled reasoning paths and predicting methods on it.

A known tree (branching probabilities in tenths, leaf correctness in {0, 1/2, 1}) is the ground truth: completions
drawn from it are fitted, the fit must approach the true transition probabilities as N grows, and the prediction on
the fitted TMC must equal tmc_theory's own finetune on that TMC and approach the prediction on the true one.
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from harness.theory_fit.predict import PredictConfig, finetune_config, predict_problem
from harness.theory_fit.steps import StepPaths, keys_from_cluster_ids, text_step_keys
from harness.theory_fit.tree import UNSEEN, ProblemTree, fit_problem_tree, single_instance, tree_metrics

# the true tree: node -> {child key: probability}; leaves -> correctness rate
TREE = {(): {"a": 0.6, "b": 0.3, "c": 0.1},
        ("a",): {"x": 0.7, "y": 0.3}, ("b",): {"x": 0.5, "z": 0.5}, ("c",): {"y": 1.0},
        ("a", "x"): {"u": 0.9, "v": 0.1}, ("a", "y"): {"u": 0.5, "v": 0.5}, ("b", "x"): {"u": 1.0},
        ("b", "z"): {"u": 0.2, "v": 0.8}, ("c", "y"): {"v": 1.0}}
RHO = {("a", "x", "u"): 1.0, ("a", "x", "v"): 0.0, ("a", "y", "u"): 0.5, ("a", "y", "v"): 1.0,
       ("b", "x", "u"): 0.0, ("b", "z", "u"): 1.0, ("b", "z", "v"): 0.5, ("c", "y", "v"): 1.0}


def leaf_probs():
    out = {}
    for leaf in RHO:
        p = 1.0
        for d in range(3):
            p *= TREE[leaf[:d]][leaf[d]]
        out[leaf] = p
    return out


def sample_tree(n, rng):
    leaves = list(RHO)
    p = np.array([leaf_probs()[lf] for lf in leaves])
    idx = rng.choice(len(leaves), size=n, p=p / p.sum())
    return [(list(leaves[i]), bool(rng.random() < RHO[leaves[i]])) for i in idx]


def exact_tree() -> ProblemTree:
    """The true tree as a fitted tree: alpha = 0 on completions in exact proportion (counts are integers)."""
    comps = []
    for leaf, p in leaf_probs().items():
        m = int(round(p * 2000))
        k = int(round(m * RHO[leaf]))
        comps += [(list(leaf), True)] * k + [(list(leaf), False)] * (m - k)
    return fit_problem_tree("true", comps, max_depth=3, alpha=0.0)


def fitted_edge_probs(tree: ProblemTree) -> dict:
    out = {}
    for d, k in enumerate(tree.tmc.kernels[:-1]):
        for i, j in zip(*np.nonzero(k)):
            out[(tree.labels[d][i], tree.labels[d + 1][j][-1])] = k[i, j]
    return out


def test_exact_proportions_give_the_true_kernels():
    t = exact_tree()
    got = fitted_edge_probs(t)
    for node, kids in TREE.items():
        for ch, p in kids.items():
            assert got[(node, ch)] == pytest.approx(p, abs=1e-12)
    rho = t.tmc.kernels[-1][:, 0]
    for leaf, r in RHO.items():
        assert rho[t.labels[3].index(leaf)] == pytest.approx(r, abs=1e-12)
    base = tree_metrics(t, t.tmc.kernels)
    assert base["correct"] == pytest.approx(sum(p * RHO[lf] for lf, p in leaf_probs().items()), abs=1e-12)
    # the one all-modal path a-x-u (0.6 * 0.7 * 0.9, always correct) is the only easy correct mass
    assert base["easy_correct"] == pytest.approx(0.6 * 0.7 * 0.9, abs=1e-12)


def test_fit_converges_to_the_true_tree_as_n_grows():
    errs = []
    for n in (100, 1000, 20000):
        t = fit_problem_tree("p", sample_tree(n, np.random.default_rng(n)), max_depth=3, alpha=0.5)
        got = fitted_edge_probs(t)
        errs.append(max(abs(got.get((node, ch), 0.0) - p) for node, kids in TREE.items() for ch, p in kids.items()))
        # the unseen-branch prior: alpha / (n(node) + alpha) at the root
        root_unseen = t.tmc.kernels[0][0, t.labels[1].index((UNSEEN,))]
        assert root_unseen == pytest.approx(0.5 / (n + 0.5))
    assert errs[-1] < 0.02 and errs[-1] < errs[0]


def test_prediction_is_tmc_theorys_finetune_on_that_tmc():
    """The plumbing check: predict_problem == tmc_theory.finetune with the mapped config, metrics by enumeration."""
    from tmc_theory.finetune.run import FinetuneConfig, finetune
    from tmc_theory.policy import TabularPolicy

    t = fit_problem_tree("p", sample_tree(300, np.random.default_rng(1)), max_depth=3, alpha=0.5)
    for method in ("grpo", "rl_rej", "grpo_kl", "reinforce"):
        cfg = PredictConfig(method=method, steps=12, lr=0.7, group_size=4, beta=0.2, rej_tries=3, eval_every=6)
        hist = predict_problem(t, cfg)
        fc = FinetuneConfig(method=method, variant=("expected" if method in ("rl_rej", "reinforce") else
                                                    "expected_textbook"),
                            steps=12, lr=0.7, group_size=4, beta=0.2, rej_tries=3, instance_dist="empirical")
        pol, _ = finetune(t.tmc, t.task, TabularPolicy.from_kernels(t.tmc.kernels), single_instance(t), fc,
                          np.random.default_rng(0))
        paths = t.tmc.enumerate_paths(start=0)
        q = t.tmc.path_prob(paths, pol.kernels())
        assert hist[-1]["correct"] == pytest.approx(float(q[paths[:, -1] == 0].sum()), abs=1e-10)
        easy = t.tmc.path_is_easy(paths) & (paths[:, -1] == 0)
        assert hist[-1]["easy_correct"] == pytest.approx(float(q[easy].sum()), abs=1e-10)
        assert finetune_config(cfg).group_size == 4 and finetune_config(cfg).rej_tries == 3


@pytest.mark.parametrize("method", ["grpo", "rl_rej"])
def test_prediction_on_the_fit_approaches_the_prediction_on_the_truth(method):
    cfg = PredictConfig(method=method, steps=30, lr=1.0, group_size=8, eval_every=10)
    truth = predict_problem(exact_tree(), cfg)
    fitted = predict_problem(fit_problem_tree("p", sample_tree(20000, np.random.default_rng(7)), 3, alpha=0.5), cfg)
    for a, b in zip(truth, fitted):
        for k in ("correct", "easy_correct", "rare_correct"):
            assert a[k] == pytest.approx(b[k], abs=0.03)
    assert truth[-1]["correct"] > truth[0]["correct"]       # the method does learn on the truth


def test_json_round_trip_and_step_keys():
    t = fit_problem_tree("p", sample_tree(200, np.random.default_rng(2)), max_depth=3, alpha=0.5)
    t2 = ProblemTree.from_json(json.loads(json.dumps(t.to_json())))
    for a, b in itertools.zip_longest(t.tmc.kernels, t2.tmc.kernels):
        assert np.array_equal(a, b)
    cfg = PredictConfig(method="reinforce", steps=5, eval_every=5)
    assert predict_problem(t, cfg)[-1]["correct"] == predict_problem(t2, cfg)[-1]["correct"]
    with pytest.raises(ValueError, match="field .format.: is .x."):
        ProblemTree.from_json({"format": "x"})
    assert text_step_keys("First, 3 apples.\nThen 12 more! Total 15") == ["first, # apples.", "then # more!",
                                                                          "total #"]
    sp = StepPaths.from_records([{"problem_id": 1, "steps": ["a"], "correct": True},
                                 {"problem_id": 1, "completion": "x 1\ny", "correct": False}])
    assert sp.problems["1"] == [(["a"], True), (["x #", "y"], False)]
    assert text_step_keys("Add 3 to 4. Then stop", words=2) == ["add #", "then stop"]
    assert keys_from_cluster_ids([2, 0]) == [["cluster:2"], ["cluster:0"]]
    with pytest.raises(ValueError, match="row 0: missing field 'correct'"):
        StepPaths.from_records([{"problem_id": 1, "steps": []}])


def test_cli_fits_and_predicts_from_jsonl(tmp_path):
    from harness.theory_fit.cli import build_parser, run

    rng = np.random.default_rng(9)
    rows = [{"problem_id": f"q{q}", "steps": s, "correct": c} for q in range(3) for s, c in sample_tree(16, rng)]
    path = tmp_path / "steps.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    args = build_parser().parse_args([str(path), "--tree", "steps", "--out", str(tmp_path / "o"), "--methods",
                                      "grpo", "rl_rej", "--steps", "10", "--eval-every", "5"])
    assert run(args) == 0
    fit = json.loads((tmp_path / "o" / "fit.json").read_text())
    assert [r["n"] for r in fit["problems"]] == [16, 16, 16]
    pred = json.loads((tmp_path / "o" / "predict.json").read_text())["methods"]
    assert pred["grpo"]["mean"][-1]["correct"] > pred["grpo"]["mean"][0]["correct"]
    tree = ProblemTree.from_json(json.loads((tmp_path / "o" / "trees" / "q0.json").read_text()))
    assert tree.n == 16


def test_unsolved_problem_has_a_constant_prediction():
    t = fit_problem_tree("z", [(["a", "b"], False), (["c"], False)], max_depth=2, alpha=0.5)
    for method in ("ppo", "grpo"):
        hist = predict_problem(t, PredictConfig(method=method, steps=10, eval_every=5))
        assert [h["step"] for h in hist] == [0, 5, 10] and all(h["correct"] < 1e-200 for h in hist)
