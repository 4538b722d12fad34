"""The size of a sampling job and a rough time estimate, printed before it starts (``tmc sample``, ``tmc main``).

Size = problems x samples per problem, and the cap on new tokens (samples x ``max_new_tokens``). The estimate
divides the token cap by a CPU rate measured for SmolLM2-135M-Instruct in float32 with the ``hf`` backend
(``CPU_TOK_S_PER_THREAD`` tokens/s per torch thread at batch 16, idle machine; docs/harness_benchmarks.md measured
~60 tok/s on 2 cores), so it is an upper bound for that model on an idle CPU: completions that stop early take
less, a loaded machine or a larger model takes more. On a GPU no estimate is given (the progress bar shows the live
rate and time left).
"""

from __future__ import annotations

import os

CPU_TOK_S_PER_THREAD = 30.0


def cpu_threads() -> int:
    """torch's intra-op thread count if torch is imported, else the number of usable cores."""
    import sys

    torch = sys.modules.get("torch")
    if torch is not None:
        return max(1, int(torch.get_num_threads()))
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def estimate_seconds(n_samples: int, max_new_tokens: int, threads: int | None = None) -> float:
    """Upper-bound seconds to draw ``n_samples`` completions of at most ``max_new_tokens`` on a CPU."""
    rate = CPU_TOK_S_PER_THREAD * (threads or cpu_threads())
    return n_samples * max_new_tokens / rate


def _minutes(s: float) -> str:
    return f"{s:.0f} s" if s < 90 else f"{s / 60:.0f} min" if s < 5400 else f"{s / 3600:.1f} h"


def size_line(n_problems: int, n: int, todo: int, max_new_tokens: int, on_gpu: bool = False,
              threads: int | None = None) -> str:
    """One line: how big the job is and how long it may take, e.g. for 1319 problems x 8 samples."""
    total = n_problems * n
    head = (f"size: {n_problems} problems x {n} samples = {total} samples ({todo} to draw, {total - todo} already "
            f"stored), at most {todo * max_new_tokens:,} new tokens")
    if todo == 0:
        return head
    if on_gpu:
        return head + "; on a GPU: the progress bar shows the rate and time left"
    t = threads or cpu_threads()
    est = estimate_seconds(todo, max_new_tokens, t)
    warn = " -- a large run: lower limit / n / max_new_tokens (--set) for a quick look" if est > 1800 else ""
    threads_s = f"{t} torch thread{'s' if t > 1 else ''}"
    return (head + f"; expected at most ~{_minutes(est)} on this CPU ({threads_s}, at ~{CPU_TOK_S_PER_THREAD * t:.0f} "
            f"tok/s for SmolLM2-135M in float32; a larger model or a loaded machine is slower){warn}")
