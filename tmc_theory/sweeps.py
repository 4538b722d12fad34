"""Parameter sweeps beyond the paper, with PNG plots: ``tmc theory sweep PARAM [VALUES...]``.

``run_sweep(param, values, cfg, out_dir)`` takes ``ReproduceConfig`` (tmc, pretraining, fine-tuning settings,
tasks, strategies, ``exact``) and varies one parameter. Every sweep point fine-tunes the configured fine-tuning
strategies on ``cfg.finetune_task`` and EVALUATES EXACTLY (no sampling noise in the metrics): exact coverage
(easy/hard/invalid share of the policy's CoTs from each task's start state, by DP; by enumeration for the GRPO-KL
tilt) and exact ``E_C[pass@K]``. Fine-tuning itself is:

* ``cfg.exact = true``: deterministic — exact pretraining and the ``expected`` (or ``expected_textbook``) dynamics;
* ``cfg.exact = false``: the stochastic variant of ``cfg.finetune.variant`` with the configured pretraining,
  averaged over ``cfg.seeds`` seeds (``seed0 ..``).

Sweeps (``PARAMS``; default grids in ``DEFAULT_VALUES``):

* ``beta``       — GRPO-KL: the paper's closed-form per-step tilt vs the sequence-level KL optimum
  ``p exp(lam R_out / beta)/Z`` vs trained textbook GRPO-KL (k3 penalty, group-normalised advantages);
* ``rej_tries``  — RL-rej rejection threshold (0 = plain REINFORCE);
* ``steps``      — number of fine-tuning steps (one run per method, evaluated along the way);
* ``depth`` / ``width`` — random TMCs (``random_tmc``; ``tmc_seed``) for every method;
* ``low_weight`` — raw low-edge weight (paper 0.1; the paper's edge structure when ``cfg.tmc = paper``);
* ``group_size`` — GRPO (exact expected dynamics / stochastic), textbook RAFT best-of-G, trained GRPO-KL;
* ``pass_at_k``  — exact ``E[pass@K]`` vs ``K`` (values = the K grid, default 1..256) for the base model (sampled
  from the task start) and every method; marks the first ``K`` where a method's curve crosses below the base.

Writes ``out_dir/sweep_<param>.json`` and ``sweep_<param>*.png``; returns the same dict.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from tmc_core import names
from tmc_core.config import ConfigError, to_dict
from .exact import expected_pass_at_k
from .finetune.run import finetune, policy_coverage, policy_path_distribution
from .instances import draw_instances
from .policy import TabularPolicy
from .pretrain import pretrain
from .tmc import TMC, kernels_from_high

PARAMS = ("beta", "rej_tries", "steps", "depth", "width", "low_weight", "group_size", "pass_at_k")
DEFAULT_VALUES = {
    "beta": [0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0],
    "rej_tries": [0, 1, 2, 3, 5, 8, 12, 20],
    "steps": [0, 50, 100, 200, 500, 1000, 2000],
    "depth": [3, 4, 5, 6],
    "width": [2, 3, 4],
    "low_weight": [0.02, 0.05, 0.1, 0.2, 0.3, 0.5],
    "group_size": [2, 4, 8, 16],
    "pass_at_k": list(range(1, 257)),
}
KINDS = {"beta": float, "rej_tries": int, "steps": int, "depth": int, "width": int, "low_weight": float,
         "group_size": int, "pass_at_k": int}


# ---------------------------------------------------------------------------------------------------------
# building blocks
# ---------------------------------------------------------------------------------------------------------
def _methods(cfg) -> list[str]:
    ms = [s for s in cfg.strategies if s in names.FINETUNE_KEYS]
    return ms or list(names.FINETUNE_KEYS)


def _variant(cfg, method: str, want: str | None = None) -> str:
    """The fine-tuning variant actually run: deterministic counterparts in exact mode."""
    from .registry import resolve_variant

    return resolve_variant(method, want or cfg.finetune.variant, cfg.exact)


def _seeds(cfg) -> list[int]:
    return [0] if cfg.exact else list(range(cfg.seed0, cfg.seed0 + cfg.seeds))


def _base_policy(cfg, tmc: TMC, seed: int) -> TabularPolicy:
    pc = cfg.pretrain if not cfg.exact else replace(cfg.pretrain, method="exact")
    return pretrain(tmc, pc, np.random.default_rng(1000 + seed))


def _evaluate(policy, tmc: TMC, tasks, ks=None) -> dict:
    out = {}
    for t in tasks:
        c = policy_coverage(policy, tmc, t)
        rec = {k: 100.0 * v for k, v in c.items()}
        if ks is not None:
            q = policy_path_distribution(policy, tmc, t)
            rec["pass_at_k"] = (100.0 * np.atleast_1d(expected_pass_at_k(tmc, t, q, ks))).tolist()
        out[t.name] = rec
    return out


def _mean_records(recs: list[dict]) -> dict:
    """Mean over seeds of nested {task: {metric: value or list}} records."""
    out = {}
    for task in recs[0]:
        out[task] = {}
        for k in recs[0][task]:
            vals = np.array([r[task][k] for r in recs], dtype=float)
            m = vals.mean(axis=0)
            out[task][k] = m.tolist() if np.ndim(m) else float(m)
    return out


def _run_method(cfg, tmc: TMC, method: str, overrides: dict | None = None, variant: str | None = None,
                ks=None, eval_steps: list[int] | None = None) -> dict | list[dict]:
    """Fine-tune ``method`` (mean over seeds) and evaluate exactly; with ``eval_steps`` a list, one per step."""
    tasks = [tmc.task(n) for n in cfg.tasks]
    ft_task = tmc.task(cfg.finetune_task)
    fc = replace(cfg.finetune, method=method, variant=_variant(cfg, method, variant), **(overrides or {}))
    per_seed = []
    for seed in _seeds(cfg):
        base = _base_policy(cfg, tmc, seed)
        inst = draw_instances(tmc, ft_task, cfg.n_train, np.random.default_rng(2000 + seed))
        rng = np.random.default_rng(3000 + seed)
        if eval_steps is None:
            pol, _ = finetune(tmc, ft_task, base, inst, fc, rng)
            per_seed.append(_evaluate(pol, tmc, tasks, ks))
        else:
            every = math.gcd(*[s for s in eval_steps if s > 0]) if any(eval_steps) else 1
            fc2 = replace(fc, steps=max(eval_steps))
            _, hist = finetune(tmc, ft_task, base, inst, fc2, rng, eval_every=every,
                               eval_fn=lambda s, p: {"eval": _evaluate(p, tmc, tasks, ks)})
            by_step = {h["step"]: h["eval"] for h in hist}
            if not hist:  # steps = 0 everywhere
                by_step = {0: _evaluate(base, tmc, tasks, ks)}
            per_seed.append([by_step[s] for s in eval_steps])
    if eval_steps is None:
        return _mean_records(per_seed)
    return [_mean_records([ps[i] for ps in per_seed]) for i in range(len(eval_steps))]


def _base_record(cfg, tmc: TMC, ks=None) -> dict:
    tasks = [tmc.task(n) for n in cfg.tasks]
    return _mean_records([_evaluate(_base_policy(cfg, tmc, s), tmc, tasks, ks) for s in _seeds(cfg)])


def build_tmc(cfg, depth=None, width=None, low_weight=None) -> TMC:
    """The sweep's TMC: ``cfg.tmc`` (paper structure) or ``random_tmc``, with one field replaced."""
    if cfg.tmc == "paper" and depth is None and width is None:
        tmc = cfg.build_tmc()
        if low_weight is not None:
            tmc = TMC(kernels_from_high(tmc.high, 1.0, low_weight), tmc.high, tmc.tasks, name=f"paper_low{low_weight}",
                      meta={**tmc.meta, "low_weight": low_weight})
        return tmc
    from .generate import random_tmc

    return random_tmc(depth if depth is not None else cfg.depth, width if width is not None else cfg.width,
                      low_weight=0.1 if low_weight is None else low_weight, seed=cfg.tmc_seed)


