"""Step machinery and step-level selectors on a backend with a KNOWN tree of steps (harness.testing)."""

from __future__ import annotations

import itertools
from math import factorial
from types import SimpleNamespace

import numpy as np
import pytest
from scipy.stats import chisquare

from harness.select import beam_search, dvts, prm_bon
from harness.select.dprm_as import make_rule
from harness.select.rewards.mc import MCReward
from harness.select.steps import StepSampler, cut_step, split_steps
from harness.select.types import Candidate, ProblemCtx
from harness.select.walk import walks
from harness.testing.toy_tree_backend import ToyTreeBackend

PROMPT = "Q: "
CTX = ProblemCtx("p0", PROMPT, "1")


def test_split_steps_round_trips_and_cut_step_marks_the_end():
    text = "\n\nFirst line.\n\nSecond.\n\n\n\nThird #### 4"
    steps = split_steps(text, "\n\n")
    assert "".join(steps) == text and steps == ["\n\nFirst line.\n\n", "Second.\n\n", "\n\nThird #### 4"]
    assert split_steps("a\nb\nc", "\n") == ["a\n", "b\n", "c"]
    assert cut_step("x = 3.\n\nmore text", True, "\n\n") == ("x = 3.\n\n", False)
    assert cut_step("#### 4\n\n", True, "\n\n") == ("#### 4\n\n", True)       # only the end follows
    assert cut_step("#### 4", True, "\n\n") == ("#### 4", True)
    assert cut_step("a long step cut at the limit", False, "\n\n") == ("a long step cut at the limit", False)
    with pytest.raises(ValueError):
        split_steps("a", "")


class TableReward:
    """V and h looked up from a table of prefix texts (a reward source with known values)."""

    name = "table"

    def __init__(self, v: dict, h: dict | None = None):
        self.v, self.h = v, h or {}

    def outcome(self, ctx, cands):
        return np.array([self.v.get(c.text, 0.0) for c in cands])

    def values(self, ctx, prefixes, lam, sampler=None, key=""):
        v = self.outcome(ctx, prefixes)
        return v, np.array([self.h.get(c.text, np.exp(lam * x)) for c, x in zip(prefixes, v)])


ONE_LEVEL = {"": [("A\n", 0.7, True), ("B\n", 0.2, True), ("C\n", 0.1, True)]}


def _exact_choice(p, h, m, form):
    """Exact law of DPRM-AS's choice among m i.i.d. draws from p, by enumerating the multinomial counts."""
    out = np.zeros(len(p))
    for n in itertools.product(range(m + 1), repeat=len(p)):
        if sum(n) != m:
            continue
        pr = factorial(m) * np.prod([p[i] ** n[i] / factorial(n[i]) for i in range(len(p))])
        w = np.array([(n[i] > 0) * h[i] if form == "paper" else n[i] * h[i] for i in range(len(p))])
        out += pr * w / w.sum()
    return out


@pytest.mark.parametrize("form", ["paper", "doob"])
def test_dprm_as_walk_frequencies_match_the_exact_finite_m_law(form):
    p, h, m, n_walks = np.array([0.7, 0.2, 0.1]), np.array([1.0, 2.0, 6.0]), 4, 3000
    backend = ToyTreeBackend(PROMPT, ONE_LEVEL)
    reward = TableReward({}, {"A\n": h[0], "B\n": h[1], "C\n": h[2]})
    sampler = StepSampler(backend, "\n", max_step_tokens=1, max_new_tokens=1, seed=7)
    res = walks(CTX, sampler, reward, np.random.default_rng(0), 0.5, m, 3, "k", make_rule(form), n_walks=n_walks)
    counts = np.array([sum(c.text == s for c, _ in res) for s in ("A\n", "B\n", "C\n")])
    exact = _exact_choice(p, h, m, form)
    other = _exact_choice(p, h, m, "doob" if form == "paper" else "paper")
    assert np.abs(exact - other).max() > 0.05          # the two forms differ as their equations say
    assert chisquare(counts, n_walks * exact).pvalue > 1e-3
    assert chisquare(counts, n_walks * other).pvalue < 1e-6
    assert sampler.generated_tokens == n_walks * m     # one token per proposed step, all counted


