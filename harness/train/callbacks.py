"""Training-time bookkeeping: completions into the sample store, metrics into metrics.jsonl.

``CompletionRecorder`` writes every training-time completion with its ``step`` (the number of optimizer
updates of the policy that generated it) to H3's ``SampleStore`` at ``<output_dir>/train_samples`` — one
atomic part file per generation batch — with the grader's ``extracted``/``correct``/``grade_status``.
``sample_idx`` counts a problem's completions within a step (0..G-1, then G.. if the problem is drawn again,
e.g. by RL-rej refill). Resume: steps already in the store when the process starts are not written again
(HF Trainer restores the RNG state from the checkpoint, so the resumed run regenerates the same completions).

``MetricsJSONL`` appends every ``logs`` dict with its step to ``<output_dir>/metrics.jsonl``; on resume it
first drops the lines logged after the checkpoint step, so nothing is duplicated. The logged keys include
TRL's ``reward``, ``kl``, ``entropy``, ``frac_reward_zero_std`` (fraction of zero-variance groups),
``num_tokens`` and ours: ``tokens_per_s`` (completion tokens / generation+scoring time), ``rej/frac_rejected``,
``rej/unfilled`` (rl_rej) and ``ppo/value_loss`` (ppo). TensorBoard / W&B get the same dict through HF's
``report_to`` callbacks.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from transformers import TrainerCallback


class CompletionRecorder:
    def __init__(self, run_dir: str | Path, config: dict, config_hash: str, reward_fn, model_name: str,
                 temperature: float, top_p: float, max_new_tokens: int, seed: int):
        from harness.store import SampleStore

        self.store = SampleStore.open(run_dir, config, config_hash, allow_mixed=True)
        self.preexisting = set(self.store.steps())
        self.reward_fn = reward_fn
        self.meta = {"model": model_name, "temperature": temperature, "top_p": top_p,
                     "max_new_tokens": max_new_tokens, "seed": seed}
        self._counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.rows_written = 0

    def record(self, step: int, inputs: list[dict], completions: list, completion_ids: list, rewards: list[float]):
        counts = self._counts[step]
        grades = list(getattr(self.reward_fn, "last_grades", []) or [])
        rows = []
        for i, (x, c) in enumerate(zip(inputs, completions)):
            pid = str(x.get("problem_id", f"row{i}"))
            idx = counts[pid]
            counts[pid] += 1
            g = grades[i] if i < len(grades) else None
            text = c if isinstance(c, str) else str(c[-1].get("content", "")) if isinstance(c, list) and c else str(c)
            rows.append({
                "problem_id": pid, "sample_idx": idx, "step": int(step), "prompt": x.get("prompt"),
                "completion": text, "extracted": getattr(g, "extracted", None),
                "correct": bool(g.correct) if g is not None else bool(rewards[i] >= 1.0),
                "grade_status": getattr(g, "status", None), "n_tokens": len(completion_ids[i]),
                "benchmark": x.get("benchmark"), "level": x.get("level") if x.get("level", -1) != -1 else None,
                "subject": x.get("subject") or None, "reward": float(rewards[i]), **self.meta,
            })
        if step in self.preexisting:
            return
        self.store.write_batch(rows)
        self.rows_written += len(rows)


class MetricsJSONL(TrainerCallback):
    def __init__(self, path: str | Path):
        self.path = Path(path)

    def truncate_after(self, step: int) -> None:
        if not self.path.exists():
            return
        keep = [ln for ln in self.path.read_text().splitlines() if ln.strip() and json.loads(ln).get("step", 0) <= step]
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text("".join(ln + "\n" for ln in keep))
        tmp.replace(self.path)

    def on_train_begin(self, args, state, control, **kwargs):
        self.truncate_after(state.global_step)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not logs or not state.is_world_process_zero:
            return
        with self.path.open("a") as fh:
            fh.write(json.dumps({"step": state.global_step, **logs}, default=float) + "\n")


def read_metrics(path: str | Path) -> list[dict]:
    p = Path(path)
    return [json.loads(ln) for ln in p.read_text().splitlines() if ln.strip()] if p.exists() else []
