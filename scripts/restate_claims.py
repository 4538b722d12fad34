"""Every claim of docs/findings.md, re-computed from the committed reports with exact tests, t-intervals and Holm.

    python scripts/restate_claims.py --json results/stats/claims_stats.json --md results/stats/claims_stats.md

Reads only committed files (``results/cpu_grpo/**/checkpoints_metrics.json``, ``cot_forms.json``,
``results/gpu/2026-11-23/grpo_kl_eval/checkpoints_metrics.json``); samples nothing; runs in seconds.

The steps compared are fixed by one rule, declared here and not chosen per run: **step 50**, the planned length
of every run of the CPU study (runs extended later are also compared at their last step, reported separately),
and, for "pass@k falls late in training", **step 30 -> step 50** in every seed (30 is the last evaluation that
all runs share before 50; this schedule was declared after the runs were seen, but it is the same for every
seed, unlike the per-seed peaks the notebook used). Exploratory comparisons (steps picked after looking, to
describe an event such as a collapse) are marked ``exploratory`` and carry no claim.

Per comparison (B minus A over the same 64 problems):
* k = n (pass@8, "solved at least once"): the exact sign test on problems solved by one side only; the difference
  is exactly (gained - lost) / problems, so it is computed from the reports' solved sets even for the first
  (seed 0) runs, whose reports predate per-problem counts;
* k = 1: when both reports keep per-problem counts, the paired bootstrap CI and the exact sign-flip test
  (``harness.metrics.paired``); otherwise the difference of the two means only, marked "no per-problem counts".
Within a claim, the exact p-values of its comparisons are Holm-corrected together; across training seeds the
headline is the mean difference with its Student-t 95% interval (``harness.metrics.seeds``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from harness.metrics.exact_tests import sign_test, sign_test_counts
from harness.metrics.holm import holm
from harness.metrics.paired import paired_pass_at_k_diff
from harness.metrics.seeds import seed_t_interval

R = "results/cpu_grpo"
RUNS = {  # name -> committed reports (several when a run was extended into a second folder)
    "grpo s0": [f"{R}/checkpoints_metrics.json"],
    "grpo s1": [f"{R}/grpo_seed1/checkpoints_metrics.json"],
    "grpo s2": [f"{R}/grpo_lr2e-4_seed2/checkpoints_metrics.json",
                f"{R}/grpo_lr2e-4_seed2/to_step80/checkpoints_metrics.json"],
    "grpo s3": [f"{R}/grpo_lr2e-4_seed3/checkpoints_metrics.json"],
    "grpo-kl b0.04 s0": [f"{R}/grpo_kl_step0/checkpoints_metrics.json"],
    "grpo-kl b0.04 branch40 s0": [f"{R}/grpo_kl_branch40/checkpoints_metrics.json"],
    "grpo-kl b0.2 s0": [f"{R}/grpo_kl_b02_step0/checkpoints_metrics.json"],
    "rl-rej 2e-4 s0": [f"{R}/rl_rej_step0/checkpoints_metrics.json"],
    "rl-rej 5e-4 s1": [f"{R}/rl_rej_lr5e-4_seed1/checkpoints_metrics.json"],
    "rl-rej 5e-4 s2": [f"{R}/rl_rej_lr5e-4_seed2/checkpoints_metrics.json"],
    "grpo 5e-4 s1": [f"{R}/grpo_lr5e-4_seed1/checkpoints_metrics.json"],
    "grpo 5e-4 s2": [f"{R}/grpo_lr5e-4_seed2/checkpoints_metrics.json"],
    "t0.5 s1": [f"{R}/rl_rej_group_t05_lr2e-4_seed1/checkpoints_metrics.json"],
    "t0.5 s2": [f"{R}/rl_rej_group_t05_lr2e-4_seed2/checkpoints_metrics.json"],
    "t0.5 s3": [f"{R}/rl_rej_group_t05_lr2e-4_seed3/checkpoints_metrics.json"],
    "t0.99 s1": [f"{R}/rl_rej_group_t099_lr2e-4_seed1/checkpoints_metrics.json"],
    "t0.99 s2": [f"{R}/rl_rej_group_t099_lr2e-4_seed2/to_step80/checkpoints_metrics.json"],
    "t0.5 5e-4 s1": [f"{R}/rl_rej_group_t05_lr5e-4_seed1/checkpoints_metrics.json"],
    "t0.5 5e-4 s2": [f"{R}/rl_rej_group_t05_lr5e-4_seed2/checkpoints_metrics.json"],
    "gpu grpo-kl": ["results/gpu/2026-11-23/grpo_kl_eval/checkpoints_metrics.json"],
}
BASE = ("grpo s1", 0)  # the base model re-measured after the sampler fix (seed-independent: same per-sample seeds)
FORMS = {"grpo s0": f"{R}/cot_forms.json", "grpo s1": f"{R}/grpo_seed1/cot_forms.json",
         "grpo s2": f"{R}/grpo_lr2e-4_seed2/cot_forms.json", "grpo s3": f"{R}/grpo_lr2e-4_seed3/cot_forms.json"}


def load_run(name: str) -> dict:
    """``{step: step entry}`` merged over the run's reports (a later folder's entry wins)."""
    steps: dict[int, dict] = {}
    for path in RUNS[name]:
        if not Path(path).is_file():
            raise SystemExit(f"{path}: missing (run {name!r}); this script reads the committed results/ tree")
        for s, v in json.loads(Path(path).read_text())["steps"].items():
            steps[int(s)] = v
    return steps


_cache: dict[str, dict] = {}


def entry(name: str, step: int) -> dict:
    if name not in _cache:
        _cache[name] = load_run(name)
    if step not in _cache[name]:
        raise SystemExit(f"run {name!r} ({RUNS[name][0]}): no step {step}; steps: {sorted(_cache[name])}")
    return _cache[name][step]


def compare(a: tuple[str, int], b: tuple[str, int], label: str, exploratory: bool = False) -> dict:
    """B - A at k = 1 and k = n over the same problems (module docstring)."""
    ea, eb = entry(*a), entry(*b)
    n = int(min(ea["n"], eb["n"]))
    if ea["n_problems"] != eb["n_problems"]:
        raise SystemExit(f"{label}: {ea['n_problems']} vs {eb['n_problems']} problems")
    problems = int(ea["n_problems"])
    sa, sb = set(ea["solved"]), set(eb["solved"])
    lost, gained = len(sa - sb), len(sb - sa)
    st = sign_test_counts(lost, gained)
    kn = {"diff": (gained - lost) / problems, "p_exact": st["p"], "test": st["test"], "discordant": st["discordant"],
          "lost": lost, "gained": gained, "warning": st["warning"]}
    pa, pb = ea.get("per_problem"), eb.get("per_problem")
    if pa and pb:
        common = sorted(set(pa) & set(pb))
        if len(common) != problems:
            raise SystemExit(f"{label}: the two reports share {len(common)} of {problems} problems")
        arr = [np.array([p[q][f] for q in common]) for p in (pa, pb) for f in ("n", "c")]
        d = paired_pass_at_k_diff(arr[0], arr[1], arr[2], arr[3], [1, n], n_boot=10000)
        k1 = d["1"]
        kn.update(lo=d[str(n)]["lo"], hi=d[str(n)]["hi"])
        assert abs(d[str(n)]["diff"] - kn["diff"]) < 1e-9 and d[str(n)]["discordant"] == kn["discordant"]
    else:
        k1 = {"diff": eb["pass_at_k"]["1"]["mean"] - ea["pass_at_k"]["1"]["mean"], "lo": None, "hi": None,
              "p_exact": None, "test": "no per-problem counts in a report: difference of means only",
              "discordant": None, "warning": None}
    polar = None
    if pa and pb:  # problems at 0/n or n/n, and the sign test of problems becoming polar vs ceasing to be
        pol = [{q: v["c"] in (0, v["n"]) for q, v in p.items()} for p in (pa, pb)]
        common = sorted(pol[0])
        x_a = np.array([pol[0][q] for q in common], dtype=int)
        x_b = np.array([pol[1][q] for q in common], dtype=int)
        polar = {"a": int(x_a.sum()), "b": int(x_b.sum()), "p_exact": sign_test(x_a, x_b)["p"]}
    return {"label": label, "a": list(a), "b": list(b), "n": n, "problems": problems, "exploratory": exploratory,
            "k1": k1, "kn": kn, "polar": polar}


def claim(cid: str, title: str, comps: list[dict], seeds: list[str] | None = None, note: str = "") -> dict:
    """One claim: its comparisons, Holm over their exact p-values (confirmatory ones, both k), and, when
    ``seeds`` names the comparisons that are one per training seed, the t-interval over them at each k."""
    conf = [(c, key) for c in comps if not c["exploratory"] for key in ("k1", "kn")]
    adj = holm([c[key]["p_exact"] for c, key in conf])["adjusted"]
    for (c, key), p in zip(conf, adj):
        c[key]["p_holm"] = p
    pol = [c for c in comps if not c["exploratory"] and c["polar"] is not None]
    for c, p in zip(pol, holm([c["polar"]["p_exact"] for c in pol])["adjusted"]):
        c["polar"]["p_holm"] = p
    out = {"id": cid, "title": title, "comparisons": comps, "note": note}
    if seeds:
        per = [c for c in comps if c["label"] in seeds]
        out["over_seeds"] = {key: {"labels": [c["label"] for c in per], "per_seed": [c[key]["diff"] for c in per],
                                   **seed_t_interval([c[key]["diff"] for c in per])} for key in ("k1", "kn")}
        if all(c["polar"] is not None for c in per):
            change = [c["polar"]["b"] - c["polar"]["a"] for c in per]
            out["over_seeds"]["polar"] = {"labels": [c["label"] for c in per], "per_seed": change,
                                          **seed_t_interval(change)}
    return out


def forms_claim() -> dict:
    """CoT-form entropy at the base and at step 50, and the dominant form's accuracy against the rest's."""
    rows = []
    base = json.loads(Path(FORMS["grpo s1"]).read_text())["0"]  # re-measured base (seeds 2, 3 have no step 0)
    for name, path in FORMS.items():
        f = json.loads(Path(path).read_text())
        b = f.get("0", base)
        rows.append({"run": name, "base_bits": b["entropy_bits"], "step50_bits": f["50"]["entropy_bits"],
                     "top_share": f["50"]["top_share"], "top_accuracy": f["50"]["top_accuracy"],
                     "rest_accuracy": f["50"]["rest_accuracy"]})
    drop = seed_t_interval([r["step50_bits"] - r["base_bits"] for r in rows])
    acc = seed_t_interval([r["top_accuracy"] - r["rest_accuracy"] for r in rows])
    return {"id": "forms", "title": "GRPO narrows the CoT forms (form entropy, base -> step 50)", "rows": rows,
            "entropy_change_over_seeds": drop, "top_minus_rest_accuracy_over_seeds": acc,
            "note": "form entropy is one number per run (all 512 samples), so the seed is the only unit of test"}


def build() -> list[dict]:
    g = [f"grpo s{s}" for s in range(4)]
    claims = [
        claim("learns", "GRPO learns one-step arithmetic (base -> step 50)",
              [compare(("grpo s0", 0), ("grpo s0", 50), "seed 0 (its own pre-fix base)")]
              + [compare(BASE, (f"grpo s{s}", 50), f"seed {s}") for s in (1, 2, 3)],
              seeds=["seed 0 (its own pre-fix base)", "seed 1", "seed 2", "seed 3"]),
        claim("squeeze", "GRPO's pass@8 falls late in training (step 30 -> step 50, every seed)",
              [compare((x, 30), (x, 50), f"seed {i}") for i, x in enumerate(g)],
              seeds=[f"seed {i}" for i in range(4)],
              note="replaces the notebook's per-seed peak-to-trough figures (seed 0 from its step-40 peak)"),
        claim("kl004", "GRPO-KL beta 0.04 vs GRPO (seed 0, same data order)",
              [compare(("grpo s0", 50), ("grpo-kl b0.04 s0", 50), "step 50"),
               compare(("grpo s0", 60), ("grpo-kl b0.04 s0", 60), "step 60 (both runs' last step)"),
               compare(("grpo-kl b0.04 s0", 50), ("grpo-kl b0.04 s0", 60), "GRPO-KL step 50 -> 60", True)]),
        claim("kl_branch", "10 steps of GRPO-KL (beta 0.04) branched from GRPO's step 40, vs GRPO (seed 0)",
              [compare(("grpo s0", 50), ("grpo-kl b0.04 branch40 s0", 50), "step 50")]),
        claim("kl02", "GRPO-KL beta 0.2: learns less, no squeeze (seed 0)",
              [compare(("grpo s0", 50), ("grpo-kl b0.2 s0", 50), "vs GRPO seed 0, step 50 (GRPO sampled pre-fix)"),
               compare(("grpo s1", 50), ("grpo-kl b0.2 s0", 50), "vs GRPO seed 1, step 50 (both post-fix)"),
               compare(("grpo-kl b0.2 s0", 50), ("grpo-kl b0.2 s0", 90), "own step 50 -> 90 (last)"),
               compare(BASE, ("grpo-kl b0.2 s0", 90), "base -> step 90")]),
        claim("rlrej", "The paper's RL-rej (leave-5-out REINFORCE) vs GRPO",
              [compare(("grpo s0", 50), ("rl-rej 2e-4 s0", 50), "lr 2e-4, seed 0, step 50"),
               compare(("grpo 5e-4 s1", 50), ("rl-rej 5e-4 s1", 50), "lr 5e-4, seed 1, step 50"),
               compare(("grpo 5e-4 s2", 50), ("rl-rej 5e-4 s2", 50), "lr 5e-4, seed 2, step 50"),
               compare(("rl-rej 5e-4 s1", 20), ("rl-rej 5e-4 s1", 30), "lr 5e-4 seed 1: step 20 -> 30", True),
               compare(("rl-rej 5e-4 s2", 20), ("rl-rej 5e-4 s2", 30), "lr 5e-4 seed 2: step 20 -> 30", True)],
              seeds=["lr 5e-4, seed 1, step 50", "lr 5e-4, seed 2, step 50"]),
        claim("t05", "GRPO + dropping groups above pass rate 0.5 vs GRPO (lr 2e-4, step 50)",
              [compare((f"grpo s{s}", 50), (f"t0.5 s{s}", 50), f"seed {s}") for s in (1, 2, 3)]
              + [compare((f"grpo s{s}", st), (f"t0.5 s{s}", st), f"seed {s}, step {st}", True)
                 for s in (1, 2, 3) for st in (20, 30, 40)],
              seeds=["seed 1", "seed 2", "seed 3"]),
        claim("t099", "GRPO + dropping all-correct groups (DAPO-style, t = 0.99) vs GRPO (lr 2e-4)",
              [compare((f"grpo s{s}", 50), (f"t0.99 s{s}", 50), f"seed {s}") for s in (1, 2)]
              + [compare(("grpo s2", 80), ("t0.99 s2", 80), "seed 2, step 80 (both runs' last)"),
                 compare(("t0.99 s1", 30), ("t0.99 s1", 50), "t = 0.99 seed 1: own step 30 -> 50"),
                 compare(("t0.99 s2", 30), ("t0.99 s2", 50), "t = 0.99 seed 2: own step 30 -> 50")],
              seeds=["seed 1", "seed 2"]),
        claim("t05_5e4", "GRPO + dropping groups above 0.5 at lr 5e-4 vs RL-rej and GRPO at 5e-4 (step 50)",
              [compare((f"rl-rej 5e-4 s{s}", 50), (f"t0.5 5e-4 s{s}", 50), f"vs RL-rej, seed {s}") for s in (1, 2)]
              + [compare((f"grpo 5e-4 s{s}", 50), (f"t0.5 5e-4 s{s}", 50), f"vs GRPO, seed {s}") for s in (1, 2)]),
        claim("lr", "GRPO at lr 5e-4 vs 2e-4 (step 50)",
              [compare((f"grpo s{s}", 50), (f"grpo 5e-4 s{s}", 50), f"seed {s}") for s in (1, 2)],
              seeds=["seed 1", "seed 2"]),
        claim("noise", "Trajectory noise: t = 0.99 and GRPO, seed 2, identical to step 20",
              [compare(("grpo s2", 30), ("t0.99 s2", 30), "step 30", True)],
              note="exploratory (step picked where they parted); shows the size of seed-level noise"),
        claim("gpu", "GPU, GSM8K: 40 steps of GRPO-KL vs the base (100 problems, n = 64)",
              [compare(("gpu grpo-kl", 0), ("gpu grpo-kl", 40), "step 40 - base")]),
    ]
    claims.insert(2, forms_claim())
    return claims


def _f(x, fmt="+.3f") -> str:
    return "–" if x is None else format(x, fmt)


def _cell(d: dict, k: str) -> str:
    ci = "" if d.get("lo") is None else f" [{d['lo']:+.3f}, {d['hi']:+.3f}]"
    if d["p_exact"] is None:
        return f"{d['diff']:+.3f} (no per-problem counts)"
    extra = f", lost/gained {d['lost']}/{d['gained']}" if k == "kn" else ""
    holm_p = f", Holm {d['p_holm']:.2g}" if d.get("p_holm") is not None else ""
    warn = " ⚠" if d.get("warning") else ""
    return f"{d['diff']:+.3f}{ci} p {d['p_exact']:.2g}{holm_p} (m {d['discordant']}{extra}){warn}"


def render(claims: list[dict]) -> str:
    out = ["# Claims re-stated with exact tests, t-intervals over seeds and Holm", "",
           "Made by `python scripts/restate_claims.py --json results/stats/claims_stats.json "
           "--md results/stats/claims_stats.md` from the committed reports (see the script's docstring for the "
           "fixed-step rule). Cells: difference B − A over the same problems, paired bootstrap 95% CI where "
           "per-problem counts exist, exact p (sign test at k = n, sign-flip at k = 1), Holm within the claim, "
           "m = discordant problems; ⚠ = fewer than 12 discordant problems (bootstrap CI anti-conservative; "
           "read p). Exploratory rows (steps chosen after looking) carry no Holm p and support no claim.", ""]
    for c in claims:
        out += [f"## {c['id']}: {c['title']}", ""]
        if c["id"] == "forms":
            out += ["| run | base bits | step 50 bits | top form share | top form acc. | rest acc. |",
                    "|---|---:|---:|---:|---:|---:|"]
            out += [f"| {r['run']} | {r['base_bits']:.2f} | {r['step50_bits']:.2f} | {r['top_share']:.2f} "
                    f"| {r['top_accuracy']:.2f} | {r['rest_accuracy']:.2f} |" for r in c["rows"]]
            for key, what in (("entropy_change_over_seeds", "entropy change (bits)"),
                              ("top_minus_rest_accuracy_over_seeds", "top-form minus rest accuracy")):
                t = c[key]
                out.append(f"\nOver {t['seeds']} seeds, {what}: mean {t['mean']:+.2f}, t 95% [{t['lo']:+.2f}, "
                           f"{t['hi']:+.2f}], p {t['p']:.2g}")
            out += ["", c["note"], ""]
            continue
        n = c["comparisons"][0]["n"]
        out += [f"| comparison (B − A) | A | B | k = 1 | k = {n} | at 0/n or n/n: A → B (p) |",
                "|---|---|---|---|---|---|"]
        for x in c["comparisons"]:
            pol = ""
            if x["polar"] is not None:
                q = x["polar"]
                pol = f"{q['a']} → {q['b']} (p {q['p_exact']:.2g}" + (
                    f", Holm {q['p_holm']:.2g})" if "p_holm" in q else ")")
            tag = " (exploratory)" if x["exploratory"] else ""
            out.append(f"| {x['label']}{tag} | {x['a'][0]} @ {x['a'][1]} | {x['b'][0]} @ {x['b'][1]} "
                       f"| {_cell(x['k1'], 'k1')} | {_cell(x['kn'], 'kn')} | {pol} |")
        if "over_seeds" in c:
            for key, what in (("k1", "k = 1"), ("kn", f"k = {n}"), ("polar", "problems at 0/n or n/n, B − A")):
                t = c["over_seeds"].get(key)
                if t is None:
                    continue
                ci = ("no interval (1 seed)" if t["lo"] is None
                      else f"t 95% [{t['lo']:+.3f}, {t['hi']:+.3f}], p {t['p']:.2g}")
                out.append(f"\nOver seeds ({', '.join(t['labels'])}), {what}: mean {t['mean']:+.3f}, {ci}")
        if c["note"]:
            out += ["", c["note"]]
        out.append("")
    return "\n".join(out)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--json")
    p.add_argument("--md")
    args = p.parse_args(argv)
    claims = build()
    text = render(claims)
    print(text)
    if args.json:
        Path(args.json).write_text(json.dumps(claims, indent=2))
    if args.md:
        Path(args.md).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
