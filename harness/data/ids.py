"""Problem ids: the one place their format is decided, and the check that two runs name problems alike.

Scheme 2 (``ID_SCHEME``, every run created from now on)::

    <benchmark>/<source tag>/<id inside the source>
    gsm8k/easy_arith-f2948403/test/17          line 17 (0-based) of data/easy_arith/test.jsonl
    gsm8k/gsm8k-3730d312/test/17               line 17 of ../shared/data/gsm8k/test.jsonl (real GSM8K)
    math/math-35dc4108/test/precalculus/807.json   a MATH record's unique_id
    gsm8k/hub-openai_gsm8k-main/test/17        row 17 of the hub dataset openai/gsm8k, config main

The source tag fingerprints WHERE the problems came from, so two data sets that both have a "test line 17" no
longer share an id (scheme 1 gave data/easy_arith and real GSM8K the same ``gsm8k/test/17``, and a base run of one
could stand in for the other):

* a local file: a readable name (the file's stem, or its folder's name when the stem is only a split name such as
  ``test``/``train``) and the first 8 hex digits of the sha256 of the file's BYTES. The content hash, not the path,
  decides: the same file copied elsewhere keeps its ids, an edited file gets new ones (its old samples are no
  longer samples of these problems);
* a hub dataset: ``hub-`` and the dataset id and config, ``/`` turned into ``_`` (a hub dataset's revision is not
  part of it: hashing the rows would need them downloaded); a local folder laid out like a hub dataset repository
  (read by ``datasets.load_dataset``) gets its folder name and a hash of its files' paths and bytes.

The id inside the source is the scheme-1 id without its benchmark prefix: ``<split>/<0-based index>`` for GSM8K
and MATH records without a ``unique_id``, the ``unique_id`` for MATH, with ``#2``, ``#3`` ... on repeats.

Scheme 1 (runs made before; a run.json / train_run.json / checkpoints_metrics.json without ``id_scheme``):
``gsm8k/<split>/<index>`` and the bare MATH ``unique_id``, whatever file they came from. Those runs stay readable and
resumable: a store keeps the scheme it was created with (recorded in its run.json) and a resumed scheme-1 run loads
its problems with scheme-1 ids, so one run never mixes schemes. The id is only a name: sample seeds derive from the
scheme-1 form (``Problem.legacy_id``), so both schemes draw the same samples for the same seed.

Pairing rows of two runs by problem id (``--base-run``, the offline rejection filter, ``tmc analyze compare_steps
--run-b`` / ``seed_table``) needs both runs in one scheme: :func:`require_same_scheme` refuses a mix with one error
naming both runs, both schemes and the fix. Old ids are NOT mapped to new ones: a scheme-1 run records no content
hash, so nothing shows that the file it read is the file of today (data/easy_arith was regenerated more than once).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

ID_SCHEME = 2
LEGACY_SCHEME = 1
SPLIT_NAMES = {"train", "test", "validation", "valid", "dev", "eval"}
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def _clean(text: str) -> str:
    return _UNSAFE.sub("_", text).strip("_") or "data"


def file_tag(path: str | Path) -> str:
    """``<name>-<8 hex of sha256(file bytes)>`` of a local data file (module docstring)."""
    p = Path(path).expanduser()
    h = hashlib.sha256()
    with p.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    name = p.parent.resolve().name if p.stem.lower() in SPLIT_NAMES else p.stem
    return f"{_clean(name)}-{h.hexdigest()[:8]}"


def folder_tag(path: str | Path) -> str:
    """``<folder name>-<8 hex>`` of a local folder laid out like a hub dataset repository: sha256 over the relative
    path and bytes of every file in it (hidden ones skipped), in sorted order."""
    root = Path(path).expanduser().resolve()
    h = hashlib.sha256()
    for f in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = f.relative_to(root)
        if any(part.startswith(".") for part in rel.parts):
            continue
        h.update(str(rel).encode() + b"\0")
        with f.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return f"{_clean(root.name)}-{h.hexdigest()[:8]}"


def hub_tag(dataset_id: str, config: str | None = None) -> str:
    """``hub-<owner_name>[-<config>]`` of a hub dataset; a local folder read by ``datasets.load_dataset`` gets
    :func:`folder_tag` instead (its content, not its machine-specific path)."""
    if Path(dataset_id).expanduser().is_dir():
        return folder_tag(dataset_id) + (f"-{_clean(config)}" if config else "")
    return "hub-" + _clean(dataset_id.replace("/", "_")) + (f"-{_clean(config)}" if config else "")


def local_part(benchmark: str, legacy_id: str) -> str:
    """The id inside its source: the scheme-1 id without a leading ``<benchmark>/``."""
    prefix = f"{benchmark}/"
    return legacy_id[len(prefix):] if legacy_id.startswith(prefix) else legacy_id


def make_id(benchmark: str, tag: str, legacy_id: str, scheme: int = ID_SCHEME) -> str:
    """The problem id under ``scheme`` of the record whose scheme-1 id is ``legacy_id`` in the source ``tag``."""
    if scheme == LEGACY_SCHEME:
        return legacy_id
    if scheme != ID_SCHEME:
        raise ValueError(f"id_scheme: unknown id scheme {scheme!r}; allowed values: {LEGACY_SCHEME}, {ID_SCHEME}")
    return f"{benchmark}/{tag}/{local_part(benchmark, legacy_id)}"


def scheme_of(meta: dict | None) -> int:
    """The id scheme a run.json / train_run.json / checkpoints_metrics.json dict records; absent = 1 (older)."""
    return int((meta or {}).get("id_scheme") or LEGACY_SCHEME)


def run_scheme(path: str | Path) -> int:
    """The id scheme of a run on disk: a sample run folder (run.json), a ``checkpoints_metrics.json`` or a folder
    holding one, a training run (train_run.json), looked for in that order. Anything else counts as scheme 1."""
    p = Path(path)
    for f in ([p] if p.is_file() else [p / "run.json", p / "checkpoints_metrics.json", p / "train_run.json"]):
        if f.is_file():
            try:
                return scheme_of(json.loads(f.read_text()))
            except (json.JSONDecodeError, OSError, AttributeError):
                return LEGACY_SCHEME
    return LEGACY_SCHEME


def scheme_mismatch(what: str, a: tuple[Any, int], b: tuple[Any, int]) -> str | None:
    """The error text when runs ``a`` = (name, scheme) and ``b`` differ in id scheme, else None."""
    (name_a, sa), (name_b, sb) = a, b
    if sa == sb:
        return None
    old, new = (a, b) if sa < sb else (b, a)
    return (f"{what}: {name_a} names problems with id_scheme {sa}, {name_b} with id_scheme {sb}; rows of runs in "
            f"different id schemes cannot be paired by problem id (scheme 1 = 'gsm8k/<split>/<index>' whatever the "
            f"file, scheme 2 = '<benchmark>/<source tag>/...', harness/data/ids.py). Fix: re-sample {old[0]} with "
            f"the current version (it then gets id_scheme {new[1]}), or pair two runs of id_scheme {old[1]}")


def require_same_scheme(what: str, a: tuple[Any, int], b: tuple[Any, int], error: type[Exception] | None = None):
    """Raise ``error`` (default :class:`tmc_core.config.ConfigError`) with :func:`scheme_mismatch`'s text."""
    msg = scheme_mismatch(what, a, b)
    if msg:
        if error is None:
            from tmc_core.config import ConfigError as error
        raise error(msg)
