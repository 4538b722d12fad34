"""Does a population reward LEARNED from TMC-LM samples reproduce the consistency bias?

For every evaluated task and selector (:mod:`.reward_selectors`, base sampler = the TMC-LM's Markov projection as in
:mod:`.inference`) the exact output law ``q`` is computed with each reward source (:mod:`.learned_rewards`):
``exact`` (theory), ``oracle`` (the instance's own reward, one law per test instance) and the learned ones
(``mc_label``, ``mc_orm``, ``logit``, ``head``) for every training budget ``n`` and ``seeds`` independent training sets.
Metrics of ``q`` on the evaluated task's test instances ``C_1..C_I`` (``M_i(o) = 1[o in C_i]``):

* ``easy`` / ``hard`` / ``invalid``: the theory's path classes (``TMC.classify``), share of the output;
* ``acc``: instance accuracy ``mean_i sum_o q_i(o) M_i(o)`` (pass@1 against the instance);
* ``easy_when_wrong``: on the instances whose easy path is NOT correct (``E = {i : M_i(easy) = 0}``), the share the
  selector still puts on the easy path, ``mean_{i in E} q_i(easy)`` — the consistency bias: a population reward
  cannot see the instance, so this equals the unconditional easy share; the oracle's is (near) 0;
* ``acc_when_easy_wrong``: ``mean_{i in E} sum_o q_i(o) M_i(o)`` (does the selector find a rare correct path?);
* ``l1_to_exact``: ``sum_o |q(o) - q_exact(o)|`` (learned sources).

CIs: learned = 2.5 / 97.5 percentiles over training seeds (the sampling of the reward model's data; the selector's
law given the rewards is exact); oracle = bootstrap over test instances. ``paired``: per instance, the accuracy
difference source - oracle, with the exact two-sided sign test (ties dropped) and a bootstrap CI of the mean
difference (the learned source at the largest ``n``, averaged over seeds).
"""

from __future__ import annotations

import time

import numpy as np

from .bon_config import LearnedBonConfig
from .learned_rewards import exact_rewards, instance_matrix, learned_sources, oracle_rewards, sample_training_set
from .reward_selectors import selector_distribution

LEARNED = ("mc_label", "mc_orm", "logit")


def _cfg(tmc, key: str, n_bon: int, lam: float, conventions: str):
    from .inference import inference_config

    return inference_config(tmc, "orm_bon" if key == "orm_bon@1" else key, n_bon, lam, conventions)


def metrics(tmc, task, q: np.ndarray, M: np.ndarray) -> dict:
    """Per-instance and mean metrics of ``q`` (``(P,)`` or ``(I, P)``) on instances ``M (I, P)``."""
    cls = tmc.classify(tmc.enumerate_paths(), task)
    Q = np.broadcast_to(q, M.shape) if q.ndim == 1 else q
    easy_mask = cls == 0
    per_acc = (Q * M).sum(axis=1)
    per_easy = Q[:, easy_mask].sum(axis=1)
    wrong = M[:, easy_mask].sum(axis=1) == 0
    out = {name: float(Q[:, cls == c].sum(axis=1).mean()) for c, name in enumerate(("easy", "hard", "invalid"))}
    out["acc"] = float(per_acc.mean())
    out["easy_when_wrong"] = float(per_easy[wrong].mean()) if wrong.any() else float("nan")
    out["acc_when_easy_wrong"] = float(per_acc[wrong].mean()) if wrong.any() else float("nan")
    return out, per_acc, per_easy, wrong


def _summ(vals: list[dict]) -> dict:
    keys = vals[0].keys()
    arr = {k: np.array([v[k] for v in vals], float) for k in keys}
    return {k: {"mean": float(np.nanmean(a)), "lo": float(np.nanpercentile(a, 2.5)),
                "hi": float(np.nanpercentile(a, 97.5))} for k, a in arr.items()}


