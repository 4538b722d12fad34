"""Adapters for published step-level PRMs, with the :class:`LearnedReward` interface (``prm_adapter`` in the
config). Nothing is downloaded: ``prm`` must be a local folder (GPU users point it at their copy).

* ``qwen_prm`` -- Qwen2.5-Math-PRM (Zhang et al. 2025): the assistant turn is the steps joined and ended by
  ``<extra_0>``; the model returns per-token logits over 2 classes and the reward of step j is
  softmax(logits)[1] at the j-th ``<extra_0>``. Loaded with ``AutoModel(trust_remote_code=True)``; any model
  whose output has ``.logits`` (or ``[0]``) of shape (1, T, 2) fits (the tests use a tiny
  ``Qwen2ForTokenClassification``).
* ``math_shepherd`` -- Math-Shepherd's PRM (Wang et al. 2024): a causal LM read at the step tag ``ки`` ending
  every step (``question + " " + steps``); the reward of a step is softmax over the logits of the tokens
  ``+`` and ``-`` at its tag, the ``+`` part.
* ``skywork_prm`` -- Skywork-o1-Open-PRM (:mod:`.skywork_prm`): a value head on a Qwen2 base; the steps are
  tokenised one by one, each followed by the step token (``sep``; Skywork's examples use ``"\\n"``), and the
  reward of step k is sigmoid(value head) at the k-th step token.

A prefix's value V is the reward of its LAST step (``agg: last``, what PRM-BoN needs); ``agg: min`` gives the
minimum over steps (Math-Shepherd's outcome score). h = exp(lam V) as for every point-valued source.
"""

from __future__ import annotations

import numpy as np

from ..steps import split_steps
from ..types import Candidate, ProblemCtx

ADAPTERS = ("qwen_prm", "math_shepherd", "skywork_prm")


def _logits(out):
    return out.logits if hasattr(out, "logits") else out[0]


class HubPRM:
    needs_sampler = False

    def __init__(self, model, tokenizer, adapter: str, sep: str = "\n\n", agg: str = "last",
                 system: str = "Please reason step by step, and put your final answer within \\boxed{}."):
        if adapter not in ADAPTERS:
            raise ValueError(f"prm_adapter {adapter!r}; allowed: {', '.join(ADAPTERS)}")
        if agg not in ("last", "min"):
            raise ValueError(f"agg {agg!r}; allowed: last, min")
        self.model, self.tok, self.adapter = model, tokenizer, adapter
        self.sep, self.agg, self.system = sep, agg, system
        self.name = f"prm:{adapter}"
        if adapter == "skywork_prm":
            from .skywork_prm import prepare_ids

            prepare_ids(tokenizer, "", "", sep)  # the step token must encode (one clear error here)
            return
        if adapter == "qwen_prm":
            self.tag_id = tokenizer.convert_tokens_to_ids("<extra_0>")
        else:
            self.tag_id = tokenizer.convert_tokens_to_ids("ки")
            self.good_bad = [tokenizer.convert_tokens_to_ids(t) for t in ("+", "-")]
        unk = getattr(tokenizer, "unk_token_id", None)
        if self.tag_id is None or (unk is not None and self.tag_id == unk):
            raise ValueError(f"{adapter}: the tokenizer has no step token")

    @classmethod
    def load(cls, folder: str, adapter: str, sep: str = "\n\n", agg: str = "last", dtype: str = "float32"):
        import torch
        from transformers import AutoModel, AutoModelForCausalLM, AutoTokenizer

        tok = AutoTokenizer.from_pretrained(folder, trust_remote_code=True)
        if adapter == "skywork_prm":
            from .skywork_prm import ValueHeadPRM

            return cls(ValueHeadPRM.load(folder, dtype), tok, adapter, sep, agg)
        auto = AutoModel if adapter == "qwen_prm" else AutoModelForCausalLM
        model = auto.from_pretrained(folder, dtype=getattr(torch, dtype), trust_remote_code=True).eval()
        return cls(model, tok, adapter, sep, agg)

    def text(self, question: str, completion: str) -> str:
        steps = [s.strip() for s in split_steps(completion, self.sep) if s.strip()] or [""]
        if self.adapter == "qwen_prm":
            msgs = [{"role": "system", "content": self.system}, {"role": "user", "content": question},
                    {"role": "assistant", "content": "<extra_0>".join(steps) + "<extra_0>"}]
            return self.tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=False)
        return question + " " + "".join(f"{s} ки\n" for s in steps)

    def step_rewards(self, question: str, completion: str) -> np.ndarray:
        """The reward of every step of ``completion``, in order."""
        import torch

        if self.adapter == "skywork_prm":
            from .skywork_prm import step_rewards

            return step_rewards(self.model, self.tok, question, completion, self.sep)

        ids = self.tok(self.text(question, completion), add_special_tokens=False, return_tensors="pt")["input_ids"]
        with torch.inference_mode():
            lg = _logits(self.model(input_ids=ids.to(next(self.model.parameters()).device)))[0].float()
        mask = (ids[0] == self.tag_id).to(lg.device)
        if self.adapter == "qwen_prm":
            p = lg.softmax(-1)[:, 1]
        else:
            p = lg[:, self.good_bad].softmax(-1)[:, 0]
        return p[mask].cpu().numpy().astype(float)

    def outcome(self, ctx: ProblemCtx, cands: list[Candidate]) -> np.ndarray:
        out = []
        for c in cands:
            r = self.step_rewards(ctx.question or ctx.prompt, c.text)
            out.append(float(r[-1] if self.agg == "last" else r.min()) if len(r) else 0.0)
        return np.array(out)

    def values(self, ctx: ProblemCtx, prefixes: list[Candidate], lam: float, sampler=None, key: str = ""):
        v = self.outcome(ctx, prefixes)
        return v, np.exp(lam * v)
