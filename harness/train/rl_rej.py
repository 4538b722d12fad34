"""RL-rej: REINFORCE that rejects easy instances (arXiv 2511.07368), three selectable mechanisms.

* offline (``rej_mode: offline``): before training, drop every training prompt whose BASE-model pass rate
  c/n in a ``tmc sample`` run (``rej_base_run``, read from SampleStore) is > ``rej_threshold`` — the
  theory's rule (skip instances the base model already solves), as open-r1 filters by pass rate.
* in-loop (``rej_mode: in_loop``): after each generation, drop every group whose pass rate among its G
  completions is > ``rej_threshold`` (default 0.99: all-correct groups) and REFILL the batch with groups of
  fresh prompts (DAPO dynamic sampling, arXiv 2503.14476), for at most ``rej_max_refill`` extra generation
  rounds; groups still missing are kept with advantage 0 (logged as ``rej/unfilled``). ``rej/kept_reward`` is
  the mean reward of the groups that enter the update with their advantage (the kept first-round groups and the
  accepted refills; unfilled slots excluded): TRL's own ``reward`` averages every scoring round of the step,
  rejected groups and refill rounds included, so it is not the reward of the batch trained on.

* leave-T-out (``rej_mode: leave_out``): the paper's own rule (docs/tmc_model.md §4: draw an instance C, draw
  T = ``rej_tries`` checks from the current model, skip C if any check is correct, else update on a FRESH
  sample). Within a group of G > T completions, the other completions serve as the checks:

      A_i = r_i * prod_{k=1..T} (1 - r_{(i+k) mod G})

  Given C the checks are independent of completion i, so E[A_i grad log pi(y_i)] = sum_o pi(o) E_C[1{o in C}
  (1 - pi(C))^T] grad log pi(o): an unbiased estimate of the expected RL-rej update that tmc_theory's
  ``rl_rej`` "expected" variant computes (no prompt is dropped; an easy prompt just gets A ~ 0).
  With a 0/1 reward, in-loop rejection of "any success" would instead keep only all-wrong groups (no signal);
  this is why the theory's rule needs the leave-out form (``advantages.leave_out_advantage``).

Advantage of the kept groups (``rej_baseline``, in_loop / offline / both): ``none`` (default) is A = r, the
paper's REINFORCE update; ``group`` is GRPO's group-normalised advantage, so RL-rej becomes GRPO that also
rejects easy instances. With ``rej_threshold`` = 0.99 that is DAPO's dynamic sampling for easy groups only
(an all-correct group has zero GRPO advantage anyway; rejecting it makes room for a group with signal); with
a threshold < 1 it also drops mostly-solved groups that GRPO would still train on.

Departure from DAPO: DAPO also drops all-wrong groups (which have zero advantage under GRPO); under the
REINFORCE rule an all-wrong group already has zero advantage, so only easy groups are rejected, and we keep
that choice under ``rej_baseline: group`` too (an all-wrong group then costs a slot but moves nothing). Refill
prompts are drawn uniformly from the training set with a generator seeded by (seed, step, attempt), so a
resumed run refills identically.

Several processes (``accelerate launch``): the rewards TRL hands us are gathered over all processes, so every
process takes the same rejection decision. Each process must hold whole groups (its generation batch,
per_device_train_batch_size x steps_per_generation rows, a multiple of G; checked at start) and refills only
its own rejected groups. A refill round is collective (TRL gathers rewards, vLLM server mode gathers
prompts), so every process generates the same number m = max over processes of groups still missing, from
its own slice of one shared draw of m x num_processes prompts; a process that needs fewer keeps the first
acceptable ones. With one process this is exactly the single-process rule above.
"""

from __future__ import annotations

import random
from pathlib import Path

import torch
import torch.nn.functional as F

from .gather import gather_lists

_LEFT_PADDED = ("prompt_ids", "prompt_mask")


