"""Sweeps: small exact sweeps run, write JSON + PNG, and show the expected trends."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from tmc_core.config import ConfigError
from tmc_theory.reproduce import ReproduceConfig
from tmc_theory.sweeps import crossing_k, run_sweep


@pytest.fixture
def cfg():
    c = ReproduceConfig()
    return replace(c, exact=True, strategies=["reinforce", "rl_rej", "grpo_kl"],
                   finetune=replace(c.finetune, steps=300))


def test_rej_tries_sweep_interpolates_between_reinforce_and_base(cfg, tmp_path):
    res = run_sweep("rej_tries", [0, 2, 8], cfg, tmp_path)
    hard = [r["rl_rej"]["TASK1"]["hard"] for r in res["rows"]]
    t2easy = [r["rl_rej"]["TASK2"]["easy"] for r in res["rows"]]
    assert hard[0] < hard[1] < hard[2]          # more tries -> more easy instances rejected -> less squeezing
    assert t2easy[0] < t2easy[1] < t2easy[2]    # and less cross-task forgetting
    assert (tmp_path / "sweep_rej_tries.png").stat().st_size > 1000
    saved = json.loads((tmp_path / "sweep_rej_tries.json").read_text())
    assert saved["values"] == [0, 2, 8] and len(saved["rows"]) == 3


def test_beta_sweep_closed_form_vs_trained(cfg, tmp_path):
    res = run_sweep("beta", [0.25, 4.0], cfg, tmp_path)
    lo, hi = res["rows"]
    for s in ("closed_form_tilt", "sequence_tilt", "trained_textbook"):
        assert lo[s]["TASK1"]["easy"] > hi[s]["TASK1"]["easy"]  # weaker KL -> more squeezing onto the easy CoT
    assert (tmp_path / "sweep_beta.png").exists()


def test_steps_sweep_monotone_squeezing(cfg, tmp_path):
    res = run_sweep("steps", [0, 100, 300], replace(cfg, strategies=["reinforce"]), tmp_path)
    easy = [r["reinforce"]["TASK1"]["easy"] for r in res["rows"]]
    assert easy[0] < easy[1] < easy[2]


def test_pass_at_k_curves_and_crossings(cfg, tmp_path):
    res = run_sweep("pass_at_k", [1, 2, 4, 8, 16, 64, 256], cfg, tmp_path)
    base = np.array(res["curves"]["base"]["TASK1"]["pass_at_k"])
    rf = np.array(res["curves"]["reinforce"]["TASK1"]["pass_at_k"])
    assert np.all(np.diff(base) >= -1e-9) and rf[0] > base[0]     # RL helps pass@1 ...
    k = res["crossings"]["TASK1"]["reinforce"]
    assert k is not None and 1 < k < 256                         # ... and the base model overtakes it at larger K
    assert (tmp_path / "sweep_pass_at_k.png").exists()


def test_crossing_k_interpolates_in_log_k():
    ks = np.array([1, 2, 4, 8])
    # d = method - base = [4, 1, -2, -4]: sign change between K=2 (d=1) and K=4 (d=-2), 1/3 of the way in log K
    assert crossing_k(ks, np.array([5.0, 3.0, 1.0, 0.0]), np.array([1.0, 2.0, 3.0, 4.0])) == pytest.approx(
        2 ** (4 / 3), rel=1e-9)
    assert crossing_k(ks, np.ones(4) * 2, np.ones(4)) is None


def test_structure_sweeps_run(cfg, tmp_path):
    c = replace(cfg, strategies=["reinforce"], finetune=replace(cfg.finetune, steps=20))
    res = run_sweep("depth", [3, 4], c, tmp_path)
    assert [r["n_paths"] for r in res["rows"]] == [2 ** 2, 2 ** 3]  # width 2: W^(depth-1) paths per start
    res = run_sweep("low_weight", [0.05, 0.3], c, tmp_path)
    assert res["rows"][0]["base"]["TASK1"]["hard"] < res["rows"][1]["base"]["TASK1"]["hard"]


def test_bad_sweep_input(cfg, tmp_path):
    with pytest.raises(ConfigError, match="allowed: beta, rej_tries"):
        run_sweep("temperature", None, cfg, tmp_path)
    with pytest.raises(ConfigError, match="rej_tries.*integer"):
        run_sweep("rej_tries", [1.5], cfg, tmp_path)
    with pytest.raises(ConfigError, match="group_size: values must be >= 2"):
        run_sweep("group_size", [1], cfg, tmp_path)