def test_doob_form_tends_to_the_base_weighted_transform():
    p, h = np.array([0.7, 0.2, 0.1]), np.array([1.0, 2.0, 6.0])
    target = p * h / (p * h).sum()
    gaps = [np.abs(_exact_choice(p, h, m, "doob") - target).max() for m in (4, 12, 30)]
    assert gaps[0] > gaps[1] > gaps[2] and gaps[2] < 0.025     # self-normalised IS bias shrinks with M
    assert np.abs(_exact_choice(p, h, 30, "paper") - target).max() > 0.2   # the paper's form does not


TWO_LEVEL = {"": [("x\n", 0.5, False), ("y\n", 0.5, False)],
             "x\n": [("1", 0.8, True), ("0", 0.2, True)],
             "y\n": [("1", 0.3, True), ("0", 0.7, True)]}


class EndsWithOne:
    name = "ends1"

    def outcome(self, ctx, cands):
        return np.array([float(c.text.endswith("1")) for c in cands])


def test_mc_reward_estimates_v_and_h_from_rollouts():
    backend = ToyTreeBackend(PROMPT, TWO_LEVEL)
    sampler = StepSampler(backend, "\n", max_step_tokens=2, max_new_tokens=4, seed=1)
    mc, n, lam = MCReward(EndsWithOne(), 2000, "mc:ends1"), 2000, 2.0
    pre = [Candidate("x\n", 1, False), Candidate("y\n", 1, False), Candidate("x\n1", 2, True)]
    v, h = mc.values(CTX, pre, lam, sampler, "k")
    se = np.sqrt(0.25 / n)
    assert abs(v[0] - 0.8) < 4 * se and abs(v[1] - 0.3) < 4 * se
    # h = E[exp(lam R)] = 1 + V (e^lam - 1) for 0/1 rewards, not exp(lam V)
    assert abs(h[0] - (1 + 0.8 * (np.exp(lam) - 1))) < 4 * se * (np.exp(lam) - 1)
    assert abs(h[0] - np.exp(lam * 0.8)) > 0.5
    assert v[2] == 1.0 and h[2] == np.exp(lam)            # an ended prefix is scored by R itself
    assert sampler.generated_tokens == 2 * n              # rollouts only for the two open prefixes, 1 step each


def test_prm_bon_takes_the_best_proposed_step_and_ends_in_its_subtree():
    backend = ToyTreeBackend(PROMPT, TWO_LEVEL)
    reward = TableReward({"x\n": 0.8, "y\n": 0.3, "x\n1": 1.0, "y\n1": 1.0})
    cfg = SimpleNamespace(lam=0.5, m=3, max_steps=4, n_candidates=6)
    sampler = StepSampler(backend, "\n", max_step_tokens=2, max_new_tokens=4, seed=3)
    rng = np.random.default_rng(0)
    firsts = [prm_bon.run(CTX, sampler, reward, rng, cfg, f"r{i}").text[:2] for i in range(400)]
    # x is chosen whenever it is among the 3 proposals: P = 1 - 0.5^3
    assert abs(firsts.count("x\n") / 400 - 7 / 8) < 0.06
    out = prm_bon.run(CTX, sampler, reward, rng, cfg, "end")
    assert out.finished and out.text in ("x\n1", "y\n1")     # second step: the correct child when proposed


def test_beam_search_and_dvts_return_finished_completions_and_count_tokens():
    backend = ToyTreeBackend(PROMPT, TWO_LEVEL)
    reward = TableReward({"x\n": 0.8, "y\n": 0.3, "x\n1": 1.0, "y\n1": 1.0})
    cfg = SimpleNamespace(lam=0.5, m=2, max_steps=4, n_candidates=4)
    rng = np.random.default_rng(1)
    for mod in (beam_search, dvts):
        sampler = StepSampler(backend, "\n", max_step_tokens=2, max_new_tokens=4, seed=5)
        got = [mod.run(CTX, sampler, reward, rng, cfg, f"{mod.__name__}{i}") for i in range(100)]
        assert all(c.finished for c in got)
        assert sum(c.text.endswith("1") for c in got) > 90        # both search for the rewarded leaf
        assert sampler.generated_tokens > 0
