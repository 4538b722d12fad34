"""``run_bon(cfg, out)``: every configured selector x reward source on every problem, ``runs`` times each.

Per problem and entry (selector, reward) and run r, one selection: outcome-level selectors draw N of the pool's
completions without replacement, seeded by (seed, problem, r) only, so run r of every outcome-level selector and
reward chooses among the SAME N candidates (paired comparisons), and choose one; step-level
selectors search afresh with their own seeds. Correctness of a returned completion is the grader's (the
oracle), whatever reward chose it. Tokens: an outcome-level run spends the N candidates' generated tokens; a
step-level run spends every token its StepSampler generated (proposed steps, cut-off tails, rollouts).
Rows go to ``OUT/selections.jsonl`` as they are made; a re-run skips the (problem, entry) already there.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from tmc_core.config import ConfigError, to_dict

from . import registry
from .majority import extract_answer
from .rewards import make_reward
from .rewards.oracle import OracleReward
from .steps import StepSampler
from .types import Candidate


def entries(cfg) -> list[tuple[str, str, str | None]]:
    """(results key, selector key, reward or None) for every run of the config, in order."""
    out = []
    for key in cfg.selectors:
        sel = registry.get(key)
        forms = [None]
        if key == "dprm_as":
            forms = ["paper", "doob"] if cfg.dprm_as_form == "both" else [cfg.dprm_as_form]
        for form in forms:
            name = key if form in (None, "paper") or cfg.dprm_as_form != "both" else f"{key}:{form}"
            for rw in (cfg.rewards if sel.uses_reward else [None]):
                out.append((name, key, rw))
    return out


def _form(name: str, cfg) -> str:
    """DPRM-AS form of a results key: ``dprm_as:doob`` -> doob; plain ``dprm_as`` -> the config's (paper if both)."""
    if ":" in name:
        return name.split(":", 1)[1]
    return "paper" if cfg.dprm_as_form == "both" else cfg.dprm_as_form


def step_engine(backend, cfg, seed: int) -> StepSampler:
    """The step engine for ``backend``: :class:`VLLMStepEngine` on a vLLM backend, else :class:`StepSampler`
    (both stop each proposed step at ``cfg.sep``)."""
    s = cfg.sample
    kw = dict(sep=cfg.sep, temperature=s.temperature, top_p=s.top_p, max_step_tokens=cfg.max_step_tokens,
              max_new_tokens=s.max_new_tokens, seed=seed)
    if getattr(backend, "name", "") == "vllm" and hasattr(backend, "llm"):
        from .vllm_steps import VLLMStepEngine

        if cfg.step_decoding != "stop_at_sep":
            raise ConfigError("step_decoding: fixed_budget is only offered on the hf backend (the vLLM engine "
                              "always stops at sep)")

        return VLLMStepEngine.from_backend(backend, **kw)
    return StepSampler(backend, stop_at_sep=cfg.step_decoding == "stop_at_sep", **kw)


def _rng(seed: int, *parts) -> np.random.Generator:
    h = hashlib.sha256("|".join(map(str, (seed,) + parts)).encode()).digest()
    return np.random.default_rng(int.from_bytes(h[:8], "little"))


def load_rm(folder, kind: str, backend, model: str, eval_prompts: list[str]):
    """A trained reward model with the policy's features; refuses a model trained on evaluated problems."""
    from .rewards.features import PolicyFeatures
    from .rewards.probe import LinearRM

    rm = LinearRM.load(folder)
    if rm.kind != kind:
        raise ConfigError(f"{kind}: {folder} holds a {rm.kind!r} model, expected {kind!r}")
    seen = set(rm.meta.get("train_prompt_sha1", []))
    overlap = sum(hashlib.sha1(p.encode()).hexdigest() in seen for p in eval_prompts)
    if overlap:
        raise ConfigError(f"{kind}: {folder} was trained on {overlap} of the evaluated problems; train it on a "
                          f"train split (never the evaluated problems)")
    if rm.meta.get("model") not in (None, model):
        raise ConfigError(f"{kind}: {folder} was trained on features of model {rm.meta.get('model')!r}, the policy is "
                          f"{model!r}; retrain it with this model")
    # the vLLM engine holds no torch module to read hidden states from: the probe loads the policy itself
    rm.featurizer = (PolicyFeatures(backend.model, backend.tokenizer) if hasattr(backend, "model")
                     else PolicyFeatures.load(model))
    return rm


def path_labels(ctx, pp) -> list[int]:
    """Reasoning-path cluster of every candidate of a pool problem (harness.paths.cluster_paths)."""
    from harness.paths import cluster_paths

    return list(cluster_paths(ctx.question, [c.text for c in pp.cands]))


