"""``tmc analyze strategy_mass``: squeezing measured by GROUND-TRUTH strategies (multi-strategy data), per step.

    tmc analyze strategy_mass RUN_OR_STORE [...] --data data/multi_strategy/test.jsonl [--base STORE] --out DIR

Each completion is labelled with the record's strategy it follows (:func:`harness.paths.strategies.label_strategy`,
value matching on the record's known steps) and with its grade. Per problem i and step t, over its n_i samples:

    easy_i    = #{correct and follows the record's FIRST strategy} / n_i   (the warm start's 0.75 path)
    rare_i    = #{correct and follows another named strategy} / n_i
    other_i   = #{correct, label "other" or "ambiguous"} / n_i          ("correct-other")
    wrong_i   = #{not correct} / n_i                                    (whatever its label)

(they sum to 1). Per step: each share's mean over problems with a percentile bootstrap CI over problems
(:func:`harness.metrics.bootstrap_mean`), and the number of problems whose correct samples include a rare-strategy
one (``rare_present``). Beside the cluster-based path mass of ``tmc eval-checkpoints`` (:mod:`harness.paths.mass`,
easy/rare from the base's own sample shares), this one is defined by the data, not by the base's samples.

Paired against the base (step 0 of ``--base``, else step 0 of the store itself), over the problems both hold:
d_i = rare_i(t) - rare_i(0) (and the same for easy), its mean with a bootstrap CI over problems and the exact paired
test (:func:`harness.metrics.paired_exact_test`: the sign-flip permutation test for these fractional differences).
Across training runs of one method (seeds as the unit, :func:`harness.metrics.seed_t_interval`): the mean over
runs of each run's mean d at a step with a Student-t interval. A run's *method* is its folder name with a
trailing ``_s<seed>`` dropped (``runs/ms/grpo_kl_s1/eval`` -> ``grpo_kl``); only steps every run of the method
holds are pooled.

Inputs: a sample store (a folder with ``samples/``: ``tmc sample`` output, ``<train run>/eval`` of ``tmc
eval-checkpoints``, ``<train run>/train_samples``) or a training run folder (its ``eval/`` is read). Rows are
matched to records by problem id: ``<benchmark>/<tag>/<split>/<line>`` (harness/data/ids.py) -> line ``<line>``
(0-based) of ``--data``; the id's source tag must be the data file's (:func:`harness.data.ids.file_tag`), and
the record's question must occur in the stored prompt, else one error says which file to pass.

Also the **warm-start mix check** (:func:`sft_mix`): in the base store, the share of correct samples on a named
strategy that follow the first one (pooled ratio, bootstrap CI over problems), expected near the warm start's
drawn share (``warmstart.json`` ``first_strategy_share``, about 0.69-0.75) if the SFT mix carried over.

Writes ``DIR/strategy_mass.json``, ``DIR/strategy_mass.md`` (one row per run x step) and
``DIR/strategy_mass_<run>.png`` (stacked shares against step) per run.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

import numpy as np

CATEGORIES = ("easy", "rare", "correct_other", "wrong")
COLORS = {"easy": "#4c72b0", "rare": "#dd8452", "correct_other": "#8c8c8c", "wrong": "#d9d9d9"}
_SEED_SUFFIX = re.compile(r"_s\d+$")


# ------------------------------------------------------------------------------------------------ inputs
def load_records(data: str | Path) -> list[dict]:
    """The records of a multi-strategy JSONL file, one per line, each with ``question`` and ``strategies``."""
    path = Path(data)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such data file; pass --data data/multi_strategy/test.jsonl (or the "
                                "train.jsonl the store's problems came from)")
    out = []
    for i, line in enumerate(path.read_text().splitlines(), 1):
        rec = json.loads(line)
        if "question" not in rec or not rec.get("strategies"):
            raise ValueError(f"{path}:{i}: record without 'question' and 'strategies'; expected a multi-strategy "
                             "record (scripts/make_multi_strategy.py)")
        out.append(rec)
    return out


def resolve_store(path: str | Path) -> Path:
    """The sample store behind ``path``: itself when it holds ``samples/``, else ``path/eval`` (a training run)."""
    p = Path(path)
    if (p / "samples").is_dir():
        return p
    if (p / "eval" / "samples").is_dir():
        return p / "eval"
    raise FileNotFoundError(f"{p}: not a sample store (no samples/) nor a training run with eval/samples; pass a "
                            "`tmc sample` run, <train run>/eval, <train run>/train_samples or a train run folder")


def store_label(store: Path) -> str:
    """A row label: the training run's folder for ``<run>/eval``, ``<run>/train_samples`` for training samples,
    else the store's folder name."""
    if store.name == "eval":
        return store.parent.name
    if store.name == "train_samples":
        return f"{store.parent.name}/train_samples"
    return store.name