def offline_rejected_ids(run_dir: str | Path, threshold: float, cfg=None) -> tuple[set[str], dict[str, float]]:
    """Problem ids whose pass rate in the sample run ``run_dir`` is > ``threshold``, and all pass rates. With the
    training config ``cfg``, the run must have sampled the same model, data (benchmark, split, source), prompt
    template and decoding as training (provenance.train_sampling), else one ConfigError names every difference; it
    must name problems in the training run's id scheme (harness/data/ids.py; ConfigError naming both schemes) and
    share at least one problem with the training set (else the filter would silently drop nothing)."""
    from harness.store import SampleStore
    from tmc_core.config import ConfigError

    store = SampleStore(run_dir)
    if cfg is not None:
        from .provenance import mismatches, train_sampling

        diff = mismatches(store.config or {}, train_sampling(cfg))
        if diff:
            raise ConfigError(f"rej_base_run: {run_dir} is not a base run of this training ({'; '.join(diff)}); "
                              "allowed values: a `tmc sample` run of the base model with the training's model, data, "
                              "template and decoding")
    df = store.read()
    if df.empty:
        raise ConfigError(f"rej_base_run: {run_dir} holds no samples; allowed values: a finished `tmc sample` run")
    rates = df.groupby("problem_id")["correct"].mean().astype(float).to_dict()
    if cfg is not None:
        from harness.data import load_problems
        from harness.data.ids import require_same_scheme

        from .runner import train_id_scheme

        scheme = train_id_scheme(cfg)
        require_same_scheme("rej_base_run", (f"base run {run_dir}", store.id_scheme),
                            (f"training run {cfg.output_dir}", scheme))
        ids = {p.id for p in load_problems(cfg.benchmark, split=cfg.split, source=cfg.source, limit=cfg.limit,
                                           offset=cfg.offset, id_scheme=scheme)}
        if not ids & set(rates):
            raise ConfigError(f"rej_base_run: {run_dir} holds none of the {len(ids)} training problems (its ids look "
                              f"like {next(iter(rates))!r}, the training's like {next(iter(ids), None)!r}); allowed "
                              "values: a `tmc sample` run of the training problems")
    return {pid for pid, r in rates.items() if r > threshold}, rates


def _pad_to(t: torch.Tensor, width: int, left: bool, value) -> torch.Tensor:
    extra = width - t.size(1)
    if extra <= 0:
        return t
    return F.pad(t, (extra, 0) if left else (0, extra), value=value)


def select_and_concat(parts: list[tuple[dict, torch.Tensor]], pad_token_id: int) -> dict:
    """Rows ``idx`` of each batch dict, concatenated (prompt tensors left-padded, completion tensors right-padded)."""
    keys = [k for k, v in parts[0][0].items() if isinstance(v, torch.Tensor) and v.dim() >= 1]
    out = {}
    for k in keys:
        pieces = [b[k][idx] for b, idx in parts]
        if pieces[0].dim() == 2:
            width = max(p.size(1) for p in pieces)
            value = pad_token_id if k == "prompt_ids" else 0
            pieces = [_pad_to(p, width, k in _LEFT_PADDED, value) for p in pieces]
        out[k] = torch.cat(pieces, dim=0)
    out["num_items_in_batch"] = out["completion_mask"].sum()
    return out