def _boot(per_acc, per_easy, wrong, rng, n_boot: int) -> dict:
    I = len(per_acc)
    idx = rng.integers(0, I, size=(n_boot, I))
    acc = per_acc[idx].mean(axis=1)
    w = wrong[idx]
    with np.errstate(invalid="ignore", divide="ignore"):
        ew = (per_easy[idx] * w).sum(axis=1) / w.sum(axis=1)
        aw = (per_acc[idx] * w).sum(axis=1) / w.sum(axis=1)
    return {"acc": [float(np.nanpercentile(acc, 2.5)), float(np.nanpercentile(acc, 97.5))],
            "easy_when_wrong": [float(np.nanpercentile(ew, 2.5)), float(np.nanpercentile(ew, 97.5))],
            "acc_when_easy_wrong": [float(np.nanpercentile(aw, 2.5)), float(np.nanpercentile(aw, 97.5))]}


def paired_vs_oracle(per_acc: np.ndarray, per_acc_oracle: np.ndarray, rng, n_boot: int) -> dict:
    """Mean per-instance accuracy difference (source - oracle), bootstrap CI, exact two-sided sign test."""
    from scipy.stats import binomtest

    d = per_acc - per_acc_oracle
    pos, neg = int((d > 1e-12).sum()), int((d < -1e-12).sum())
    idx = rng.integers(0, len(d), size=(n_boot, len(d)))
    bm = d[idx].mean(axis=1)
    p = float(binomtest(pos, pos + neg, 0.5).pvalue) if pos + neg else 1.0
    return {"mean_diff": float(d.mean()), "ci": [float(np.percentile(bm, 2.5)), float(np.percentile(bm, 97.5))],
            "n_pos": pos, "n_neg": neg, "n_tie": int(len(d) - pos - neg), "sign_test_p": p}