def method_of(label: str) -> str:
    """The method of a run label: its first path part with a trailing ``_s<seed>`` dropped."""
    return _SEED_SUFFIX.sub("", label.split("/")[0])


def read_store(store: Path):
    """All rows of a store (pandas), read only: refuses a folder without ``samples/`` before opening it (the store
    class would create one)."""
    from harness.store import SampleStore

    if not (store / "samples").is_dir():
        raise FileNotFoundError(f"{store}: no samples/ folder")
    return SampleStore(store).read(columns=["problem_id", "sample_idx", "step", "prompt", "completion", "correct",
                                            *DECODING])


DECODING = ("temperature", "top_p", "max_new_tokens")


def decoding(df) -> dict[str, list]:
    """The decoding settings the rows were drawn with (distinct values per column present)."""
    return {c: sorted({float(v) for v in df[c].dropna()}) for c in DECODING if c in df.columns}


def decoding_warning(label: str, run: dict, base: dict) -> str | None:
    """A warning when a store's decoding differs from the base's: the paired differences then mix training with
    decoding (eval-checkpoints' default is T = 0.6, top-p 0.95; check with its --base-run)."""
    diff = {c: (run[c], base[c]) for c in run if c in base and run[c] and base[c] and run[c] != base[c]}
    if not diff:
        return None
    return f"{label}: decoding differs from the base ({'; '.join(f'{c} {a} vs {b}' for c, (a, b) in diff.items())})" \
        ": the differences vs the base mix training with decoding"


def record_index(problem_id: str, tag: str, data: str | Path, n_records: int) -> int:
    """The 0-based line of ``data`` a problem id names (module docstring), with one error for a foreign id."""
    parts = str(problem_id).split("/")
    if not parts[-1].isdigit():
        raise ValueError(f"problem id {problem_id!r}: its last part is not a line index; strategy_mass reads "
                         "multi-strategy GSM8K-style ids such as gsm8k/multi_strategy-5e530f5a/test/17")
    if len(parts) == 4 and parts[1] != tag:
        raise ValueError(f"problem id {problem_id!r} comes from source {parts[1]!r} but --data {data} is {tag!r}; "
                         "pass the data file the store was sampled from (test.jsonl for eval stores, train.jsonl "
                         "for train_samples)")
    i = int(parts[-1])
    if i >= n_records:
        raise ValueError(f"problem id {problem_id!r}: line {i} is beyond the {n_records} records of {data}")
    return i


