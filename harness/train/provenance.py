"""Is a base sample run the right one? The settings a run's samples depend on, compared field by field.

Used where another run's samples stand in for this one's: ``tmc eval-checkpoints --base-run`` (step 0 from a base
sample run) and rl_rej's offline filter (``rej_base_run``: base-model pass rates decide which training prompts are
dropped). A base run of another model, data source, split, prompt template or decoding would silently compare or
filter with the wrong samples, so every differing field is named in one error.

Model names are compared after ``harness.models.resolve_model`` where it resolves (``smollm2`` and the prepared folder
it stands for are the same model; two paths to one folder are the same model); an unresolvable name is compared as
written. Data sources are compared as written after resolving local files to absolute paths (``null`` = the default
``<benchmark>/<split>.jsonl`` under TMC_DATA_DIR).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def canonical_model(name: Any) -> Any:
    if not isinstance(name, str) or not name:
        return name
    try:
        from harness.models import resolve_model

        resolved = resolve_model(name, prepare=False)
    except Exception:  # unknown or unprepared: compare the name as written
        return name
    p = Path(resolved)
    return str(p.resolve()) if p.exists() else resolved


def canonical_source(source: Any) -> Any:
    if isinstance(source, str) and Path(source).expanduser().exists():
        return str(Path(source).expanduser().resolve())
    return source


def mismatches(base: dict, want: dict) -> list[str]:
    """``field: <base run's value> there, <wanted value> here`` for every key of ``want`` that differs in ``base``
    (a sample run's config); ``model`` and ``source`` compared canonically (module docstring)."""
    out = []
    for k, v in want.items():
        b = base.get(k)
        if k == "model":
            same = canonical_model(b) == canonical_model(v)
        elif k == "source":
            same = canonical_source(b) == canonical_source(v)
        else:
            same = b == v
        if not same:
            out.append(f"{k} = {b!r} there but {v!r} here")
    return out


def train_sampling(cfg) -> dict:
    """What a base sample run must share with training config ``cfg`` for its pass rates to be the base model's on
    the training prompts as the trainer samples them (rl_rej offline filter)."""
    return {"model": cfg.model, "benchmark": cfg.benchmark, "split": cfg.split, "source": cfg.source,
            "template": cfg.template, "temperature": cfg.temperature, "top_p": cfg.top_p,
            "max_new_tokens": cfg.max_completion_length}
