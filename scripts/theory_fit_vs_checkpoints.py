"""Predicted (``tmc theory-fit``) vs measured (``tmc eval-checkpoints``) pass@1 -> pass@k paths on the same problems.

The theory's time and the run's are not comparable (SGD on logits vs AdamW, one problem per theory step vs a batch),
so the comparison uses pass@1 as the clock: for each checkpoint, the measured macro pass@k over the problems the
theory was fitted on is set beside the predicted pass@k at the theory time where the predicted pass@1 equals the
measured one (interpolated; the measured pass@k has a 95% bootstrap CI over problems).

    python scripts/theory_fit_vs_checkpoints.py FIT_DIR CHECKPOINTS_JSON [CHECKPOINTS_JSON ...] --k 8 --out DIR
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("fit_dir", help="output folder of `tmc theory-fit` (predict.json)")
    ap.add_argument("checkpoints", nargs="+", help="checkpoints_metrics.json files of runs on the same problems")
    ap.add_argument("--k", type=int, default=8)
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)

    from harness.metrics.bootstrap import bootstrap_pass_at_k

    pred = json.loads((Path(args.fit_dir) / "predict.json").read_text())["methods"]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows, lines = [], []
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for i, path in enumerate(args.checkpoints):
        d = json.loads(Path(path).read_text())
        method = d.get("method", "?")
        if method not in pred:
            raise SystemExit(f"{path}: method {method!r} was not predicted in {args.fit_dir}; allowed: {list(pred)}")
        pp = pred[method]["per_problem"]
        pids = sorted(pp)
        th1 = np.array([h["correct"] for h in pred[method]["mean"]])
        thk = np.array([h[f"pass@{args.k}"] for h in pred[method]["mean"]])
        col = f"C{i}"
        ax.plot(th1, thk, "--", color=col, label=f"{method} predicted (theory-fit)")
        xs, ys, lo, hi = [], [], [], []
        for s in sorted(d["steps"], key=int):
            per = d["steps"][s].get("per_problem")
            if not per or not all(p in per for p in pids):
                continue
            n = np.array([per[p]["n"] for p in pids])
            c = np.array([per[p]["c"] for p in pids])
            b = bootstrap_pass_at_k(n, c, [1, args.k], n_boot=1000, seed=0)
            m1, mk = float(b["mean"][0]), float(b["mean"][1])
            # predicted pass@k at the theory time where predicted pass@1 == measured pass@1 (first crossing)
            j = np.nonzero(th1 >= m1)[0]
            if len(j) == 0 or j[0] == 0:
                pk = float("nan") if len(j) == 0 else float(thk[0])
            else:
                w = (m1 - th1[j[0] - 1]) / max(th1[j[0]] - th1[j[0] - 1], 1e-12)
                pk = float((1 - w) * thk[j[0] - 1] + w * thk[j[0]])
            rows.append({"run": d.get("run"), "method": method, "step": int(s), "measured_pass@1": m1,
                         f"measured_pass@{args.k}": mk, "ci": [float(b["lo"][1]), float(b["hi"][1])],
                         f"predicted_pass@{args.k}_at_equal_pass@1": pk})
            lines.append(f"| {d.get('run')} | {method} | {s} | {m1:.3f} | "
                         f"{mk:.3f} [{b['lo'][1]:.3f}, {b['hi'][1]:.3f}] "
                         f"| {pk:.3f} |")
            xs.append(m1), ys.append(mk), lo.append(b["lo"][1]), hi.append(b["hi"][1])
        ax.errorbar(xs, ys, yerr=[np.array(ys) - lo, np.array(hi) - ys], fmt="o-", color=col, ms=4, capsize=2,
                    label=f"{Path(path).parent.name} measured (95% CI)")
    ax.set_xlabel("pass@1 (the clock)")
    ax.set_ylabel(f"pass@{args.k}")
    ax.set_title(f"pass@{args.k} against pass@1 over training: measured checkpoints vs theory-fit prediction",
                 fontsize=8)
    ax.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(out / "theory_fit_vs_checkpoints.png", dpi=110)
    md = (f"| run | method | step | measured pass@1 | measured pass@{args.k} (95% CI) | "
          f"predicted pass@{args.k} at equal "
          f"pass@1 |\n|---|---|---|---|---|---|\n" + "\n".join(lines) + "\n")
    (out / "theory_fit_vs_checkpoints.md").write_text(md)
    (out / "theory_fit_vs_checkpoints.json").write_text(json.dumps(rows, indent=1))
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
