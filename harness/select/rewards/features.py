"""Frozen policy features for the learned reward models: the mean-pooled last hidden state of the completion.

phi(x, o) = (1/|o|) sum_{t in o} H_L(x, o)_t, H_L the policy's last-layer hidden states over the prompt x
followed by the completion (or prefix) o; prompt and completion are tokenised separately and joined (the
same for training and scoring). An empty completion is represented by the prompt's last token. The policy
is frozen (no gradient), so a reward model is a linear probe on what the policy already computes -- the
cheapest "value head on the policy" (a LoRA classifier or a trained value head is the stronger option).
"""

from __future__ import annotations

import numpy as np


class PolicyFeatures:
    def __init__(self, model, tokenizer, batch_size: int = 8, max_tokens: int = 1024):
        self.model, self.tok, self.batch_size, self.max_tokens = model, tokenizer, int(batch_size), int(max_tokens)
        self.name = str(getattr(model.config, "_name_or_path", "") or "")

    @classmethod
    def load(cls, model: str, dtype: str = "float32", device: str = "cpu"):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from harness.models import resolve_model

        path = resolve_model(model)
        tok = AutoTokenizer.from_pretrained(path)
        m = AutoModelForCausalLM.from_pretrained(path, dtype=getattr(torch, dtype)).to(device).eval()
        return cls(m, tok)

    def __call__(self, prompts: list[str], texts: list[str]) -> np.ndarray:
        import torch

        out = []
        dev = next(self.model.parameters()).device
        pad = self.tok.pad_token_id if self.tok.pad_token_id is not None else 0
        for a in range(0, len(texts), self.batch_size):
            ids, spans = [], []
            for p, t in zip(prompts[a:a + self.batch_size], texts[a:a + self.batch_size]):
                pi = self.tok(p, add_special_tokens=False)["input_ids"]
                ti = self.tok(t, add_special_tokens=False)["input_ids"] if t else []
                x = (pi + ti)[-self.max_tokens:]
                n_t = min(len(ti), len(x) - 1) if ti else 0
                ids.append(x)
                spans.append((len(x) - n_t, len(x)) if n_t else (len(x) - 1, len(x)))
            width = max(map(len, ids))
            inp = torch.tensor([x + [pad] * (width - len(x)) for x in ids], device=dev)
            att = torch.tensor([[1] * len(x) + [0] * (width - len(x)) for x in ids], device=dev)
            with torch.inference_mode():
                hs = self.model(input_ids=inp, attention_mask=att, output_hidden_states=True).hidden_states[-1]
            hs = hs.float()
            for i, (s, e) in enumerate(spans):
                out.append(hs[i, s:e].mean(dim=0).cpu().numpy())
        return np.stack(out).astype(np.float64) if out else np.zeros((0, 0))
