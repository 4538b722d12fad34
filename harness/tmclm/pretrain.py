"""Pretraining = tree expansion: a small causal transformer learns the TMC from sampled paths.

Model: ``transformers.Qwen2ForCausalLM`` built from a config (no hub), few layers, hidden <= 128, tied embeddings,
vocabulary of :class:`harness.tmclm.tokenizer.PathTokenizer`. Saved with ``save_pretrained`` so the harness (TRL,
the HF backend) loads it like any other local model folder.

Data (the paper's pretraining, docs/tmc_model.md §3, "single paths sampled from the true TMC with a uniform start"):
every optimizer step draws a FRESH batch of paths from the true TMC. A share ``task_prompt_fraction`` of the sequences
is ``<T:k> s_k o_1 .. o_{L-1} <end>`` with a uniformly drawn task k (o_0 = the task's start, the convention of the
fine-tuned models, docs/tmc_model.md §5); the rest is ``<any> o_0 .. o_{L-1} <end>`` with ``o_0`` uniform over layer 0
(the paper's pretraining and *Base Model*). The loss is the mean next-token cross-entropy over the completion tokens
(the L states and ``<end>``; the prompt token is not predicted):

    loss(theta) = - 1/(B (L+1)) sum_b sum_{i=0}^{L} log pi_theta(y_{b,i} | x_b, y_{b,<i}),

an unbiased estimate of the population cross-entropy, minimised by ``pi_theta = `` the TMC; its floor is the path
entropy ``H(o | x) / (L + 1)`` (logged as ``loss_floor``).

Loop: a plain torch loop (AdamW, linear warm-up then cosine decay to 10 % of the peak lr), NOT ``transformers.Trainer``.
Why: (1) the data is an infinite stream sampled afresh from the TMC every step, exactly the paper's online SGD, which
a map-style ``Trainer`` dataset and its epochs do not express; (2) the model has ~50k parameters and a batch of
6-token sequences takes milliseconds, so the Trainer's per-step machinery (accelerate, callbacks, logging) would
dominate the wall time on the 2-core CPU; (3) the schedule and the RNG streams are fully explicit (deterministic for a
seed). Post-training, where the harness's real stack matters, does go through TRL (:mod:`harness.tmclm.posttrain`).
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

from .config import ModelConfig, TmclmPretrainConfig
from .measure import all_path_probs, kl_divergence, prompt_key, prompts_of, tmc_path_probs
from .tokenizer import PathTokenizer


def build_model(tok: PathTokenizer, cfg: ModelConfig):
    """A randomly initialised ``Qwen2ForCausalLM`` sized by ``cfg`` for the tokenizer's vocabulary."""
    import torch
    from transformers import GenerationConfig, Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(cfg.init_seed)
    mcfg = Qwen2Config(
        vocab_size=tok.vocab_size, hidden_size=cfg.hidden_size, intermediate_size=cfg.intermediate_size,
        num_hidden_layers=cfg.num_hidden_layers, num_attention_heads=cfg.num_attention_heads,
        num_key_value_heads=cfg.num_key_value_heads, max_position_embeddings=max(16, tok.n_layers + 2),
        eos_token_id=tok.end_id, pad_token_id=tok.pad_id, bos_token_id=None, tie_word_embeddings=False,
    )
    model = Qwen2ForCausalLM(mcfg)
    model.generation_config = GenerationConfig(
        eos_token_id=tok.end_id, pad_token_id=tok.pad_id, do_sample=True, max_new_tokens=tok.completion_length,
    )
    return model


def sample_sequences(tmc, tok: PathTokenizer, n: int, task_prompt_fraction: float,
                     rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``(input_ids (n, L+2), prompt_task_index (n,))``: fresh TMC paths with their prompts (index -1 = <any>)."""
    from tmc_theory.sampling import sample_paths

    n_tasks = len(tmc.tasks)
    use_task = rng.random(n) < task_prompt_fraction
    task_idx = np.where(use_task, rng.integers(0, n_tasks, size=n), -1)
    starts = np.where(use_task, np.array([t.start for t in tmc.tasks])[np.maximum(task_idx, 0)],
                      rng.integers(0, tmc.widths[0], size=n))
    paths = sample_paths(tmc.kernels, starts, rng)
    comp = tok.completion_ids(paths)
    prompt_ids = np.array([tok.any_id if i < 0 else tok.prompt_id(tmc.tasks[i].name) for i in task_idx])
    return np.concatenate([prompt_ids[:, None], comp], axis=1), task_idx


def lr_at(step: int, cfg: TmclmPretrainConfig) -> float:
    """Linear warm-up to ``cfg.lr`` then cosine decay to ``0.1 * cfg.lr`` at ``cfg.steps``."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    t = (step - cfg.warmup_steps) / max(1, cfg.steps - cfg.warmup_steps)
    return cfg.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, t))))


