"""The paper's TMC protocol (docs/tmc_model.md §2-§6), Monte-Carlo or exact, for any number of seeds.

Per seed (Monte-Carlo mode, ``exact=False``):

1. pretrain the tabular learner by the paper's two-phase SGD (uniform start, true-TMC paths);
2. draw ``n_test`` test instances per task and ``n_train`` TASK1 fine-tuning instances (separate draws);
3. each fine-tuning strategy fine-tunes a copy on ``finetune_task`` (paper variants, 1000 single-path
   iterations, lr 0.05) while recording pass@K curves; GRPO-KL is the closed-form sampling-time tilt;
4. every strategy draws ``K`` CoTs per test instance of each task; coverage = share of all sampled CoTs that
   are easy / hard / invalid; pass@K = share of instances with at least one sampled CoT in ``C``.

Exact mode (``exact=True``): no randomness at all — exact pretraining (learner = true TMC), exact reward-model
values V and h, the EXPECTED-gradient fine-tuning dynamics, exact output distributions, and the exact
``E_C[pass@K]`` over the instance distribution. One deterministic run (``seeds`` is ignored).

The paper's conventions are options here (defaults = the paper's): ``reward_task = "TASK1"`` scores every task
with TASK1 rewards in the inference methods, and ``uniform_start`` lists the strategies sampled from a uniform
start state (Base Model, Soft-BoN, ORM-BoN). Fine-tuning curves (pass@K of the current policy during
fine-tuning) use the exact ``E_C[pass@K]`` of the current policy in both modes (no extra sampling noise).
"""

from __future__ import annotations

import json
import time
from typing import Literal
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from tmc_core import names
from tmc_core.names import InferenceKey, MethodKey

from . import exact
from tmc_core.config import ConfigError, check_literals, doc, to_dict
from .inference.common import InferenceConfig
from .instances import draw_instances
from .paper_results import PAPER_ORDER, PAPER_TABLE
from .pretrain import PretrainConfig, pretrain
from .tmc import TMC, paper_tmc

from .finetune.run import FinetuneConfig

LABELS = ("easy", "hard", "invalid")