def label_rows(df, records: list[dict], data: str | Path):
    """``df`` with ``record`` (line index), ``strategy`` (label), ``category`` (one of :data:`CATEGORIES`) and
    ``named`` (``first`` / ``later`` / empty: the label's place in the record, grade aside)."""
    from harness.data.ids import file_tag
    from harness.paths.strategies import label_strategy

    tag = file_tag(data)
    df = df.copy()
    idx = {pid: record_index(pid, tag, data, len(records)) for pid in df["problem_id"].astype(str).unique()}
    df["record"] = df["problem_id"].astype(str).map(idx)
    for pid, i in idx.items():
        prompts = df.loc[df["problem_id"].astype(str) == pid, "prompt"].dropna()
        q = records[i]["question"].strip()
        if len(prompts) and q not in str(prompts.iloc[0]):
            raise ValueError(f"problem {pid}: the stored prompt does not contain line {i} of {data} ({q[:60]!r}...); "
                             "pass the data file the store was sampled from")
    strat, cat, named = [], [], []
    for rec_i, comp, ok in zip(df["record"], df["completion"], df["correct"]):
        rec = records[int(rec_i)]
        s = label_strategy(rec["question"], comp, rec["strategies"])
        strat.append(s)
        names = [t["name"] for t in rec["strategies"]]
        named.append("first" if s == names[0] else "later" if s in names[1:] else "")
        ok = bool(ok) if ok is not None and ok == ok else False  # null / NaN grade = not correct
        if not ok:
            cat.append("wrong")
        elif s == rec["strategies"][0]["name"]:
            cat.append("easy")
        elif s in {t["name"] for t in rec["strategies"][1:]}:
            cat.append("rare")
        else:
            cat.append("correct_other")
    df["strategy"], df["category"], df["named"] = strat, cat, named
    df["family"] = [records[int(i)].get("family", "") for i in df["record"]]
    return df


def problem_shares(labelled):
    """Per (step, problem_id): ``n``, the four shares and ``rare_present`` (a correct rare-strategy sample)."""
    import pandas as pd

    counts = pd.crosstab([labelled["step"].astype(int), labelled["problem_id"].astype(str)], labelled["category"])
    for c in CATEGORIES:
        if c not in counts.columns:
            counts[c] = 0
    n = counts[list(CATEGORIES)].sum(axis=1)
    out = counts[list(CATEGORIES)].div(n, axis=0)
    out["n"] = n
    out["rare_present"] = counts["rare"] > 0
    return out.reset_index()


# ------------------------------------------------------------------------------------------------ statistics
def step_summary(shares, n_boot: int = 2000, seed: int = 0) -> dict[str, Any]:
    """Mean over problems of each share with a bootstrap CI, problems and samples counted, ``rare_present``."""
    from harness.metrics import bootstrap_mean

    out: dict[str, Any] = {"n_problems": int(len(shares)), "n_samples": int(shares["n"].sum()),
                           "rare_present": int(shares["rare_present"].sum())}
    for c in CATEGORIES:
        m, lo, hi = bootstrap_mean(shares[c].to_numpy(), n_boot=n_boot, seed=seed)
        out[c] = {"mean": m, "lo": lo, "hi": hi}
    return out


def paired_vs_base(shares, base, n_boot: int = 2000, seed: int = 0) -> dict[str, Any] | None:
    """Per-problem differences step - base of the rare and easy shares over the common problems: mean, bootstrap
    CI, exact paired test; ``rare_on_base_rare`` the rare difference on the problems whose base samples hold a
    correct rare one (JSON only). None when no problem is shared."""
    from harness.metrics import bootstrap_mean, paired_exact_test

    m = shares.merge(base, on="problem_id", suffixes=("", "_base"))
    if m.empty:
        return None
    out: dict[str, Any] = {"n_problems": int(len(m))}
    for c in ("rare", "easy"):
        d = (m[c] - m[f"{c}_base"]).to_numpy()
        mean, lo, hi = bootstrap_mean(d, n_boot=n_boot, seed=seed)
        out[c] = {"diff": mean, "lo": lo, "hi": hi, "test": paired_exact_test(d)}
    sub = m[m["rare_present_base"]]  # the problems the base solves by a rare strategy: where squeezing can show
    if len(sub):
        d = (sub["rare"] - sub["rare_base"]).to_numpy()
        mean, lo, hi = bootstrap_mean(d, n_boot=n_boot, seed=seed)
        out["rare_on_base_rare"] = {"n_problems": int(len(sub)), "diff": mean, "lo": lo, "hi": hi,
                                    "test": paired_exact_test(d)}
    out["rare_present_base"] = int(m["rare_present_base"].sum())
    out["rare_present_step"] = int(m["rare_present"].sum())
    return out


