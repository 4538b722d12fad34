"""The step engine of the step-level selectors on a vLLM ``LLM``: stop at the separator, M candidates per prefix
as ONE request with ``n = M``, prefix caching on.

:class:`VLLMStepEngine` is a :class:`harness.select.steps.StepSampler` (same ``next_steps`` / ``complete`` /
``at_limit`` / ``generated_tokens``, same step bookkeeping) whose decoding is one ``llm.generate(prompts,
[SamplingParams per prompt], use_tqdm=False, lora_request=...)`` call per step, with, for a proposed step,

    SamplingParams(n=M, temperature=T, top_p=p, max_tokens=cap, seed=s_i, stop=[sep],
                   include_stop_str_in_output=True, skip_special_tokens=True)

(vLLM's API: docs.vllm.ai, "Sampling Parameters"; ``LLM.generate``). The M samples of one prefix share the
prompt's KV blocks through automatic prefix caching (``LLM(..., enable_prefix_caching=True)``, which
:meth:`from_backend` checks and which :mod:`harness.select.runner` sets for ``backend: vllm``), and so do the
steps of one walk (``prompt + prefix`` grows by a step; its leading blocks are cached). Each ``RequestOutput``
holds ``outputs[k]`` (``CompletionOutput``: ``text``, ``token_ids``, ``finish_reason`` "stop" | "length",
``stop_reason`` = the matched stop string, ``None`` for eos), mapped to the backends' ``Completion``:
finish ``"stop_string"`` when ``stop_reason`` is a string, ``"stop"`` (eos) when finish is "stop" without one,
``"length"`` otherwise; ``n_tokens = len(token_ids)`` (every generated token, also the last one that may decode
past the separator).

Seeds: one per request, ``derive_seed(seed, key|i, 0)``: the M samples of a request come from vLLM's per-request
generator, so a rerun reproduces them (up to batched-kernel numerics); the transformers engine seeds every row
instead, so the two engines draw different (equally distributed) steps from the same seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.backends.base import BackendError, Completion, derive_seed

from .steps import StepSampler


def completion_from_vllm(c) -> Completion:
    """A vLLM ``CompletionOutput`` as a backend ``Completion`` (module docstring)."""
    ids = list(c.token_ids)
    if c.finish_reason == "length":
        finish = "length"
    elif isinstance(getattr(c, "stop_reason", None), str):
        finish = "stop_string"
    else:
        finish = "stop"
    return Completion(text=c.text, n_tokens=len(ids), finish_reason=finish,
                      logprob_sum=float(getattr(c, "cumulative_logprob", None) or 0.0), token_ids=ids)


def _sampling_params_cls():
    try:
        from vllm import SamplingParams
    except ImportError as e:
        raise BackendError(f"the vLLM step engine needs the vllm package (docs/vllm.md): {e}") from None
    return SamplingParams


@dataclass
class VLLMStepEngine(StepSampler):
    """``StepSampler`` on ``llm`` (a ``vllm.LLM`` or anything with its ``generate``); ``params_cls``: the
    ``SamplingParams`` class (``None``: vLLM's; tests pass a stand-in)."""

    llm: object = None
    lora_request: object = None
    params_cls: object = None
    requests: int = field(default=0)   #: requests sent (prefixes x calls), for the benchmark

    def __post_init__(self):
        if self.llm is None:
            raise BackendError("VLLMStepEngine needs an llm (vllm.LLM)")
        if self.params_cls is None:
            self.params_cls = _sampling_params_cls()

    @classmethod
    def from_backend(cls, backend, **kw) -> VLLMStepEngine:
        """The engine on a :class:`harness.backends.vllm_backend.VLLMBackend`'s ``LLM`` (and its LoRA adapter)."""
        cfg = getattr(getattr(backend.llm, "llm_engine", None), "cache_config", None)
        if cfg is not None and not getattr(cfg, "enable_prefix_caching", True):
            raise BackendError("the vLLM step engine wants prefix caching: build the backend with "
                               "backend_options: {enable_prefix_caching: true}")
        return cls(backend=backend, llm=backend.llm, lora_request=backend.lora_request, **kw)

    def can_stop(self) -> bool:
        return self.stop_at_sep

    def _gen(self, prompts: list[str], m: int, max_tokens: int, key: str, stop: list[str] | None = None):
        extra = {"stop": list(stop), "include_stop_str_in_output": True} if stop else {}
        params = [self.params_cls(n=m, temperature=self.temperature, top_p=self.top_p,
                                  max_tokens=max(1, max_tokens), seed=derive_seed(self.seed, f"{key}|{i}", 0),
                                  skip_special_tokens=True, **extra)
                  for i in range(len(prompts))]
        outs = self.llm.generate(prompts, params, use_tqdm=False, lora_request=self.lora_request)
        if len(outs) != len(prompts) or any(len(o.outputs) != m for o in outs):
            raise BackendError(f"vLLM returned {len(outs)} requests for {len(prompts)} prompts (n = {m} each)")
        rows = [[completion_from_vllm(c) for c in sorted(o.outputs, key=lambda c: c.index)] for o in outs]
        self.requests += len(prompts)
        self.generated_tokens += sum(c.n_tokens for row in rows for c in row)
        return rows
