"""``tmc tmclm-bon --config configs/tmclm_bon.yaml --out DIR [--model DIR] [--set KEY=VALUE ...]``.

TMC-LM's Best-of-N selectors with reward models LEARNED from TMC-LM samples beside the theory's exact population
rewards and the instance (oracle) reward(:mod:`.bon_study`). Steps:

1. the pretrained TMC-LM: loaded from ``--model`` (a ``DIR/model`` folder written by ``tmc tmclm``) or pretrained
   here with the config's ``model`` / ``pretrain`` sections (deterministic for the seeds; ~35 s CPU on the paper TMC);
2. its exact path law per prompt (:func:`.measure.all_path_probs`);
3. :func:`.bon_study.run_learned_bon` with the ``bon`` section (plus ``measure.lam`` / ``measure.n_bon``);
4. ``DIR/results.json``, ``DIR/table.md``, ``DIR/l1_vs_n.png``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path


def build_parser(prog: str = "tmc tmclm-bon") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description="TMC-LM Best-of-N: the five selectors with ORM/PRM learned from "
                                "TMC-LM samples, beside the exact population rewards and the instance reward.")
    p.add_argument("--config", default=None, help="YAML TmclmConfig with a `bon:` section (configs/tmclm_bon.yaml); "
                   "default: built-in defaults")
    p.add_argument("--out", default=None, help="output folder (default: out_dir + '_bon')")
    p.add_argument("--model", default=None, help="pretrained TMC-LM folder (DIR/model of `tmc tmclm`); default: "
                   "pretrain one here")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config field with a dotted key, e.g. --set bon.seeds=5")
    p.add_argument("--describe", action="store_true", help="print the `bon` fields with their defaults and exit")
    p.add_argument("--no-plots", action="store_true", help="do not write the PNG")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    return p


def run(args) -> int:
    from tmc_core.config import describe, load_cli_config, to_dict

    from .bon_config import LearnedBonConfig
    from .cli import _jsonable, build_tmc
    from .config import TmclmConfig

    if args.describe:  # the study's own fields; the TMC-LM ones: tmc tmclm --describe
        print(describe(LearnedBonConfig))
        return 0
    cfg = load_cli_config(TmclmConfig, args, sets="set", source="<defaults>")
    out = Path(args.out or (cfg.out_dir.rstrip("/") + "_bon"))
    out.mkdir(parents=True, exist_ok=True)
    say = (lambda *a, **k: None) if args.quiet else print
    import torch

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    torch.set_num_threads(cfg.threads)
    t0, c0 = time.perf_counter(), time.process_time()
    tmc = build_tmc(cfg)
    from .measure import all_path_probs, kl_divergence, prompt_key, prompts_of, tmc_path_probs

    if args.model:
        from .pretrain import load_model

        model, tok = load_model(args.model)
        pre = {"source": str(args.model)}
    else:
        from .pretrain import pretrain

        say(f"[tmclm-bon] pretraining the TMC-LM: {cfg.pretrain.steps} steps x {cfg.pretrain.batch_size} paths")
        model, tok, rep = pretrain(tmc, cfg.model, cfg.pretrain)
        pre = {"source": "pretrained here", "kl": rep["kl"], "wall_s": rep["wall_s"]}
    probs = all_path_probs(model, tok, tmc)
    pre["kl_to_tmc"] = {prompt_key(p): kl_divergence(tmc_path_probs(tmc, p), probs[prompt_key(p)])
                        for p in prompts_of(tmc)}
    say("[tmclm-bon] TMC-LM exact KL(TMC || LM): " + ", ".join(f"{k} {v:.4f}" for k, v in pre["kl_to_tmc"].items()))
    from .bon_study import plot_l1, run_learned_bon, summary_tables

    from .learned_rewards import lm_features

    feats = lm_features(model, tok, tmc) if cfg.bon.lm_head else None
    res = run_learned_bon(tmc, probs, cfg.bon, cfg.measure.lam, cfg.measure.n_bon, progress=say, features=feats)
    table = summary_tables(res)
    res.update({"config": to_dict(cfg), "tmclm": pre, "paths_order": tmc.enumerate_paths().tolist(),
                "tmclm_probs_any": probs["<any>"].tolist(), "total_wall_s": time.perf_counter() - t0,
                "total_cpu_s": time.process_time() - c0, "torch_threads": cfg.threads})
    (out / "results.json").write_text(json.dumps(_jsonable(res), indent=1))
    (out / "table.md").write_text(table + "\n")
    if not args.no_plots:
        plot_l1(res, out / "l1_vs_n.png")
    say(table)
    say(f"[tmclm-bon] {res['total_wall_s']:.1f} s wall, {res['total_cpu_s']:.1f} s CPU; wrote {out / 'results.json'}")
    return 0
