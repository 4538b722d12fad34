"""Benchmark data: GSM8K and MATH as normalised :class:`Problem` records.

``load_problems(benchmark, split, source, limit, offset)`` reads

* ``source=None``: the local file ``<repo>/../shared/data/<benchmark>/<split>.jsonl`` (the folder is
  overridden by the environment variable ``TMC_DATA_DIR``);
* ``source`` = a path to a ``.jsonl`` / ``.json`` file (or any existing file);
* otherwise ``source`` is a hub dataset id read with ``datasets.load_dataset`` (e.g. ``openai/gsm8k``
  with config ``main``; ``HuggingFaceH4/MATH-500``). ``"hub"`` picks the benchmark's default hub id.

A malformed JSONL line raises :class:`DataError` naming the file and the 1-based line. Records whose
gold answer is empty (two PRM800K train records, see the data README) are skipped unless
``skip_empty_answers=False``. ``offset``/``limit`` slice the records after that filter.

Problem ids follow :mod:`harness.data.ids` (``id_scheme``: 2 = ``<benchmark>/<source tag>/<split>/<index>``, the
default; 1 = the older ``gsm8k/<split>/<index>`` that a resumed older run keeps).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from . import gsm8k as _gsm8k
from . import ids as _ids
from . import math as _math
from .prompts import TEMPLATES, build_prompt
from .records import BENCHMARKS, DataError, Problem

__all__ = ["Problem", "DataError", "BENCHMARKS", "load_problems", "default_data_dir", "build_prompt", "TEMPLATES"]

log = logging.getLogger(__name__)

_MODULES = {"gsm8k": _gsm8k, "math": _math}


def default_data_dir() -> Path:
    """``$TMC_DATA_DIR`` if set, else ``<repo root>/../shared/data``."""
    env = os.environ.get("TMC_DATA_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2].parent / "shared" / "data"


def _read_jsonl(path: Path) -> Iterable[tuple[int, dict]]:
    """Yield (1-based line, object) for every non-blank line; DataError names file and line."""
    try:
        fh = path.open("r", encoding="utf-8")
    except OSError as e:
        raise DataError(f"{path}: cannot open data file ({e.strerror})") from None
    with fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise DataError(f"{path}:{lineno}: malformed JSON line ({e.msg} at column {e.colno})") from None
            if not isinstance(obj, dict):
                raise DataError(f"{path}:{lineno}: expected a JSON object, got {type(obj).__name__}")
            yield lineno, obj


def _read_json_array(path: Path) -> Iterable[tuple[int, dict]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise DataError(f"{path}:{e.lineno}: malformed JSON ({e.msg} at column {e.colno})") from None
    if not isinstance(data, list):
        raise DataError(f"{path}: a .json data file must hold a list of records (or use .jsonl)")
    for i, obj in enumerate(data):
        if not isinstance(obj, dict):
            raise DataError(f"{path}: record {i} is not a JSON object")
        yield i + 1, obj


def _load_hub(benchmark: str, dataset_id: str, split: str) -> list[Mapping[str, Any]]:
    """Rows of a hub dataset via ``datasets.load_dataset`` (needs network or a local HF cache)."""
    try:
        import datasets
    except ImportError as e:  # pragma: no cover - datasets is part of the [llm] extra
        raise DataError(f"loading {dataset_id!r} from the hub needs the 'datasets' package") from e
    mod = _MODULES[benchmark]
    config = mod.HUB_CONFIG if dataset_id == mod.HUB_ID else None
    try:
        ds = (
            datasets.load_dataset(dataset_id, config, split=split)
            if config
            else datasets.load_dataset(dataset_id, split=split)
        )
    except Exception as e:
        raise DataError(
            f"hub dataset {dataset_id!r} (split {split!r}) could not be loaded: {type(e).__name__}: {e}. "
            f"Offline? Pass a local JSONL path as source, or leave source unset for ../shared/data."
        ) from e
    return list(ds)


def _looks_local(source: str) -> bool:
    """A source that cannot be a hub dataset id: a path form (``./x``, ``/x``, ``~``, ``a/b/c``), or a name whose first
    folder exists here (``data/easy_arth`` with a ``data/`` folder). ``hub`` and ``owner/name`` ids are not local."""
    if source == "hub":
        return False
    first = Path(source).parts[0] if Path(source).parts else source
    return (source.startswith(("/", "./", "../", "~")) or source.count("/") > 1 or "\\" in source
            or ("/" in source and Path(first).expanduser().is_dir()))


def load_problems(
    benchmark: str,
    split: str = "test",
    source: str | None = None,
    limit: int | None = None,
    offset: int = 0,
    skip_empty_answers: bool = True,
    id_scheme: int = _ids.ID_SCHEME,
) -> list[Problem]:
    """Load ``benchmark`` ("gsm8k" | "math") problems; see the module docstring for ``source`` and ``id_scheme``."""
    if benchmark not in _MODULES:
        raise DataError(f"unknown benchmark {benchmark!r}; allowed: {', '.join(BENCHMARKS)}")
    if offset < 0 or (limit is not None and limit < 0):
        raise DataError(f"offset and limit must be >= 0, got offset={offset}, limit={limit}")
    mod = _MODULES[benchmark]
    rows: Iterable[tuple[int, Mapping[str, Any]]]
    if source is None:
        path = default_data_dir() / benchmark / f"{split}.jsonl"
        if not path.exists():
            raise DataError(
                f"{path}: no local {benchmark} {split!r} file (set TMC_DATA_DIR, pass source=<file.jsonl>, "
                f"or source='hub' / a hub dataset id)"
            )
        where, rows = str(path), _read_jsonl(path)
        tag = _ids.file_tag(path) if id_scheme != _ids.LEGACY_SCHEME else ""
    elif Path(source).suffix in (".jsonl", ".json") or Path(source).is_file():
        path = Path(source)
        if not path.exists():
            raise DataError(f"{path}: data file does not exist ({path.absolute()}); fix: give an existing .jsonl "
                            f"file, or leave source unset for {default_data_dir() / benchmark / (split + '.jsonl')}")
        where = str(path)
        rows = _read_json_array(path) if path.suffix == ".json" else _read_jsonl(path)
        tag = _ids.file_tag(path) if id_scheme != _ids.LEGACY_SCHEME else ""
    elif Path(source).is_dir() and any(Path(source).glob("*.jsonl")):
        # a folder of JSONL files (data/easy_arith): the file was meant; a folder laid out like a hub dataset
        # repository (data/<split>-*.parquet) goes to datasets.load_dataset below
        inside = sorted(str(f) for f in Path(source).glob("*.jsonl"))[:4]
        raise DataError(f"{source}: is a folder; source must be one .jsonl file, e.g. {', '.join(inside)}")
    elif not Path(source).exists() and _looks_local(source):
        raise DataError(f"{source}: no such data file or folder ({Path(source).absolute()} does not exist) and not a "
                        f"hub dataset id of the form 'owner/name'; fix: give an existing .jsonl file, or leave source "
                        f"unset for {default_data_dir() / benchmark / (split + '.jsonl')}")
    else:
        dataset_id = mod.HUB_ID if source == "hub" else source
        where = f"hub:{dataset_id}[{split}]"
        tag = _ids.hub_tag(dataset_id, mod.HUB_CONFIG if dataset_id == mod.HUB_ID else None)
        rows = ((i + 1, r) for i, r in enumerate(_load_hub(benchmark, dataset_id, split)))

    from_raw: Callable[..., Problem] = mod.from_raw
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    skipped = 0
    for lineno, raw in rows:
        p = from_raw(raw, lineno - 1, split, f"{where}:{lineno}")
        legacy = p.id
        if legacy in seen:
            seen[legacy] += 1
            legacy = f"{legacy}#{seen[legacy]}"
        else:
            seen[legacy] = 1
        p = Problem(**{**p.__dict__, "id": _ids.make_id(benchmark, tag, legacy, id_scheme), "legacy_id": legacy})
        if skip_empty_answers and not p.answer:
            skipped += 1
            continue
        problems.append(p)
    if skipped:
        log.info("%s: skipped %d record(s) with an empty gold answer", where, skipped)
    end = None if limit is None else offset + limit
    return problems[offset:end]
