"""RLVR methods on a tiny warmed-up model: each runs, changes its LoRA weights, and obeys its defining rule."""

from __future__ import annotations

import json
import types
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("trl")
torch.set_num_threads(1)


def make_cfg(rl_tiny, tmp_path, method, **kw):
    from harness.train.config import train_config_from_dict

    base = dict(method=method, model=str(rl_tiny / "model"), source=str(rl_tiny / "train.jsonl"), num_generations=4,
                per_device_train_batch_size=8, max_completion_length=20, max_steps=2, learning_rate=2e-2, lora_r=4,
                lora_alpha=8, output_dir=str(tmp_path / method), save_steps=100, report_to=["none"], temperature=1.0,
                seed=0)
    base.update(kw)
    return train_config_from_dict(base)


def lora_tensors(model) -> dict[str, torch.Tensor]:
    return {n: p.detach().clone() for n, p in model.named_parameters() if "lora_" in n}


def initial_lora(cfg):
    """The LoRA weights the trainer starts from (same seed, same init)."""
    from peft import get_peft_model
    from transformers import AutoModelForCausalLM, set_seed

    from harness.train.runner import lora_config

    set_seed(cfg.seed)
    m = get_peft_model(AutoModelForCausalLM.from_pretrained(cfg.model), lora_config(cfg))
    return lora_tensors(m)


def changed(before: dict, after: dict) -> bool:
    return any(not torch.equal(before[k], after[k]) for k in before)


def metrics(cfg):
    from harness.train.callbacks import read_metrics

    return [m for m in read_metrics(f"{cfg.output_dir}/metrics.jsonl") if "loss" in m and "train_runtime" not in m]


class FakeSeam:
    """The public hooks of harness.train.trl_seam.SeamTrainer that the rejector uses, on TRL-like buffers."""

    def record_metric(self, name, value, mode=None):
        self._metrics[mode or "train"][name].append(value)

    @property
    def pad_token_id(self):
        return self._tokenizer.pad_token_id


# ---------------------------------------------------------------- advantage rules (pure functions)
def test_grpo_equal_rewards_in_group_give_zero_advantage():
    from harness.train.advantages import group_normalised_advantage

    r = torch.tensor([1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0])
    a = group_normalised_advantage(r, 4)
    assert torch.equal(a[:8], torch.zeros(8))
    g = a[8:]
    assert abs(g.sum().item()) < 1e-5 and g[0] > 0 and g[1] < 0
    assert torch.allclose(g, (r[8:] - 0.5) / (r[8:].std() + 1e-4))  # TRL's formula (Bessel std, 1e-4)


def test_reinforce_advantage_is_reward_and_kl_estimators():
    from harness.train.advantages import reinforce_advantage
    from harness.train.kl import kl_per_token

    r = torch.tensor([0.0, 1.0, float("nan"), 1.0])
    assert torch.equal(reinforce_advantage(r, 2), torch.tensor([0.0, 1.0, 0.0, 1.0]))
    ref = torch.tensor([-1.0, -2.0, -0.5])
    for est in ("k3", "k2", "forward"):
        lp = torch.tensor([-1.5, -1.0, -0.5], requires_grad=True)
        term, value = kl_per_token(est, lp, ref)
        assert (value >= -1e-7).all() and value[2].abs() < 1e-7
        term.sum().backward()
        r_ = torch.exp(ref - lp.detach())
        expect = {"k3": 1 - r_, "k2": lp.detach() - ref, "forward": -r_}[est]
        assert torch.allclose(lp.grad, expect, atol=1e-6), est


def test_ppo_gae_and_value_loss_decreases_on_fixed_batch():
    from harness.train.advantages import gae
    from harness.train.ppo import PPOTrainer, ValueHead

    mask = torch.tensor([[1, 1, 1, 0], [1, 1, 0, 0]])
    adv, ret = gae(torch.tensor([1.0, 0.0]), torch.zeros(2, 4), mask, gamma=1.0, lam=1.0)
    assert torch.equal(ret, mask.float() * torch.tensor([[1.0], [0.0]]))  # MC returns = terminal reward
    torch.manual_seed(0)
    feats = torch.randn(8, 6, 16)
    m = torch.ones(8, 6, dtype=torch.long)
    returns = torch.randn(8, 6)
    critic = ValueHead(16)
    fake = types.SimpleNamespace(critic=critic, critic_opt=torch.optim.AdamW(critic.parameters(), lr=1e-2),
                                 ppo_epochs=20, cliprange_value=10.0,
                                 accelerator=types.SimpleNamespace(num_processes=1))
    losses = PPOTrainer.update_critic(fake, feats, returns, m, torch.zeros(8, 6))
    assert losses[-1] < 0.9 * losses[0]


