"""Training-time bookkeeping: completions into the sample store, metrics into metrics.jsonl.

``CompletionRecorder`` writes every training-time completion with its ``step`` (the number of optimizer
updates of the policy that generated it) to ``SampleStore`` at ``<output_dir>/train_samples`` — ONE
atomic part file per step, with the grader's ``extracted``/``correct``/``grade_status``. A step may be scored in
several rounds (RL-rej in-loop rejection refills the batch); the recorder buffers the rounds and writes the step
when it is complete (``on_step_end``, before any checkpoint of that step), so a process killed between rounds
leaves no partial step behind and the resumed run writes the whole step once.
``sample_idx`` counts a problem's completions within a step (0..G-1, then G.. if the problem is drawn again,
e.g. by RL-rej refill). Resume: steps already in the store when the process starts are not written again
(HF Trainer restores the RNG state from the checkpoint, so the resumed run regenerates the same completions).

``MetricsJSONL`` appends every ``logs`` dict with its step to ``<output_dir>/metrics.jsonl``; on resume it
first drops the lines logged after the checkpoint step, so nothing is duplicated. The logged keys include
TRL's ``reward``, ``kl``, ``entropy``, ``frac_reward_zero_std`` (fraction of zero-variance groups),
``num_tokens`` and ours: ``tokens_per_s`` (completion tokens / generation+scoring time), ``rej/frac_rejected``,
``rej/unfilled`` and ``rej/kept_reward`` (rl_rej in-loop: the mean reward of the groups trained on, where TRL's
``reward`` averages every scoring round), ``adv/frac_correct_zeroed`` (grpo.py: correct completions given no credit) and
``ppo/value_loss`` (ppo).

``RunWandb`` is HF's ``WandbCallback`` (``report_to: [wandb]``: same setup, config, summary and model logging)
except that it logs each dict AT the training step (``wandb.log(..., step=global_step)``) instead of W&B's own
counter. With the run id kept across resumes (``runner.wandb_env``), a resumed process's re-run steps are then
below the run's current step and W&B drops them, so each step appears once; ``step_offset`` puts RAFT's
per-round SFT trainers on the run's global step axis.

``RunTensorBoard`` replaces HF's ``TensorBoardCallback``: HF writes each (re)start to a new
``runs/<timestamp>`` folder, so a resumed run appears as a second TensorBoard run whose first steps repeat
the killed run's last ones. Ours writes every start of one training run to ``<output_dir>/tensorboard`` and
opens the writer with ``purge_step`` = the step it resumes from + 1, so TensorBoard hides the events the
killed process logged after its last checkpoint: each step appears once. ``step_offset`` lets RAFT's per-round
SFT trainers log on the run's global step axis.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from transformers import TrainerCallback

from .gather import gather_lists


class CompletionRecorder(TrainerCallback):
    def __init__(self, run_dir: str | Path, config: dict, config_hash: str, reward_fn, model_name: str,
                 temperature: float, top_p: float, max_new_tokens: int, seed: int, id_scheme: int | None = None):
        from harness.store import SampleStore

        self.store = SampleStore.open(run_dir, config, config_hash, allow_mixed=True, id_scheme=id_scheme)
        self.preexisting = set(self.store.steps())
        self.reward_fn = reward_fn
        self.meta = {"model": model_name, "temperature": temperature, "top_p": top_p,
                     "max_new_tokens": max_new_tokens, "seed": seed}
        self._counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.rows_written = 0
        self._pending: list[dict] = []
        self._pending_step: int | None = None

    def record(self, step: int, inputs: list[dict], completions: list, completion_ids: list, rewards: list[float],
               accelerator=None):
        """Store this process's completions of one generation batch. Under several processes (accelerate /
        torchrun) every process calls this with its own slice; the rows are gathered to rank 0 in rank order
        (= TRL's global batch order, so a group split across processes keeps sample_idx 0..G-1) and written once."""
        grades = list(getattr(self.reward_fn, "last_grades", []) or [])
        rows = []
        for i, (x, c) in enumerate(zip(inputs, completions)):
            pid = str(x.get("problem_id", f"row{i}"))
            g = grades[i] if i < len(grades) else None
            text = c if isinstance(c, str) else str(c[-1].get("content", "")) if isinstance(c, list) and c else str(c)
            rows.append({
                "problem_id": pid, "sample_idx": -1, "step": int(step), "prompt": x.get("prompt"),
                "completion": text, "extracted": getattr(g, "extracted", None),
                "correct": bool(g.correct) if g is not None else bool(rewards[i] >= 1.0),
                "grade_status": getattr(g, "status", None), "grade_rule": getattr(g, "rule", None),
                "n_tokens": len(completion_ids[i]),
                "benchmark": x.get("benchmark"), "level": x.get("level") if x.get("level", -1) != -1 else None,
                "subject": x.get("subject") or None, "reward": float(rewards[i]), **self.meta,
            })
        rows = gather_lists(accelerator, rows)  # every process's rows, in rank order
        if accelerator is not None and not accelerator.is_main_process:
            return
        counts = self._counts[step]
        for r in rows:
            r["sample_idx"] = counts[r["problem_id"]]
            counts[r["problem_id"]] += 1
        if step in self.preexisting:
            return
        if self._pending_step is not None and self._pending_step != step:
            self.flush()
        self._pending_step = step
        self._pending += rows

    def flush(self) -> None:
        """Write the buffered step as one part file (a no-op when nothing is buffered)."""
        if self._pending:
            self.store.write_batch(self._pending)
            self.rows_written += len(self._pending)
        self._pending, self._pending_step = [], None

    def on_step_end(self, args, state, control, **kwargs):
        self.flush()

    def on_train_end(self, args, state, control, **kwargs):
        self.flush()


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
        if state.is_world_process_zero:  # one writer under several processes
            self.truncate_after(state.global_step)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not logs or not state.is_world_process_zero:
            return
        with self.path.open("a") as fh:
            fh.write(json.dumps({"step": state.global_step, **logs}, default=float) + "\n")


class RunTensorBoard(TrainerCallback):
    """TensorBoard scalars of one training run in ``log_dir``, de-duplicated across resumes (see module doc)."""

    def __init__(self, log_dir: str | Path, step_offset: int = 0):
        self.log_dir = Path(log_dir)
        self.step_offset = step_offset
        self.writer = None

    def open(self, start_step: int) -> None:
        """Open the writer for a run (re)starting after ``start_step``: events at steps > ``start_step`` that
        an earlier (killed) process logged are purged (TensorBoard's purge_step is inclusive, hence +1)."""
        if self.writer is not None:
            return
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:  # as HF's TensorBoardCallback: tensorboardX where the tensorboard package is missing
            from tensorboardX import SummaryWriter

        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.writer = SummaryWriter(str(self.log_dir), purge_step=start_step + 1)

    def write(self, step: int, logs: dict) -> None:
        from transformers.integrations.integration_utils import rewrite_logs

        if self.writer is None:
            self.open(step)
        for k, v in rewrite_logs(dict(logs)).items():
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                self.writer.add_scalar(k, v, step)
        self.writer.flush()

    def on_train_begin(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            self.open(state.global_step + self.step_offset)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and state.is_world_process_zero:
            self.write(state.global_step + self.step_offset, logs)

    def on_train_end(self, args, state, control, **kwargs):
        if self.writer is not None:
            self.writer.flush()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


def _wandb_callback_base():
    from transformers.integrations import WandbCallback

    return WandbCallback


class RunWandb(_wandb_callback_base()):
    """HF's WandbCallback, logging at ``global_step + step_offset`` (see module docstring)."""

    SINGLE_VALUE = ("train_runtime", "train_samples_per_second", "train_steps_per_second", "train_loss", "total_flos")

    def __init__(self, step_offset: int = 0):
        super().__init__()
        self.step_offset = step_offset

    def open(self, start_step: int) -> None:  # same interface as RunTensorBoard; W&B starts at the first log
        pass

    def close(self) -> None:  # the W&B run stays open until the process ends (as with HF's callback)
        pass

    def write(self, step: int, logs: dict) -> None:
        """Log ``logs`` at W&B step ``step`` (after setup); single-value end-of-training keys go to the summary."""
        from transformers.integrations.integration_utils import rewrite_logs

        if self._wandb is None or self._wandb.run is None:
            return
        for k, v in logs.items():
            if k in self.SINGLE_VALUE:
                self._wandb.run.summary[k] = v
        rest = {k: v for k, v in logs.items() if k not in self.SINGLE_VALUE}
        if set(rest) <= {"epoch"}:  # the end-of-training dict: summary only (its step was already committed)
            return
        # commit now: W&B would otherwise hold the step's row open until a later step arrives
        self._wandb.log({**rewrite_logs(rest), "train/global_step": step}, step=step, commit=True)

    def on_log(self, args, state, control, model=None, logs=None, **kwargs):
        if self._wandb is None:
            return
        if not self._initialized:
            self.setup(args, state, model)
        if state.is_world_process_zero and logs:
            self.write(state.global_step + self.step_offset, logs)


def read_tensorboard_scalars(log_dir: str | Path, tag: str) -> list[tuple[int, float]]:
    """(step, value) of scalar ``tag`` as TensorBoard shows it (purged events removed), in step order."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(log_dir), size_guidance={"scalars": 0})
    acc.Reload()
    if tag not in acc.Tags().get("scalars", []):
        return []
    return [(e.step, e.value) for e in acc.Scalars(tag)]


def read_metrics(path: str | Path) -> list[dict]:
    p = Path(path)
    return [json.loads(ln) for ln in p.read_text().splitlines() if ln.strip()] if p.exists() else []
