"""Movement-matched comparison: the clock, the crossing, and that it undoes a change of speed.

No torch needed: the "transformer" here is the theory itself run on a distorted clock, so the right answer is known.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import entropy

from harness.tmclm.compare import compare_method, theory_run
from harness.tmclm.config import CompareConfig, PosttrainConfig
from harness.tmclm.movement import at_step, crossing_step, match_by_movement, movement
from tmc_theory.instances import draw_instances
from tmc_theory.tmc import paper_tmc


def test_movement_metrics_include_malformed_mass():
    q0 = np.array([0.5, 0.3, 0.2])
    q = np.array([0.7, 0.2, 0.05])              # 0.05 malformed
    assert movement(q, q0, "l1") == pytest.approx(0.2 + 0.1 + 0.15 + 0.05)
    assert movement(q, q0, "kl") == pytest.approx(entropy([0.7, 0.2, 0.05, 0.05], [0.5, 0.3, 0.2, 1e-300]),
                                                  rel=1e-9)
    assert movement(q0, q0, "l1") == 0.0 and movement(q0, q0, "kl") == pytest.approx(0.0, abs=1e-15)
    with pytest.raises(ValueError, match="allowed values: l1, kl"):
        movement(q, q0, "l2")


def test_crossing_of_a_mixture_path_is_exact():
    """q_t = (1 - a_t) q0 + a_t q1 has L1 movement a_t |q1 - q0|_1, so the crossing time is known in closed form."""
    q0, q1 = np.array([0.6, 0.3, 0.1]), np.array([0.1, 0.2, 0.7])
    a = 1 - np.exp(-np.arange(200) / 30.0)
    seq = [(1 - x) * q0 + x * q1 for x in a]
    D = np.abs(q1 - q0).sum()
    targets = [0.0, 0.3 * D, 0.77 * D, 0.99 * D]
    rows = match_by_movement(targets, seq, "l1")
    for t, r in zip(targets, rows):
        exact = -30.0 * np.log(1 - t / D)
        assert r["reached"]
        assert r["theory_step"] == pytest.approx(exact, abs=0.05)
        assert r["theory_movement"] == pytest.approx(t, abs=1e-9)   # linear in a: interpolation is exact here
    far = match_by_movement([1.01 * D], seq, "l1")[0]
    assert not far["reached"] and far["theory_step"] == len(seq) - 1
    assert np.allclose(at_step(seq, 10.25), 0.75 * seq[10] + 0.25 * seq[11])
    # the FIRST crossing of a movement that goes out and back
    d = np.array([0.0, 0.5, 1.0, 0.4, 1.2])
    assert crossing_step(d, 0.75) == (1.5, True)


@pytest.fixture(scope="module")
def setting():
    tmc = paper_tmc()
    pc = PosttrainConfig(task="TASK1", steps=40, eval_every=5, prompts_per_step=4, num_generations=8, beta=0.05)
    inst = draw_instances(tmc, "TASK1", 200, np.random.default_rng(1))
    from harness.tmclm.compare import start_policy
    from harness.tmclm.measure import tmc_path_probs

    probs0 = {"<any>": tmc_path_probs(tmc, None), **{t.name: tmc_path_probs(tmc, t.name) for t in tmc.tasks}}
    return tmc, pc, inst, start_policy(tmc, probs0), probs0["<any>"]


@pytest.mark.parametrize("method", ["reinforce", "rl_rej"])
def test_movement_matching_undoes_a_distorted_clock(setting, method):
    """A fake "transformer" that follows the theory's own path on an accelerating clock (step s -> theory step
    s + s^2/8 at lr 0.3). The lr fitted on the first interval cannot follow the acceleration, so at equal step the
    theory lags; at equal movement it lands on the same distributions (to the interpolation error)."""
    tmc, pc, inst, pol0, any0 = setting
    variant = "expected"
    dense = theory_run(tmc, pol0, inst, method, variant, 0.3, 250, 1, pc)
    seq = {t.name: [np.asarray(h["probs"][t.name]) for h in dense] for t in tmc.tasks}
    hist = [{"step": s, "probs": {"<any>": any0, **{t: at_step(seq[t], s + s * s / 8.0) for t in seq}}}
            for s in range(0, 41, 5)]
    comp = compare_method(tmc, method, hist, inst, pc, CompareConfig(theory_variant=variant), k=30)
    worst_step, worst_move = 0.0, 0.0
    for tr, mv in zip(comp["trajectory"], comp["movement"]["by_metric"]["l1"]):
        assert mv["reached"]
        for part in ("easy", "hard"):
            worst_step = max(worst_step, abs(tr["TASK1"]["transformer"][part] - tr["TASK1"]["theory"][part]))
            worst_move = max(worst_move, abs(tr["TASK1"]["transformer"][part] - mv["TASK1"]["theory"][part]))
    assert worst_move < 0.01
    assert worst_step > 5 * worst_move and worst_step > 0.03
    # the matched theory step recovers the distorted clock (in units of the fitted lr's steps)
    last = comp["movement"]["by_metric"]["kl"][-1]
    assert last["reached"] and last["theory_step"] > 40 * 1.5


def test_recompare_reproduces_the_committed_movement_rows(tmp_path):
    """`tmc tmclm --recompare` on the committed paper run (REINFORCE only) gives back its stored comparison."""
    import json
    from pathlib import Path

    from harness.tmclm.cli import recompare

    src = json.loads((Path(__file__).resolve().parents[1] / "results/tmclm/paper/results.json").read_text())
    src["posttrain"] = {"reinforce": src["posttrain"]["reinforce"]}
    (tmp_path / "results.json").write_text(json.dumps(src))
    res = recompare(tmp_path, plots=False, progress=None)
    new = res["comparison"]["reinforce"]["movement"]["by_metric"]["l1"][-1]
    old = src["comparison"]["reinforce"]["movement"]["by_metric"]["l1"][-1]
    assert new["theory_step"] == pytest.approx(old["theory_step"], abs=1e-6)
    assert new["TASK1"]["theory"]["easy"] == pytest.approx(old["TASK1"]["theory"]["easy"], abs=1e-9)
    assert "equal movement (kl)" in (tmp_path / "table.md").read_text()
