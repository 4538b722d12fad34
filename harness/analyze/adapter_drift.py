"""How far and how fast a LoRA run's adapter moved: weight-space drift per checkpoint and the Adam step size.

    tmc analyze adapter_drift runs/train/<run> [runs/train/<other run> ...] [--against RUN] [--json out.json]

Why: with Adam, multiplying every advantage by a constant c multiplies the gradient by c, and Adam's update
``lr * m_hat / (sqrt(v_hat) + eps)`` is unchanged (exactly, up to eps). So "method X has a smaller advantage
than GRPO, hence learns more slowly at the same learning rate" is not an explanation under Adam; what sets the
step is the learning rate and how *consistent* the gradient direction is from step to step (|m_hat| vs
sqrt(v_hat)). This script measures both, from the files ``tmc train`` saves in every ``checkpoint-<step>``:

* ``|dW_s|``: the Frobenius norm of the adapter's weight change, summed over modules,
  ``dW = (alpha / r) B A`` per LoRA module (PEFT's scaling; ``alpha / sqrt(r)`` with rsLoRA). LoRA starts with
  ``B = 0``, so step 0 is ``dW = 0`` and ``|dW_s|`` is the distance of the adapted weights from the base.
* ``|dW_s - dW_prev|``: the same between consecutive checkpoints (the movement over that interval).
* ``net step / lr``: the parameter-space displacement (all LoRA A and B entries) between consecutive
  checkpoints, per step, per parameter, in units of the learning rate:
  ``|theta_s - theta_prev| / (sqrt(N) (s - prev) lr)``. 1 would mean every parameter moved lr each step in the
  same direction; smaller values mean smaller or cancelling steps. From step 0 only B is known (A's random init
  is not saved), so the first interval is not given.
* ``--against RUN``: ``cos(dW_s, dW'_s)`` against another run at the steps both saved: whether two methods
  moved the weights the same way, whatever the distance. Only runs with the same ``seed`` (the same LoRA init)
  compare: dW = (alpha / r) B A lies in the row space of A, and two random rank-r inits span nearly orthogonal
  subspaces, so runs with different seeds give cos ~ 0 whatever they learned.
* ``Adam step RMS``: the RMS over parameters of ``m_hat / (sqrt(v_hat) + eps)`` from ``optimizer.pt``, i.e. the
  size of the update applied at that checkpoint's step divided by lr (torch's AdamW; weight decay adds
  ``lr * wd * theta``, 0 in our configs).

All norms are computed from r x r products, ``|B A|_F^2 = tr((B^T B)(A A^T))``, so nothing of size d x d is built.
"""

from __future__ import annotations

import argparse
import functools
import json
import re
from pathlib import Path

import numpy as np