def sft_mix(labelled, n_boot: int = 2000, seed: int = 0) -> dict[str, Any]:
    """The warm-start mix check: among correct samples that follow a named strategy, the share following the first
    one -- pooled ratio sum_i easy_i / sum_i (easy_i + rare_i) (counts), percentile bootstrap CI resampling
    problems -- and the share of ALL correct samples that follow the first strategy."""
    import pandas as pd

    ok = labelled[labelled["category"] != "wrong"]
    if ok.empty:
        return {"n_correct": 0, "share_of_named": None, "lo": None, "hi": None, "share_of_correct": None}
    c = pd.crosstab(ok["problem_id"].astype(str), ok["category"])
    easy = c["easy"].to_numpy() if "easy" in c else np.zeros(len(c))
    rare = c["rare"].to_numpy() if "rare" in c else np.zeros(len(c))
    named = easy + rare
    all_named = labelled[labelled["named"] != ""]
    out = {"n_correct": int(len(ok)), "n_named": int(named.sum()), "n_easy": int(easy.sum()),
           "n_problems": int(len(c)), "share_of_correct": float(easy.sum() / len(ok)),
           "n_named_all": int(len(all_named)),
           "share_of_named_all": float((all_named["named"] == "first").mean()) if len(all_named) else None}
    fam = ok[ok["category"].isin(["easy", "rare"])].groupby("family")["category"]
    out["by_family"] = {str(f): {"n_named": int(len(g)), "share_of_named": float((g == "easy").mean())} for f, g in fam}
    if named.sum() == 0:
        return {**out, "share_of_named": None, "lo": None, "hi": None}
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(c), size=(n_boot, len(c)))
    num, den = easy[idx].sum(axis=1), named[idx].sum(axis=1)
    reps = num[den > 0] / den[den > 0]
    lo, hi = np.quantile(reps, [0.025, 0.975])
    return {**out, "share_of_named": float(easy.sum() / named.sum()), "lo": float(lo), "hi": float(hi)}


def mix_line(mix: dict, drawn: float | None = None) -> str:
    if mix.get("share_of_named") is None:
        return "SFT mix check: no correct sample follows a named strategy"
    s = (f"SFT mix check (base): {mix['share_of_named']:.3f} [{mix['lo']:.3f}, {mix['hi']:.3f}] of the "
         f"{mix['n_named']} correct samples on a named strategy follow the first (easy) strategy; "
         f"{mix['share_of_correct']:.3f} of all {mix['n_correct']} correct samples ({mix['n_problems']} problems); "
         f"grade aside, {mix['share_of_named_all']:.3f} of the {mix['n_named_all']} samples on a named strategy")
    if mix.get("by_family"):
        s += "; by family " + ", ".join(f"{f} {v['share_of_named']:.2f} (n {v['n_named']})"
                                       for f, v in sorted(mix["by_family"].items()))
    if drawn is not None:
        s += f"; the warm start drew the first strategy for {drawn:.4f} of its problems"
    return s


# ------------------------------------------------------------------------------------------------ the analysis
def analyse_store(store: Path, records: list[dict], data, base_shares=None, n_boot: int = 2000,
                  seed: int = 0) -> dict[str, Any]:
    """Per step of one store: the summary, and the paired comparison with the base (``base_shares``, else the
    store's own step 0). Returns ``{"label", "store", "steps": {step: {...}}, "shares": DataFrame}``."""
    store = resolve_store(store)
    rows = read_store(store)
    shares = problem_shares(label_rows(rows, records, data))
    steps = sorted(int(s) for s in shares["step"].unique())
    base = base_shares
    if base is None and 0 in steps:
        base = shares[shares["step"] == 0]
    res: dict[str, Any] = {"label": store_label(store), "store": str(store), "decoding": decoding(rows), "steps": {}}
    for s in steps:
        sh = shares[shares["step"] == s]
        row = step_summary(sh, n_boot, seed)
        if base is not None:
            row["vs_base"] = paired_vs_base(sh.drop(columns="step"), base.drop(columns="step"), n_boot, seed)
        res["steps"][s] = row
    if base_shares is not None and 0 not in steps:  # the base row, over this run's problems
        sub = base_shares[base_shares["problem_id"].isin(set(shares["problem_id"]))]
        if len(sub):
            res["steps"] = {0: {**step_summary(sub, n_boot, seed), "source": "base"}, **res["steps"]}
    res["shares"] = shares
    return res


