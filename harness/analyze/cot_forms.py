"""How concentrated are the sampled CoTs? A crude "form" clustering of the completions in a sample run, per step.

    tmc analyze cot_forms runs/train/<run>/eval [--words 8] [--json out.json]

The form of a completion is its first ``--words`` word tokens after normalisation: lower case, every number
-> ``n``, every arithmetic operator -> ``o`` (which one is the problem's business), every word that occurs in the
problem's prompt -> ``w`` (names, objects and verbs of the question), so "Ivy has 20 - 4 = 16 books left." and
"Tom has 7 + 6 = 13 stickers now." share the form ``w has n o n = n w``. This is a surface proxy for the reasoning path
(the TMC's chain of thought), not a semantic clustering.
Printed per step: samples, distinct forms, the top form's share of samples and its
accuracy vs the other forms', the number of forms that cover half of the samples, and the entropy of the
form distribution in bits -- how far post-training has concentrated the samples onto one path.
"""

from __future__ import annotations

import argparse
import json
import math
import re
from collections import Counter

_OPS = {"+", "-", "*", "/", "x", "\u00d7"}
_WORD = re.compile(r"[a-z]+|\d+(?:[.,]\d+)*|[^\sa-z\d]")


def form_of(completion: str, prompt: str, words: int = 8) -> str:
    """The normalised first ``words`` tokens of ``completion`` (module docstring)."""
    vocab = set(re.findall(r"[a-z]+", prompt.lower()))
    out = []
    for tok in _WORD.findall(completion.lower()):
        if tok[0].isdigit():
            tok = "n"
        elif tok in _OPS:
            tok = "o"
        elif tok.isalpha() and tok in vocab:
            tok = "w"
        out.append(tok)
        if len(out) == words:
            break
    return " ".join(out)


def summarize(forms: list[str], correct: list[bool]) -> dict:
    """Concentration of one step's forms: counts, top form share and accuracy, half-cover size, entropy (bits)."""
    counts = Counter(forms)
    n = len(forms)
    ranked = counts.most_common()
    top = ranked[0][0] if ranked else None
    cum, half = 0, 0
    for _, c in ranked:
        cum, half = cum + c, half + 1
        if cum >= n / 2:
            break
    top_ok = [ok for f, ok in zip(forms, correct) if f == top]
    rest_ok = [ok for f, ok in zip(forms, correct) if f != top]
    return {"samples": n, "forms": len(counts), "top_form": top, "top_share": (ranked[0][1] / n) if n else 0.0,
            "top_accuracy": (sum(top_ok) / len(top_ok)) if top_ok else None,
            "rest_accuracy": (sum(rest_ok) / len(rest_ok)) if rest_ok else None,
            "forms_covering_half": half,
            "entropy_bits": -sum((c / n) * math.log2(c / n) for c in counts.values()) if n else 0.0}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run", help="a sample run folder (tmc sample / tmc eval-checkpoints' <run>/eval)")
    p.add_argument("--words", type=int, default=8)
    p.add_argument("--json", help="write the per-step summaries here")
    args = p.parse_args(argv)
    from harness.store import SampleStore

    df = SampleStore(args.run).read()
    res = {}
    for step, d in df.groupby("step", sort=True):
        forms = [form_of(c, pr, args.words) for c, pr in zip(d["completion"], d["prompt"])]
        res[int(step)] = summarize(forms, d["correct"].fillna(False).astype(bool).tolist())
    print("| step | samples | distinct forms | forms covering 50% | entropy (bits) | top form | top share | "
          "top form accuracy | other forms accuracy |")
    print("|---:|---:|---:|---:|---:|---|---:|---:|---:|")
    for step, r in res.items():
        fmt = lambda v: "-" if v is None else f"{v:.2f}"  # noqa: E731
        print(f"| {'base' if step == 0 else step} | {r['samples']} | {r['forms']} | {r['forms_covering_half']} | "
              f"{r['entropy_bits']:.2f} | `{r['top_form']}` | {r['top_share']:.2f} | {fmt(r['top_accuracy'])} | "
              f"{fmt(r['rest_accuracy'])} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