def test_rl_rej_in_loop_drops_exactly_groups_above_threshold_and_refills():
    from harness.train.rl_rej import InLoopRejector

    G = 2

    def batch(rewards, tag):
        n = len(rewards)
        return {"prompt_ids": torch.full((n, 3), tag), "prompt_mask": torch.ones(n, 3, dtype=torch.long),
                "completion_ids": torch.full((n, 2 + tag), tag),
                "completion_mask": torch.ones(n, 2 + tag, dtype=torch.long),
                "advantages": torch.tensor(rewards), "num_items_in_batch": torch.tensor(0)}, torch.tensor(rewards)

    refills = [[1.0, 1.0, 0.0, 1.0], [1.0, 1.0]]  # refill 1: one easy (rejected) + one kept; refill 2: easy

    class FakeTrainer(FakeSeam):
        num_generations = G
        accelerator = types.SimpleNamespace(num_processes=1, process_index=0)
        state = types.SimpleNamespace(global_step=3)
        train_dataset = [{"problem_id": f"p{i}"} for i in range(10)]
        _metrics = {"train": __import__("collections").defaultdict(list)}
        _tokenizer = types.SimpleNamespace(pad_token_id=0)

        def score_batch(self, inputs):
            r = refills.pop(0)
            assert len(inputs) == len(r)
            return batch(r, 1)

    inputs = [{"problem_id": pid} for pid in ("a", "a", "b", "b", "c", "c")]
    out, rewards = batch([1.0, 1.0, 0.0, 1.0, 1.0, 1.0], 0)  # groups a (rate 1), b (0.5), c (1)
    rej = InLoopRejector(threshold=0.6, max_refill=2, seed=0)
    t = FakeTrainer()
    new = rej.apply(t, inputs, out, rewards)
    assert rej.last["rejected_ids"] == ["a", "c"]
    assert len(rej.last["refill_ids"]) == 1  # one refill group was easy too, so a second round was needed
    assert new["advantages"].shape[0] == 6 and new["completion_ids"].shape == (6, 3)  # size kept, padded to width
    assert new["advantages"][:2].tolist() == [0.0, 1.0]  # group b kept
    assert new["advantages"][2:4].tolist() == [0.0, 1.0]  # the kept refill group
    assert t._metrics["train"]["rej/frac_rejected"] == [pytest.approx(2 / 3)]
    # the reward of the groups trained with their advantage (b and the kept refill), not of every scored round
    assert t._metrics["train"]["rej/kept_reward"] == [pytest.approx(0.5)]
    # a second refill returned nothing usable -> the remaining slot is a rejected group with zero advantage
    assert new["advantages"][4:].tolist() == [0.0, 0.0]


