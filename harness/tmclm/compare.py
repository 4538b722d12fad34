"""Theory vs transformer: the tabular theory's prediction next to the TMC-LM's measured path distribution.

For each fine-tuning method the theory runs ``tmc_theory.finetune.run.finetune`` with the exact expected-gradient
variant of the textbook form the harness trains (``expected_textbook`` where tmc_theory has one, else ``expected``;
:data:`THEORY_VARIANT`), from the SAME starting distribution: a ``TabularPolicy.from_kernels`` of the pretrained
transformer's Markov projection (:func:`harness.tmclm.measure.markov_kernels_from_prompts`; layer-0 rows of each task
start from that task's prompt, all other rows from the uniform-start ``<any>`` prompt). The step-0 gap between the
two (KL of the transformer's task distribution to the theory's) is reported; it is the non-Markov part plus the
difference between prompts.

Matched settings: group size G, instances per step (batch_size), beta (grpo_kl), rej_tries (rl_rej), ppo_epochs,
and the instance distribution (the expected variants average over the population of instances: each valid path in C
with probability R_out, which the fine-tuning instances are drawn from).

Learning-rate matching rule (``compare.lr_match``):

* ``initial_speed`` (default): the transformer uses AdamW at its own lr, the theory SGD on logits, so the two lrs
  are not comparable numbers. We choose the theory lr so that over the FIRST evaluation interval (``eval_every``
  steps) the theory's task path distribution moves the same L1 distance ``sum_o |q_e(o) - q_0(o)|`` as the
  transformer's did (secant iterations on ``lr -> distance``, which is monotone for small steps). Only this one
  number is fitted, on the first interval; the rest of the trajectory (shape, which paths gain or lose, the final
  coverage and the TASK2 forgetting) is a prediction.
* ``fixed``: ``compare.theory_lr`` as given.

Expected departures (findings, not bugs): Adam's per-parameter normalisation keeps the transformer moving at a
near-constant speed where SGD slows as the policy saturates; the transformer's states share parameters (embeddings,
attention, MLP), so an update on one transition moves others, including the TASK2 prompt's start token (the tabular
theory cannot forget a start state, the transformer can); and GRPO-style group sampling noise is absent from the
expected dynamics.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .measure import kl_divergence, markov_kernels_from_prompts, task_metrics, valid_path_masses

THEORY_VARIANT_PREFERENCE = ("expected_textbook", "expected")


def theory_variant(method: str, requested: str = "auto") -> str:
    from tmc_theory.registry import FINETUNE

    variants = FINETUNE[method].variants
    if requested != "auto":
        if requested not in variants:
            from tmc_core.config import ConfigError

            raise ConfigError(f"compare.theory_variant: {requested!r} is not available for {method}; allowed "
                              f"values: auto, {', '.join(variants)}")
        return requested
    for v in THEORY_VARIANT_PREFERENCE:
        if v in variants:
            return v
    return "paper"


def start_policy(tmc, probs_by_prompt: dict[str, np.ndarray]):
    """The theory's starting policy: ``TabularPolicy.from_kernels`` of the transformer's Markov projection."""
    from tmc_theory.policy import TabularPolicy

    return TabularPolicy.from_kernels(markov_kernels_from_prompts(tmc, probs_by_prompt))


def _finetune_cfg(method: str, variant: str, lr: float, steps: int, pcfg, ppo_epochs: int = 2):
    from tmc_theory.finetune.run import FinetuneConfig

    return FinetuneConfig(method=method, variant=variant, steps=steps, lr=lr, group_size=pcfg.num_generations,
                          batch_size=pcfg.prompts_per_step, beta=pcfg.beta if method == "grpo_kl" else 1.0,
                          rej_tries=5, ppo_epochs=ppo_epochs, instance_dist="population")


def theory_run(tmc, policy, instances, method: str, variant: str, lr: float, steps: int, eval_every: int, pcfg,
               seed: int = 0) -> list[dict]:
    """``[{"step", "probs": {task: q over tmc.enumerate_paths()}}]`` of the theory's dynamics."""
    from tmc_theory.finetune.run import finetune, policy_path_distribution

    task = tmc.task(pcfg.task)

    def ev(step, pol):
        return {"probs": {t.name: policy_path_distribution(pol, tmc, t) for t in tmc.tasks}}

    _, hist = finetune(tmc, task, policy, instances, _finetune_cfg(method, variant, lr, steps, pcfg),
                       np.random.default_rng(seed), eval_every=eval_every, eval_fn=ev)
    return hist


def l1(a, b) -> float:
    return float(np.abs(np.asarray(a, float) - np.asarray(b, float)).sum())