def run_learned_bon(tmc, probs_by_prompt: dict, bc: LearnedBonConfig, lam: float = 0.5, n_bon: int = 15,
                    progress=print, features: np.ndarray | None = None) -> dict:
    """The whole comparison; returns a JSON-able dict (see the module docstring). ``features``: the TMC-LM's
    per-path hidden states for the ``head`` ORM (:func:`.learned_rewards.lm_features`; used if ``bc.lm_head``)."""
    from tmc_theory.inference.common import reward_task
    from tmc_theory.instances import draw_instances

    from .inference import selector_distribution as inference_row
    from .measure import markov_kernels, non_markov_kl

    say = progress or (lambda *a, **k: None)
    t0 = time.perf_counter()
    lm_joint = np.asarray(probs_by_prompt["<any>"], float)
    base = markov_kernels(tmc, lm_joint)
    rng_test = np.random.default_rng([bc.seed, 1])
    rng_boot = np.random.default_rng([bc.seed, 2])
    n_max = max(bc.n_train)
    keys = list(bc.selectors)
    out = {"conventions": bc.conventions, "lam": lam, "n_bon": n_bon, "n_train": sorted(bc.n_train),
           "seeds": bc.seeds, "rollouts": bc.rollouts, "rollouts_per_prefix": bc.rollouts_per_prefix,
           "base_non_markov_kl": non_markov_kl(tmc, lm_joint), "tasks": {}, "consistency_check": {}}
    learned_cache: dict = {}

    def learned(rtask, s, n):
        k = (rtask.name, s, n)
        if k not in learned_cache:
            kk = (rtask.name, s, "ts")
            if kk not in learned_cache:
                rng = np.random.default_rng([bc.seed, 3, s, [t.name for t in tmc.tasks].index(rtask.name)])
                learned_cache[kk] = sample_training_set(tmc, rtask, lm_joint, n_max, bc.rollouts_per_prefix, rng,
                                                        bc.rollouts)
            learned_cache[k] = learned_sources(tmc, learned_cache[kk].head(n), lam, bc.prior_strength, bc.l2,
                                               bc.logistic, features if bc.lm_head else None)
        return learned_cache[k]

    labels_per_solution = 1 + (tmc.n_layers - 1) * bc.rollouts_per_prefix
    out["labels_per_solution"] = labels_per_solution
    for task in tmc.tasks:
        test = draw_instances(tmc, task, bc.n_test_instances, rng_test)
        M = instance_matrix(tmc, test)
        cfg0 = _cfg(tmc, keys[0], n_bon, lam, bc.conventions)
        rtask = reward_task(tmc, task, cfg0)
        oracle_inst = test if rtask.name == task.name else draw_instances(tmc, rtask, bc.n_test_instances, rng_test)
        src_exact = exact_rewards(tmc, rtask, lam)
        src_oracle = oracle_rewards(tmc, oracle_inst, lam)
        trec = {"reward_task": rtask.name, "easy_correct_rate": float(M[:, tmc.classify(tmc.enumerate_paths(),
                                                                                          task) == 0].max(1).mean()),
                "selectors": {}}
        for key in keys:
            cfg = _cfg(tmc, key, n_bon, lam, bc.conventions)
            q_ex = selector_distribution(tmc, key, task, cfg, base, src_exact)
            if key != "orm_bon@1":
                q_ref, how = inference_row(tmc, key, task, cfg, base)
                out["consistency_check"][f"{task.name}/{key}"] = {"max_abs_diff": float(np.abs(q_ex - q_ref).max()),
                                                                  "inference_method": how}
            q_or = selector_distribution(tmc, key, task, cfg, base, src_oracle)
            m_ex, acc_ex, _, _ = metrics(tmc, task, q_ex, M)
            m_or, acc_or, easy_or, wrong = metrics(tmc, task, q_or, M)
            rec = {"exact": {"metrics": m_ex, "paired_vs_oracle": paired_vs_oracle(acc_ex, acc_or, rng_boot,
                                                                                      bc.bootstrap),
                             "q": q_ex.tolist()},
                   "oracle": {"metrics": m_or, "ci": _boot(acc_or, easy_or, wrong, rng_boot, bc.bootstrap),
                              "q_mean": q_or.mean(axis=0).tolist()}}
            names = list(LEARNED if bc.logistic else LEARNED[:2]) + (["head"] if bc.lm_head and features is not None
                                                                      else [])
            for name in names:
                rec[name] = {"by_n": {}}
            for n in sorted(bc.n_train):
                per = {name: [] for name in rec if name not in ("exact", "oracle")}
                accs = {name: [] for name in per}
                for s in range(bc.seeds):
                    for name, rew in learned(rtask, s, n).items():
                        q = selector_distribution(tmc, key, task, cfg, base, rew)
                        m, acc_i, _, _ = metrics(tmc, task, q, M)
                        m["l1_to_exact"] = float(np.abs(q - q_ex).sum())
                        per[name].append(m)
                        accs[name].append(acc_i)
                for name in per:
                    rec[name]["by_n"][str(n)] = _summ(per[name])
                    if n == n_max:
                        rec[name]["paired_vs_oracle"] = paired_vs_oracle(np.mean(accs[name], axis=0), acc_or,
                                                                         rng_boot, bc.bootstrap)
            trec["selectors"][key] = rec
            say(f"[tmclm-bon] {task.name} {key}: exact easy {m_ex['easy']:.3f} acc {m_ex['acc']:.3f} | oracle easy "
                f"{m_or['easy']:.3f} acc {m_or['acc']:.3f} | mc_label@{n_max} easy "
                f"{rec['mc_label']['by_n'][str(n_max)]['easy']['mean']:.3f} L1 "
                f"{rec['mc_label']['by_n'][str(n_max)]['l1_to_exact']['mean']:.3f} "
                f"({time.perf_counter() - t0:.0f} s)")
        out["tasks"][task.name] = trec
    out["wall_s"] = time.perf_counter() - t0
    return out


# ------------------------------------------------------------------------------------------------------- reports
def _f(x):
    return f"{100 * x:.1f}"


