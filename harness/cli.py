"""The one command-line entry point, ``tmc``.

Each sub-command lives in its own module exposing ``build_parser(prog) -> argparse.ArgumentParser``
and ``run(args) -> int``. Modules are imported only when their command runs, so ``tmc theory``
needs numpy alone and never pays for importing torch.
"""

from __future__ import annotations

import importlib
import sys

#: command -> (module, one-line help). The module must define build_parser(prog) and run(args).
COMMANDS: dict[str, tuple[str, str]] = {
    "main": ("harness.main_job", "the README's main job: theory table, TMC-LM vs theory, SmolLM2 pass@k (minutes)"),
    "theory": ("tmc_theory.cli", "exact TMC theory: `reproduce` the paper's table, `sweep` a parameter"),
    "model": ("harness.models.cli", "`prepare` the offline default model (SmolLM2-135M-Instruct from GGUF)"),
    "sample": ("harness.sample_cli", "sample n completions per problem into the resumable sample store"),
    "eval": ("harness.eval_cli", "pass@k / maj@k tables, CIs and plots for one or more sample runs"),
    "train": ("harness.train.cli", "RLVR post-training with LoRA on TRL (grpo, grpo_kl, reinforce, raft, ppo, rl_rej)"),
    "eval-checkpoints": ("harness.train.eval_checkpoints", "sample every saved checkpoint of a training run and plot "
                                                           "pass@k and path mass vs step"),
    "analyze": ("harness.analyze.cli", "analysis tools over finished runs: compare_steps, seed_table, cot_forms, ..."),
    "paths": ("harness.paths.cli", "the path table of a sample run: reasoning paths per problem, base shares, "
                                   "easy/rare/hard"),
    "passk-extrapolate": ("harness.metrics.betabinom_cli", "pass@K for K >> n: beta-binomial fit of per-problem "
                                                           "counts, validated on held-out samples"),
    "theory-fit": ("harness.theory_fit.cli", "fit a tmc_theory TMC per problem to sampled reasoning paths; predict "
                                             "each RLVR method on it"),
    "report": ("harness.report", "one self-contained HTML + Markdown report of TMC-LM runs, checkpoint evals and "
                                 "sample runs"),
    "bon": ("harness.select.cli", "Best-of-N selectors (soft_bon, orm_bon, prm_bon, dprm_bon, dprm_as + baselines) "
                                  "on a real LLM"),
    "rm": ("harness.select.rm_train", "`train` a reward model (ORM, or PRM on soft Monte-Carlo labels) on a "
                                      "train-split sample run"),
    "tmclm": ("harness.tmclm.cli", "TMC-LM: a transformer pretrained on TMC paths, post-trained, compared with the "
                                   "exact theory"),
    "tmclm-bon": ("harness.tmclm.bon_cli", "TMC-LM Best-of-N with ORM/PRM learned from TMC-LM samples vs exact and "
                                           "instance rewards"),
}


def _usage() -> str:
    width = max(map(len, COMMANDS))
    lines = ["usage: tmc <command> [options]", "", "commands:"]
    lines += [f"  {name.ljust(width)}  {help_}" for name, (_, help_) in COMMANDS.items()]
    lines += ["", "`tmc <command> --help` describes each command's options."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"tmc: unknown command {name!r}; allowed: {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    module_name = COMMANDS[name][0]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        missing = e.name or "?"
        if missing.split(".")[0] in ("tmc_core", "tmc_theory", "harness"):
            raise
        print(
            f"tmc {name}: needs the package {missing!r}, which is not installed. "
            f"Install the LLM stack: see README (pip install torch==2.13.0 && pip install -e '.[llm]').",
            file=sys.stderr,
        )
        return 2
    parser = module.build_parser(f"tmc {name}")
    args = parser.parse_args(rest)
    from tmc_core.config import ConfigError

    try:
        return int(module.run(args) or 0)
    except ConfigError as e:
        print(f"tmc {name}: config error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\ntmc {name}: interrupted; finished work is saved, re-run the same command to resume.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