# ---------------------------------------------------------------------------------------------------------
# sweeps
# ---------------------------------------------------------------------------------------------------------
def _sweep_beta(cfg, values):
    from .finetune.grpo_kl import TiltedPolicy, sequence_tilt_distribution
    from .exact import coverage_of_distribution

    tmc = build_tmc(cfg)
    tasks = [tmc.task(n) for n in cfg.tasks]
    rows = []
    for beta in values:
        base = _base_policy(cfg, tmc, _seeds(cfg)[0])
        tilt = TiltedPolicy([x.copy() for x in base.logits], tmc, cfg.finetune.lam, beta, 0)
        seq = {t.name: {k: 100 * v for k, v in coverage_of_distribution(
            tmc, t, sequence_tilt_distribution(tmc, t, base.kernels(), cfg.finetune.lam, beta)).items()}
            for t in tasks}
        trained = _run_method(cfg, tmc, "grpo_kl", {"beta": beta}, variant="textbook")
        rows.append({"value": beta, "closed_form_tilt": _evaluate(tilt, tmc, tasks), "sequence_tilt": seq,
                     "trained_textbook": trained})
    return rows, ["closed_form_tilt", "sequence_tilt", "trained_textbook"]


def _sweep_simple(cfg, values, param):
    rows = []
    if param == "rej_tries":
        tmc = build_tmc(cfg)
        for v in values:
            rows.append({"value": v, "rl_rej": _run_method(cfg, tmc, "rl_rej", {"rej_tries": v})})
        return rows, ["rl_rej"]
    if param == "group_size":
        tmc = build_tmc(cfg)
        series = ["grpo", "raft_textbook", "grpo_kl_textbook"]
        for v in values:
            rows.append({"value": v,
                         "grpo": _run_method(cfg, tmc, "grpo", {"group_size": v}, variant="paper"),
                         "raft_textbook": _run_method(cfg, tmc, "raft", {"group_size": v}, variant="textbook"),
                         "grpo_kl_textbook": _run_method(cfg, tmc, "grpo_kl", {"group_size": v},
                                                         variant="textbook")})
        return rows, series
    methods = _methods(cfg)
    if param == "steps":
        tmc = build_tmc(cfg)
        per = {m: _run_method(cfg, tmc, m, eval_steps=list(values)) for m in methods}
        for i, v in enumerate(values):
            rows.append({"value": v, **{m: per[m][i] for m in methods}})
        return rows, methods
    for v in values:  # depth, width, low_weight
        tmc = build_tmc(cfg, **{param: v})
        rows.append({"value": v, "base": _base_record(cfg, tmc), **{m: _run_method(cfg, tmc, m) for m in methods},
                     "n_paths": tmc.n_paths})
    return rows, ["base"] + methods


