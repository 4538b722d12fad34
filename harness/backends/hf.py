"""transformers backend: batched decoding with left padding and the KV cache.

By default decoding runs in the backend's own loop (:mod:`harness.backends.hf_decode`), which drops finished
rows from the batch instead of decoding every row until the longest one stops; ``compact_rows: false`` (a
``backend_options`` entry) uses ``model.generate`` instead. Both give the same tokens for the same seeds.

Sampling is per row in both paths (:mod:`harness.backends.row_sampler`): each sample has its own seed and its
noise at step t for token v is a hash of (seed, t, v), drawn on the device by the Gumbel-max trick, so the same
(prompt, seed) gives the same completion whatever else shares the batch, which makes resumed runs reproduce
uninterrupted ones, and nothing is copied to the host per step beyond the drawn tokens. In the ``generate``
path the sampler is a logits processor: ``generate`` runs in greedy mode and the processor returns a one-hot
score row (0 on the drawn token, -inf elsewhere), so ``generate``'s argmax picks the drawn token and its own
global RNG is never used.

Per step and row the sampler computes, in float32,
    log pi'(.) = log_softmax(logits / T) restricted to the top-p nucleus and renormalised
(nucleus: the smallest set of most likely tokens whose probability reaches ``top_p``; Holtzman et al.
2020), draws y ~ pi' and records log pi'(y). ``logprob_sum`` is therefore the log-probability under
the tempered, nucleus-truncated distribution that was sampled, not under the raw model (they coincide
at T = 1, top_p = 1). ``T = 0`` is greedy (argmax of the raw logits, log-prob 0 per token).

Known limit: batched kernels with different amounts of left padding can change logits in the last
bits (bf16 especially), so a sample regenerated in a differently composed batch can, rarely, diverge.

dtype ``"auto"``: bfloat16 on CUDA devices that support it (float16 on older ones) and on CPUs with
native bf16 (AVX512-BF16/AMX: about 2x faster than float32 for SmolLM2); float32 on other CPUs, where
bf16 is emulated and was 3x slower than float32 (AVX2-only AMD EPYC: 22 vs 66 tok/s).
"""

from __future__ import annotations

import time

from harness.backends.base import BackendError, Completion, all_seeds, check_sampling_args
from harness.backends.row_sampler import GumbelRowSampler

_DTYPES = ("auto", "bfloat16", "float16", "float32")
#: extra keyword options (SampleConfig.backend_options)
HF_OPTIONS = ("merge_adapter", "trust_remote_code", "share_prompt_prefill", "compact_rows")


def _pick_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def _pick_dtype(dtype: str, device: str):
    import torch

    if dtype not in _DTYPES:
        raise BackendError(f"dtype {dtype!r} is not allowed; allowed values: {', '.join(_DTYPES)}")
    if dtype == "auto":
        if device.startswith("cuda"):
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.bfloat16 if cpu_has_fast_bf16() else torch.float32
    return getattr(torch, dtype)


def cpu_has_fast_bf16() -> bool:
    """True where the CPU computes bf16 natively (AVX512-BF16 / AMX, oneDNN bf16 path). Measured here:
    on an AVX2-only AMD EPYC, bf16 generate ran at 22 tok/s vs 66 tok/s in float32 (SmolLM2, batch 16)
    -- emulated bf16 is 3x slower -- while on a host with native bf16 it was about 2x faster than fp32."""
    import torch

    try:
        if torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported():
            return True
    except AttributeError:
        pass
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