def exact_kl(model, tok: PathTokenizer, tmc) -> dict[str, float]:
    """``KL(TMC || model)`` over paths for ``<any>`` and each task prompt (exact, by enumeration)."""
    probs = all_path_probs(model, tok, tmc)
    return {prompt_key(p): kl_divergence(tmc_path_probs(tmc, p), probs[prompt_key(p)]) for p in prompts_of(tmc)}


def loss_floor(tmc, cfg: TmclmPretrainConfig) -> float:
    """The minimum achievable loss: the data's path entropy per completion token."""
    def h(p):
        p = p[p > 0]
        return float(-np.sum(p * np.log(p)))

    h_any = h(tmc_path_probs(tmc, None))
    h_task = np.mean([h(tmc_path_probs(tmc, t.name)) for t in tmc.tasks])
    f = cfg.task_prompt_fraction
    return ((1 - f) * h_any + f * h_task) / (tmc.n_layers + 1)


def pretrain(tmc, model_cfg: ModelConfig, cfg: TmclmPretrainConfig, out_dir: str | Path | None = None,
             progress=None) -> tuple[object, PathTokenizer, dict]:
    """Build and pretrain the model on ``tmc``; save it to ``out_dir`` if given.

    Returns ``(model, tokenizer, report)`` with ``report = {"history": [{step, loss, lr, kl...}], "kl": final
    exact KL per prompt, "loss_floor", "wall_s"}``.
    """
    import torch

    if not 0.0 <= cfg.task_prompt_fraction <= 1.0:
        from tmc_core.config import ConfigError

        raise ConfigError(f"pretrain.task_prompt_fraction: {cfg.task_prompt_fraction} is not allowed; "
                          "allowed values: a share in [0, 1]")
    t0 = time.perf_counter()
    tok = PathTokenizer.for_tmc(tmc)
    model = build_model(tok, model_cfg)
    rng = np.random.default_rng(cfg.seed)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, betas=(0.9, 0.99))
    model.train()
    history = []
    running = []
    for step in range(cfg.steps):
        ids, _ = sample_sequences(tmc, tok, cfg.batch_size, cfg.task_prompt_fraction, rng)
        x = torch.as_tensor(ids, dtype=torch.long)
        logits = model(input_ids=x).logits
        logp = torch.log_softmax(logits[:, :-1].float(), dim=-1)
        nll = -logp.gather(-1, x[:, 1:].unsqueeze(-1)).squeeze(-1)
        loss = nll.mean()
        for g in opt.param_groups:
            g["lr"] = lr_at(step, cfg)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        running.append(float(loss.detach()))
        last = step == cfg.steps - 1
        if (cfg.log_every and (step + 1) % cfg.log_every == 0) or last:
            rec = {"step": step + 1, "loss": float(np.mean(running)), "lr": lr_at(step, cfg)}
            rec.update({f"kl[{k}]": v for k, v in exact_kl(model, tok, tmc).items()})
            history.append(rec)
            running = []
            if progress:
                progress(rec)
    model.eval()
    report = {
        "history": history,
        "kl": {k[3:-1]: v for k, v in history[-1].items() if k.startswith("kl[")} if history else {},
        "loss_floor": loss_floor(tmc, cfg),
        "wall_s": time.perf_counter() - t0,
        "n_parameters": int(sum(p.numel() for p in model.parameters())),
        "loop": "plain torch loop (AdamW), fresh TMC paths every step",
    }
    if out_dir is not None:
        save_model(model, tok, out_dir)
    return model, tok, report


def save_model(model, tok: PathTokenizer, out_dir: str | Path) -> Path:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    tok.save(out_dir)
    # TRL builds the KL reference model (beta > 0) from config._name_or_path: point it at this folder
    model.config._name_or_path = str(out_dir.resolve())
    return out_dir


def load_model(model_dir: str | Path):
    """``(model, tokenizer)`` from a folder written by :func:`save_model`."""
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(model_dir)
    model.eval()
    return model, PathTokenizer.load(model_dir)