def match_lr(tmc, policy, instances, method: str, variant: str, target: float, steps: int, pcfg,
             lr0: float = 0.05, iters: int = 5) -> tuple[float, float]:
    """Theory lr whose task distribution moves ``target`` (L1) in ``steps`` steps; returns ``(lr, achieved)``."""
    task = pcfg.task

    def dist(lr):
        h = theory_run(tmc, policy, instances, method, variant, lr, steps, steps, pcfg)
        return l1(h[-1]["probs"][task], h[0]["probs"][task])

    if target <= 1e-9:
        return lr0, dist(lr0)
    lr, d = lr0, dist(lr0)
    for _ in range(iters):
        if d <= 1e-12:
            lr *= 10.0
        else:
            lr = float(np.clip(lr * target / d, 1e-5, 1e4))
        d = dist(lr)
        if abs(d - target) <= 0.02 * target:
            break
    return lr, d


def compare_method(tmc, method: str, tf_history: list[dict], instances, pcfg, ccfg, k: int) -> dict:
    """Theory trajectory for one method next to the transformer's; returns the comparison record."""
    steps_tf = [h["step"] for h in tf_history]
    p0 = {key: np.asarray(v) for key, v in tf_history[0]["probs"].items()}
    pol0 = start_policy(tmc, p0)
    variant = theory_variant(method, ccfg.theory_variant)
    spp = ccfg.theory_steps_per_step
    task = pcfg.task
    if ccfg.lr_match == "initial_speed" and len(tf_history) > 1:
        e = tf_history[1]
        target = l1(e["probs"][task], tf_history[0]["probs"][task])
        lr, achieved = match_lr(tmc, pol0, instances, method, variant, target, e["step"] * spp, pcfg)
    else:
        lr, target, achieved = ccfg.theory_lr, None, None
    every = max(1, pcfg.eval_every * spp)
    th = theory_run(tmc, pol0, instances, method, variant, lr, steps_tf[-1] * spp, every, pcfg)
    th_by_step = {h["step"] // spp: h for h in th}
    rows = []
    for h in tf_history:
        s = h["step"]
        if s not in th_by_step:
            continue
        rec = {"step": s}
        for t in tmc.tasks:
            q_tf = np.asarray(h["probs"][t.name])
            q_th = np.asarray(th_by_step[s]["probs"][t.name])
            rec[t.name] = {"transformer": task_metrics(tmc, t, q_tf, k), "theory": task_metrics(tmc, t, q_th, k),
                           "paths_transformer": valid_path_masses(tmc, t, q_tf),
                           "paths_theory": valid_path_masses(tmc, t, q_th),
                           "kl_theory_to_transformer": kl_divergence(q_th / max(q_th.sum(), 1e-300), q_tf)}
        rows.append(rec)
    return {"method": method, "theory_variant": variant, "theory_lr": lr, "lr_match": ccfg.lr_match,
            "lr_match_target_l1": target, "lr_match_achieved_l1": achieved, "trajectory": rows,
            "movement": movement_matched(tmc, pol0, instances, method, variant, lr, tf_history, pcfg, ccfg, k)}


def dense_theory_run(tmc, policy, instances, method: str, variant: str, lr: float, pcfg, targets: dict[str, float],
                     start_steps: int, max_steps: int) -> tuple[dict[str, list[np.ndarray]], int]:
    """The theory's task distributions after EVERY step ``0..N``, with ``N`` doubled from ``start_steps`` until the
    training task's movement reaches every metric's target (or ``N = max_steps``); ``({task: [q_0..q_N]}, N)``."""
    from .movement import movements

    n = max(1, start_steps)
    while True:
        n = min(n, max_steps)
        h = theory_run(tmc, policy, instances, method, variant, lr, n, 1, pcfg)
        seqs = {t.name: [np.asarray(r["probs"][t.name]) for r in h] for t in tmc.tasks}
        done = all(movements(seqs[pcfg.task], m)[-1] >= tgt for m, tgt in targets.items())
        if done or n >= max_steps:
            return seqs, n
        n *= 2


def movement_matched(tmc, pol0, instances, method: str, variant: str, lr: float, tf_history: list[dict], pcfg, ccfg,
                     k: int) -> dict:
    """Theory at the SAME DISTANCE FROM ITS START as the transformer at each of its evaluations (module
    :mod:`harness.tmclm.movement`): ``{"metric", "theory_steps_run", "by_metric": {l1|kl: [row per tf eval]}}``;
    each row holds the transformer's step and movement, the theory's matched (fractional) step, whether it was
    reached, and per task the theory's metrics and valid-path masses there."""
    from .movement import METRICS, at_step, match_by_movement, movement

    task = pcfg.task
    q0_tf = np.asarray(tf_history[0]["probs"][task])
    tf_moves = {m: [movement(np.asarray(h["probs"][task]), q0_tf, m) for h in tf_history] for m in METRICS}
    spp = ccfg.theory_steps_per_step
    steps_tf = tf_history[-1]["step"] * spp
    seqs, n = dense_theory_run(tmc, pol0, instances, method, variant, lr, pcfg,
                               {m: max(v) for m, v in tf_moves.items()}, 2 * steps_tf,
                               max(steps_tf, int(ccfg.movement_max_steps_factor * steps_tf)))
    by_metric = {}
    for m in METRICS:
        rows = []
        for h, match in zip(tf_history, match_by_movement(tf_moves[m], seqs[task], m)):
            rec = {"step": h["step"], "movement_transformer": match["target"],
                   "movement_theory": match["theory_movement"], "theory_step": match["theory_step"] / spp,
                   "reached": match["reached"]}
            for t in tmc.tasks:
                q = at_step(seqs[t.name], match["theory_step"])
                rec[t.name] = {"theory": task_metrics(tmc, t, q, k), "paths_theory": valid_path_masses(tmc, t, q)}
            rows.append(rec)
        by_metric[m] = rows
    return {"metric": ccfg.movement_metric, "theory_steps_run": n, "by_metric": by_metric}


# ----------------------------------------------------------------------------------------------------------
# plots
# ----------------------------------------------------------------------------------------------------------
def plot_path_mass(comparisons: dict[str, dict], task: str, path) -> None:
    """Per-path mass vs step for the task's valid paths: transformer (solid) vs theory (dashed), one panel per
    method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    methods = list(comparisons)
    n = len(methods)
    cols = min(3, n)
    rows_ = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows_, cols, figsize=(4.2 * cols, 3.2 * rows_), squeeze=False, sharey=True)
    for ax, m in zip(axes.ravel(), methods):
        traj = comparisons[m]["trajectory"]
        steps = [r["step"] for r in traj]
        names = list(traj[0][task]["paths_transformer"])
        for i, pn in enumerate(names):
            c = f"C{i % 10}"
            ax.plot(steps, [r[task]["paths_transformer"][pn] for r in traj], "-", color=c, label=pn)
            ax.plot(steps, [r[task]["paths_theory"][pn] for r in traj], "--", color=c)
        ax.set_title(f"{m} ({task}); theory lr {comparisons[m]['theory_lr']:.3g}", fontsize=9)
        ax.set_xlabel("optimizer step")
        ax.set_yscale("log")
        ax.set_ylim(1e-5, 1.2)
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    axes[0, 0].set_ylabel("path probability")
    axes[0, 0].legend(fontsize=7, title="solid: TMC-LM, dashed: theory", title_fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_coverage_bars(final: dict[str, dict], tasks: Sequence[str], path) -> None:
    """Final easy/hard/invalid shares per method, transformer vs theory, one panel per task."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    methods = list(final)
    fig, axes = plt.subplots(1, len(tasks), figsize=(max(6, 1.3 * len(methods)) * len(tasks) / 1.4, 3.6),
                             squeeze=False)
    colors = {"easy": "#2b8cbe", "hard": "#e6550d", "invalid": "#bdbdbd"}
    for ax, t in zip(axes[0], tasks):
        x = np.arange(len(methods))
        for j, who in enumerate(("transformer", "theory")):
            bottom = np.zeros(len(methods))
            for part in ("easy", "hard", "invalid"):
                v = np.array([final[m][t][who][part] for m in methods])
                ax.bar(x + (j - 0.5) * 0.38, v, 0.36, bottom=bottom, color=colors[part],
                       hatch="" if who == "transformer" else "//", edgecolor="k", linewidth=0.4,
                       label=f"{part} ({'TMC-LM' if who == 'transformer' else 'theory'})")
                bottom += v
        ax.set_xticks(x)
        ax.set_xticklabels(methods, rotation=30, fontsize=8)
        ax.set_title(f"{t}: final coverage (left TMC-LM, right hatched theory)", fontsize=9)
    axes[0, 0].legend(fontsize=6, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_forgetting(comparisons: dict[str, dict], task: str, path) -> None:
    """Valid (easy + hard) mass of the cross task vs step: transformer solid, theory dashed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.6))
    for i, (m, c) in enumerate(comparisons.items()):
        traj = c["trajectory"]
        steps = [r["step"] for r in traj]
        col = f"C{i % 10}"
        ax.plot(steps, [1 - r[task]["transformer"]["invalid"] for r in traj], "-", color=col, label=m)
        ax.plot(steps, [1 - r[task]["theory"]["invalid"] for r in traj], "--", color=col)
    ax.set_xlabel("optimizer step")
    ax.set_ylabel(f"{task} valid mass (easy + hard)")
    ax.set_title(f"cross-task forgetting on {task} (solid TMC-LM, dashed theory)", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
