"""The sampling-backend interface shared by the transformers and vLLM backends.

A backend turns prompts (already-formatted text) into completions:
``generate(prompts, n, temperature, top_p, max_new_tokens, seed) -> [prompt][sample] Completion``.

Conventions (both backends):
- ``temperature == 0`` means greedy decoding (``n`` identical samples are still returned).
- ``logprob_sum`` is ``sum_t log pi'(y_t | x, y_<t)`` over the generated tokens (eos included when it
  was produced), where ``pi'`` is the distribution *actually sampled from*: the model's softmax at
  temperature ``T`` (logits / T) restricted to the top-p nucleus and renormalised (Holtzman et al.
  2020). At ``T = 1, top_p = 1`` this is the raw model log-likelihood; greedy gives 0 per token.
- ``finish_reason`` is ``"stop"`` when the model emitted its eos token, ``"length"`` when
  ``max_new_tokens`` was reached first, and ``"stop_string"`` when a backend with ``supports_stop = True`` was
  given ``stop=[...]`` strings and stopped at one: vLLM's ``stop`` + ``include_stop_str_in_output=True``, i.e. the
  text ends right after the first stop string and ``n_tokens`` counts every generated token.
- Seeds: ``seeds[i][j]`` (optional) is the seed of sample j of prompt i. A sample's randomness comes
  only from its own seed, so the same (prompt, seed) gives the same completion whatever else is in
  the batch (up to floating-point differences of batched kernels, see each backend). Without
  ``seeds``, ``seed`` derives them as :func:`derive_seed` ``(seed, str(i), j)``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass
class Completion:
    """One sampled completion."""

    text: str
    n_tokens: int
    finish_reason: str  # "stop" (eos) | "length" | "stop_string"
    logprob_sum: float
    token_ids: list[int] | None = None  # the generated token ids (eos included when produced)


@runtime_checkable
class Backend(Protocol):
    name: str

    def generate(self, prompts: list[str], n: int, temperature: float, top_p: float, max_new_tokens: int,
                 seed: int, seeds: list[list[int]] | None = None) -> list[list[Completion]]:
        ...


class BackendError(RuntimeError):
    """A backend cannot be built or used (missing package, bad argument)."""


def derive_seed(seed: int, key: str, sample_idx: int) -> int:
    """A 63-bit seed from (run seed, problem key, sample index): stable across processes and runs
    (sha256, not Python's salted ``hash``), so a resumed run draws the same samples."""
    h = hashlib.sha256(f"{int(seed)}|{key}|{int(sample_idx)}".encode()).digest()
    return int.from_bytes(h[:8], "little") & ((1 << 63) - 1)


def check_sampling_args(prompts, n: int, temperature: float, top_p: float, max_new_tokens: int,
                        seeds: list[list[int]] | None) -> None:
    """One clear error per bad argument."""
    if not isinstance(prompts, (list, tuple)) or not all(isinstance(p, str) for p in prompts):
        raise BackendError("prompts must be a list of strings")
    if n < 1:
        raise BackendError(f"n must be >= 1, got {n}")
    if temperature < 0:
        raise BackendError(f"temperature must be >= 0 (0 = greedy), got {temperature}")
    if not 0 < top_p <= 1:
        raise BackendError(f"top_p must be in (0, 1], got {top_p}")
    if max_new_tokens < 1:
        raise BackendError(f"max_new_tokens must be >= 1, got {max_new_tokens}")
    if seeds is not None:
        if len(seeds) != len(prompts) or any(len(s) != n for s in seeds):
            raise BackendError(f"seeds must be a list of {len(prompts)} lists of {n} ints")


def all_seeds(n_prompts: int, n: int, seed: int, seeds: list[list[int]] | None) -> list[list[int]]:
    if seeds is not None:
        return [[int(s) for s in row] for row in seeds]
    return [[derive_seed(seed, str(i), j) for j in range(n)] for i in range(n_prompts)]
