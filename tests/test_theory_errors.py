"""Bad input gives one clear error naming the field and the allowed values."""

import numpy as np
import pytest

from harness.cli import main
from tmc_core.config import ConfigError, load_config
from tmc_theory.generate import random_tmc
from tmc_theory.inference import prm_bon
from tmc_theory.inference.common import InferenceConfig
from tmc_theory.reproduce import ReproduceConfig
from tmc_theory.tmc import TMC, Task, TMCError, paper_tmc


def _tmc(kernels=None, tasks=None):
    k = kernels or [np.array([[0.9, 0.1], [0.5, 0.5]])]
    return TMC(kernels=k, high=[np.ones_like(x, dtype=bool) for x in k], tasks=tasks or [Task("T", 0, 1)])


def test_rows_not_summing_to_one():
    with pytest.raises(TMCError, match=r"kernels\[0\] row 1 \(layer 0 state 1\) sums to 0.9, must sum to 1"):
        _tmc([np.array([[0.9, 0.1], [0.5, 0.4]])])


def test_negative_weights():
    with pytest.raises(TMCError, match=r"kernels\[0\]\[0, 1\] = -0.1: transition probabilities must be >= 0"):
        _tmc([np.array([[1.1, -0.1], [0.5, 0.5]])])
    with pytest.raises(TMCError, match="edge weights"):
        random_tmc(4, 2, low_weight=-0.1)


def test_unknown_task_state_and_name():
    with pytest.raises(TMCError, match=r"task T: target state 5 not in layer 1 \(allowed 0..1\)"):
        _tmc(tasks=[Task("T", 0, 5)])
    with pytest.raises(TMCError, match=r"start state -1 not in layer 0 \(allowed 0..1\)"):
        _tmc(tasks=[Task("T", -1, 0)])
    with pytest.raises(TMCError, match="unknown task 'TASK9'; allowed: TASK1, TASK2"):
        paper_tmc().task("TASK9")
    with pytest.raises(ConfigError, match="reward_task: 'TASK9' is not a task of this TMC; allowed: TASK1, TASK2"):
        prm_bon.exact_distribution(paper_tmc(), "TASK1", InferenceConfig(reward_task="TASK9"))


def test_generator_arguments():
    with pytest.raises(TMCError, match=r"n_tasks: must be in 1..width=2"):
        random_tmc(4, 2, n_tasks=3)
    with pytest.raises(TMCError, match="depth"):
        random_tmc(1, 2)


@pytest.mark.parametrize("yaml_text, needle", [
    ("n_tset: 3\n", "unknown field 'n_tset' in ReproduceConfig; allowed fields: tmc, tmc_seed"),
    ("n_test: many\n", "n_test: expected an integer, got 'many'"),
    ("exact: 3\n", "exact: expected true/false"),
    ("strategies: [base, dpo]\n", "strategies[1]: 'dpo' is not allowed; allowed values: base, reinforce, raft"),
    ("finetune: {method: sft}\n", "finetune.method: 'sft' is not allowed; allowed values: reinforce"),
    ("pretrain: {method: adam}\n", "pretrain.method: 'adam' is not allowed; allowed values: sgd, exact"),
    ("base_sampler: gpt\n", "base_sampler: 'gpt' is not allowed; allowed values: true_tmc, pretrained"),
    ("n_test: 0\n", "n_test: must be >= 1"),
])
def test_config_errors(tmp_path, yaml_text, needle):
    p = tmp_path / "bad.yaml"
    p.write_text(yaml_text)
    with pytest.raises(ConfigError) as e:
        load_config(ReproduceConfig, p)
    assert needle in str(e.value) and str(e.value).startswith(str(p))


def test_task_names_checked_against_the_tmc():
    from tmc_theory.reproduce import reproduce

    with pytest.raises(ConfigError, match="tasks: 'TASK3' is not a task of the TMC; allowed: TASK1, TASK2"):
        reproduce(ReproduceConfig(tasks=["TASK1", "TASK3"]), None, plots=False, log=None)


def test_cli_reports_config_errors(tmp_path, capsys):
    p = tmp_path / "bad.yaml"
    p.write_text("strategies: [reinforce, magic]\n")
    assert main(["theory", "reproduce", "--config", str(p)]) == 2
    err = capsys.readouterr().err
    assert "strategies[1]: 'magic' is not allowed; allowed values:" in err and str(p) in err
    assert main(["theory", "reproduce", "--set", "lam=fast"]) == 2
    assert "lam: expected a number, got 'fast'" in capsys.readouterr().err