def seed_summary(results: list[dict]) -> dict[str, Any]:
    """Per method (:func:`method_of`) and step held by all its runs (step > 0 with a base comparison): the mean
    over runs of the run's mean rare (and easy) difference vs the base, with a t-interval over runs."""
    from harness.metrics import seed_t_interval

    by_method: dict[str, list[dict]] = {}
    for r in results:
        by_method.setdefault(method_of(r["label"]), []).append(r)
    out: dict[str, Any] = {}
    for method, runs in by_method.items():
        common = set.intersection(*({s for s, v in r["steps"].items() if s > 0 and v.get("vs_base")} for r in runs))
        out[method] = {"runs": [r["label"] for r in runs], "steps": {}}
        for s in sorted(common):
            out[method]["steps"][s] = {c: {**seed_t_interval([r["steps"][s]["vs_base"][c]["diff"] for r in runs]),
                                           "per_run": [r["steps"][s]["vs_base"][c]["diff"] for r in runs]}
                                       for c in ("rare", "easy")}
    return out


# ------------------------------------------------------------------------------------------------ output
def _ci(d: dict, key: str = "mean") -> str:
    return f"{d[key]:.3f} [{d['lo']:.3f}, {d['hi']:.3f}]"


def markdown(results: list[dict], seeds: dict, mix_text: str | None = None) -> str:
    lines = ["| run | step | problems | easy | rare | correct-other | wrong | rare present | Δ rare vs base [95% CI] "
             "| p (exact) | Δ easy vs base [95% CI] | p (exact) |",
             "|---|---:|---:|---|---|---|---|---:|---|---:|---|---:|"]
    for r in results:
        for s, v in r["steps"].items():
            vb = v.get("vs_base")
            cells = [r["label"], str(s) + (" (base)" if v.get("source") == "base" else ""), str(v["n_problems"])]
            cells += [_ci(v[c]) for c in CATEGORIES] + [str(v["rare_present"])]
            for c in ("rare", "easy"):
                if vb and s != 0:
                    cells += [_ci(vb[c], "diff"), f"{vb[c]['test']['p']:.3g}"]
                else:
                    cells += ["-", "-"]
            lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Shares: mean over problems of the per-problem share of samples (bootstrap 95% CI over problems); "
              "easy = correct on the record's first strategy, rare = correct on another named strategy; rare "
              "present = problems with at least one correct rare-strategy sample. Δ: paired over the problems the "
              "step and the base share; p: exact sign-flip test."]
    if any(m["steps"] for m in seeds.values()):
        lines += ["", "Across runs (seeds as the unit): mean over runs of each run's mean Δ vs the base, t-interval.",
                  "", "| method | runs | step | Δ rare [95% t-CI] | p (t) | Δ easy [95% t-CI] | p (t) |",
                  "|---|---:|---:|---|---:|---|---:|"]
        for method, m in seeds.items():
            why = "1 run" if len(m["runs"]) == 1 else "identical runs"
            for s, v in m["steps"].items():
                cells = [method, str(len(m["runs"])), str(s)]
                for c in ("rare", "easy"):
                    t = v[c]
                    cells += ([f"{t['mean']:.3f} [{t['lo']:.3f}, {t['hi']:.3f}]", f"{t['p']:.3g}"] if t["lo"] is not
                              None else [f"{t['mean']:.3f} ({why}: no interval)", "-"])
                lines.append("| " + " | ".join(cells) + " |")
    if mix_text:
        lines += ["", mix_text]
    return "\n".join(lines) + "\n"


