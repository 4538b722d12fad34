"""``tmc main [--config configs/main.yaml] [--out DIR] [--set key=value ...] [--skip-theory] [--skip-real]``

The README's main job, on a fresh machine and offline:

1. the exact-TMC theory reproduction of the paper's table (``tmc theory reproduce --config
   configs/theory_paper.yaml --seeds 5 --out <out>/theory``), numpy only;
2. a small real-model evaluation: 25 GSM8K test problems x 4 samples (256 new tokens) from the offline default model
   (SmolLM2-135M-Instruct, prepared from its PyPI GGUF on first use) at T = 0.7, graded, stored in the
   resumable sample store ``<out>/<benchmark>_<model>_<config hash>``, and summarised as unbiased pass@k (k = 1..n) with
   bootstrap CIs and maj@k;
3. prints the theory table next to the real-model pass@k table and writes ``<out>/summary.md`` and
   ``<out>/real_metrics.json``.

Re-running resumes: finished samples are skipped, and the theory step is skipped when its output for
the same config and seeds is already there. The defaults (``configs/main.yaml``, mirrored by
:class:`MainConfig`) are sized to finish in about ten minutes on a 2-core CPU (see
docs/harness_benchmarks.md for the measured times).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tmc_core.config import doc

from harness.pipeline import SampleConfig

REPO = Path(__file__).resolve().parents[1]


def _main_sample() -> SampleConfig:
    return SampleConfig(model="smollm2", backend="hf", benchmark="gsm8k", split="test", limit=25, n=4,
                        temperature=0.7, top_p=1.0, max_new_tokens=256, seed=0, batch_size=16,
                        out="outputs/main/gsm8k_smollm2")


@dataclass
class MainConfig:
    """The main job: theory reproduction + a small offline real-model pass@k run."""

    out: str = field(default="outputs/main", metadata=doc("output folder of the whole job"))
    theory: bool = field(default=True, metadata=doc("run the exact-TMC reproduction of the paper's table"))
    theory_config: str = field(default="configs/theory_paper.yaml", metadata=doc(
        "ReproduceConfig YAML (relative paths are looked up in the working folder, then the repo)"))
    theory_seeds: int = field(default=5, metadata=doc("Monte-Carlo seeds of the theory table (mean ± sd)"))
    real: bool = field(default=True, metadata=doc("run the real-model sampling + pass@k step"))
    sample: SampleConfig = field(default_factory=_main_sample, metadata=doc(
        "SampleConfig of the real-model step (its `out` is ignored: samples go to "
        "<out>/<benchmark>_<model>_<first 8 hex of its config hash>, so a changed sampling setting gets its own run)"))
    n_boot: int = field(default=1000, metadata=doc("bootstrap resamples of the pass@k CIs"))


def _find(path: str) -> Path | None:
    p = Path(path)
    if p.exists():
        return p
    if not p.is_absolute() and (REPO / p).exists():
        return REPO / p
    return None


def build_parser(prog: str = "tmc main") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[1].strip(),
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", help="MainConfig YAML (default: configs/main.yaml of the repo, else built-in)")
    p.add_argument("--out", help="output folder (default outputs/main)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a field, e.g. --set sample.limit=10 --set sample.max_new_tokens=128")
    p.add_argument("--skip-theory", action="store_true", help="skip the theory reproduction")
    p.add_argument("--skip-real", action="store_true", help="skip the real-model step")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def load_main_config(path: str | None, overrides: list[str]) -> MainConfig:
    from tmc_core.config import apply_overrides, from_dict, load_config, parse_override

    ov = dict(parse_override(s) for s in overrides)
    if path is None:
        default = REPO / "configs" / "main.yaml"
        if default.exists():
            return load_config(MainConfig, default, ov)
        return from_dict(MainConfig, apply_overrides({}, ov), "<built-in main config>")
    return load_config(MainConfig, path, ov)


def _run_theory(cfg: MainConfig, out: Path) -> str | None:
    """Run the reproduction (skipped if done for the same config text and seeds); return table.md text."""
    from harness.cli import main as tmc

    tdir = out / "theory"
    cfg_path = _find(cfg.theory_config)
    stamp_src = (cfg_path.read_text() if cfg_path else "<built-in>") + f"|seeds={cfg.theory_seeds}"
    stamp = hashlib.sha256(stamp_src.encode()).hexdigest()[:16]
    stamp_file = tdir / ".tmc_main_stamp"
    if (tdir / "table.md").exists() and stamp_file.exists() and stamp_file.read_text().strip() == stamp:
        print(f"[main] theory: already done in {tdir} (same config and seeds), not re-run", flush=True)
        return (tdir / "table.md").read_text()
    argv = ["theory", "reproduce", "--seeds", str(cfg.theory_seeds), "--out", str(tdir)]
    if cfg_path is not None:
        argv[2:2] = ["--config", str(cfg_path)]
    else:
        print(f"[main] theory: {cfg.theory_config} not found, using the built-in paper protocol", flush=True)
    print(f"[main] theory: tmc {' '.join(argv)}", flush=True)
    rc = tmc(argv)
    if rc != 0:
        print(f"[main] theory reproduction failed (exit {rc})", file=sys.stderr)
        return None
    stamp_file.write_text(stamp + "\n")
    return (tdir / "table.md").read_text() if (tdir / "table.md").exists() else None


def _run_real(cfg: MainConfig, out: Path, progress: bool) -> tuple[dict, dict]:
    from harness.eval_cli import format_table
    from harness.evaluate import evaluate_run
    from harness.pipeline import run_sampling

    s = cfg.sample
    # one run folder per sampling config: a changed --set sample.* starts its own run instead of refusing to mix
    run_dir = out / f"{s.benchmark}_{Path(str(s.model)).name}_{s.hash()[:8]}"
    print(f"[main] real model: {s.limit} {s.benchmark} {s.split} problems x {s.n} samples, model={s.model}, "
          f"backend={s.backend}, T={s.temperature}, max_new_tokens={s.max_new_tokens} -> {run_dir}", flush=True)
    summary = run_sampling(s, run_dir=run_dir, progress=progress)
    metrics = evaluate_run(run_dir, n_boot=cfg.n_boot)
    metrics["table"] = format_table("SmolLM2-135M-Instruct GSM8K", metrics)
    return summary, metrics


def run(args) -> int:
    from harness.backends.base import BackendError
    from harness.data import DataError
    from harness.models import ModelError
    from harness.store import StoreError

    cfg = load_main_config(args.config, args.overrides)
    out = Path(args.out or cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    theory_table = None
    if cfg.theory and not args.skip_theory:
        t = time.perf_counter()
        theory_table = _run_theory(cfg, out)
        timings["theory_s"] = time.perf_counter() - t
    real = None
    if cfg.real and not args.skip_real:
        t = time.perf_counter()
        try:
            summary, metrics = _run_real(cfg, out, progress=not args.no_progress)
        except (StoreError, ModelError, DataError, BackendError) as e:
            print(f"tmc main: {e}", file=sys.stderr)
            return 2
        timings["real_s"] = time.perf_counter() - t
        real = (summary, metrics)
    timings["total_s"] = time.perf_counter() - t0

    parts = ["# tmc main", ""]
    if theory_table is not None:
        parts += ["## Theory: exact TMC reproduction of the paper's table (arXiv 2511.07368)", "",
                  theory_table.strip(), ""]
    if real is not None:
        summary, metrics = real
        s = cfg.sample
        parts += [f"## Real model: unbiased pass@k on {metrics['n_problems']} GSM8K test problems "
                  f"(n = {metrics['n']}, T = {s.temperature}, max_new_tokens = {s.max_new_tokens})", "",
                  "```", metrics["table"], "```", "",
                  f"sampling this run: {summary['new_samples']} new samples ({summary['skipped_samples']} resumed), "
                  f"{summary.get('tokens_per_s', 0):.1f} tok/s; mean completion length "
                  f"{metrics.get('mean_tokens') or 0:.0f} tokens; finish reasons {metrics.get('finish_reason')}", ""]
        (out / "real_metrics.json").write_text(json.dumps(
            {k: v for k, v in metrics.items() if k != "table"} | {"sampling": summary}, indent=2, default=str))
    parts += ["timings: " + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items()), ""]
    text = "\n".join(parts)
    (out / "summary.md").write_text(text)
    print("\n" + text)
    print(f"[main] wrote {out / 'summary.md'}")
    return 0 if (theory_table is not None or not cfg.theory or args.skip_theory) else 1
