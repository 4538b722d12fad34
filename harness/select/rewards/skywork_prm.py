"""Skywork-o1-Open-PRM (Skywork 2024): a scalar value head on a Qwen2 base, read at the step-end tokens.

Source: github.com/SkyworkAI/skywork-o1-prm-inference (``model_utils/io_utils.py`` ``prepare_input`` /
``derive_step_rewards``; ``vllm_add_dummy_model/prm_model.py`` ``ValueHead`` / ``Qwen2ForPrmModel``) and the model
cards huggingface.co/Skywork/Skywork-o1-Open-PRM-Qwen-2.5-{1.5B,7B}. The equation:

    ids   = enc(bos + question + "\\n") ++ enc(s_1) ++ [t] ++ enc(s_2) ++ [t] ++ ... ++ enc(s_K) ++ [t]
    r_k   = sigmoid(w . H_L(ids)_{p_k} + b)          p_k = the position of the k-th step token t

with ``s_1..s_K`` the response split at the step token (Skywork's examples use ``"\\n"``), ``t`` = the LAST id of
``enc(step_token)``, ``enc`` each piece tokenised on its own (steps are NOT tokenised as one joined text),
``H_L`` the base model's last hidden states and ``(w, b)`` the value head ``v_head.summary`` (a Linear(hidden, 1);
its dropout is off at eval). The checkpoint holds ``model.*`` (a ``Qwen2Model``), ``v_head.summary.{weight,bias}``
and an unused ``lm_head``.

Departures, stated: the steps come from :func:`harness.select.steps.split_steps` (a run of separators belongs
to the next step; a trailing separator ends the last step), so a response with empty pieces (leading, doubled
or trailing separators) gets no reward for the empty piece, where Skywork's ``response.split(step_token)``
scores every empty piece at a bare step token; for a response without empty pieces the ids are Skywork's.
Pieces are encoded without special tokens (Qwen2's tokenizer adds none anyway); a tokenizer with no bos token
(the tests' tiny one) starts from the question. Loaded without Skywork's package: :class:`ValueHeadPRM`
rebuilds the value head and reads its weights from the checkpoint's safetensors.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..steps import split_steps

V_HEAD_KEYS = ("v_head.summary.weight", "v_head.summary.bias")


def prepare_ids(tok, question: str, completion: str, step_token: str) -> tuple[list[int], list[int]]:
    """(input ids, reward flags): Skywork's ``prepare_input`` over :func:`split_steps` (module docstring)."""
    t_ids = tok.encode(step_token, add_special_tokens=False)
    if not t_ids:
        raise ValueError(f"skywork_prm: the step token {step_token!r} encodes to no token")
    t = t_ids[-1]
    ids = tok.encode((tok.bos_token or "") + question + "\n", add_special_tokens=False)
    flags = [0] * len(ids)
    for s in split_steps(completion, step_token):
        body = s[:-len(step_token)] if s.endswith(step_token) else s
        piece = (tok.encode(body, add_special_tokens=False) if body else []) + [t]
        ids += piece
        flags += [0] * (len(piece) - 1) + [1]
    return ids, flags


class ValueHeadPRM:
    """``Qwen2Model`` + ``Linear(hidden, 1)``: ``values(ids) -> (T,)`` = w . H_L + b at every position."""

    def __init__(self, base, head):
        self.base, self.head = base, head
        self.config = base.config

    def parameters(self):
        yield from self.base.parameters()
        yield from self.head.parameters()

    def eval(self):
        self.base.eval()
        self.head.eval()
        return self

    def values(self, ids):
        import torch

        dev = next(self.base.parameters()).device
        with torch.inference_mode():
            hs = self.base(input_ids=torch.tensor([ids], device=dev)).last_hidden_state[0]
            return self.head(hs.to(self.head.weight.dtype)).squeeze(-1).float()

    @classmethod
    def load(cls, folder: str | Path, dtype: str = "float32") -> ValueHeadPRM:
        """A local Skywork-o1-Open-PRM folder (any folder with ``model.*`` Qwen2 weights and ``v_head.summary.*``)."""
        import torch
        from safetensors import safe_open
        from transformers import AutoModel

        folder = Path(folder)
        head_w: dict = {}
        for f in sorted(folder.glob("*.safetensors")):
            with safe_open(str(f), framework="pt") as fh:
                for k in V_HEAD_KEYS:
                    if k in fh.keys():
                        head_w[k.rsplit(".", 1)[1]] = fh.get_tensor(k)
        if set(head_w) != {"weight", "bias"}:
            raise ValueError(f"skywork_prm: {folder} has no value head ({' and '.join(V_HEAD_KEYS)} in its "
                             f"*.safetensors); point `prm` at a Skywork-o1-Open-PRM checkpoint")
        base = AutoModel.from_pretrained(folder, dtype=getattr(torch, dtype))
        head = torch.nn.Linear(head_w["weight"].shape[-1], 1).to(torch.float32)
        with torch.no_grad():
            head.weight.copy_(head_w["weight"].reshape(1, -1).float())
            head.bias.copy_(head_w["bias"].reshape(1).float())
        return cls(base, head).eval()


def step_rewards(model: ValueHeadPRM, tok, question: str, completion: str, step_token: str) -> np.ndarray:
    """r_k = sigmoid(value at the k-th step token), in step order."""
    import torch

    ids, flags = prepare_ids(tok, question, completion, step_token)
    v = model.values(ids)
    at = torch.tensor(flags, dtype=torch.bool, device=v.device)
    return torch.sigmoid(v[at]).cpu().numpy().astype(float)


def save_value_head_checkpoint(causal_lm, tok, folder: str | Path, seed: int = 0) -> Path:
    """Write a Skywork-layout checkpoint (``model.*``, ``lm_head.*``, ``v_head.summary.*``) from a causal LM
    and a fresh random value head: how the tests build a tiny Skywork PRM locally (never a download)."""
    import torch
    from safetensors.torch import load_file, save_file

    folder = Path(folder)
    causal_lm.save_pretrained(folder)
    tok.save_pretrained(folder)
    path = folder / "model.safetensors"
    sd = load_file(str(path))
    g = torch.Generator().manual_seed(seed)
    hidden = causal_lm.config.hidden_size
    sd["v_head.summary.weight"] = torch.randn(1, hidden, generator=g) / hidden ** 0.5
    sd["v_head.summary.bias"] = torch.randn(1, generator=g)
    if "lm_head.weight" not in sd:  # tied embeddings are saved once; Skywork's checkpoint has its own lm_head
        sd["lm_head.weight"] = sd["model.embed_tokens.weight"].clone()
    save_file(sd, str(path), metadata={"format": "pt"})
    return folder