def plot_run(res: dict, path: str | Path) -> Path:
    """Stacked easy / rare / correct-other / wrong shares (means over problems) against step."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = sorted(res["steps"])
    ys = [[res["steps"][x][c]["mean"] for x in xs] for c in CATEGORIES]
    fig, ax = plt.subplots(figsize=(6, 4))
    handles = ax.stackplot(xs, ys, labels=[c.replace("_", "-") for c in CATEGORIES],
                           colors=[COLORS[c] for c in CATEGORIES], alpha=0.9)
    if len(xs) == 1:
        ax.set_xlim(xs[0] - 0.5, xs[0] + 0.5)
    ax.set_ylim(0, 1)
    ax.set_xlabel("step (0 = base)")
    ax.set_ylabel("share of samples (mean over problems)")
    ax.legend(handles[::-1], [c.replace("_", "-") for c in CATEGORIES][::-1], fontsize=7, loc="lower left")
    ax.set_title(f"ground-truth strategy mass — {res['label']}", fontsize=9)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _jsonable(res: dict) -> dict:
    return {k: v for k, v in res.items() if k != "shares"}


def build_parser(prog: str = "tmc analyze strategy_mass") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+", help="sample stores or training run folders (their eval/)")
    p.add_argument("--data", default="data/multi_strategy/test.jsonl",
                   help="the multi-strategy JSONL the stores' problems are lines of (default %(default)s)")
    p.add_argument("--base", default=None, help="the base store (step 0 is read from it), e.g. runs/ms/base_test; "
                   "default: each store's own step 0 if it has one")
    p.add_argument("--base-data", default=None, help="the data file of --base (default: --data)")
    p.add_argument("--warmstart", default=None, help="a warmstart.json: print its first_strategy_share beside the "
                   "SFT mix check")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--n-boot", type=int, default=2000, help="bootstrap resamples (default %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default %(default)s)")
    return p


def main(argv: list[str] | None = None) -> int:
    """Bad input (a missing store or data file, a data file that is not the store's, a base without step 0) is
    one line on stderr and exit status 2."""
    import sys

    from harness.store import StoreError

    a = build_parser().parse_args(argv)
    try:
        return _main(a)
    except (FileNotFoundError, ValueError, StoreError) as e:
        print(f"tmc analyze strategy_mass: {e}", file=sys.stderr)
        return 2


def _main(a: argparse.Namespace) -> int:
    records = load_records(a.data)
    base_shares, mix, mix_text, base_decoding = None, None, None, {}
    if a.base:
        bdata = a.base_data or a.data
        blab = label_rows(read_store(resolve_store(a.base)), load_records(bdata), bdata)
        blab = blab[blab["step"].astype(int) == 0]
        if blab.empty:
            raise ValueError(f"{a.base}: no step-0 samples; --base must be a store holding the base model (step 0)")
        base_shares = problem_shares(blab)
        base_decoding = decoding(blab)
        mix = sft_mix(blab, a.n_boot, a.seed)
    drawn = json.loads(Path(a.warmstart).read_text()).get("first_strategy_share") if a.warmstart else None
    results = [analyse_store(resolve_store(r), records, a.data, base_shares, a.n_boot, a.seed) for r in a.runs]
    if mix is None:  # no --base: the mix check on the first store holding step 0
        for r in results:
            if 0 in set(r["shares"]["step"]):
                lab = label_rows(read_store(Path(r["store"])), records, a.data)
                mix = sft_mix(lab[lab["step"].astype(int) == 0], a.n_boot, a.seed)
                break
    if mix is not None:
        mix_text = mix_line(mix, drawn)
    warnings = [w for r in results if (w := decoding_warning(r["label"], r["decoding"], base_decoding))]
    seeds = seed_summary(results)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    report = {"data": str(a.data), "base": a.base, "n_boot": a.n_boot, "seed": a.seed,
              "runs": [_jsonable(r) for r in results], "seeds": seeds, "sft_mix": mix,
              "warmstart_first_strategy_share": drawn, "base_decoding": base_decoding, "warnings": warnings}
    (out / "strategy_mass.json").write_text(json.dumps(report, indent=1, default=str))
    md = markdown(results, seeds, mix_text) + "".join(f"\nWARNING: {w}\n" for w in warnings)
    (out / "strategy_mass.md").write_text(md)
    for r in results:
        plot_run(r, out / f"strategy_mass_{r['label'].replace('/', '_')}.png")
    print(md)
    return 0