def test_rl_rej_in_loop_refill_under_two_processes(monkeypatch):
    """Two ranks simulated one after the other, each given the gathered (global) rewards: both take the same
    decisions, run the same collective refill rounds (same sizes, m = the largest need), draw their own slice of
    one shared pick list, and each refills only its own rejected groups."""
    import collections

    import harness.train.rl_rej as rl_rej
    from harness.train.rl_rej import InLoopRejector

    monkeypatch.setattr(rl_rej, "gather_lists", lambda acc, items: list(items))  # no process group here
    G, P = 2, 2
    # the gathered rewards of the first generation: rank 0 holds groups a (1,1) b (0,1); rank 1 holds c (1,1) d (1,1)
    first = [1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    # refill rounds, gathered: round 1 has m = 2 groups per rank, round 2 has m = 1
    rounds = [[1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 1.0, 1.0]]

    def local(rewards, rank, tag):
        n = len(rewards) // P
        r = torch.tensor(rewards[rank * n:(rank + 1) * n])
        return {"prompt_ids": torch.full((n, 3), tag), "prompt_mask": torch.ones(n, 3, dtype=torch.long),
                "completion_ids": torch.full((n, 2), tag), "completion_mask": torch.ones(n, 2, dtype=torch.long),
                "advantages": r.clone(), "num_items_in_batch": torch.tensor(0)}

    results = []
    for rank in range(P):
        calls = []

        class FakeTrainer(FakeSeam):
            num_generations = G
            accelerator = types.SimpleNamespace(num_processes=P, process_index=rank, gather=lambda t: t.repeat(P),
                                                device=torch.device("cpu"))
            state = types.SimpleNamespace(global_step=3)
            train_dataset = [{"problem_id": f"p{i}"} for i in range(50)]
            _metrics = {"train": collections.defaultdict(list)}
            _tokenizer = types.SimpleNamespace(pad_token_id=0)

            def score_batch(self, inputs, rank=rank):
                r = rounds[len(calls)]
                calls.append([x["problem_id"] for x in inputs])
                assert len(inputs) * P == len(r)
                return local(r, rank, 10 + len(calls)), torch.tensor(r)

        inputs = [{"problem_id": pid} for pid in (("a", "a", "b", "b") if rank == 0 else ("c", "c", "d", "d"))]
        rej = InLoopRejector(threshold=0.6, max_refill=2, seed=0)
        t = FakeTrainer()
        new = rej.apply(t, inputs, local(first, rank, 0), torch.tensor(first))
        results.append((calls, new, t._metrics["train"]))
    (calls0, new0, m0), (calls1, new1, m1) = results
    assert [len(c) for c in calls0] == [len(c) for c in calls1] == [4, 2]  # the same collective rounds on both ranks
    assert calls0[0] != calls1[0]  # each rank its own slice of the shared draw
    # rank 0: b kept, then the second group of its first refill slice (the first was easy)
    assert new0["advantages"].tolist() == [0.0, 1.0, 0.0, 1.0] and new0["completion_ids"][2:, 0].tolist() == [11, 11]
    # rank 1: the first group of its refill slice; round 2 was easy again -> group c kept with zero advantage
    assert new1["advantages"].tolist() == [0.0, 0.0, 0.0, 0.0]
    assert new1["completion_ids"][:2, 0].tolist() == [11, 11] and new1["completion_ids"][2:, 0].tolist() == [0, 0]
    assert m0["rej/frac_rejected"] == m1["rej/frac_rejected"] == [pytest.approx(3 / 4)]
    assert m0["rej/unfilled"] == m1["rej/unfilled"] == [pytest.approx(1 / 4)]
    assert int(new0["num_items_in_batch"]) == P * 8  # the gathered token count, not this rank's
    # this rank's accepted rows (the fake gather repeats them): rank 0 kept b (0, 1) + a refill (0, 1), rank 1 one
    # refill (0, 0); its unfilled slot (group c, all correct) is not counted
    assert m0["rej/kept_reward"] == [pytest.approx(0.5)] and m1["rej/kept_reward"] == [pytest.approx(0.0)]


def test_rl_rej_kept_reward_pools_sums_and_counts_over_processes():
    """rej/kept_reward over processes is sum / count of the pooled rows (NaN rewards skipped), not a mean of
    per-process means: here 1 of 1 scorable row on this rank plus 1 of 4 on the other -> 2 / 5."""
    from harness.train.rl_rej import InLoopRejector

    acc = types.SimpleNamespace(num_processes=2, device=torch.device("cpu"),
                                gather=lambda t: torch.cat([t, torch.tensor([1.0, 4.0])]))
    got = InLoopRejector._mean_over_processes(acc, [torch.tensor(1.0), torch.tensor(float("nan"))])
    assert got == pytest.approx(2 / 5)
    one = types.SimpleNamespace(num_processes=1)
    rates = [torch.tensor(0.0), torch.tensor(1.0), torch.tensor(1.0)]
    assert InLoopRejector._mean_over_processes(one, rates) == pytest.approx(2 / 3)
    assert __import__("math").isnan(InLoopRejector._mean_over_processes(one, []))


def test_rl_rej_leave_out_rule_and_its_expectation():
    """The paper's RL-rej rule in leave-T-out form: exact on a hand-made batch, and unbiased: with i.i.d.
    success probability q per completion, E[A_i] = q (1 - q)^T (the weight the theory's expected update uses)."""
    from harness.train.advantages import leave_out_advantage

    rw = torch.tensor([1.0, 0, 0, 0, 1, 0] + [1.0, 1, 0, 0, 0, 0])
    a = leave_out_advantage(rw, 6, tries=3)
    assert a[:6].tolist() == [1, 0, 0, 0, 0, 0]  # sample 4's checks (5, 0, 1) include sample 0: rejected
    assert a[6:].tolist() == [0, 1, 0, 0, 0, 0]  # sample 0 sees sample 1 among its checks
    with pytest.raises(ValueError, match="num_generations > rej_tries"):
        leave_out_advantage(rw, 6, tries=6)
    g = torch.Generator().manual_seed(0)
    for q in (0.1, 0.5, 0.8):
        r = (torch.rand(200_000 * 8, generator=g) < q).float()
        mean = leave_out_advantage(r, 8, tries=5).mean().item()
        assert mean == pytest.approx(q * (1 - q) ** 5, abs=3e-3), q


def test_rl_rej_offline_drops_exactly_prompts_above_threshold(rl_tiny, tmp_path):
    from transformers import AutoTokenizer

    from harness.store import SampleStore
    from harness.train.data import build_train_dataset
    from harness.train.rl_rej import offline_rejected_ids

    from harness.data import load_problems

    cfg = make_cfg(
        rl_tiny, tmp_path, "rl_rej", rej_mode="offline", rej_base_run=str(tmp_path / "base"), rej_threshold=0.75
    )
    pid = [p.id for p in load_problems(cfg.benchmark, split=cfg.split, source=cfg.source, limit=cfg.limit)]
    store = SampleStore.open(tmp_path / "base", {"x": 1}, "h")
    rates = {pid[0]: [1, 1, 1, 1], pid[1]: [1, 1, 1, 0], pid[2]: [0, 0, 0, 0]}
    store.write_batch(
        [{"problem_id": p, "sample_idx": i, "correct": bool(c)} for p, cs in rates.items() for i, c in enumerate(cs)]
    )
    ids, got = offline_rejected_ids(tmp_path / "base", 0.75)
    assert ids == {pid[0]} and got[pid[1]] == 0.75
    ds = build_train_dataset(cfg, AutoTokenizer.from_pretrained(cfg.model), exclude_ids=ids)
    assert pid[0] not in ds["problem_id"] and pid[1] in ds["problem_id"] and len(ds) == 63


# ---------------------------------------------------------------- every method trains
def test_grpo_trains_and_stores_completions(rl_tiny, tmp_path):
    from harness.store import SampleStore
    from harness.train.registry import run_training

    cfg = make_cfg(rl_tiny, tmp_path, "grpo")
    res = run_training(cfg)
    assert res["global_step"] == 2
    assert changed(initial_lora(cfg), lora_tensors(res["trainer"].model))
    df = SampleStore(f"{cfg.output_dir}/train_samples").read()
    assert sorted(df["step"].unique()) == [0, 1] and len(df) == 16
    assert set(df.groupby(["step", "problem_id"]).size()) == {4}
    m = metrics(cfg)
    assert {"reward", "entropy", "frac_reward_zero_std", "tokens_per_s"} <= set(m[0])
    run = json.loads((Path(cfg.output_dir) / "train_run.json").read_text())
    assert run["resolved_dtype"] == "float32" and run["config"]["dtype"] == cfg.dtype  # CPU trains in float32


def test_gradient_checkpointing_trains_the_same_weights(rl_tiny, tmp_path):
    """``gradient_checkpointing: true`` recomputes activations in the backward pass instead of storing them: it
    trades compute for memory and must not change the update (on SmolLM2 it halved peak RSS with equal losses,
    docs/training.md)."""
    from harness.train.registry import run_training

    runs = {}
    for gc in (False, True):
        cfg = make_cfg(rl_tiny, tmp_path / f"gc{gc}", "grpo", gradient_checkpointing=gc)
        res = run_training(cfg)
        assert res["trainer"].model.get_base_model().is_gradient_checkpointing is gc
        runs[gc] = (lora_tensors(res["trainer"].model), [m["loss"] for m in metrics(cfg)])
    assert changed(initial_lora(cfg), runs[True][0])
    assert runs[True][1] == pytest.approx(runs[False][1], rel=1e-5, abs=1e-7)
    for k, v in runs[False][0].items():
        assert torch.allclose(v, runs[True][0][k], rtol=1e-4, atol=1e-6), k


def test_reinforce_with_all_zero_rewards_changes_nothing(rl_tiny, tmp_path):
    from harness.train.registry import run_training

    cfg = make_cfg(rl_tiny, tmp_path, "reinforce", source=str(rl_tiny / "wrong.jsonl"))
    res = run_training(cfg)
    after = lora_tensors(res["trainer"].model)
    assert not changed(initial_lora(cfg), after)
    assert all(m["reward"] == 0.0 and m["grad_norm"] == 0.0 for m in metrics(cfg))


def test_reinforce_trains(rl_tiny, tmp_path):
    from harness.train.registry import run_training

    cfg = make_cfg(rl_tiny, tmp_path, "reinforce")
    res = run_training(cfg)
    assert changed(initial_lora(cfg), lora_tensors(res["trainer"].model))
    assert any(m["reward"] > 0 for m in metrics(cfg))


def test_grpo_kl_logs_positive_kl_after_a_step(rl_tiny, tmp_path):
    from harness.train.registry import run_training

    for est in ("k3", "forward"):
        cfg = make_cfg(rl_tiny, tmp_path / est, "grpo_kl", beta=0.1, kl_estimator=est, max_steps=3)
        res = run_training(cfg)
        kls = [m["kl"] for m in metrics(cfg)]
        assert kls[0] == pytest.approx(0.0, abs=1e-6)  # LoRA B = 0 at step 0: policy == base
        assert max(kls[1:]) > 0, (est, kls)
        assert changed(initial_lora(cfg), lora_tensors(res["trainer"].model))


def test_rl_rej_in_loop_trains(rl_tiny, tmp_path):
    from harness.train.registry import run_training

    cfg = make_cfg(rl_tiny, tmp_path, "rl_rej", rej_threshold=0.3, rej_max_refill=1, max_steps=3)
    res = run_training(cfg)
    assert changed(initial_lora(cfg), lora_tensors(res["trainer"].model))
    m = metrics(cfg)
    assert all("rej/frac_rejected" in x for x in m)


def test_rl_rej_in_loop_with_group_baseline_trains_on_grpo_advantages(rl_tiny, tmp_path):
    """rej_baseline: group = GRPO's advantage on the groups the in-loop rejector keeps (and on its refills)."""
    from harness.store import SampleStore
    from harness.train.advantages import group_normalised_advantage
    from harness.train.registry import run_training

    cfg = make_cfg(rl_tiny, tmp_path, "rl_rej", rej_baseline="group", rej_threshold=0.3, rej_max_refill=1, max_steps=3)
    res = run_training(cfg)
    trainer = res["trainer"]
    assert trainer.advantage_rule.func is group_normalised_advantage
    assert trainer.advantage_rule.keywords == {"scale": cfg.scale_rewards}
    assert trainer.rejector is not None and trainer.rejector.threshold == 0.3
    assert changed(initial_lora(cfg), lora_tensors(trainer.model))
    assert all("rej/frac_rejected" in x for x in metrics(cfg))
    # unlike A = r, an all-correct group (one the rejector may have to keep when refills run out) gets zero advantage
    r = torch.tensor([1.0, 1.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0])
    adv = trainer.advantage_rule(r, 4)
    assert adv[:4].abs().max() < 1e-3 and adv[4:].abs().sum() > 0
    n_stored = len(SampleStore(f"{cfg.output_dir}/train_samples").read())  # each step's groups, refills included
    assert n_stored >= 3 * 8 and n_stored % 4 == 0


def test_rl_rej_leave_out_trains(rl_tiny, tmp_path):
    from harness.store import SampleStore
    from harness.train.registry import run_training
    from harness.train.advantages import leave_out_advantage

    cfg = make_cfg(rl_tiny, tmp_path, "rl_rej", rej_mode="leave_out", rej_tries=2, max_steps=3)
    res = run_training(cfg)
    rule = res["trainer"].advantage_rule
    assert rule.func is leave_out_advantage and rule.keywords == {"tries": 2} and res["trainer"].rejector is None
    assert changed(initial_lora(cfg), lora_tensors(res["trainer"].model))
    df = SampleStore(f"{cfg.output_dir}/train_samples").read().sort_values(["step", "problem_id", "sample_idx"])
    assert len(df) == 3 * 8 and not any("rej/frac_rejected" in x for x in metrics(cfg))  # nothing dropped
    # the advantages the rule gives these stored rewards are what drove the update: some are non-zero
    adv = leave_out_advantage(torch.tensor(df["reward"].to_numpy()), 4, tries=2)
    assert adv.abs().sum() > 0
    # adv/frac_correct_zeroed: the share of correct completions the checks rejected, per step, from those rewards
    # (samples are stored with the global step they were generated at; the update they drive is logged at step + 1)
    logged = {x["step"]: x["adv/frac_correct_zeroed"] for x in metrics(cfg) if "adv/frac_correct_zeroed" in x}
    expected = {}
    for step, g in df.groupby("step"):
        r = torch.tensor(g["reward"].to_numpy())
        if (r > 0).any():
            expected[int(step) + 1] = (leave_out_advantage(r, 4, tries=2)[r > 0] == 0).float().mean().item()
    assert expected and logged == pytest.approx(expected)


def test_ppo_trains_and_its_critic_learns(rl_tiny, tmp_path):
    from harness.train.registry import run_training

    cfg = make_cfg(rl_tiny, tmp_path, "ppo", ppo_epochs=2, value_lr=1e-2, max_steps=2)
    res = run_training(cfg)
    assert changed(initial_lora(cfg), lora_tensors(res["trainer"].model))
    assert any(p.abs().sum() > 0 for p in res["trainer"].critic.parameters())
    m = metrics(cfg)
    assert any("ppo/value_loss" in x for x in m)  # logged at generation steps (batch reused ppo_epochs times)


def test_raft_trains_only_on_correct_samples(rl_tiny, tmp_path):
    from harness.data import load_problems
    from harness.grading import grade
    from harness.store import SampleStore
    from harness.train.registry import run_training

    cfg = make_cfg(rl_tiny, tmp_path, "raft", raft_rounds=2, raft_prompts_per_round=8, max_steps=50)
    res = run_training(cfg)
    gold = {p.id: p.answer for p in load_problems("gsm8k", "train", source=cfg.source)}
    df = SampleStore(f"{cfg.output_dir}/train_samples").read()
    gen_step = 0
    for rnd in res["rounds"]:
        assert rnd["n_sampled"] == 8 * 4
        sampled = df[df["step"] == gen_step]
        assert len(sampled) == 32
        # exactly the correct samples are kept, and each kept one is correct under the grader
        assert rnd["n_kept"] == int(sampled["correct"].sum())
        assert all(grade("gsm8k", x["completion"], gold[x["problem_id"]]).correct for x in rnd["kept"])
        gen_step = rnd["global_step"]
    assert sum(r["n_kept"] for r in res["rounds"]) > 0
    assert changed(initial_lora(cfg), lora_tensors(res["model"]))


# ---------------------------------------------------------------- spurious-reward control
def test_spurious_reward_is_a_seeded_permutation_of_the_true_rewards():
    from harness.train.rewards import GraderReward

    answers = ["#### 3"] * 6
    completions = ["#### 3", "#### 1", "#### 3", "#### 2", "#### 3", "#### 0"]
    true = GraderReward("gsm8k")(None, completions, answers)
    assert true == [1.0, 0.0, 1.0, 0.0, 1.0, 0.0]
    step = type("S", (), {"global_step": 7})
    a = GraderReward("gsm8k", spurious=True, seed=1)(None, completions, answers, trainer_state=step)
    b = GraderReward("gsm8k", spurious=True, seed=1)(None, completions, answers, trainer_state=step)
    assert a == b and sorted(a) == sorted(true)  # reproducible, same mean
    perms = {
        tuple(GraderReward("gsm8k", spurious=True, seed=s)(None, completions, answers, trainer_state=step))
        for s in range(20)
    }
    assert len(perms) > 1  # the permutation depends on the seed


def test_spurious_control_trains_with_true_mean_but_uninformative_reward(rl_tiny, tmp_path):
    """End to end: the stored training completions carry the grader's verdict (`correct`) and the reward the
    policy was trained on (`reward`); per generation batch the rewards are a permutation of the verdicts."""
    from harness.store import SampleStore
    from harness.train.registry import run_training

    cfg = make_cfg(rl_tiny, tmp_path, "grpo", reward="random", max_steps=3)
    res = run_training(cfg)
    assert changed(initial_lora(cfg), lora_tensors(res["trainer"].model))
    df = SampleStore(f"{cfg.output_dir}/train_samples").read()
    assert sorted(df["step"].unique()) == [0, 1, 2]
    assert df["correct"].any() and not df["correct"].all()  # the verdicts vary, so the check below means something
    for _, g in df.groupby("step"):
        assert g["reward"].sum() == g["correct"].sum()  # same batch mean as the true reward
    assert (df["reward"] != df["correct"].astype(float)).any()  # ... attached to other completions
    m = metrics(cfg)
    assert all("rewards/random_reward/mean" in x for x in m)