@dataclass
class ReproduceConfig:
    """``tmc theory reproduce``: the paper's protocol; defaults = the paper's (configs/theory_paper.yaml)."""

    tmc: Literal["paper", "random"] = field(default="paper", metadata=doc(
        "TMC instance: paper = the published 4x2 instance (seed 42); random = random_tmc(depth, width, seed)"))
    tmc_seed: int = field(default=42, metadata=doc("instance seed (paper: 42; only 42 exists for tmc=paper)"))
    depth: int = field(default=4, metadata=doc("tmc=random: number of layers (paper L = 4)"))
    width: int = field(default=2, metadata=doc("tmc=random: states per layer (paper M = 2)"))
    seeds: int = field(default=5, metadata=doc("number of seeds (Monte-Carlo mode); the table shows mean and sd"))
    seed0: int = field(default=0, metadata=doc("first seed; seeds seed0 .. seed0 + seeds - 1"))
    exact: bool = field(default=False, metadata=doc(
        "true = no randomness: exact pretraining, exact V/h, expected-gradient fine-tuning, exact E[pass@K]"))
    n_test: int = field(default=200, metadata=doc("test instances per task (paper 200)"))
    n_train: int = field(default=200, metadata=doc("fine-tuning instances of the fine-tuning task (paper 200)"))
    k: int = field(default=30, metadata=doc("K: CoTs sampled per instance; pass@K (paper 30)"))
    tasks: list[str] = field(default_factory=lambda: ["TASK1", "TASK2"], metadata=doc("evaluated tasks"))
    finetune_task: str = field(default="TASK1", metadata=doc("the task fine-tuned on (paper: TASK1 only)"))
    strategies: list[MethodKey] = field(default_factory=lambda: list(PAPER_ORDER), metadata=doc(
        "strategies (method keys, tmc_core.names); paper: all but grpo"))
    pretrain: PretrainConfig = field(default_factory=PretrainConfig, metadata=doc(
        "pretraining (docs/tmc_model.md §3); exact mode forces method=exact"))
    finetune: FinetuneConfig = field(default_factory=FinetuneConfig, metadata=doc(
        "fine-tuning settings shared by all methods (docs/tmc_model.md §4); `method` is set per strategy; exact mode "
        "uses variant=expected (or expected_textbook when variant=textbook)"))
    curve_every: int = field(default=50, metadata=doc("record the fine-tuning pass@K curve every this many steps"))
    n_candidates: int = field(default=15, metadata=doc("Soft-BoN / ORM-BoN candidates N (paper 15)"))
    n_mc: int = field(default=15, metadata=doc("Monte-Carlo continuations per reward-model estimate (paper 15)"))
    lam: float = field(default=0.5, metadata=doc("lambda of Soft-BoN and the DPRM (paper 0.5)"))
    reward_task: str | None = field(default="TASK1", metadata=doc(
        "inference methods score every task with this task's rewards (paper: TASK1); null = each task its own"))
    uniform_start: list[Literal["base", InferenceKey]] = field(
        default_factory=lambda: ["base", "soft_bon", "orm_bon"], metadata=doc(
        "strategies sampled from a uniform start state (paper: Base Model, Soft-BoN, ORM-BoN); the rest start at "
        "the task's start state"))
    base_sampler: Literal["true_tmc", "pretrained"] = field(default="true_tmc", metadata=doc(
        "what Base Model and the BoN candidates sample: the true TMC (paper) or the pretrained learner"))
    dprm_as_base_factor: bool = field(default=False, metadata=doc(
        "DPRM-AS: multiply by the base probability (textbook Doob transform); paper: false"))

    def __post_init__(self):
        check_literals(self)
        for name in ("seeds", "n_test", "n_train", "k"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name}: must be >= 1, got {getattr(self, name)}")
        if self.curve_every < 0:
            raise ConfigError(f"curve_every: must be >= 0, got {self.curve_every}")
        if self.tmc == "paper" and self.tmc_seed != 42:
            raise ConfigError(f"tmc_seed: only 42 is defined for tmc=paper, got {self.tmc_seed}; allowed: 42 "
                              "(or tmc: random)")

    def check_against(self, tmc: TMC) -> None:
        """Task names must exist in the TMC: one ConfigError naming the field and the allowed tasks."""
        allowed = [t.name for t in tmc.tasks]
        for fname in ("tasks", "finetune_task", "reward_task"):
            v = getattr(self, fname)
            for item in (v if isinstance(v, list) else [v]):
                if item is not None and item not in allowed:
                    raise ConfigError(f"{fname}: {item!r} is not a task of the TMC; allowed: {', '.join(allowed)}")

    def build_tmc(self) -> TMC:
        if self.tmc == "paper":
            return paper_tmc(self.tmc_seed)
        from .generate import random_tmc

        return random_tmc(self.depth, self.width, seed=self.tmc_seed)

    def inference_config(self, key: str) -> InferenceConfig:
        return InferenceConfig(n_candidates=self.n_candidates, n_mc=self.n_mc, lam=self.lam,
                               reward_task=self.reward_task,
                               start="uniform" if key in self.uniform_start else "task",
                               estimator="exact" if self.exact else "mc",
                               base_factor=self.dprm_as_base_factor)


def inference_module(key: str):
    """The registry's sampling interface for ``base`` or an inference method (soft_bon, ..., dprm_as)."""
    from . import registry

    return registry.sampler(key)


def _pct(d: dict) -> dict:
    return {k: 100.0 * float(v) for k, v in d.items()}


def _sampled_stats(tmc: TMC, task, paths: np.ndarray, inst) -> dict:
    """Coverage shares of all sampled CoTs and pass@K over instances; ``paths`` ``(n_inst, k, L)``."""
    n, k, L = paths.shape
    flat = paths.reshape(n * k, L)
    cls = tmc.classify(flat, task)
    out = {lab: float(np.mean(cls == i)) for i, lab in enumerate(LABELS)}
    hit = inst.reward(flat, np.repeat(np.arange(n), k)).reshape(n, k)
    out["pass_at_k"] = float(np.mean(hit.max(axis=1) > 0))
    return out


def _finetune_cfg(cfg: ReproduceConfig, key: str) -> FinetuneConfig:
    from .registry import resolve_variant

    return replace(cfg.finetune, method=key, variant=resolve_variant(key, cfg.finetune.variant, cfg.exact))