def crossing_k(ks: np.ndarray, method: np.ndarray, base: np.ndarray) -> float | None:
    """First ``K`` where ``method - base`` changes sign (from >= 0 to < 0 or the reverse), linearly interpolated
    in ``log K``; None if it never crosses."""
    d = np.asarray(method) - np.asarray(base)
    s = np.sign(np.where(np.abs(d) < 1e-12, 0.0, d))
    nz = np.flatnonzero(s)
    for a, b in zip(nz[:-1], nz[1:]):
        if s[a] != s[b]:
            la, lb = np.log(ks[a]), np.log(ks[b])
            t = d[a] / (d[a] - d[b])
            return float(np.exp(la + t * (lb - la)))
    return None


def _sweep_pass_at_k(cfg, values):
    tmc = build_tmc(cfg)
    ks = np.array(sorted(set(int(v) for v in values)))
    if ks.min() < 1:
        raise ConfigError(f"pass_at_k: K values must be >= 1, got {ks.min()}")
    methods = _methods(cfg)
    curves = {"base": _base_record(cfg, tmc, ks)}
    for m in methods:
        curves[m] = _run_method(cfg, tmc, m, ks=ks)
    cross = {}
    for t in cfg.tasks:
        b = np.array(curves["base"][t]["pass_at_k"])
        cross[t] = {m: crossing_k(ks, np.array(curves[m][t]["pass_at_k"]), b) for m in methods}
    return {"ks": ks.tolist(), "curves": curves, "crossings": cross}


