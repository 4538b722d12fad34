"""Fitted TMCs on disk: read, check and use the per-problem TMC JSON that ``tmc theory-fit`` exports.

Format ``tmc-reweighting/problem-tree/1`` (written by ``harness.theory_fit.tree.ProblemTree.to_json``): one problem =
one TMC with a single task, fields ``kernels`` (list of row-stochastic matrices, layer l -> l+1), ``high`` (bool
matrices of the same shapes: the edge types), ``task`` (``name``, ``start`` in layer 0, ``target`` in the last layer),
plus the fit's own fields (``problem_id``, ``labels``, ``counts``, ``n``, ``c``, ``alpha``, ``tree``, ``roles``).

The reward of a fitted problem is the real verifier's: ONE instance whose correct set ``C`` is every valid path (a
path that ends in the target, i.e. ``correct``) -- :func:`single_instance` -- not the paper's random-``C`` population
model. This module lives in ``tmc_theory`` (no ``harness`` import) so that ``tmc theory run --tmc FILE`` runs on an
exported file by itself.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from tmc_core.config import ConfigError

FORMAT = "tmc-reweighting/problem-tree/1"


def _bad(src, field: str, what: str) -> ConfigError:
    return ConfigError(f"{src}: field {field!r}: {what} (a fitted-TMC JSON written by `tmc theory-fit`, format "
                       f"{FORMAT!r})")


def check_fitted(d: dict, src: str = "<dict>") -> None:
    """One clear error (file and field) for a document that is not a valid fitted TMC."""
    if not isinstance(d, dict):
        raise _bad(src, "<top>", "not a JSON object")
    if d.get("format") != FORMAT:
        raise _bad(src, "format", f"is {d.get('format')!r}, expected {FORMAT!r}")
    for f in ("kernels", "high", "task"):
        if f not in d:
            raise _bad(src, f, "missing")
    ks = d["kernels"]
    if not isinstance(ks, list) or not ks:
        raise _bad(src, "kernels", "must be a non-empty list of matrices")
    prev = None
    for i, k in enumerate(ks):
        try:
            a = np.asarray(k, float)
        except (TypeError, ValueError):
            raise _bad(src, f"kernels[{i}]", "not a numeric matrix") from None
        if a.ndim != 2:
            raise _bad(src, f"kernels[{i}]", f"must be a 2-D matrix, got {a.ndim} dimensions")
        if prev is not None and a.shape[0] != prev:
            raise _bad(src, f"kernels[{i}]", f"has {a.shape[0]} rows but layer {i} has {prev} states")
        if not np.all(np.isfinite(a)) or np.any(a < 0) or not np.allclose(a.sum(axis=1), 1.0, atol=1e-9):
            raise _bad(src, f"kernels[{i}]", "rows must be probabilities (finite, >= 0, summing to 1)")
        prev = a.shape[1]
    hs = d["high"]
    if not isinstance(hs, list) or len(hs) != len(ks):
        raise _bad(src, "high", f"must be a list of {len(ks)} matrices (one per kernel)")
    for i, (h, k) in enumerate(zip(hs, ks)):
        if np.asarray(h).shape != np.asarray(k).shape:
            raise _bad(src, f"high[{i}]", f"shape {np.asarray(h).shape} differs from kernels[{i}]'s "
                                          f"{np.asarray(k).shape}")
    t = d["task"]
    if not isinstance(t, dict) or not {"name", "start", "target"} <= set(t):
        raise _bad(src, "task", "must be an object with name, start and target")
    w0, wl = np.asarray(ks[0]).shape[0], np.asarray(ks[-1]).shape[1]
    if not (isinstance(t["start"], int) and 0 <= t["start"] < w0):
        raise _bad(src, "task.start", f"{t['start']!r} is not a layer-0 state (0..{w0 - 1})")
    if not (isinstance(t["target"], int) and 0 <= t["target"] < wl):
        raise _bad(src, "task.target", f"{t['target']!r} is not a last-layer state (0..{wl - 1})")


def tmc_from_fitted(d: dict, src: str = "<dict>"):
    """``(TMC, Task)`` of a fitted-TMC document (checked by :func:`check_fitted`)."""
    from .tmc import TMC, Task

    check_fitted(d, src)
    t = d["task"]
    task = Task(t["name"], t["start"], t["target"])
    tmc = TMC([np.asarray(k, float) for k in d["kernels"]], [np.asarray(h, bool) for h in d["high"]], [task],
              name=f"fit:{d.get('problem_id', Path(str(src)).stem)}")
    return tmc, task


def load_fitted(path: str | Path) -> list[tuple[dict, object, object]]:
    """``[(document, TMC, Task), ...]`` from one fitted-TMC JSON file or a folder of them (``trees/*.json``)."""
    path = Path(path)
    if path.is_dir():
        files = sorted((path / "trees").glob("*.json")) if (path / "trees").is_dir() else sorted(path.glob("*.json"))
        if not files:
            raise ConfigError(f"{path}: no fitted-TMC JSON files (expected FILE.json, a folder of them, or a `tmc "
                              "theory-fit` output folder with trees/*.json)")
    elif path.exists():
        files = [path]
    else:
        raise ConfigError(f"{path}: no such file or folder (a fitted-TMC JSON written by `tmc theory-fit`)")
    out = []
    for f in files:
        try:
            d = json.loads(f.read_text())
        except json.JSONDecodeError as e:
            raise ConfigError(f"{f}: not JSON (line {e.lineno}: {e.msg})") from None
        tmc, task = tmc_from_fitted(d, str(f))
        out.append((d, tmc, task))
    return out


def single_instance(tmc, task, max_valid_paths: int = 200_000):
    """``Instances`` of the real reward: one instance, ``C`` = every valid path (ends in the task's target)."""
    from .instances import Instances, enumerate_valid_paths

    m = int(np.prod(tmc.widths[1:-1], dtype=object))
    if m > max_valid_paths:
        raise ConfigError(f"{tmc.name}: {m} valid paths on the layer grid (widths {tmc.widths}) exceed "
                          f"{max_valid_paths}; fit with a smaller max_depth or alpha = 0")
    vp = enumerate_valid_paths(tmc, task)
    return Instances(task, vp, np.ones(len(vp)), np.ones((1, len(vp)), bool), tmc)


def auto_variant(method: str) -> str:
    """The exact-dynamics variant used on fitted TMCs: ``expected_textbook`` where the method has one, else
    ``expected`` (no sampling noise)."""
    from .registry import FINETUNE

    return "expected_textbook" if "expected_textbook" in FINETUNE[method].variants else "expected"


def correct_mass(kernels, task) -> float:
    """Probability that a path from ``task.start`` ends in ``task.target`` under ``kernels``."""
    m = np.zeros(np.asarray(kernels[0]).shape[0])
    m[task.start] = 1.0
    for k in kernels:
        m = m @ np.asarray(k)
    return float(m[task.target])


def run_fitted(tmc, task, method: str, steps: int = 50, lr: float = 0.5, group_size: int = 8, beta: float = 0.04,
               rej_tries: int = 5, eval_every: int = 5, variant: str = "auto") -> list[dict]:
    """Expected dynamics of ``method`` on one fitted TMC with the real reward (:func:`single_instance`):
    ``[{"step", "correct"}]``. A TMC without correct mass stays where it is (reweighting cannot create mass)."""
    from .finetune.run import FinetuneConfig, finetune
    from .policy import TabularPolicy

    pol = TabularPolicy.from_kernels(tmc.kernels)
    ev = (lambda step, p: {"correct": correct_mass(p.kernels(), task)})  # noqa: E731
    if correct_mass(tmc.kernels, task) <= 0.0:
        return [{"step": s, "correct": 0.0} for s in range(0, steps + 1, eval_every)]
    cfg = FinetuneConfig(method=method, variant=auto_variant(method) if variant == "auto" else variant, steps=steps,
                         lr=lr, group_size=group_size, beta=beta, rej_tries=rej_tries, batch_size=1,
                         instance_dist="empirical")
    _, hist = finetune(tmc, task, pol, single_instance(tmc, task), cfg, np.random.default_rng(0),
                       eval_every=eval_every, eval_fn=ev)
    return hist