def run_seed(cfg: ReproduceConfig, seed: int, tmc: TMC | None = None) -> dict:
    """One run of the protocol; returns ``{"strategies": {paper name: {task: {...%}}}, "curves": {...}}``."""
    from .finetune.run import finetune, policy_coverage, policy_path_distribution, sample_policy

    tmc = tmc or cfg.build_tmc()
    ss = np.random.SeedSequence([seed, 20251107])
    streams = {name: np.random.default_rng(s) for name, s in
               zip(["pretrain", "test", "train"] + list(cfg.strategies), ss.spawn(3 + len(cfg.strategies)))}
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    pcfg = replace(cfg.pretrain, method="exact") if cfg.exact else cfg.pretrain
    policy = pretrain(tmc, pcfg, streams["pretrain"])
    timings["pretrain"] = time.perf_counter() - t0
    tasks = [tmc.task(t) for t in cfg.tasks]
    ft_task = tmc.task(cfg.finetune_task)
    test = {t.name: draw_instances(tmc, t, cfg.n_test, streams["test"]) for t in tasks}
    train = draw_instances(tmc, ft_task, cfg.n_train, streams["train"])
    base_kernels = None if cfg.base_sampler == "true_tmc" else policy.kernels()
    K = cfg.k

    strategies: dict[str, dict] = {}
    curves: dict[str, list[dict]] = {}
    for key in cfg.strategies:
        t1 = time.perf_counter()
        rng = streams[key]
        name = names.lookup(key).paper_name
        row: dict[str, dict] = {}
        if key == "base" or key in names.INFERENCE_KEYS:
            mod = inference_module(key)
            icfg = cfg.inference_config(key)
            for t in tasks:
                if cfg.exact:
                    if key == "orm_bon":
                        probs = mod.exact_distribution(tmc, t, icfg, base_kernels, k=K)
                    else:
                        probs = mod.exact_distribution(tmc, t, icfg, base_kernels)
                    st = exact.coverage_of_distribution(tmc, t, probs)
                    st["pass_at_k"] = float(mod.exact_pass_at_k(tmc, t, icfg, K, base_kernels))
                else:
                    paths = mod.sample_batch(tmc, t, icfg, cfg.n_test, K, rng, base_kernels)
                    st = _sampled_stats(tmc, t, paths, test[t.name])
                row[t.name] = _pct(st)
        else:
            fcfg = _finetune_cfg(cfg, key)

            def eval_fn(step, pol):
                rec = {}
                for t in tasks:
                    q = policy_path_distribution(pol, tmc, t)
                    rec[f"{t.name}_pass_at_k"] = 100.0 * float(exact.expected_pass_at_k(tmc, t, q, K))
                return rec

            pol, hist = finetune(tmc, ft_task, policy, train, fcfg, rng, eval_every=cfg.curve_every,
                                 eval_fn=eval_fn if cfg.curve_every else None)
            curves[name] = hist
            for t in tasks:
                if cfg.exact:
                    st = dict(policy_coverage(pol, tmc, t))
                    st["pass_at_k"] = float(exact.expected_pass_at_k(tmc, t, policy_path_distribution(pol, tmc, t), K))
                else:
                    paths = sample_policy(pol, tmc, t, cfg.n_test * K, rng).reshape(cfg.n_test, K, -1)
                    st = _sampled_stats(tmc, t, paths, test[t.name])
                row[t.name] = _pct(st)
        strategies[name] = row
        timings[key] = time.perf_counter() - t1
    timings["total"] = time.perf_counter() - t0
    return {"seed": seed, "strategies": strategies, "curves": curves, "timings": timings}


def aggregate(runs: list[dict]) -> dict:
    """Mean and sd (ddof 1; 0 for one run) over runs, per strategy / task / quantity."""
    mean: dict = {}
    sd: dict = {}
    for name, row in runs[0]["strategies"].items():
        mean[name], sd[name] = {}, {}
        for task, st in row.items():
            mean[name][task], sd[name][task] = {}, {}
            for q in st:
                v = np.array([r["strategies"][name][task][q] for r in runs])
                mean[name][task][q] = float(v.mean())
                sd[name][task][q] = float(v.std(ddof=1)) if len(v) > 1 else 0.0
    curves: dict = {}
    for name in runs[0]["curves"]:
        hists = [r["curves"][name] for r in runs]
        steps = [h["step"] for h in hists[0]]
        keys = [k for k in hists[0][0] if k != "step"] if hists[0] else []
        curves[name] = {"step": steps}
        for k in keys:
            arr = np.array([[h[i][k] for i in range(len(steps))] for h in hists])
            curves[name][k] = arr.mean(axis=0).tolist()
            curves[name][k + "_sd"] = (arr.std(axis=0, ddof=1) if len(hists) > 1 else np.zeros(len(steps))).tolist()
    return {"strategies": mean, "sd": sd, "curves": curves}