# ---------------------------------------------------------------------------------------------------------
# plots
# ---------------------------------------------------------------------------------------------------------
def _plot_rows(param, rows, series, tasks, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = [r["value"] for r in rows]
    panels = [(t, m) for t in tasks for m in ("easy", "hard")]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.6), squeeze=False)
    for ax, (t, metric) in zip(axes[0], panels):
        for s in series:
            ys = [r[s][t][metric] for r in rows]
            ax.plot(xs, ys, marker="o", label=s)
        ax.set_title(f"{t} {metric} share (%)")
        ax.set_xlabel(param)
        if param in ("beta", "low_weight", "group_size") and min(xs) > 0:
            ax.set_xscale("log")
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _plot_pass_at_k(res, tasks, out: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ks = np.array(res["ks"])
    files = []
    fig, axes = plt.subplots(1, len(tasks), figsize=(6 * len(tasks), 4.2), squeeze=False)
    for ax, t in zip(axes[0], tasks):
        base = np.array(res["curves"]["base"][t]["pass_at_k"])
        ax.plot(ks, base, color="k", lw=2, label="base (task start)")
        for m, cur in res["curves"].items():
            if m == "base":
                continue
            y = np.array(cur[t]["pass_at_k"])
            line, = ax.plot(ks, y, label=names.BY_KEY[m].paper_name)
            kx = res["crossings"][t].get(m)
            if kx is not None:
                ax.plot([kx], [np.interp(np.log(kx), np.log(ks), y)], "o", color=line.get_color(), ms=7, mfc="none")
                ax.annotate(f"K≈{kx:.0f}", (kx, np.interp(np.log(kx), np.log(ks), y)), fontsize=7,
                            xytext=(4, -10), textcoords="offset points", color=line.get_color())
        ax.set_xscale("log", base=2)
        ax.set_xlabel("K")
        ax.set_ylabel("exact E[pass@K] (%)")
        ax.set_title(f"{t}: pass@K vs K (circles: crossing the base curve)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    p = out / "sweep_pass_at_k.png"
    fig.savefig(p, dpi=110)
    plt.close(fig)
    files.append(str(p))
    return files


# ---------------------------------------------------------------------------------------------------------
# entry point
# ---------------------------------------------------------------------------------------------------------
def _coerce_values(param: str, values) -> list:
    if values is None or len(values) == 0:
        return list(DEFAULT_VALUES[param])
    kind = KINDS[param]
    out = []
    for v in values:
        try:
            x = kind(v)
        except (TypeError, ValueError):
            raise ConfigError(f"sweep {param}: value {v!r} is not a {kind.__name__}") from None
        if kind is int and float(v) != x:
            raise ConfigError(f"sweep {param}: value {v!r} is not an integer")
        out.append(x)
    bounds = {"beta": (1e-9, None), "rej_tries": (0, None), "steps": (0, None), "depth": (2, None),
              "width": (1, None), "low_weight": (0.0, None), "group_size": (2, None), "pass_at_k": (1, None)}
    lo, _ = bounds[param]
    bad = [v for v in out if v < lo]
    if bad:
        raise ConfigError(f"sweep {param}: values must be >= {lo}, got {bad[0]!r}")
    return out


def run_sweep(param: str, values, cfg, out_dir) -> dict:
    """Run one sweep (module docstring); writes JSON + PNG under ``out_dir`` and returns the result dict."""
    if param not in PARAMS:
        raise ConfigError(f"sweep: unknown parameter {param!r}; allowed: {', '.join(PARAMS)}")
    if cfg is None:
        from .reproduce import ReproduceConfig

        cfg = ReproduceConfig()
    values = _coerce_values(param, values)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    tasks = list(cfg.tasks)
    result = {"param": param, "values": values, "exact": bool(cfg.exact),
              "finetune_variant": cfg.finetune.variant, "config": to_dict(cfg)}
    if param == "pass_at_k":
        res = _sweep_pass_at_k(cfg, values)
        result.update(res)
        result["files"] = _plot_pass_at_k(res, tasks, out)
    else:
        if param == "beta":
            rows, series = _sweep_beta(cfg, values)
        else:
            rows, series = _sweep_simple(cfg, values, param)
        result["rows"], result["series"] = rows, series
        png = out / f"sweep_{param}.png"
        _plot_rows(param, rows, series, tasks, png)
        result["files"] = [str(png)]
    result["seconds"] = time.time() - t0
    jpath = out / f"sweep_{param}.json"
    jpath.write_text(json.dumps(result, indent=1, default=float))
    result["files"].append(str(jpath))
    print(format_result(result))
    return result


def format_result(result: dict) -> str:
    """A compact text table of a sweep result."""
    lines = [f"sweep {result['param']} ({'exact' if result['exact'] else 'stochastic'}; "
             f"{result.get('seconds', 0):.1f} s)"]
    if result["param"] == "pass_at_k":
        ks = result["ks"]
        for t, cr in result["crossings"].items():
            for m, k in cr.items():
                p1 = result["curves"][m][t]["pass_at_k"]
                pb = result["curves"]["base"][t]["pass_at_k"]
                lines.append(f"  {t} {m:10s} pass@{ks[0]} {p1[0]:6.2f} (base {pb[0]:6.2f})  pass@{ks[-1]} "
                             f"{p1[-1]:6.2f} (base {pb[-1]:6.2f})  crosses base at K≈"
                             f"{'never' if k is None else f'{k:.1f}'}")
    else:
        tasks = list(result["rows"][0][result["series"][0]].keys())
        head = "  value  " + "  ".join(f"{s}:{t}(e/h)" for s in result["series"] for t in tasks)
        lines.append(head)
        for r in result["rows"]:
            cells = [f"{r[s][t]['easy']:5.1f}/{r[s][t]['hard']:4.1f}" for s in result["series"] for t in tasks]
            lines.append(f"  {r['value']!s:6s} " + "  ".join(cells))
    lines.append("  files: " + ", ".join(result["files"]))
    return "\n".join(lines)