def first_distinct(order, labels, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(the first ``n`` candidates of ``order`` with distinct ``labels``, every candidate of ``order`` consumed to
    find them): the paper's Soft-BoN set of N distinct paths, drawn from the pool without replacement."""
    picked, seen, used = [], set(), 0
    for used, i in enumerate(order, 1):
        if labels[i] not in seen:
            seen.add(labels[i])
            picked.append(int(i))
            if len(picked) == n:
                break
    return np.array(picked), np.asarray(order[:used])


def hard_problems(pool):
    """The pool's hard problems: some candidate correct, none on a modal path (clusters; answers without them)."""
    from .claim import path_keys, pool_modes

    scheme, keys, _ = path_keys([], pool)
    modes = pool_modes(pool, keys)
    hard = [pp for pp in pool if modes[pp.ctx.problem_id]["hard"]]
    if not hard:
        raise ConfigError(f"problems: hard, but none of the pool's {len(pool)} problems is hard (correct only off "
                          f"the modal {scheme} path); raise sample.limit or use problems: all")
    return hard


def run_bon(cfg, out: str | Path, progress: bool = True, backend=None) -> list[dict]:
    from harness.backends import make_backend

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    meta = out / "bon_config.json"
    if meta.exists() and json.loads(meta.read_text()).get("hash") not in cfg.accepted_hashes():
        raise ConfigError(f"{out}: holds results of a different config (bon_config.json); use a new --out")
    meta.write_text(json.dumps({"hash": cfg.hash(), "config": to_dict(cfg)}, indent=2) + "\n")
    s = cfg.sample
    if backend is None:
        opts = dict(s.backend_options)
        if s.backend == "vllm":  # M candidates per prefix and the steps of a walk share KV blocks
            opts.setdefault("enable_prefix_caching", True)
        backend = make_backend(s.backend, s.model, dtype=s.dtype, device=s.device, adapter=s.adapter,
                               batch_size=s.batch_size, **opts)
    from .pool import load_pool

    pool = load_pool(cfg, out, backend, progress)
    if cfg.problems == "hard":
        pool = hard_problems(pool)
    prompts = [pp.ctx.prompt for pp in pool]
    orm = load_rm(cfg.orm, "orm", backend, s.model, prompts) if cfg.orm else None
    prm = None
    if cfg.prm and cfg.prm_adapter == "probe":
        prm = load_rm(cfg.prm, "prm", backend, s.model, prompts)
    elif cfg.prm:
        from .rewards.hub_prm import HubPRM

        prm = HubPRM.load(cfg.prm, cfg.prm_adapter, sep=cfg.sep)
    rewards = {rw: make_reward(rw, orm=orm, prm=prm, n_mc=cfg.n_mc) for rw in cfg.rewards}
    oracle = OracleReward()
    path = out / "selections.jsonl"
    rows = [json.loads(x) for x in path.read_text().splitlines() if x.strip()] if path.exists() else []
    done = {(r["problem_id"], r["entry"], r["reward"]) for r in rows}
    todo = entries(cfg)
    labels: dict[str, list] = {}  # problem id -> reasoning-path cluster of each pool candidate (distinct_paths)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(pool) * len(todo), unit="entry", desc="bon", dynamic_ncols=True)
    with path.open("a") as fh:
        for pp in pool:
            ctx = pp.ctx
            pool_r = {rw: None for rw in cfg.rewards}
            for name, key, rw in todo:
                if bar is not None:
                    bar.update(1)
                if (ctx.problem_id, name, rw) in done:
                    continue
                sel = registry.get(key)
                new = []
                for r in range(cfg.runs):
                    rng = _rng(cfg.seed, ctx.problem_id, name, rw, r)
                    if sel.level == "outcome":  # run r of every selector and reward sees the same N candidates
                        idx = _rng(cfg.seed, ctx.problem_id, "candidates", r).choice(
                            len(pp.cands), size=cfg.n_candidates, replace=False)
                        drawn = idx
                        if key == "soft_bon" and cfg.soft_bon_candidates == "distinct_paths":
                            if ctx.problem_id not in labels:
                                labels[ctx.problem_id] = path_labels(ctx, pp)
                            # the run's N draws first, then further pool draws (random order) until N distinct paths
                            more = _rng(cfg.seed, ctx.problem_id, "more candidates", r).permutation(len(pp.cands))
                            first = set(idx.tolist())
                            order = np.concatenate([idx, [i for i in more if i not in first]]).astype(int)
                            idx, drawn = first_distinct(order, labels[ctx.problem_id], cfg.n_candidates)
                        if rw is not None and pool_r[rw] is None:
                            pool_r[rw] = rewards[rw].outcome(ctx, pp.cands)
                        rvals = pool_r[rw][idx] if rw is not None else np.zeros(len(idx))
                        j = sel.fn(rvals, rng, cfg.lam, answers=[pp.answers[i] for i in idx],
                                   keys=[pp.cands[i].text for i in idx] if cfg.soft_bon_distinct else None)
                        c = pp.cands[int(idx[j])]
                        ok, tokens = pp.correct[int(idx[j])], int(sum(pp.cands[i].n_tokens for i in drawn))
                        ans = pp.answers[int(idx[j])]
                    else:
                        sampler = step_engine(backend, cfg, seed=int(rng.integers(1 << 62)))
                        kw = {"form": _form(name, cfg)} if key == "dprm_as" else {}
                        c = sel.fn(ctx, sampler, rewards[rw], rng, cfg, f"{ctx.problem_id}|{name}|{rw}|{r}", **kw)
                        ok = bool(oracle.outcome(ctx, [c])[0])
                        tokens, ans = sampler.generated_tokens, extract_answer(ctx.benchmark, c.text)
                    new.append({"problem_id": ctx.problem_id, "entry": name, "selector": key, "reward": rw,
                                "run": r, "correct": bool(ok), "generated_tokens": int(tokens),
                                "answer": ans, "finished": bool(c.finished), "text": c.text})
                for row in new:
                    fh.write(json.dumps(row) + "\n")
                fh.flush()
                rows += new
    if bar is not None:
        bar.close()
    return rows, pool


__all__ = ["Candidate", "entries", "run_bon"]
