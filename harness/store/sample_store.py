"""The resumable sample store: every sample of a run kept as rows in Parquet part files.

Layout::

    run_dir/run.json                  {"run_id", "config", "config_hash", "created", "resolved", "id_scheme"}
    run_dir/samples/part-<time_ns>-<pid>-<rand>.parquet   one per write_batch

Each part is written to a hidden temporary file in the same folder, fsync'ed, then ``os.replace``d into
place, so a part is either complete or absent even if the process is SIGKILLed mid-write (leftover
``.tmp-*`` files are ignored and cleaned by the next open). Part names sort by creation time.

``resolved`` lists what each sampling session's backend actually ran as (``dtype: auto`` resolved to
bfloat16 or float32, device, thread count, library version) with the steps it sampled, so two runs whose
configs both say ``auto`` but were drawn in different precisions can be told apart.

Resume semantics: ``done(step)`` lists the finished ``sample_idx`` per ``problem_id``; the sampler skips
them. ``read`` concatenates parts in name order and de-duplicates on ``(problem_id, sample_idx, step)``
keeping the FIRST written row, so a batch re-written after a crash cannot double-count. ``open`` refuses
a config whose hash differs from the run's (``StoreError`` naming both hashes) unless ``allow_mixed``; a run.json
with no sample stored behind it (a run that failed before its first batch) does not lock the folder: the next
config takes it over.

``id_scheme`` (harness/data/ids.py) is the problem-id format of the run's rows, fixed when the run gets its config:
a new run records the current ``ID_SCHEME``; a run.json without it (written before) is scheme 1 and stays so when
resumed (the sampler loads its problems with scheme-1 ids), so one run never mixes schemes. ``open(...,
id_scheme=k)`` asks for scheme k and refuses a run already in another one.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import time
from pathlib import Path
from typing import Iterable

from harness.data.ids import ID_SCHEME, scheme_of

from .schema import ARROW_TYPES, KEY, REQUIRED, SAMPLE_COLUMNS


def _pandas_types() -> dict:
    import pandas as pd
    import pyarrow as pa

    # nullable pandas dtypes: an int column with a null stays integer, a bool column with a null stays bool
    return {pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}


class _LazyTypes:
    _m: dict | None = None

    def get(self, t):
        if self._m is None:
            self._m = _pandas_types()
        return self._m.get(t)


_TYPES = _LazyTypes()


class StoreError(RuntimeError):
    """A sample-store problem: config-hash mismatch, bad rows, unreadable part file."""


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def resolved_at(meta: dict, step: int) -> list[dict]:
    """The ``resolved`` entries of a run.json ``meta`` (see :meth:`SampleStore.record_resolved`) that sampled
    ``step``: what its samples were actually drawn in. Empty for runs sampled before this was recorded."""
    return [e for e in meta.get("resolved", []) if int(step) in e.get("steps", [])]


class SampleStore:
    """Samples of one run (see the module docstring for layout and semantics)."""

    def __init__(self, run_dir: str | Path):
        self.run_dir = Path(run_dir)
        self.samples_dir = self.run_dir / "samples"
        self.samples_dir.mkdir(parents=True, exist_ok=True)
        self.meta_path = self.run_dir / "run.json"
        if self.meta_path.exists():
            try:
                self.meta = json.loads(self.meta_path.read_text())
            except json.JSONDecodeError as e:
                raise StoreError(f"{self.meta_path}:{e.lineno}: malformed run.json ({e.msg})") from None
        else:
            self.meta = {"run_id": self.run_dir.resolve().name, "config": None, "config_hash": None,
                         "created": time.strftime("%Y-%m-%dT%H:%M:%S"), "id_scheme": ID_SCHEME}
            self._write_meta()
        for tmp in self.samples_dir.glob(".tmp-*"):  # debris of a killed writer
            try:
                if time.time() - tmp.stat().st_mtime > 60:
                    tmp.unlink()
            except OSError:
                pass

    # ------------------------------------------------------------------ metadata
    @property
    def run_id(self) -> str:
        return str(self.meta.get("run_id") or self.run_dir.name)

    @property
    def config_hash(self) -> str | None:
        return self.meta.get("config_hash")

    @property
    def id_scheme(self) -> int:
        """The problem-id scheme of this run's rows (module docstring); 1 for a run.json written before it existed."""
        return scheme_of(self.meta)

    @property
    def config(self) -> dict | None:
        return self.meta.get("config")

    def _write_meta(self) -> None:
        tmp = self.run_dir / f".run.json.tmp-{os.getpid()}-{secrets.token_hex(4)}"
        tmp.write_text(json.dumps(self.meta, indent=2, sort_keys=True, default=str))
        os.replace(tmp, self.meta_path)

    @classmethod
    def open(cls, run_dir: str | Path, config: dict, config_hash: str, allow_mixed: bool = False,
             id_scheme: int | None = None) -> "SampleStore":
        """Open (or create) a run for writing samples made with ``config``.

        The first open records ``config``/``config_hash`` (and ``id_scheme``: the one asked for, else the current
        one) in run.json; a later open with another hash raises StoreError unless ``allow_mixed`` (rows keep their
        own ``config_hash`` either way), and one asking for another ``id_scheme`` than the run's raises StoreError.
        """
        store = cls(run_dir)
        old = store.config_hash
        if old is not None and old != config_hash and not store.parts():
            # run.json without a single stored sample (a run that failed before its first batch, e.g. a wrong model
            # path): nothing would be mixed, so it does not lock the folder to that config
            print(f"note: {store.meta_path}: no samples stored under config hash {old}; the folder is taken over by "
                  f"this config ({config_hash})", file=sys.stderr)
            old = None
            store.meta.pop("other_config_hashes", None)
            store.meta.pop("resolved", None)
        if old is None:
            store.meta.update(config=config, config_hash=config_hash)
            store._write_meta()
        elif old != config_hash:
            if not allow_mixed:
                raise StoreError(
                    f"{store.meta_path}: run was made with config hash {old}, this config has hash {config_hash}; "
                    f"refusing to mix samples from different configs in one run (use another run dir, or allow_mixed)"
                )
            hashes = list(store.meta.get("other_config_hashes", []))
            if config_hash not in hashes:
                store.meta["other_config_hashes"] = hashes + [config_hash]
                store._write_meta()
        want = int(id_scheme or ID_SCHEME)
        if not store.parts() and store.meta.get("id_scheme") != want:
            # no row stored yet (a fresh run, or one that failed before its first batch): its rows use the requested
            # (else the current) scheme
            store.meta["id_scheme"] = want
            store._write_meta()
        if id_scheme is not None and int(id_scheme) != store.id_scheme:
            raise StoreError(f"{store.meta_path}: run names problems with id_scheme {store.id_scheme}, the writer asks "
                             f"for id_scheme {id_scheme}; refusing to mix problem-id schemes in one run "
                             "(harness/data/ids.py; use another run dir)")
        store._write_hash = config_hash
        return store

    def record_resolved(self, info: dict, step: int) -> list[dict]:
        """Record that samples of ``step`` were drawn by a backend that resolved to ``info`` (see
        ``HFBackend.resolved``); return the earlier entries whose dtype or device differs, so the caller
        can warn that the run now mixes precisions. Entries are kept in run.json under ``resolved`` as
        ``{**info, "steps": [...]}``, one per distinct ``info``."""
        def setting(e: dict) -> dict:
            return {k: v for k, v in e.items() if k != "steps"}

        info, step = setting(info), int(step)
        entries = [dict(e) for e in self.meta.get("resolved", [])]
        others = [e for e in entries if (e.get("dtype"), e.get("device")) != (info.get("dtype"), info.get("device"))]
        same = next((e for e in entries if setting(e) == info), None)
        if same is None:
            entries.append({**info, "steps": [step]})
        elif step in same["steps"]:
            return others  # already recorded: run.json is left untouched
        else:
            same["steps"] = sorted(set(same["steps"]) | {step})
        self.meta["resolved"] = entries
        self._write_meta()
        return others

    # ------------------------------------------------------------------ writing
    def _table(self, rows: list[dict]):
        import pyarrow as pa

        extra: list[str] = []
        for i, r in enumerate(rows):
            for k in REQUIRED:
                if r.get(k) is None:
                    raise StoreError(f"write_batch: row {i} has no {k!r}; required columns: {', '.join(REQUIRED)}")
            extra += [k for k in r if k not in ARROW_TYPES and k not in extra]
        fill = {"run_id": self.run_id, "config_hash": getattr(self, "_write_hash", None) or self.config_hash, "step": 0}
        arrays, fields = [], []
        for col in SAMPLE_COLUMNS + extra:
            vals = [r.get(col, fill.get(col)) if r.get(col) is not None else fill.get(col) for r in rows]
            typ = ARROW_TYPES.get(col)
            try:
                arr = pa.array(vals, type=typ) if typ is not None else pa.array(vals)
            except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError) as e:
                raise StoreError(f"write_batch: column {col!r} cannot be stored as {typ}: {e}") from None
            arrays.append(arr)
            fields.append(pa.field(col, arr.type))
        return pa.Table.from_arrays(arrays, schema=pa.schema(fields))

    def write_batch(self, rows: list[dict]) -> Path | None:
        """Write ``rows`` as one new part file, atomically (tmp + fsync + os.replace). Empty -> None."""
        import pyarrow.parquet as pq

        rows = list(rows)
        if not rows:
            return None
        table = self._table(rows)
        name = f"part-{time.time_ns():020d}-{os.getpid()}-{secrets.token_hex(4)}.parquet"
        final = self.samples_dir / name
        tmp = self.samples_dir / f".tmp-{name}"
        try:
            with open(tmp, "wb") as fh:
                pq.write_table(table, fh, compression="zstd")
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, final)
        finally:
            if tmp.exists():
                tmp.unlink()
        _fsync_dir(self.samples_dir)
        return final

    # ------------------------------------------------------------------ reading
    def parts(self) -> list[Path]:
        """Complete part files in write order."""
        return sorted(p for p in self.samples_dir.glob("part-*.parquet"))

    def _read_parts(self, columns: Iterable[str] | None = None):
        import pandas as pd
        import pyarrow.parquet as pq

        frames = []
        for p in self.parts():
            try:
                cols = None if columns is None else [c for c in columns if c in pq.read_schema(p).names]
                t = pq.read_table(p, columns=cols)
            except Exception as e:  # noqa: BLE001
                raise StoreError(f"{p}: unreadable part file ({type(e).__name__}: {e})") from e
            frames.append(t.to_pandas(types_mapper=_TYPES.get))
        if not frames:
            cols = list(columns) if columns is not None else SAMPLE_COLUMNS
            return pd.DataFrame({c: pd.Series(dtype="object") for c in cols})
        df = pd.concat(frames, ignore_index=True)
        return df.drop_duplicates(subset=KEY, keep="first").reset_index(drop=True)

    def read(self, step: int | None = None, columns: Iterable[str] | None = None):
        """All samples (or those of ``step``) as a DataFrame, unique on (problem_id, sample_idx, step)."""
        cols = None if columns is None else list(dict.fromkeys(list(columns) + KEY))
        df = self._read_parts(cols)
        if step is not None and len(df):
            df = df[df["step"] == step].reset_index(drop=True)
        return df

    def steps(self) -> list[int]:
        df = self._read_parts(KEY)
        return sorted(int(s) for s in df["step"].unique()) if len(df) else []

    def done(self, step: int = 0) -> dict[str, set[int]]:
        """problem_id -> set of sample indices already stored for ``step``."""
        df = self.read(step=step, columns=KEY)
        out: dict[str, set[int]] = {}
        for pid, idx in zip(df["problem_id"].tolist(), df["sample_idx"].tolist()):
            out.setdefault(pid, set()).add(int(idx))
        return out

    def __repr__(self) -> str:
        return f"SampleStore({str(self.run_dir)!r}, parts={len(self.parts())})"
