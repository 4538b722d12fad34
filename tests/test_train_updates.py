"""One optimizer step of every method on the tiny warmed-up model goes the right way.

For each policy-gradient method the test records the batch the trainer trained on, recomputes each completion's
reward from the rounds TRL scored, and computes the advantage the method's rule prescribes HERE, by hand (numpy), not
with harness.train.advantages. Then:

* the trainer's advantages equal that hand-computed rule (catches a rule, sign, whitening or GAE mutated where the
  advantage enters the trainer);
* after the step, sum_i A_i (log pi_new(y_i) - log pi_old(y_i)) > 0 (token level for PPO): the log-probability of
  rewarded completions rises against unrewarded ones (catches a sign flipped anywhere between rule and optimizer).

grpo_kl: started AWAY from the reference (random LoRA B) with all rewards 0, the only force is the KL term, and one
step must descend it: sum_t g_t (log pi_new - log pi_old) < 0 with g_t = dKL_t/dlog pi_t worked out by hand (k3: 1 - r,
k2: log pi - log ref, forward: -r). RAFT: one round of SFT on the correct samples raises their log-probability more
than that of the incorrect ones.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("trl")
torch.set_num_threads(1)


def make_cfg(rl_tiny, out, method, **kw):
    from harness.train.config import train_config_from_dict

    base = dict(method=method, model=str(rl_tiny / "model"), source=str(rl_tiny / "train.jsonl"), num_generations=4,
                per_device_train_batch_size=8, max_completion_length=20, max_steps=1, learning_rate=1e-3, lora_r=4,
                lora_alpha=8, output_dir=str(out), save_steps=100, report_to=["none"], temperature=1.0, seed=0,
                store_completions=False)
    base.update(kw)
    return train_config_from_dict(base)


class Capture:
    """Patches RLVRTrainer to keep every scored round (ids -> reward) and the batch finally trained on."""

    def __init__(self, monkeypatch):
        from harness.train.trainer import RLVRTrainer

        self.rewards: dict = {}
        self.problem_ids: list = []
        self.batch: dict | None = None
        score, gen = RLVRTrainer.score_batch, RLVRTrainer.generate_and_score
        cap = self

        def score_batch(trainer, inputs):
            out, rewards = score(trainer, inputs)
            for i in range(out["completion_ids"].size(0)):
                cap.rewards[key(out, i)] = float(torch.nan_to_num(rewards[i], nan=0.0))
            cap.problem_ids += [x.get("problem_id") for x in inputs]
            return out, rewards

        def generate_and_score(trainer, inputs):
            out = gen(trainer, inputs)
            if trainer.model.training and cap.batch is None:
                cap.batch = {k: v.detach().clone() for k, v in out.items() if isinstance(v, torch.Tensor)}
            return out

        monkeypatch.setattr(RLVRTrainer, "score_batch", score_batch)
        monkeypatch.setattr(RLVRTrainer, "generate_and_score", generate_and_score)

    def batch_rewards(self) -> np.ndarray:
        return np.array([self.rewards[key(self.batch, i)] for i in range(self.batch["completion_ids"].size(0))])


def key(batch: dict, i: int) -> tuple:
    p = batch["prompt_ids"][i][batch["prompt_mask"][i].bool()].tolist()
    c = batch["completion_ids"][i][batch["completion_mask"][i].bool()].tolist()
    return tuple(p), tuple(c)


@torch.no_grad()
def token_logps(model, batch: dict) -> torch.Tensor:
    """log pi(y_t | x, y_<t) per completion token [B, T], 0 off the completion mask."""
    ids = torch.cat([batch["prompt_ids"], batch["completion_ids"]], dim=1)
    attn = torch.cat([batch["prompt_mask"], batch["completion_mask"]], dim=1)
    P = batch["prompt_ids"].size(1)
    model.eval()
    logits = model(input_ids=ids, attention_mask=attn).logits[:, P - 1:-1].float()
    lp = torch.log_softmax(logits, -1).gather(-1, batch["completion_ids"].unsqueeze(-1)).squeeze(-1)
    return lp * batch["completion_mask"]


def base_model(cfg):
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(cfg.model)


# ------------------------------------------------------------------ the rules, by hand (numpy, loops)
def hand_group(r, G, scale="group"):
    out = np.zeros_like(r)
    for g in range(0, len(r), G):
        x = r[g:g + G]
        out[g:g + G] = x - x.mean()
        if scale == "group":
            out[g:g + G] /= np.sqrt(((x - x.mean()) ** 2).sum() / (G - 1)) + 1e-4
    return out


def hand_leave_out(r, G, T):
    out = np.zeros_like(r)
    for g in range(0, len(r), G):
        for i in range(G):
            checks = [r[g + (i + k) % G] for k in range(1, T + 1)]
            out[g + i] = r[g + i] * (1.0 if not any(checks) else 0.0)
    return out


def hand_ppo(r, mask, gamma, lam):
    """GAE with the critic's zero init (V = 0): A_t = (gamma lambda)^(L-1-t) r on the completion tokens, then
    whitened over them ((x - mean) / sqrt(population var + 1e-8))."""
    mask = mask.numpy().astype(float)
    a = np.zeros_like(mask)
    for i, L in enumerate(mask.sum(1).astype(int)):
        for t in range(L):
            a[i, t] = (gamma * lam) ** (L - 1 - t) * r[i]
    on = mask > 0
    mean, var = a[on].mean(), a[on].var()
    return (a - mean) / np.sqrt(var + 1e-8) * mask


def rejected_to_zero(adv, r, G, threshold):
    """Groups still above the threshold in the trained batch are unfilled slots: advantage 0 (rl_rej.py)."""
    adv = adv.copy()
    for g in range(0, len(r), G):
        if r[g:g + G].mean() > threshold:
            adv[g:g + G] = 0.0
    return adv


PG_CASES = {  # case -> (method, config fields, the advantage the trained batch must carry, by hand)
    "grpo": ("grpo", {}, lambda r, c: hand_group(r, 4)),
    "grpo_kl_k2": ("grpo_kl", dict(beta=0.1, kl_estimator="k2"), lambda r, c: hand_group(r, 4)),
    "reinforce": ("reinforce", {}, lambda r, c: r),
    "rl_rej_in_loop": ("rl_rej", dict(rej_threshold=0.3, rej_max_refill=1),
                       lambda r, c: rejected_to_zero(r, r, 4, 0.3)),
    "rl_rej_in_loop_group": ("rl_rej", dict(rej_threshold=0.3, rej_max_refill=1, rej_baseline="group"),
                             lambda r, c: rejected_to_zero(hand_group(r, 4), r, 4, 0.3)),
    "rl_rej_leave_out": ("rl_rej", dict(rej_mode="leave_out", rej_tries=2), lambda r, c: hand_leave_out(r, 4, 2)),
    "rl_rej_offline": ("rl_rej", dict(rej_mode="offline", rej_threshold=0.5), lambda r, c: r),
    "ppo": ("ppo", dict(ppo_epochs=1, gamma=0.9, gae_lambda=0.8),
            lambda r, c: hand_ppo(r, c.batch["completion_mask"], 0.9, 0.8)),
}


@pytest.mark.parametrize("case", list(PG_CASES))
def test_one_step_raises_rewarded_completions(rl_tiny, tmp_path, monkeypatch, case):
    from harness.store import SampleStore
    from harness.train.registry import run_training

    method, kw, rule = PG_CASES[case]
    kw = dict(kw)
    excluded = set()
    if case == "rl_rej_offline":
        kw["rej_base_run"] = str(tmp_path / "base")
    cfg = make_cfg(rl_tiny, tmp_path / case, method, **kw)
    if case == "rl_rej_offline":  # a base run that solved the first 32 problems: they must never be trained on
        from harness.train.provenance import train_sampling

        from harness.data import load_problems

        pid = [p.id for p in load_problems(cfg.benchmark, split=cfg.split, source=cfg.source, limit=cfg.limit)]
        store = SampleStore.open(tmp_path / "base", train_sampling(cfg), "h")
        store.write_batch([{"problem_id": pid[i], "sample_idx": 0, "correct": i < 32} for i in range(64)])
        excluded = set(pid[:32])
    cap = Capture(monkeypatch)
    res = run_training(cfg)
    assert not excluded & set(cap.problem_ids)
    r = cap.batch_rewards()
    want = rule(r, cap)
    assert np.abs(want).sum() > 0, f"{case}: no completion got credit in this batch (rewards {r}); change the seed"
    got = cap.batch["advantages"].numpy()
    assert got == pytest.approx(want, abs=1e-4), case
    before = token_logps(base_model(cfg), cap.batch)  # LoRA B = 0 at step 0: the policy is the base model
    after = token_logps(res["trainer"].model, cap.batch)
    delta = (after - before).numpy()
    push = (want * delta).sum() if want.ndim == 2 else (want * delta.sum(1)).sum()
    assert push > 0, (case, push)


@pytest.mark.parametrize("est", ["k3", "k2", "forward"])
def test_grpo_kl_step_descends_the_kl_to_the_reference(rl_tiny, tmp_path, monkeypatch, est):
    from transformers import TrainerCallback

    from harness.train.registry import run_training

    saved = {}

    class Perturb(TrainerCallback):  # move the policy away from the reference before the first step
        def on_train_begin(self, args, state, control, model=None, **kw):
            g = torch.Generator().manual_seed(0)
            for n, p in model.named_parameters():
                if "lora_B" in n:
                    p.data.copy_(0.3 * torch.randn(p.shape, generator=g))
            saved.update({n: p.detach().clone() for n, p in model.named_parameters() if "lora_" in n})

    # every reward 0: the policy-gradient term is 0. A small step (lr 1e-4) keeps the change first order: at 5e-3 the
    # step overshoots (|d log pi| up to 3 nats) and a KL term of the wrong sign could still end closer to the reference
    cfg = make_cfg(rl_tiny, tmp_path / est, "grpo_kl", beta=1.0, kl_estimator=est, learning_rate=1e-4,
                   source=str(rl_tiny / "wrong.jsonl"))
    cap = Capture(monkeypatch)
    res = run_training(cfg, extra_callbacks=[Perturb()])
    assert cap.batch_rewards().sum() == 0 and not cap.batch["advantages"].any()
    model = res["trainer"].model
    after = token_logps(model, cap.batch)
    with torch.no_grad():
        for n, p in model.named_parameters():
            if n in saved:
                p.copy_(saved[n])
    before = token_logps(model, cap.batch)
    with model.disable_adapter():
        ref = token_logps(model, cap.batch)
    m = cap.batch["completion_mask"].bool()
    ratio = torch.exp(ref - before)
    g = {"k3": 1 - ratio, "k2": before - ref, "forward": -ratio}[est]  # dKL_t / dlog pi_t, by hand
    descent = (g * (after - before))[m].sum().item()
    assert (after - before)[m].abs().max() > 0 and descent < 0, (est, descent)
    # the KL the trainer logged for this step is the chosen estimator's value, by hand, at the policy it started from
    d = ref - before
    value = {"k3": ratio - d - 1, "k2": 0.5 * d ** 2, "forward": ratio * d - ratio + 1}[est]
    logged = [x["kl"] for x in res["trainer"].state.log_history if "kl" in x][0]
    assert logged == pytest.approx(value[m].mean().item(), rel=1e-3), est


def test_raft_round_raises_correct_samples_more_than_incorrect(rl_tiny, tmp_path):
    from harness.store import SampleStore
    from harness.train.registry import run_training

    cfg = make_cfg(rl_tiny, tmp_path / "raft", "raft", raft_rounds=1, raft_prompts_per_round=8, max_steps=50,
                   store_completions=True, learning_rate=1e-3)  # small steps: first order
    res = run_training(cfg)
    df = SampleStore(f"{cfg.output_dir}/train_samples").read()
    assert df["correct"].any() and not df["correct"].all()
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(cfg.model)
    from harness.data import build_prompt, load_problems

    prompts = {p.id: build_prompt(p, cfg.template, tok) for p in load_problems("gsm8k", "train", source=cfg.source)}

    def mean_logp(model, rows):
        out = []
        for _, x in rows.iterrows():
            p = tok(prompts[x["problem_id"]], add_special_tokens=False, return_tensors="pt")["input_ids"]
            c = tok(x["completion"] + tok.eos_token, add_special_tokens=False, return_tensors="pt")["input_ids"]
            b = {"prompt_ids": p, "prompt_mask": torch.ones_like(p), "completion_ids": c,
                 "completion_mask": torch.ones_like(c)}
            out.append(token_logps(model, b).sum().item() / c.size(1))
        return np.array(out)

    base, policy = base_model(cfg), res["model"]
    kept, other = df[df["correct"]], df[~df["correct"]]
    d_kept = mean_logp(policy, kept) - mean_logp(base, kept)
    d_other = mean_logp(policy, other) - mean_logp(base, other)
    assert d_kept.mean() > 0 and d_kept.mean() > d_other.mean(), (d_kept.mean(), d_other.mean())