class InLoopRejector:
    """Drop groups with pass rate > threshold and refill with fresh prompts (see module docstring)."""

    def __init__(self, threshold: float, max_refill: int = 4, seed: int = 0):
        self.threshold = threshold
        self.max_refill = max_refill
        self.seed = seed
        self.last: dict = {}

    def rejected_groups(self, rewards: torch.Tensor, group_size: int) -> torch.Tensor:
        rate = torch.nanmean(rewards.float().view(-1, group_size), dim=1)
        return rate > self.threshold

    @staticmethod
    def _mean_over_processes(acc, values: list) -> float:
        """Mean of the non-NaN ``values`` pooled over all processes (NaN when there are none): the
        ``rej/kept_reward`` metric, the mean 0/1 reward of the accepted groups' completions."""
        v = torch.stack(values) if values else torch.zeros(0)
        ok = ~torch.isnan(v)
        tot = torch.stack([v[ok].sum(), ok.sum().float()])
        if acc.num_processes > 1:  # pool sums and counts (processes may hold different numbers of kept rows)
            tot = acc.gather(tot.to(acc.device)).view(-1, 2).sum(dim=0)
        return (tot[0] / tot[1]).item() if tot[1] > 0 else float("nan")

    def apply(self, trainer, inputs: list[dict], out: dict, rewards: torch.Tensor) -> dict:
        """Replace this process's rejected groups of ``out`` (its rows of the generation batch) by accepted
        groups of fresh prompts; ``rewards`` are the gathered rewards of all processes (module docstring)."""
        G = trainer.num_generations
        acc = trainer.accelerator
        P, pi = acc.num_processes, acc.process_index
        n_local = out["completion_ids"].size(0)
        if n_local % G:
            raise RuntimeError(f"rl_rej in_loop: this process holds {n_local} completions, not whole groups of "
                               f"num_generations={G}; make per_device_train_batch_size x gradient_accumulation_steps "
                               "a multiple of num_generations")
        gl = n_local // G  # groups per process
        rej = self.rejected_groups(rewards, G)  # all processes' groups, process-major
        n_groups = rej.numel()
        by_process = rej.view(P, gl)
        local_rej = by_process[pi]
        need = [int(x) for x in by_process.sum(dim=1).tolist()]  # rejected groups per process
        group_ids = [inputs[g * G].get("problem_id", str(g)) for g in range(gl)]
        rejected_ids = [group_ids[g] for g in range(gl) if local_rej[g]]
        self.last = {"rejected_ids": gather_lists(acc, rejected_ids),
                     "pass_rates": torch.nanmean(rewards.float().view(-1, G), dim=1).tolist(), "refill_ids": []}
        trainer.record_metric("rej/frac_rejected", rej.float().mean().item(), "train")
        keep_rows = torch.tensor([i for i in range(n_local) if not local_rej[i // G]], dtype=torch.long)
        kept_r = list(rewards.float()[pi * n_local:(pi + 1) * n_local][keep_rows])  # accepted rows' rewards
        if not rej.any():
            trainer.record_metric("rej/unfilled", 0.0, "train")
            trainer.record_metric("rej/kept_reward", self._mean_over_processes(acc, kept_r), "train")
            return out
        parts = [(out, keep_rows)] if len(keep_rows) else []
        refill_ids: list[str] = []
        dataset = trainer.train_dataset
        for attempt in range(self.max_refill):
            m = max(need)
            if m == 0:
                break
            rng = random.Random(f"{self.seed}/{trainer.state.global_step}/{attempt}")
            picks = [rng.randrange(len(dataset)) for _ in range(m * P)]  # one draw shared by all processes
            new_inputs = [dict(dataset[j]) for j in picks[pi * m:(pi + 1) * m] for _ in range(G)]
            out2, rewards2 = trainer.score_batch(new_inputs)
            rej2 = self.rejected_groups(rewards2, G).view(P, m)
            for p in range(P):
                ok = [g for g in range(m) if not rej2[p, g]][: need[p]]
                if p == pi and ok:
                    rows = torch.tensor([g * G + k for g in ok for k in range(G)], dtype=torch.long)
                    parts.append((out2, rows))
                    kept_r += list(rewards2.float()[pi * m * G:(pi + 1) * m * G][rows])
                    refill_ids += [new_inputs[g * G].get("problem_id", str(g)) for g in ok]
                need[p] -= len(ok)
        self.last["refill_ids"] = gather_lists(acc, refill_ids)
        if need[pi]:  # not enough fresh prompts: keep some rejected groups, with zero advantage
            rej_groups = [g for g in range(gl) if local_rej[g]][: need[pi]]
            rows = torch.tensor([g * G + k for g in rej_groups for k in range(G)], dtype=torch.long)
            zeroed = dict(out)
            zeroed["advantages"] = torch.zeros_like(out["advantages"])
            parts.append((zeroed, rows))
        trainer.record_metric("rej/unfilled", sum(need) / n_groups, "train")
        trainer.record_metric("rej/kept_reward", self._mean_over_processes(acc, kept_r), "train")
        batch = select_and_concat(parts, trainer.pad_token_id)
        if P > 1:  # TRL's num_items_in_batch counts the completion tokens of all processes
            batch["num_items_in_batch"] = acc.gather(batch["completion_mask"].sum().reshape(1)).sum()
        return batch

