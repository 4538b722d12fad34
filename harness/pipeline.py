"""The sampling pipeline: problems -> prompts -> n samples each -> grades -> the resumable sample store.

``run_sampling(cfg, run_dir=None, step=0, adapter=None, allow_mixed=False, progress=True) -> dict``

1. opens the run's :class:`~harness.store.SampleStore` (refusing a different config hash unless
   ``allow_mixed``) and lists the finished ``(problem_id, sample_idx)`` of ``step``;
2. loads the problems (:func:`harness.data.load_problems`) and the work still missing: for every
   problem the sample indices in ``range(n)`` not yet stored (nothing is loaded when nothing is missing);
3. builds the prompts (:func:`harness.data.build_prompt`, same template for base and post-trained
   models), generates the missing samples in batches of ``batch_size`` rows, each with its own seed
   ``derive_seed(seed, problem.seed_key, sample_idx)`` (the key is the scheme-1 id, harness/data/ids.py, so both id
   schemes draw the same samples; a resumed run draws the same samples as an uninterrupted one, see
   :mod:`harness.backends.base` for the limits), grades them
   (:func:`harness.grading.grade_many`) and writes every batch as one atomic part file;
4. shows a tqdm bar (problems complete, samples/s, new tokens/s) and returns a summary.

The config hash covers every field that changes what a sample is (model, decoding, prompt template,
benchmark, seed, dtype, adapter named in the config ...), not the ones that only choose how much is
done or how (``out``, ``limit``, ``offset``, ``n``, ``batch_size``, ``device``, grading workers): a run
can be extended to more problems or more samples per problem with the same command and a larger
``limit`` / ``n``. An ``adapter`` passed as an argument (a training checkpoint, evaluated at its own
``step``) is recorded per row in the extra column ``adapter``.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from tmc_core.config import ConfigError, check_literals, config_hash, doc, to_dict

HASH_EXCLUDE = ("out", "limit", "offset", "n", "batch_size", "device", "grading_workers")


@dataclass
class SampleConfig:
    """What to sample: model x benchmark x decoding settings, and where to keep the samples."""

    model: str = field(default="smollm2", metadata=doc(
        "model: 'smollm2'/'default' (the offline SmolLM2-135M-Instruct, prepared on first use), a local "
        "transformers folder, or a hub id"))
    backend: Literal["hf", "vllm"] = field(default="hf", metadata=doc(
        "sampling backend: hf = transformers generate (batched, left padding, KV cache); vllm = vLLM engine"))
    benchmark: Literal["gsm8k", "math"] = field(default="gsm8k", metadata=doc("benchmark"))
    split: Literal["train", "test"] = field(default="test", metadata=doc("data split"))
    source: str | None = field(default=None, metadata=doc(
        "data source: null = ../shared/data/<benchmark>/<split>.jsonl (env TMC_DATA_DIR overrides the "
        "folder), a local .jsonl path, a hub dataset id (e.g. openai/gsm8k, HuggingFaceH4/MATH-500), or 'hub'"))
    limit: int | None = field(default=None, metadata=doc("number of problems (null = all)"))
    offset: int = field(default=0, metadata=doc("skip this many problems first"))
    template: Literal["chat", "completion"] = field(default="chat", metadata=doc(
        "prompt template: chat = zero-shot user turn through the tokenizer's chat template (instruct "
        "models); completion = plain 'Question: ... Answer:' text (base models). Base and post-trained "
        "models of one comparison must use the same template"))
    n: int = field(default=8, metadata=doc("samples per problem (pass@k is estimated for every k <= n)"))
    temperature: float = field(default=1.0, metadata=doc(
        "sampling temperature (0 = greedy). pass@k of the paper's Sec. 5 compares the base and the "
        "post-trained policy sampled at the same temperature"))
    top_p: float = field(default=1.0, metadata=doc("nucleus sampling mass (1.0 = off)"))
    max_new_tokens: int = field(default=512, metadata=doc(
        "cap on generated tokens; a sample that hits it has finish_reason 'length'"))
    seed: int = field(default=0, metadata=doc(
        "run seed; sample j of problem p uses derive_seed(seed, p, j) (sha256), independent of batching"))
    batch_size: int = field(default=16, metadata=doc(
        "rows (prompt x sample) per generate call and per stored part file"))
    dtype: Literal["auto", "bfloat16", "float16", "float32"] = field(default="auto", metadata=doc(
        "weights dtype: auto = bfloat16 on bf16-capable GPUs and CPUs with native bf16 (AVX512-BF16/AMX), "
        "float16 on older GPUs, float32 on other CPUs (emulated bf16 is 3x slower there)"))
    device: str = field(default="auto", metadata=doc("hf backend device: auto, cpu, cuda, cuda:1 ..."))
    adapter: str | None = field(default=None, metadata=doc(
        "optional PEFT LoRA adapter folder applied on top of the model (hf: merged; vllm: LoRARequest)"))
    grading_timeout_s: float = field(default=5.0, metadata=doc(
        "per-answer grading time limit (MATH / math-verify); over it the sample is stored as 'timeout'"))
    grading_workers: int = field(default=1, metadata=doc("MATH grading worker processes"))
    flexible_on_truncated: bool = field(default=False, metadata=doc(
        "GSM8K: let the flexible last-number fallback grade completions cut at max_new_tokens too (lm-eval "
        "flexible-extract does). Default false: a cut completion has not stated its answer, so only an explicit "
        "'#### N' or \\boxed{} in it counts; otherwise grade_status 'truncated' (harness.grading.truncation_rule)"))
    backend_options: dict[str, Any] = field(default_factory=dict, metadata=doc(
        "extra keyword arguments for the backend (hf: compact_rows [true: drop finished rows from the batch; "
        "false: plain model.generate], share_prompt_prefill, merge_adapter, trust_remote_code; vllm: max_model_len, "
        "gpu_memory_utilization, enforce_eager, max_lora_rank ...)"))
    out: str = field(default="outputs/samples/run", metadata=doc("run folder of the sample store"))

    def __post_init__(self):
        check_literals(self)
        for name, lo in (("n", 1), ("max_new_tokens", 1), ("batch_size", 1), ("offset", 0),
                         ("grading_workers", 1)):
            if getattr(self, name) < lo:
                raise ConfigError(f"{name}: must be >= {lo}, got {getattr(self, name)}")
        if self.limit is not None and self.limit < 0:
            raise ConfigError(f"limit: must be >= 0 or null, got {self.limit}")
        if self.temperature < 0:
            raise ConfigError(f"temperature: must be >= 0 (0 = greedy), got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ConfigError(f"top_p: must be in (0, 1], got {self.top_p}")

    def hash(self) -> str:
        return config_hash(self, exclude=HASH_EXCLUDE)


def _cuda_available() -> bool:
    try:
        import torch

        return bool(torch.cuda.is_available())
    except ImportError:
        return False


def _work(problems, done: dict[str, set[int]], n: int) -> list[tuple[int, int]]:
    """(problem index, sample index) of every sample still missing, in problem order."""
    return [(i, j) for i, p in enumerate(problems) for j in range(n) if j not in done.get(p.id, ())]


def run_sampling(cfg: SampleConfig, run_dir: str | Path | None = None, step: int = 0, adapter: str | None = None,
                 allow_mixed: bool = False, progress: bool = True, backend=None, announce=None) -> dict:
    """Sample, grade and store what is missing for ``cfg`` (see module docstring); return a summary.

    ``backend``: an already built backend to reuse (its model must be ``cfg.model``); else one is built
    with :func:`harness.backends.make_backend` when there is work to do. ``announce``: where the job's size and
    time estimate go before sampling starts (default: printed when ``progress``; harness/run_size.py).
    """
    from harness.data import build_prompt, load_problems
    from harness.grading import grade_many
    from harness.store import SampleStore

    t_start = time.perf_counter()
    run_dir = Path(run_dir if run_dir is not None else cfg.out)
    chash = cfg.hash()
    store = SampleStore.open(run_dir, config=to_dict(cfg), config_hash=chash, allow_mixed=allow_mixed)
    # ids in the store's scheme (harness/data/ids.py): a resumed older run keeps its scheme-1 ids
    problems = load_problems(cfg.benchmark, split=cfg.split, source=cfg.source, limit=cfg.limit, offset=cfg.offset,
                             id_scheme=store.id_scheme)
    done = store.done(step=step)
    work = _work(problems, done, cfg.n)
    summary: dict[str, Any] = {
        "run_dir": str(run_dir), "run_id": store.run_id, "config_hash": chash, "step": step,
        "id_scheme": store.id_scheme,
        "n_problems": len(problems), "n": cfg.n, "skipped_samples": len(problems) * cfg.n - len(work),
        "new_samples": 0, "new_tokens": 0, "new_correct": 0, "generate_s": 0.0, "grade_s": 0.0, "store_s": 0.0,
        "setup_s": 0.0, "seconds": 0.0,
    }
    if announce is None and progress:
        announce = print
    if announce:
        from harness.run_size import size_line

        on_gpu = cfg.backend == "vllm" or str(cfg.device).startswith("cuda") or (
            cfg.device == "auto" and _cuda_available())
        announce(f"{run_dir}: " + size_line(len(problems), cfg.n, len(work), cfg.max_new_tokens, on_gpu=on_gpu))
    if not work:
        summary["seconds"] = time.perf_counter() - t_start
        return summary

    from harness.backends import derive_seed, make_backend

    adapter = adapter or cfg.adapter
    if backend is None:
        backend = make_backend(cfg.backend, cfg.model, dtype=cfg.dtype, device=cfg.device, adapter=adapter,
                               batch_size=cfg.batch_size, **cfg.backend_options)
    if hasattr(backend, "resolved"):
        info = backend.resolved()
        summary["resolved"] = info
        for e in store.record_resolved(info, step):
            print(f"warning: {store.meta_path}: earlier samples (steps {e['steps']}) were drawn in {e.get('dtype')} on "
                  f"{e.get('device')}, these in {info.get('dtype')} on {info.get('device')}; pass@k then mixes "
                  f"precisions (set dtype explicitly to keep one)", file=sys.stderr)
    tokenizer = getattr(backend, "tokenizer", None)
    prompts: dict[int, str] = {}
    missing_per_problem: dict[int, int] = {}
    for i, _ in work:
        if i not in prompts:
            prompts[i] = build_prompt(problems[i], cfg.template, tokenizer)
        missing_per_problem[i] = missing_per_problem.get(i, 0) + 1
    summary["setup_s"] = time.perf_counter() - t_start

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(problems), initial=len(problems) - len(missing_per_problem), unit="problem",
                   desc=f"sample {run_dir.name}" + (f" step {step}" if step else ""), dynamic_ncols=True)
    t_loop = time.perf_counter()
    if bar is not None and hasattr(backend, "generate"):
        # inside a batch (tens of seconds on a CPU) the bar still moves: new tokens of the running batch
        def _on_tokens(n_new: int) -> None:
            el = time.perf_counter() - t_loop
            bar.set_postfix_str(f"batch: {n_new} tokens so far; {(summary['new_tokens'] + n_new) / el:.1f} tok/s",
                                refresh=True)

        backend.on_tokens = _on_tokens
    try:
        for start in range(0, len(work), cfg.batch_size):
            chunk = work[start:start + cfg.batch_size]
            seeds = [derive_seed(cfg.seed, problems[i].seed_key, j) for i, j in chunk]
            t0 = time.perf_counter()
            comps = backend.generate([prompts[i] for i, _ in chunk], n=1, temperature=cfg.temperature,
                                     top_p=cfg.top_p, max_new_tokens=cfg.max_new_tokens, seed=cfg.seed,
                                     seeds=[[s] for s in seeds])
            t1 = time.perf_counter()
            texts = [c[0].text for c in comps]
            grades = grade_many(cfg.benchmark, texts, [problems[i].answer for i, _ in chunk],
                                timeout_s=cfg.grading_timeout_s, workers=cfg.grading_workers,
                                truncated=[c[0].finish_reason == "length" for c in comps],
                                flexible_on_truncated=cfg.flexible_on_truncated)
            t2 = time.perf_counter()
            rows = []
            for (i, j), s, c, g in zip(chunk, seeds, comps, grades):
                p, c = problems[i], c[0]
                rows.append({
                    "problem_id": p.id, "sample_idx": j, "prompt": prompts[i], "completion": c.text,
                    "extracted": g.extracted, "correct": bool(g.correct), "grade_status": g.status,
                    "grade_rule": g.rule, "n_tokens": c.n_tokens, "logprob_sum": c.logprob_sum,
                    "finish_reason": c.finish_reason,
                    "model": cfg.model, "temperature": cfg.temperature, "top_p": cfg.top_p,
                    "max_new_tokens": cfg.max_new_tokens, "seed": s, "config_hash": chash, "step": step,
                    "benchmark": p.benchmark, "level": p.level, "subject": p.subject, "adapter": adapter,
                })
            store.write_batch(rows)
            t3 = time.perf_counter()
            summary["generate_s"] += t1 - t0
            summary["grade_s"] += t2 - t1
            summary["store_s"] += t3 - t2
            summary["new_samples"] += len(rows)
            summary["new_tokens"] += sum(r["n_tokens"] for r in rows)
            summary["new_correct"] += sum(r["correct"] for r in rows)
            finished = 0
            for i, _ in chunk:
                missing_per_problem[i] -= 1
                finished += missing_per_problem[i] == 0
            if bar is not None:
                el = time.perf_counter() - t_loop
                bar.set_postfix_str(f"{summary['new_samples'] / el:.2f} samples/s, "
                                    f"{summary['new_tokens'] / el:.1f} tok/s", refresh=False)
                bar.update(finished)
    finally:
        if bar is not None:
            bar.close()
            if getattr(backend, "on_tokens", None) is not None:
                backend.on_tokens = None
    loop = time.perf_counter() - t_loop
    summary["loop_s"] = loop
    summary["seconds"] = time.perf_counter() - t_start
    summary["samples_per_s"] = summary["new_samples"] / loop if loop > 0 else 0.0
    summary["tokens_per_s"] = summary["new_tokens"] / loop if loop > 0 else 0.0
    return summary