class HFBackend:
    """Backend on transformers ``generate`` (see module docstring for the conventions)."""

    name = "hf"
    supports_stop = True  #: generate(..., stop=[...]) stops rows at stop strings (harness.backends.stop_strings)

    def __init__(self, model: str, dtype: str = "auto", device: str = "auto", adapter: str | None = None,
                 batch_size: int = 16, merge_adapter: bool = True, trust_remote_code: bool = False,
                 share_prompt_prefill: bool = True, compact_rows: bool = True):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if batch_size < 1:
            raise BackendError(f"batch_size must be >= 1, got {batch_size}")
        self.model_name = model
        self.device = _pick_device(device)
        self.dtype = _pick_dtype(dtype, self.device)
        self.batch_size = int(batch_size)
        self.share_prompt_prefill = bool(share_prompt_prefill)
        self.compact_rows = bool(compact_rows)
        self.tokenizer = AutoTokenizer.from_pretrained(model, trust_remote_code=trust_remote_code)
        self.tokenizer.padding_side = "left"
        self.model = AutoModelForCausalLM.from_pretrained(model, dtype=self.dtype,
                                                          trust_remote_code=trust_remote_code)
        if adapter:
            from peft import PeftModel

            self.model = PeftModel.from_pretrained(self.model, adapter)
            if merge_adapter:  # W + BA folded into W: same function, no per-token LoRA overhead
                self.model = self.model.merge_and_unload()
        self.adapter = adapter
        self.model.to(self.device).eval()
        gc = self.model.generation_config
        eos = gc.eos_token_id if gc.eos_token_id is not None else self.tokenizer.eos_token_id
        if eos is None:
            raise BackendError(f"{model}: neither the generation config nor the tokenizer names an eos token")
        self.eos_ids = set(eos if isinstance(eos, (list, tuple)) else [eos])
        pad = self.tokenizer.pad_token_id
        if pad is None:
            pad = gc.pad_token_id if gc.pad_token_id is not None else sorted(self.eos_ids)[0]
            self.tokenizer.pad_token_id = pad
        self.pad_id = int(pad)
        self._torch = torch
        self.last_stats: dict = {}
        self._row_stats: dict = {}

    # ------------------------------------------------------------------
    def _encode(self, texts: list[str]):
        bos = self.tokenizer.bos_token
        add_special = not (bos and all(t.startswith(bos) for t in texts))
        return self.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=add_special)

    def _shared_prefill(self, texts: list[str]):
        """Prefill every distinct prompt once and copy its KV cache to the rows that repeat it.

        The n samples of one problem share their prompt: the prompt minus its last token is run once
        per distinct prompt (left padded, position ids = cumsum(mask) - 1 as ``generate`` uses), the
        cache rows are gathered to the batch's rows, and ``generate`` continues from that cache with
        the full prompts (it then feeds only the last prompt token). Same computation as prefilling
        every row, less of it: a batch of n samples of each problem prefills each prompt once, not n times.
        """
        torch = self._torch
        uniq = list(dict.fromkeys(texts))
        rows = torch.tensor([uniq.index(t) for t in texts])
        u = self._encode(uniq).to(self.device)
        ids, mask = u["input_ids"], u["attention_mask"]
        pos = (mask.long().cumsum(-1) - 1).masked_fill(mask == 0, 0)
        with torch.inference_mode():
            out = self.model(input_ids=ids[:, :-1], attention_mask=mask[:, :-1], position_ids=pos[:, :-1],
                             use_cache=True, logits_to_keep=1)
        cache = out.past_key_values
        for layer in cache.layers:
            layer.batch_select_indices(rows.to(self.device))
        return {"input_ids": ids[rows], "attention_mask": mask[rows]}, {"past_key_values": cache}

    def _generate_rows(self, texts: list[str], seeds: list[int], temperature: float, top_p: float,
                       max_new_tokens: int, stop: list[str] | None = None) -> list[Completion]:
        torch = self._torch
        from transformers import GenerationConfig, LogitsProcessorList, StoppingCriteriaList

        from harness.backends.stop_strings import StopStrings, stop_string_criteria

        watch = StopStrings(self.tokenizer, stop) if stop else None

        enc = self._encode(texts).to(self.device)
        prefix_kw = {}
        if self.share_prompt_prefill and len(set(texts)) < len(texts) and enc["input_ids"].shape[1] > 1:
            enc, prefix_kw = self._shared_prefill(texts)
        if self.compact_rows:
            return self._decode_compacting(enc, prefix_kw, seeds, temperature, top_p, max_new_tokens, watch)
        sampler = GumbelRowSampler(seeds, temperature, top_p, self.eos_ids, self.pad_id, self.device)
        gcfg = GenerationConfig(max_new_tokens=max_new_tokens, do_sample=False, use_cache=True,
                                eos_token_id=sorted(self.eos_ids), pad_token_id=self.pad_id)
        crit = stop_string_criteria(watch, enc["input_ids"].shape[1], self.eos_ids) if watch else None
        with torch.inference_mode():
            out = self.model.generate(**enc, **prefix_kw, generation_config=gcfg,
                                      logits_processor=LogitsProcessorList([sampler]),
                                      stopping_criteria=StoppingCriteriaList([crit] if crit else []))
        gen = out[:, enc["input_ids"].shape[1]:].cpu()
        steps = sampler.logprobs()
        tokens, lps, finishes = [], [], []
        for i in range(len(texts)):
            row = gen[i].tolist()
            n_tok, finish = len(row), "length"
            for t, tok in enumerate(row):
                if tok in self.eos_ids:
                    n_tok, finish = t + 1, "stop"
                    break
            if crit is not None and i in crit.hit_at and crit.hit_at[i] <= n_tok:
                n_tok, finish = crit.hit_at[i], "stop_string"
            if finish == "length":
                n_tok = min(n_tok, max_new_tokens)
            tokens.append(row[:n_tok])
            lps.append(float(steps[:n_tok, i].sum()) if n_tok else 0.0)
            finishes.append(finish)
        return self._completions(tokens, lps, finishes, watch)

    def _decode_compacting(self, enc, prefix_kw, seeds, temperature, top_p, max_new_tokens,
                           watch=None) -> list[Completion]:
        from harness.backends.hf_decode import decode_compacting
        from harness.backends.row_sampler import seed_tensor

        tokens, lps, finishes, stats = decode_compacting(
            self.model, enc["input_ids"], enc["attention_mask"], seed_tensor(seeds), temperature, top_p, max_new_tokens,
            self.eos_ids, self.pad_id, prefix_cache=prefix_kw.get("past_key_values"),
            on_step=getattr(self, "on_tokens", None), stop_strings=watch)
        for k, v in stats.items():
            self._row_stats[k] = self._row_stats.get(k, 0) + v
        return self._completions(tokens, lps, finishes, watch)

    def _completions(self, tokens, lps, finishes, watch=None) -> list[Completion]:
        out = []
        for t, lp, f in zip(tokens, lps, finishes):
            text = self.tokenizer.decode(t, skip_special_tokens=True, clean_up_tokenization_spaces=False)
            if f == "stop_string":  # vLLM's include_stop_str_in_output: the text ends after the stop string
                text = watch.truncate(text)[0]
            out.append(Completion(text=text, n_tokens=len(t), finish_reason=f, logprob_sum=float(lp),
                                  token_ids=list(t)))
        return out

    def resolved(self) -> dict:
        """What ``dtype: auto``/``device: auto`` became here, and the thread count (bf16 draws on CPU depend on
        it, docs/harness_benchmarks.md): recorded in the store's run.json by the sampling pipeline."""
        import torch

        return {"backend": self.name, "device": str(self.device), "dtype": str(self.dtype).removeprefix("torch."),
                "threads": int(torch.get_num_threads()), "torch": torch.__version__}

    def generate(self, prompts: list[str], n: int, temperature: float, top_p: float, max_new_tokens: int,
                 seed: int, seeds: list[list[int]] | None = None,
                 stop: list[str] | None = None) -> list[list[Completion]]:
        """``[prompt][sample]`` completions; rows (prompt x sample) run in chunks of ``batch_size``. ``stop``: stop
        strings (vLLM's semantics, :mod:`harness.backends.stop_strings`; finish ``"stop_string"``)."""
        check_sampling_args(prompts, n, temperature, top_p, max_new_tokens, seeds)
        seeds = all_seeds(len(prompts), n, seed, seeds)
        rows = [(i, j) for i in range(len(prompts)) for j in range(n)]
        out: list[list[Completion | None]] = [[None] * n for _ in prompts]
        t0, n_tokens = time.perf_counter(), 0
        self._row_stats: dict = {}
        for start in range(0, len(rows), self.batch_size):
            chunk = rows[start:start + self.batch_size]
            comps = self._generate_rows([prompts[i] for i, _ in chunk], [seeds[i][j] for i, j in chunk],
                                        temperature, top_p, max_new_tokens, stop)
            for (i, j), c in zip(chunk, comps):
                out[i][j] = c
                n_tokens += c.n_tokens
        self.last_stats = {"seconds": time.perf_counter() - t0, "new_tokens": n_tokens, "rows": len(rows),
                           **self._row_stats}
        return out  # type: ignore[return-value]