def summary_tables(res: dict) -> str:
    """Markdown: per task, the metrics of every selector x source at the largest n; then L1 to exact vs n."""
    n_max = str(max(res["n_train"]))
    lines = []
    for tname, trec in res["tasks"].items():
        lines += [f"### {tname} (rewards of {trec['reward_task']}; easy path correct on "
                  f"{_f(trec['easy_correct_rate'])}% of instances)", "",
                  f"Shares in %; learned sources at n = {n_max} solutions (mean [2.5, 97.5] % over "
                  f"{res['seeds']} training sets); oracle CI = bootstrap over test instances.", "",
                  "| selector | reward | easy | hard | invalid | acc | easy when wrong | acc when easy wrong | "
                  "L1 to exact |", "|---|---|---|---|---|---|---|---|---|"]
        for key, rec in trec["selectors"].items():
            for src, r in rec.items():
                if src == "exact":
                    m = r["metrics"]
                    lines.append(f"| {key} | exact | {_f(m['easy'])} | {_f(m['hard'])} | {_f(m['invalid'])} | "
                                 f"{_f(m['acc'])} | {_f(m['easy_when_wrong'])} | {_f(m['acc_when_easy_wrong'])} | 0 |")
                elif src == "oracle":
                    m, ci = r["metrics"], r["ci"]
                    lines.append(
                        f"| {key} | oracle | {_f(m['easy'])} | {_f(m['hard'])} | {_f(m['invalid'])} | {_f(m['acc'])} "
                        f"[{_f(ci['acc'][0])}, {_f(ci['acc'][1])}] | {_f(m['easy_when_wrong'])} "
                        f"[{_f(ci['easy_when_wrong'][0])}, {_f(ci['easy_when_wrong'][1])}] | "
                        f"{_f(m['acc_when_easy_wrong'])} | - |")
                else:
                    s = r["by_n"][n_max]

                    def c(k, s=s):
                        return f"{_f(s[k]['mean'])} [{_f(s[k]['lo'])}, {_f(s[k]['hi'])}]"
                    lines.append(f"| {key} | {src} | {c('easy')} | {c('hard')} | {c('invalid')} | {c('acc')} | "
                                 f"{c('easy_when_wrong')} | {c('acc_when_easy_wrong')} | "
                                 f"{s['l1_to_exact']['mean']:.3f} [{s['l1_to_exact']['lo']:.3f}, "
                                 f"{s['l1_to_exact']['hi']:.3f}] |")
        ns = [str(n) for n in res["n_train"]]
        lines += ["", f"L1 distance of the output law to the exact-reward selector's (mean over seeds), {tname}:", "",
                  "| selector | reward | " + " | ".join(f"n={n}" for n in ns) + " |", "|---|---|" + "---|" * len(ns)]
        for key, rec in trec["selectors"].items():
            for src, r in rec.items():
                if "by_n" in r:
                    lines.append(f"| {key} | {src} | " + " | ".join(f"{r['by_n'][n]['l1_to_exact']['mean']:.3f}"
                                                                   for n in ns) + " |")
        lines.append("")
    return "\n".join(lines)


def plot_l1(res: dict, path) -> None:
    """L1 to the exact-reward output law vs n (mean over seeds; log-log, values below 1e-4 drawn at 1e-4)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = list(res["tasks"])
    fig, axes = plt.subplots(1, len(tasks), figsize=(5.5 * len(tasks), 3.8), squeeze=False)
    ns = res["n_train"]
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, t in zip(axes[0], tasks):
        for i, (key, rec) in enumerate(res["tasks"][t]["selectors"].items()):
            for src, ls in (("mc_label", "-"), ("mc_orm", "--"), ("logit", ":"), ("head", "-.")):
                if src not in rec:
                    continue
                y = [max(rec[src]["by_n"][str(n)]["l1_to_exact"]["mean"], 1e-4) for n in ns]
                ax.plot(ns, y, ls=ls, marker="o", ms=3, color=colors[i % len(colors)], label=f"{key} {src}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("training solutions n")
        ax.set_ylabel("mean L1 to exact-reward output law")
        ax.set_title(f"{t} (- mc_label, -- mc_orm, : logit, -. head; orm_bon = 0 at every n)", fontsize=8)
    axes[0, 0].legend(fontsize=5, ncol=3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
