"""Selector rules on hand-made candidate sets with known rewards (no model): the equations of each docstring."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import chisquare

from harness.select import dprm_as, dprm_bon, majority, orm_bon, soft_bon
from harness.select.registry import BASELINE_KEYS, SELECTORS, get
from tmc_core.names import INFERENCE_KEYS


def test_registry_uses_the_theory_keys():
    assert tuple(SELECTORS)[:len(INFERENCE_KEYS)] == INFERENCE_KEYS
    assert set(SELECTORS) == set(INFERENCE_KEYS) | set(BASELINE_KEYS)
    assert get("dprm_as").level == "step" and get("soft_bon").level == "outcome"
    with pytest.raises(Exception, match="allowed: soft_bon"):
        get("bon")


def test_orm_bon_picks_the_argmax_and_breaks_ties_at_random():
    rng = np.random.default_rng(0)
    r = np.array([0.1, 0.9, 0.3, 0.2])
    assert {orm_bon.choose(r, rng) for _ in range(50)} == {1}
    tied = np.array([0.5, 0.9, 0.9, 0.1])
    picks = [orm_bon.choose(tied, rng) for _ in range(400)]
    assert set(picks) == {1, 2} and 150 < picks.count(1) < 250


def _freqs(fn, n, size, rng, **kw):
    return np.bincount([fn(rng=rng, **kw) for _ in range(n)], minlength=size)


def test_soft_bon_frequencies_match_exp_lambda_r():
    rng = np.random.default_rng(1)
    r, lam = np.array([0.0, 0.5, 1.0, 0.2]), 2.0
    counts = _freqs(lambda rng: soft_bon.choose(r, rng, lam), 20000, 4, rng)
    p = np.exp(lam * r) / np.exp(lam * r).sum()
    assert chisquare(counts, 20000 * p).pvalue > 1e-3
    # and not the argmax, not uniform
    assert chisquare(counts, np.full(4, 5000)).pvalue < 1e-6


def test_soft_bon_lambda_to_zero_is_uniform_and_distinct_merges_duplicates():
    rng = np.random.default_rng(2)
    r = np.array([0.0, 1.0, 1.0, 0.3])
    counts = _freqs(lambda rng: soft_bon.choose(r, rng, 1e-9), 8000, 4, rng)
    assert chisquare(counts, np.full(4, 2000)).pvalue > 1e-3
    p = soft_bon.probabilities(r, 1.0, keys=["a", "b", "b", "c"])
    assert p[2] == 0 and np.isclose(p[1] / p[0], np.e) and np.isclose(p.sum(), 1)


def test_dprm_bon_equals_prm_bon_as_lambda_goes_to_zero():
    """R_DPRM = (1/lam) log mean exp(lam R) -> mean R = V: the same argmax at small lam, not at large lam."""
    rng = np.random.default_rng(3)
    same_small, differ_large = 0, 0
    for _ in range(300):
        R = rng.random((4, 5)) ** 3          # 4 candidate steps x 5 rollouts, continuous rewards
        V = R.mean(axis=1)
        for lam, tally in ((1e-6, "small"), (8.0, "large")):
            h = np.exp(lam * R).mean(axis=1)
            a = int(np.argmax(dprm_bon.r_dprm(h, lam)))
            if tally == "small":
                same_small += a == int(np.argmax(V))
            else:
                differ_large += a != int(np.argmax(V))
    assert same_small == 300
    assert differ_large > 10          # the Doob reward favours high-variance steps at large lam
    rule = dprm_bon.make_rule(1e-6)
    h = np.exp(1e-6 * np.array([0.2, 0.7, 0.4]))
    assert rule(None, h, None, rng) == 1
    assert np.allclose(dprm_bon.r_dprm(np.exp(0.5 * np.array([0.2, 0.9])), 0.5), [0.2, 0.9])


def test_dprm_as_forms_follow_their_equations_on_one_candidate_set():
    h = np.array([1.0, 1.0, 1.0, 4.0])
    keys = ["a", "a", "a", "b"]          # 'a' proposed three times, 'b' once
    paper = dprm_as.probabilities(h, keys, "paper")
    doob = dprm_as.probabilities(h, keys, "doob")
    # paper: distinct children prop. to h -> a 1/5, b 4/5; doob: draws prop. to h -> a 3/7, b 4/7
    assert np.isclose(paper[:3].sum(), 1 / 5) and np.isclose(paper[3], 4 / 5)
    assert np.isclose(doob[:3].sum(), 3 / 7) and np.isclose(doob[3], 4 / 7)
    with pytest.raises(ValueError, match="allowed: paper, doob"):
        dprm_as.probabilities(h, keys, "textbook")


def test_majority_compares_answers_by_value():
    assert majority.answer_key("18") == majority.answer_key("18.00") == majority.answer_key("18.0") \
        == majority.answer_key("$18") == majority.answer_key(" 18 ")
    assert majority.answer_key("1,234") == majority.answer_key("1234")
    assert majority.answer_key("18") != majority.answer_key("180")
    assert majority.answer_key("\\frac{1}{2}") == "\\frac{1}{2}" and majority.answer_key(None) is None
    rng = np.random.default_rng(4)
    answers = ["7", "18", "7.0", "18.00", "18.0", None, None, None]
    assert answers[majority.choose(np.zeros(8), rng, answers=answers)] in ("18", "18.00", "18.0")
    # weighted: the 7s carry more reward than the three 18s
    w = np.array([0.9, 0.1, 0.9, 0.1, 0.1, 1.0, 1.0, 1.0])
    assert answers[majority.choose_weighted(w, rng, answers=answers)] in ("7", "7.0")
    assert majority.choose(np.zeros(3), rng, answers=[None, None, None]) in (0, 1, 2)


def test_claim_table_pairs_population_with_instance_rewards():
    from harness.select.claim import claim_table, pool_modes
    from harness.select.pool import PoolProblem
    from harness.select.types import Candidate, ProblemCtx

    pool, rows = [], []
    for i in range(8):
        hard = i < 6            # 6 hard problems: the mode (7) is wrong, one sample says 9 (correct)
        answers = ["7", "7.0", "7", "9"] if hard else ["9", "9", "9.00", "7"]
        pool.append(PoolProblem(ProblemCtx(f"p{i}", "Q", "9"), [Candidate(a) for a in answers],
                                [a.startswith("9") for a in answers], answers))
        for run in range(2):
            rows.append({"problem_id": f"p{i}", "entry": "orm_bon", "reward": "orm", "run": run,
                         "answer": "7", "correct": False})                       # population: the mode
            rows.append({"problem_id": f"p{i}", "entry": "orm_bon", "reward": "oracle", "run": run,
                         "answer": "9", "correct": True})                        # instance: the correct one
    modes = pool_modes(pool)
    assert modes["p0"] == {"modal": {"7"}, "easy": False, "hard": True} and modes["p7"]["easy"]
    c = claim_table(rows, pool, n_boot=200, scheme="answers")
    assert (c["n_hard"], c["n_easy"]) == (6, 2)
    sh = c["shares"]["orm_bon"]
    assert sh["orm"]["modal"]["mean"] == 6 / 8 and sh["oracle"]["modal"]["mean"] == 2 / 8
    assert sh["orm"]["rare_correct"]["mean"] == 0 and sh["oracle"]["rare_correct"]["mean"] == 1
    modal = next(p for p in c["pairs"] if p["stat"] == "modal")
    rare = next(p for p in c["pairs"] if p["stat"] == "rare_correct")
    assert modal["diff"] == 0.5 and (modal["problems_up"], modal["problems_down"]) == (6, 2)
    assert rare["diff"] == -1.0 and rare["n_problems"] == 6 and rare["sign_test_p"] == 2 * 0.5 ** 6
    acc = next(p for p in c["pairs"] if p["stat"] == "correct")
    assert acc["diff"] == -1.0 and acc["n_problems"] == 8 and acc["problems_down"] == 8


def test_summarise_pass_at_k_over_runs_and_path_shares():
    from harness.select.report import summarise

    rows = []
    for pid, oks in (("a", [1, 0, 0, 0]), ("b", [1, 1, 0, 0]), ("c", [0, 0, 0, 0])):
        for run, ok in enumerate(oks):
            rows.append({"problem_id": pid, "entry": "soft_bon", "reward": "orm", "run": run, "correct": bool(ok),
                         "generated_tokens": 10 * (run + 1)})
    e = summarise(rows, runs=4, n_boot=200)["selectors"]["soft_bon"]["orm"]
    # pass@1 = mean c/R; pass@2 = mean 1 - C(R-c, 2)/C(R, 2): a: 1 - 3/6, b: 1 - 1/6, c: 0
    assert np.isclose(e["pass_at_k"]["1"]["mean"], (0.25 + 0.5 + 0) / 3)
    assert np.isclose(e["pass_at_k"]["2"]["mean"], (0.5 + 5 / 6 + 0) / 3)
    assert e["path_shares"]["correct"] == 3 / 12 and e["path_shares"]["easy"] is None
    assert e["generated_tokens_per_run"] == 25.0
    clusters = {(r["problem_id"], r["entry"], r["reward"], r["run"]): "easy" if r["problem_id"] == "a" else "other"
                for r in rows}
    ps = summarise(rows, runs=4, n_boot=200, clusters=clusters)["selectors"]["soft_bon"]["orm"]["path_shares"]
    assert ps["scheme"] == "clusters" and ps["easy"] == 1 / 12 and ps["rare_correct"] == 2 / 12


def test_claim_table_without_hard_problems_is_valid_json():
    import json

    from harness.select.claim import claim_table
    from harness.select.pool import PoolProblem
    from harness.select.types import Candidate, ProblemCtx

    pool = [PoolProblem(ProblemCtx("p", "Q", "9"), [Candidate("a"), Candidate("b")], [True, False], ["9", "9"])]
    rows = [{"problem_id": "p", "entry": "orm_bon", "reward": rw, "run": 0, "answer": "9", "correct": True}
            for rw in ("orm", "oracle")]
    c = claim_table(rows, pool, n_boot=50, scheme="answers")
    json.loads(json.dumps(c, allow_nan=False))
    assert c["shares"]["orm_bon"]["orm"]["rare_correct"]["n_problems"] == 0


def test_claim_table_uses_path_clusters_when_available(monkeypatch):
    """Same answers, different paths: with clusters (here: the first word) the modal PATH decides."""
    from harness.select import claim
    from harness.select.pool import PoolProblem
    from harness.select.types import Candidate, ProblemCtx

    monkeypatch.setattr(claim, "_cluster_fn", lambda: lambda q, texts: [hash(t.split()[0]) for t in texts])
    texts = ["add 3+4=7", "add 4+3=7", "add: 7", "count 1..7"]
    pool = [PoolProblem(ProblemCtx("p", "Q", "7"), [Candidate(t) for t in texts], [True] * 4, ["7"] * 4)]
    rows = [{"problem_id": "p", "entry": "orm_bon", "reward": rw, "run": 0, "answer": "7", "correct": True,
             "text": t} for rw, t in (("orm", "add 3+4=7"), ("oracle", "count 1..7"))]
    c = claim.claim_table(rows, pool, n_boot=50)
    assert c["scheme"] == "clusters"
    sh = c["shares"]["orm_bon"]
    assert sh["orm"]["modal"]["mean"] == 1.0 and sh["oracle"]["modal"]["mean"] == 0.0
    by_answer = claim.claim_table(rows, pool, n_boot=50, scheme="answers")
    assert by_answer["shares"]["orm_bon"]["oracle"]["modal"]["mean"] == 1


def _pool_problem(pid, texts, correct, answers):
    from harness.select.pool import PoolProblem
    from harness.select.types import Candidate, ProblemCtx

    q = "Tom has 3 apples and buys 4 more bags of 5 apples. How many apples does he have?"
    return PoolProblem(ProblemCtx(pid, q, "23", "gsm8k", q), [Candidate(t) for t in texts], correct, answers)


def test_problems_hard_keeps_only_problems_solved_off_the_modal_path():
    from harness.select.runner import hard_problems
    from tmc_core.config import ConfigError

    right, wrong = "4 * 5 = 20\n20 + 3 = 23\nThe answer is 23.", "3 + 4 = 7\n7 * 5 = 35\nThe answer is 35."
    easy = _pool_problem("easy", [right] * 3 + [wrong], [True] * 3 + [False], ["23"] * 3 + ["35"])
    hard = _pool_problem("hard", [wrong] * 3 + [right], [False] * 3 + [True], ["35"] * 3 + ["23"])
    none = _pool_problem("none", [wrong] * 4, [False] * 4, ["35"] * 4)
    assert [pp.ctx.problem_id for pp in hard_problems([easy, hard, none])] == ["hard"]
    with pytest.raises(ConfigError, match="none of the pool's 2 problems is hard"):
        hard_problems([easy, none])


def test_problems_field_keeps_older_config_hashes_at_its_default():
    from harness.select.config import BonConfig
    from tmc_core.config import config_hash, to_dict

    cfg = BonConfig()
    old = {k: v for k, v in to_dict(cfg).items() if k not in ("n_boot", "problems")}
    assert cfg.hash() == config_hash({k: v for k, v in old.items() if k != "soft_bon_candidates"})
    assert BonConfig(problems="hard").hash() != cfg.hash()
    assert BonConfig(soft_bon_candidates="distinct_paths").hash() != cfg.hash()


def test_first_distinct_takes_the_first_n_distinct_paths_and_counts_every_draw():
    from harness.select.runner import first_distinct

    labels = [0, 0, 1, 0, 2, 1, 3, 3]
    idx, drawn = first_distinct(np.array([1, 0, 3, 2, 5, 4, 7, 6]), labels, 3)
    assert idx.tolist() == [1, 2, 4] and drawn.tolist() == [1, 0, 3, 2, 5, 4]
    idx, drawn = first_distinct(np.array([0, 1, 3]), labels, 3)   # only one path in the order: fewer than n
    assert idx.tolist() == [0] and drawn.tolist() == [0, 1, 3]


def test_soft_bon_over_distinct_paths_gives_the_rare_wrong_paths_their_paper_weight():
    """The paper's Soft-BoN picks among N DISTINCT paths: a correct mode drawn 5 of 8 times keeps one seat, so the
    choice is far less often correct than among N plain draws (where the mode fills most seats)."""
    from harness.select.runner import first_distinct

    rng = np.random.default_rng(0)
    labels, ok = [0] * 5 + [1, 2, 3], np.array([True] * 5 + [False] * 3)
    acc = {}
    for mode in ("draws", "distinct_paths"):
        hits = []
        for _ in range(4000):
            order = rng.permutation(8)
            idx = order[:4] if mode == "draws" else first_distinct(order, labels, 4)[0]
            hits.append(ok[idx[soft_bon.choose(ok[idx].astype(float), rng, 0.5)]])
        acc[mode] = np.mean(hits)
    # distinct paths: one correct seat of 4, weights e^0.5 : 1 : 1 : 1 -> 1.65 / 4.65 = 0.354
    assert acc["distinct_paths"] == pytest.approx(np.exp(0.5) / (np.exp(0.5) + 3), abs=0.03)
    assert acc["draws"] > acc["distinct_paths"] + 0.25


def test_a_pool_where_no_path_repeats_has_no_mode():
    """Eight different paths, one correct: nothing is frequent, so the problem is hard (correct only off a mode),
    as the path table calls it (a 1/8 correct path is rare). Mutation caught: every tied singleton counted modal."""
    from harness.select.claim import pool_modes

    pp = _pool_problem("p", [f"{i} + {i} = {2 * i}" for i in range(1, 9)], [True] + [False] * 7,
                       [str(2 * i) for i in range(1, 9)])
    m = pool_modes([pp])["p"]
    assert m["modal"] == set() and m["hard"] and not m["easy"]


def test_outcome_level_folders_from_before_step_decoding_still_resume():
    """A folder written before `step_decoding` existed holds a hash without it: an outcome-level config accepts it
    (the field cannot change such a run), a config with a step-level selector does not, and the current hash is
    accepted by both."""
    from harness.select.config import BonConfig
    from tmc_core.config import config_hash

    outcome = BonConfig(selectors=["soft_bon", "orm_bon", "majority"])
    steps = BonConfig(selectors=["soft_bon", "beam_search"])
    legacy = [config_hash(c, exclude=("n_boot", "step_decoding", "problems", "soft_bon_candidates"))
              for c in (outcome, steps)]
    assert outcome.accepted_hashes() == {outcome.hash(), legacy[0]}
    assert steps.accepted_hashes() == {steps.hash()} and legacy[1] not in steps.accepted_hashes()
