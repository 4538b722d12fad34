"""math-verify in a persistent child process, with our own per-call deadline.

math-verify's built-in timeouts use ``signal.alarm`` and raise in non-main threads (TRL reward
functions, pipelines with threads). We therefore call ``parse(..., parsing_timeout=None)`` and
``verify(..., timeout_seconds=None)`` (math-verify 0.9 signature) in a child process and enforce the
deadline from the parent: the parent writes one JSON line per job to the child's stdin and waits on
its stdout with ``select`` until the deadline; on timeout the child is killed (SIGKILL), a new one is
spawned at once (its ~1-2 s of imports overlap with the caller's next work; the next call waits for it
to be ready, and that start-up wait is not counted against a job's deadline), and the job is reported
as ``"timeout"``. A hanging sympy expression thus costs at most ``timeout_s`` plus part of one restart.
A forked copy of the parent never reuses the parent's pipes: it starts its own worker.

The child is started with ``python -m harness.grading.verify_worker`` (not multiprocessing), so it
never re-imports the parent's ``__main__`` and never inherits torch threads. POSIX only (select on a
pipe). Thread-safe: one lock serialises jobs; a small LRU cache avoids re-checking identical pairs.

Protocol (one JSON object per line): request ``{"gold": str, "pred": str}``; reply ``{"correct": bool,
"parsed": bool, "error": str | null}``. ``parsed`` is False when math-verify extracts nothing from the
prediction.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import subprocess
import sys
import threading
import time
from collections import OrderedDict
from pathlib import Path

STARTUP_TIMEOUT_S = 120.0


class VerifyTimeout(Exception):
    """The job ran past its deadline; the worker was killed."""


class VerifyWorker:
    """A restartable child process running math-verify; ``check(gold, pred, timeout_s)``."""

    def __init__(self, cache_size: int = 4096):
        self._proc: subprocess.Popen | None = None
        self._pid = os.getpid()
        self._ready = False
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[str, str], dict] = OrderedDict()
        self._cache_size = cache_size
        self.restarts = 0

    # -- process management -------------------------------------------------------------------
    def _spawn(self) -> None:
        """Start the child without waiting for it (its imports overlap with the parent's work)."""
        root = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ)
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        env.setdefault("OMP_NUM_THREADS", "1")
        self._proc = subprocess.Popen(
            [sys.executable, "-u", "-m", "harness.grading.verify_worker"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, bufsize=0,
        )
        self._pid = os.getpid()
        self._buf = b""
        self._ready = False

    def _await_ready(self) -> None:
        line = self._readline(time.monotonic() + STARTUP_TIMEOUT_S)
        if line is None or json.loads(line).get("ready") is not True:
            self._kill()
            raise RuntimeError("math-verify worker did not start (is math-verify installed?)")
        self._ready = True

    def _ensure(self) -> None:
        if self._proc is not None and self._pid != os.getpid():
            self._proc = None  # we are a forked copy: the pipes belong to the parent's worker, leave them alone
        if self._proc is None or self._proc.poll() is not None:
            if self._proc is not None:
                self.restarts += 1
            self._spawn()
        if not self._ready:
            try:
                self._await_ready()
            except RuntimeError:
                self._kill()
                raise

    def _kill(self) -> None:
        if self._proc is not None:
            try:
                self._proc.kill()
                self._proc.wait(timeout=5)
            except Exception:
                pass
            self._proc = None

    def close(self) -> None:
        with self._lock:
            self._kill()

    def _readline(self, deadline: float) -> bytes | None:
        assert self._proc is not None and self._proc.stdout is not None
        fd = self._proc.stdout.fileno()
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                return None
            chunk = os.read(fd, 65536)
            if not chunk:  # child died
                raise RuntimeError("math-verify worker exited unexpectedly")
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        return line

    # -- jobs -----------------------------------------------------------------------------------
    def check(self, gold: str, pred: str, timeout_s: float | None) -> dict:
        """``{"correct", "parsed", "error"}``; raises VerifyTimeout past ``timeout_s`` seconds."""
        key = (gold, pred)
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
            self._ensure()
            assert self._proc is not None and self._proc.stdin is not None
            self._proc.stdin.write((json.dumps({"gold": gold, "pred": pred}) + "\n").encode())
            deadline = time.monotonic() + (timeout_s if timeout_s and timeout_s > 0 else 1e9)
            try:
                line = self._readline(deadline)
            except RuntimeError:
                self._kill()
                self.restarts += 1
                return {"correct": False, "parsed": False, "error": "math-verify worker crashed"}
            if line is None:
                self._kill()
                self.restarts += 1
                self._spawn()  # restart now, so the imports overlap with whatever the caller does next
                raise VerifyTimeout(f"math-verify took longer than {timeout_s} s")
            out = json.loads(line)
            self._cache[key] = out
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
            return out


_WORKER: VerifyWorker | None = None
_WORKER_LOCK = threading.Lock()
_POOL: list[VerifyWorker] = []


def get_worker() -> VerifyWorker:
    """The process-wide worker (started on first use, killed at exit)."""
    global _WORKER
    with _WORKER_LOCK:
        if _WORKER is None:
            _WORKER = VerifyWorker()
            atexit.register(_WORKER.close)
        return _WORKER


def get_pool(size: int) -> list[VerifyWorker]:
    """``size`` workers for parallel grading (the first is the process-wide worker); started lazily."""
    first = get_worker()
    with _WORKER_LOCK:
        while len(_POOL) < size - 1:
            w = VerifyWorker()
            atexit.register(w.close)
            _POOL.append(w)
        return [first] + _POOL[: size - 1]


# ------------------------------------------------------------------------------------ child side
def _serve() -> None:  # pragma: no cover - runs in the child process
    import logging
    from functools import lru_cache

    logging.disable(logging.WARNING)
    from math_verify import parse, verify

    @lru_cache(maxsize=4096)
    def parse_gold(gold: str):
        return parse(f"${gold}$", parsing_timeout=None)

    verify(parse_gold("\\frac{1}{2}"), parse("$0.5$", parsing_timeout=None), timeout_seconds=None)  # warm up
    out = sys.stdout
    out.write(json.dumps({"ready": True}) + "\n")
    out.flush()
    for line in sys.stdin:
        try:
            job = json.loads(line)
            g = parse_gold(job["gold"])
            p = parse(f"${job['pred']}$", parsing_timeout=None)
            if not p:
                res = {"correct": False, "parsed": False, "error": None}
            else:
                res = {"correct": bool(verify(g, p, timeout_seconds=None)), "parsed": True, "error": None}
        except Exception as e:  # noqa: BLE001 - reported to the parent as status "error"
            res = {"correct": False, "parsed": False, "error": f"{type(e).__name__}: {e}"[:500]}
        out.write(json.dumps(res) + "\n")
        out.flush()


if __name__ == "__main__":  # pragma: no cover
    _serve()
