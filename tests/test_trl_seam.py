"""Contract of harness/train/trl_seam.py with the pinned TRL: the private methods we override exist with the
signatures we call them with, our loss aggregation equals TRL's for every allowed ``loss_type``, and our reward sum
(weights, unscorable completions) equals TRL's. A TRL upgrade that breaks the seam fails here first."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
trl = pytest.importorskip("trl")
torch.set_num_threads(1)


def test_trl_version_is_the_one_pinned_in_pyproject():
    from harness.train.trl_seam import TRL_VERSION

    pin = re.search(r'"trl==([^"]+)"', (Path(__file__).parents[1] / "pyproject.toml").read_text()).group(1)
    assert trl.__version__ == pin == TRL_VERSION


def test_overridden_private_methods_exist_with_our_signatures():
    from trl import GRPOTrainer

    from harness.train.trl_seam import OVERRIDDEN, SeamTrainer

    for name, params in OVERRIDDEN.items():
        assert callable(getattr(GRPOTrainer, name, None)), f"TRL {trl.__version__} has no GRPOTrainer.{name}"
        assert name in SeamTrainer.__dict__, f"trl_seam lists {name} but does not override it"
        got = list(inspect.signature(getattr(GRPOTrainer, name)).parameters)
        if params is None:  # passed through with *args/**kwargs; we rely on the first positional ones
            assert got[:5] == ["self", "model", "input_ids", "attention_mask", "logits_to_keep"], got
        else:
            assert got == params, (name, got)
    # nothing else in harness.train defines a TRL private method (the seam is the only place)
    root = Path(__file__).parents[1] / "harness" / "train"
    for f in root.glob("*.py"):
        if f.name != "trl_seam.py":
            text = f.read_text()
            for name in OVERRIDDEN:
                assert f"def {name}(" not in text, f"{f.name} overrides TRL's {name} outside trl_seam.py"
            assert "._metrics" not in text and "._tokenizer" not in text, f"{f.name} reads TRL private state"


@pytest.fixture(scope="module")
def seam_trainer(rl_tiny, tmp_path_factory):
    """A RLVRTrainer with TRL's own advantage (rule None), two weighted reward functions (one returning None for
    some completions, both None for others) and beta > 0; returns (trainer, one generated training batch)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from harness.train.config import train_config_from_dict
    from harness.train.data import build_train_dataset
    from harness.train.runner import grpo_args, lora_config
    from harness.train.trainer import RLVRTrainer

    cfg = train_config_from_dict(dict(
        method="grpo_kl", beta=0.1, model=str(rl_tiny / "model"), source=str(rl_tiny / "train.jsonl"),
        num_generations=4, per_device_train_batch_size=16, max_completion_length=12, max_steps=1, lora_r=4,
        lora_alpha=8, output_dir=str(tmp_path_factory.mktemp("seam")), report_to=["none"], temperature=1.0))
    tok = AutoTokenizer.from_pretrained(cfg.model)
    tok.padding_side = "left"

    def length_mod(completions, **kw):
        return [None if i % 7 == 0 else float(len(c) % 3) for i, c in enumerate(completions)]

    def sometimes(completions, **kw):
        return [None if i % 7 == 0 or i % 3 == 0 else float(i % 2) for i in range(len(completions))]

    tr = RLVRTrainer(model=AutoModelForCausalLM.from_pretrained(cfg.model), reward_funcs=[length_mod, sometimes],
                     args=grpo_args(cfg, reward_weights=[1.0, 0.5]), train_dataset=build_train_dataset(cfg, tok),
                     processing_class=tok, peft_config=lora_config(cfg), advantage_rule=None)
    with torch.no_grad():  # move the policy off the reference so that the KL term is not 0
        for n, p in tr.model.named_parameters():
            if "lora_B" in n:
                p.add_(0.05 * torch.randn_like(p))
    tr.model.train()
    tr.current_gradient_accumulation_steps = 1
    inputs = [dict(tr.train_dataset[i]) for i in range(4) for _ in range(4)]
    batch = tr.generate_and_score(inputs)
    return tr, batch


def test_our_reward_sum_equals_trls(seam_trainer):
    """With advantage_rule None the batch carries TRL's own GRPO advantage of TRL's rewards; our reward sum, put
    through our GRPO rule, must give the same advantages (weights applied, NaN rows -> 0)."""
    from harness.train.advantages import group_normalised_advantage

    tr, batch = seam_trainer
    rewards = tr.scored_rewards()
    assert torch.isnan(rewards).any() and (rewards % 1 != 0).any()  # unscorable rows and the 0.5 weight occur
    ours = group_normalised_advantage(rewards, tr.num_generations)
    assert torch.allclose(ours, batch["advantages"], atol=1e-6)


@pytest.mark.parametrize("loss_type", ["dr_grpo", "grpo", "bnpo", "dapo"])
def test_our_aggregation_equals_trls(seam_trainer, loss_type):
    """TRL's loss with its k3 term minus the same loss without it = beta * our aggregate of the k3 term."""
    from harness.train.config import LOSS_TYPES

    assert set(LOSS_TYPES) == {"dr_grpo", "grpo", "bnpo", "dapo"}  # every loss_type a config may choose
    tr, batch = seam_trainer
    batch = dict(batch)
    mask = batch["completion_mask"].clone()
    mask[::2, -3:] = 0  # completions of different lengths, so that each normaliser matters
    batch["completion_mask"] = mask
    saved = tr.loss_type, tr.current_gradient_accumulation_steps, tr.args.steps_per_generation
    # gradient accumulation and steps_per_generation away from 1, so that their normalisers matter too
    tr.loss_type, tr.current_gradient_accumulation_steps, tr.args.steps_per_generation = loss_type, 2, 4
    try:
        with_kl = tr.trl_loss(tr.model, batch)
        logp = tr.last_logps
        without = tr.trl_loss(tr.model, batch, beta=0.0)
        d = batch["ref_per_token_logps"] - logp
        k3 = torch.exp(d) - d - 1  # TRL's per-token term, by hand
        ours = tr.aggregate(k3, mask, batch)
    finally:
        tr.loss_type, tr.current_gradient_accumulation_steps, tr.args.steps_per_generation = saved
    assert ours.item() > 0
    assert (with_kl - without).item() == pytest.approx(tr.beta * ours.item(), rel=1e-4, abs=1e-8)