def compare_with_paper(mean: dict, tol: float = 2.5) -> list[dict]:
    """Cells ``(strategy, task, quantity, ours, paper, diff, within)`` for every published number."""
    rows = []
    for name, row in PAPER_TABLE.items():
        if name not in mean:
            continue
        for task, vals in row.items():
            if task not in mean[name]:
                continue
            for lab, pv in zip(LABELS, vals):
                ours = mean[name][task][lab]
                rows.append({"strategy": name, "task": task, "quantity": lab, "ours": ours, "paper": pv,
                             "diff": ours - pv, "within": abs(ours - pv) <= tol})
    return rows


def reproduce(cfg: ReproduceConfig, out_dir: str | Path | None = None, plots: bool = True,
              log=print) -> dict:
    """Run ``cfg`` (all seeds, or the one exact run); write results.json / table.md / PNGs to ``out_dir``."""
    tmc = cfg.build_tmc()
    cfg.check_against(tmc)
    t0 = time.perf_counter()
    seeds = [cfg.seed0] if cfg.exact else list(range(cfg.seed0, cfg.seed0 + cfg.seeds))
    runs = []
    for s in seeds:
        runs.append(run_seed(cfg, s, tmc))
        if log:
            log(f"seed {s}: {runs[-1]['timings']['total']:.3f} s")
    agg = aggregate(runs)
    comp = compare_with_paper(agg["strategies"]) if cfg.tmc == "paper" else []
    result = {
        "strategies": agg["strategies"],
        "sd": agg["sd"],
        "curves": agg["curves"],
        "paper": {n: {t: dict(zip(LABELS, v)) for t, v in row.items()} for n, row in PAPER_TABLE.items()},
        "comparison": comp,
        "mode": "exact" if cfg.exact else "monte_carlo",
        "seeds": seeds,
        "k": cfg.k,
        "seconds": time.perf_counter() - t0,
        "seconds_per_seed": [r["timings"]["total"] for r in runs],
        "config": to_dict(cfg),
    }
    table = format_table(result)
    if log:
        log(table)
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        (out / "results.json").write_text(json.dumps(result, indent=1))
        (out / "table.md").write_text(table + "\n")
        if plots:
            from .plots import plot_all

            result["figures"] = [str(p) for p in plot_all(result, out)]
            (out / "results.json").write_text(json.dumps(result, indent=1))
    return result


def format_table(result: dict) -> str:
    """Markdown: per strategy and task, ours (mean ± sd) vs paper for easy/hard/invalid, and pass@K."""
    mean, sd, k = result["strategies"], result["sd"], result["k"]
    paper = result["paper"]
    mode = result["mode"]
    nseeds = len(result["seeds"])
    head = (f"TMC reproduction ({mode}{'' if mode == 'exact' else f', {nseeds} seed(s)'}), K = {k}: "
            "share of sampled CoTs in %, ours (mean ± sd) vs paper [diff]; * = |diff| > 2.5")
    lines = [head, "", f"| strategy | task | easy | hard | invalid | pass@{k} |", "|---|---|---|---|---|---|"]
    for name, row in mean.items():
        for task, st in row.items():
            cells = []
            for lab in LABELS:
                c = f"{st[lab]:.2f} ± {sd[name][task][lab]:.2f}"
                if name in paper and task in paper[name]:
                    pv = paper[name][task][lab]
                    d = st[lab] - pv
                    c += f" vs {pv:.2f} [{d:+.2f}]{'*' if abs(d) > 2.5 else ''}"
                cells.append(c)
            cells.append(f"{st['pass_at_k']:.2f} ± {sd[name][task]['pass_at_k']:.2f}")
            lines.append(f"| {name} | {task} | " + " | ".join(cells) + " |")
    comp = result.get("comparison") or []
    if comp:
        bad = [c for c in comp if not c["within"]]
        lines += ["", f"{len(comp) - len(bad)}/{len(comp)} published cells within 2.5 points; "
                      f"max |diff| = {max(abs(c['diff']) for c in comp):.2f}"]
        for c in bad:
            lines.append(f"  outside: {c['strategy']} {c['task']} {c['quantity']}: ours {c['ours']:.2f} vs "
                         f"paper {c['paper']:.2f}")
    return "\n".join(lines)
