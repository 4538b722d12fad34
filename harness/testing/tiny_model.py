"""Tiny causal LMs built entirely offline, for tests and smoke runs.

A byte-level BPE tokenizer is trained with ``tokenizers`` on a small corpus (by default GSM8K
questions and answers from ``../shared/data`` when present, else a built-in arithmetic corpus),
wrapped in ``PreTrainedTokenizerFast`` with eos/pad tokens, a ChatML chat template and left
padding; the model is a ``Qwen2ForCausalLM`` with hidden size 64 and 2 layers (~100k parameters).
``warm_up`` runs a short supervised pass so that sampled completions differ in reward (a random
model gives every completion in a group the same reward, which makes RL tests check nothing).
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Iterable

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


def arithmetic_corpus(n: int = 400, seed: int = 0) -> list[tuple[str, str]]:
    """(question, answer) pairs of one-step additions in GSM8K style (``... #### N``)."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        a, b = rng.randint(1, 20), rng.randint(1, 20)
        q = f"Tom has {a} apples and buys {b} more. How many apples does Tom have?"
        out.append((q, f"Tom has {a} + {b} = {a + b} apples.\n#### {a + b}"))
    return out


def build_tokenizer(texts: Iterable[str], vocab_size: int = 512):
    """Train a byte-level BPE tokenizer on ``texts``; return a left-padding PreTrainedTokenizerFast."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    special = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<pad>"]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=special, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tok.train_from_iterator(list(texts), trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|im_end|>",
        pad_token="<pad>",
        bos_token=None,
        unk_token=None,
        padding_side="left",
        additional_special_tokens=["<|im_start|>", "<|endoftext|>"],
    )
    fast.chat_template = CHATML_TEMPLATE
    return fast


def build_tiny_model(out_dir: str | Path, texts: Iterable[str] | None = None, hidden: int = 64,
                     layers: int = 2, vocab_size: int = 512, seed: int = 0) -> Path:
    """Build and save a tiny random Qwen2 model + tokenizer to ``out_dir``; return the path."""
    import torch
    from transformers import GenerationConfig, Qwen2Config, Qwen2ForCausalLM

    out_dir = Path(out_dir)
    if texts is None:
        texts = [q + "\n" + a for q, a in arithmetic_corpus()]
    tok = build_tokenizer(texts, vocab_size=vocab_size)
    torch.manual_seed(seed)
    cfg = Qwen2Config(
        vocab_size=len(tok), hidden_size=hidden, intermediate_size=hidden * 2, num_hidden_layers=layers,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=1024,
        eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id, bos_token_id=None,
        tie_word_embeddings=True,
    )
    model = Qwen2ForCausalLM(cfg)
    model.generation_config = GenerationConfig(
        eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id, do_sample=True
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    tok.save_pretrained(out_dir)
    return out_dir


def warm_up(model_dir: str | Path, pairs: list[tuple[str, str]] | None = None, steps: int = 60,
            lr: float = 3e-3, batch_size: int = 16, seed: int = 0) -> Path:
    """Supervised warm-up in place: train on chat-formatted (question, answer) pairs for ``steps`` steps.

    Loss is next-token cross-entropy on the assistant turn only. Saves back to ``model_dir``.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(seed)
    model_dir = Path(model_dir)
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    pairs = pairs or arithmetic_corpus()
    rng = random.Random(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    model.train()
    for _ in range(steps):
        batch = rng.sample(pairs, min(batch_size, len(pairs)))
        ids, labels = [], []
        for q, a in batch:
            prompt = tok.apply_chat_template([{"role": "user", "content": q}], tokenize=False,
                                             add_generation_prompt=True)
            p_ids = tok(prompt, add_special_tokens=False)["input_ids"]
            a_ids = tok(a, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
            ids.append(p_ids + a_ids)
            labels.append([-100] * len(p_ids) + a_ids)
        width = max(map(len, ids))
        input_ids = torch.tensor([[tok.pad_token_id] * (width - len(x)) + x for x in ids])
        attn = torch.tensor([[0] * (width - len(x)) + [1] * len(x) for x in ids])
        lab = torch.tensor([[-100] * (width - len(x)) + x for x in labels])
        loss = model(input_ids=input_ids, attention_mask=attn, labels=lab).loss
        loss.backward()
        opt.step()
        opt.zero_grad()
    model.save_pretrained(model_dir)
    return model_dir