def lora_modules(weights: dict[str, np.ndarray]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{module: (A, B)}`` from a PEFT adapter state dict (keys ``<module>.lora_A.weight`` / ``.lora_B.weight``;
    A is r x d_in, B is d_out x r). A module with only one of the two is an error naming it."""
    a = {k[: -len(".lora_A.weight")]: v for k, v in weights.items() if k.endswith(".lora_A.weight")}
    b = {k[: -len(".lora_B.weight")]: v for k, v in weights.items() if k.endswith(".lora_B.weight")}
    if set(a) != set(b):
        odd = sorted(set(a) ^ set(b))
        raise ValueError(f"LoRA modules with only one of lora_A / lora_B: {odd[:3]}")
    return {m: (a[m].astype(np.float64), b[m].astype(np.float64)) for m in sorted(a)}


def delta_inner(a1: np.ndarray, b1: np.ndarray, a2: np.ndarray, b2: np.ndarray) -> float:
    """Frobenius inner product <B1 A1, B2 A2> = tr((B1^T B2)(A2 A1^T)), in O(r^2 d)."""
    return float(np.trace((b1.T @ b2) @ (a2 @ a1.T)))


def delta_dot(m1: dict, m2: dict) -> float:
    """<dW_1, dW_2>_F summed over modules, without the LoRA scale (the same modules in both)."""
    if set(m1) != set(m2):
        raise ValueError("the two adapters have different LoRA modules")
    return sum(delta_inner(*m1[k], *m2[k]) for k in m1)


def delta_norm(mods: dict, scale: float) -> float:
    """|dW|_F over all modules, dW = scale * B A (the adapter's weight change)."""
    return scale * float(np.sqrt(max(delta_dot(mods, mods), 0.0)))


def delta_distance(m1: dict, m2: dict, scale: float) -> float:
    """|dW_1 - dW_2|_F over all modules: |x|^2 + |y|^2 - 2<x, y>."""
    return scale * float(np.sqrt(max(delta_dot(m1, m1) + delta_dot(m2, m2) - 2 * delta_dot(m1, m2), 0.0)))


def param_distance(m1: dict, m2: dict) -> tuple[float, int]:
    """Euclidean distance between the LoRA parameter vectors (all A and B entries), and the parameter count."""
    sq = sum(float(((m1[k][0] - m2[k][0]) ** 2).sum() + ((m1[k][1] - m2[k][1]) ** 2).sum()) for k in m1)
    n = sum(m1[k][0].size + m1[k][1].size for k in m1)
    return float(np.sqrt(sq)), n


def adam_step_rms(opt: dict) -> tuple[float | None, float | None]:
    """(RMS of m_hat / (sqrt(v_hat) + eps) over all parameters, lr) from a torch Adam/AdamW state dict.

    torch convention: after t steps, m_hat = m / (1 - beta1^t), v_hat = v / (1 - beta2^t), and the step applied was
    ``lr * m_hat / (sqrt(v_hat) + eps)``. Parameters with no state (never stepped) are skipped."""
    sq, n, lr = 0.0, 0, None
    group_of = {}
    for g in opt["param_groups"]:
        for p in g["params"]:
            group_of[p] = g
    for pid, st in opt["state"].items():
        if "exp_avg" not in st:
            continue
        g = group_of[pid]
        b1, b2 = g["betas"]
        t = float(st["step"])
        m, v = st["exp_avg"].double().numpy(), st["exp_avg_sq"].double().numpy()
        u = (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + g["eps"])
        sq += float((u ** 2).sum())
        n += u.size
        lr = float(g["lr"])
    return (float(np.sqrt(sq / n)) if n else None), lr


def lora_scale(adapter_config: dict) -> float:
    """PEFT's LoRA scaling: alpha / r, or alpha / sqrt(r) with use_rslora."""
    r, alpha = adapter_config["r"], adapter_config["lora_alpha"]
    return alpha / np.sqrt(r) if adapter_config.get("use_rslora") else alpha / r


def checkpoints(run: Path) -> list[tuple[int, Path]]:
    """(step, folder) of every ``checkpoint-<step>`` holding an adapter, by step."""
    out = []
    for d in run.glob("checkpoint-*"):
        m = re.fullmatch(r"checkpoint-(\d+)", d.name)
        if m and (d / "adapter_model.safetensors").exists():
            out.append((int(m.group(1)), d))
    return sorted(out)


def adapter_modules(checkpoint: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The (A, B) pairs of one checkpoint folder's saved LoRA adapter. Read once per file version: ``drift`` and
    ``--against`` both need every checkpoint, so a second call is served from memory (the result is read-only)."""
    f = (Path(checkpoint) / "adapter_model.safetensors").resolve()
    return _load_modules(str(f), f.stat().st_mtime_ns)


@functools.lru_cache(maxsize=None)
def _load_modules(path: str, mtime_ns: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    from safetensors.numpy import load_file

    return lora_modules(load_file(path))


def drift(run: Path) -> dict:
    """Per checkpoint of ``run``: |dW|, |dW - dW_prev|, net step / lr and the Adam step RMS (see the module doc)."""
    cps = checkpoints(run)
    if not cps:
        raise FileNotFoundError(f"{run}: no checkpoint-<step>/adapter_model.safetensors (a LoRA run saves them "
                                "every save_steps)")
    rows, prev = [], None
    for step, d in cps:
        scale = lora_scale(json.loads((d / "adapter_config.json").read_text()))
        mods = adapter_modules(d)
        rms, lr = None, None
        if (d / "optimizer.pt").exists():
            import torch

            rms, lr = adam_step_rms(torch.load(d / "optimizer.pt", map_location="cpu", weights_only=True))
        row = {"step": step, "dW": delta_norm(mods, scale), "lr": lr, "adam_step_rms": rms,
               "dW_from_prev": None, "net_step_over_lr": None, "prev": None}
        if prev is not None:
            pstep, pmods = prev
            row["prev"] = pstep
            row["dW_from_prev"] = delta_distance(mods, pmods, scale)
            if lr:
                dist, n = param_distance(mods, pmods)
                row["net_step_over_lr"] = dist / (np.sqrt(n) * (step - pstep) * lr)
        rows.append(row)
        prev = (step, mods)
    return {"run": str(run), "checkpoints": rows}


def delta_cosine(m1: dict, m2: dict) -> float:
    """cos(dW_1, dW_2) = <dW_1, dW_2> / (|dW_1| |dW_2|) over all modules (the LoRA scale cancels): 1 = the two
    adapters changed the weights in the same direction, 0 = unrelated directions."""
    n1, n2 = np.sqrt(delta_dot(m1, m1)), np.sqrt(delta_dot(m2, m2))
    return float(delta_dot(m1, m2) / (n1 * n2)) if n1 > 0 and n2 > 0 else float("nan")


def cosines(run: Path, other: Path) -> dict[int, float]:
    """cos(dW) between ``run`` and ``other`` at every checkpoint step the two share."""
    mine, theirs = dict(checkpoints(run)), dict(checkpoints(other))
    return {s: delta_cosine(adapter_modules(mine[s]), adapter_modules(theirs[s]))
            for s in sorted(set(mine) & set(theirs))}


def table(results: list[dict]) -> str:
    lines = ["| run | step | lr | \\|dW\\| | \\|dW − dW_prev\\| | net step / lr | Adam step RMS |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    f = lambda v, s: "–" if v is None else s.format(v)  # noqa: E731
    for r in results:
        for c in r["checkpoints"]:
            lines.append(f"| {Path(r['run']).name} | {c['step']} | {f(c['lr'], '{:.0e}')} | {c['dW']:.3f} | "
                         f"{f(c['dW_from_prev'], '{:.3f}')} | {f(c['net_step_over_lr'], '{:.3f}')} | "
                         f"{f(c['adam_step_rms'], '{:.3f}')} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", help="training run folders (output_dir of tmc train, LoRA)")
    ap.add_argument("--json", default=None, help="also write the numbers here")
    ap.add_argument("--against", default=None,
                    help="also print cos(dW) of every run against this run at the checkpoint steps they share")
    args = ap.parse_args(argv)
    results = [drift(Path(r)) for r in args.runs]
    print(table(results))
    if args.against:
        for r in results:
            r["cosine_against"] = {"run": args.against, "by_step": cosines(Path(r["run"]), Path(args.against))}
            cs = ", ".join(f"step {s}: {c:.3f}" for s, c in r["cosine_against"]["by_step"].items())
            print(f"cos(dW) of {Path(r['run']).name} against {Path(args.against).name}: {cs or 'no common step'}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
