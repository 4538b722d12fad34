"""TMC path <-> token sequence, with a ``PreTrainedTokenizerFast`` built locally (no hub, no training).

A sequence is ``[prompt] o_0 o_1 ... o_{L-1} <end>``:

* the **prompt** is one token: ``<T:NAME>`` for task ``NAME`` (its start state is ``s_k``), or ``<any>``, the
  task-free prompt of the paper's *Base Model* (uniform start over layer 0, docs/tmc_model.md §5);
* the **completion** is one token per (layer, state), ``L{l}S{s}`` (so the same state index in two layers is two
  different tokens), in layer order, then the end token ``<end>`` (the tokenizer's eos).

Vocabulary (ids in this order): ``<pad>``, ``<end>``, ``<any>``, one ``<T:NAME>`` per task, then the state tokens
layer by layer. Only ``<pad>`` and ``<end>`` are *special*: task and state tokens are ordinary words, so a
completion that wrongly contains a task token is never hidden by ``skip_special_tokens`` (it stays ill-formed).

A completion is **well-formed** iff it is exactly ``L`` state tokens of layers ``0..L-1`` in order followed by
``<end>`` (trailing pads allowed). Everything else (a token of the wrong layer, a prompt token, an early or missing
``<end>``) is *ill-formed*: it decodes to ``None`` / the row ``-1``, gets reward 0, and its probability mass is
reported by :mod:`harness.tmclm.measure` as ``malformed`` (counted inside ``invalid``).

The text form joins tokens with single spaces (``"<T:TASK1>"`` / ``"L0S0 L1S0 L2S0 L3S0"``); the ``WordLevel``
model with a whitespace pre-tokenizer maps each word to exactly one id, so text and ids round-trip.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

PAD, END, ANY = "<pad>", "<end>", "<any>"
META_FILE = "tmclm_tokenizer.json"


class TokenizerError(ValueError):
    """Bad path / task / token input: names what was wrong and what is allowed."""


def task_token(name: str) -> str:
    if any(c.isspace() for c in name):
        raise TokenizerError(f"task name {name!r} contains whitespace; task tokens must be single words")
    return f"<T:{name}>"


def state_token(layer: int, state: int) -> str:
    return f"L{layer}S{state}"


class PathTokenizer:
    """Maps TMC paths to token ids and back; wraps the HF tokenizer used by the model and by TRL.

    ``widths`` are the TMC's layer widths, ``task_names`` its tasks in order. ``hf`` is the
    ``PreTrainedTokenizerFast`` (eos = ``<end>``, pad = ``<pad>``, left padding for generation).
    """

    def __init__(self, widths: Sequence[int], task_names: Sequence[str], hf=None):
        self.widths = [int(w) for w in widths]
        self.task_names = list(task_names)
        if len(self.widths) < 2 or any(w < 1 for w in self.widths):
            raise TokenizerError(f"widths {self.widths}: need >= 2 layers, each with >= 1 state")
        if len(set(self.task_names)) != len(self.task_names):
            raise TokenizerError(f"task names {self.task_names} are not unique")
        self.vocab: list[str] = [PAD, END, ANY] + [task_token(n) for n in self.task_names]
        self._state_offset = len(self.vocab)
        self.layer_offsets = []
        for l, w in enumerate(self.widths):
            self.layer_offsets.append(len(self.vocab))
            self.vocab += [state_token(l, s) for s in range(w)]
        self.token_to_id = {t: i for i, t in enumerate(self.vocab)}
        self.pad_id, self.end_id, self.any_id = 0, 1, 2
        #: ``state_ids[l]`` = the token ids of layer ``l``'s states, index = state.
        self.state_ids = [np.arange(o, o + w) for o, w in zip(self.layer_offsets, self.widths)]
        # id -> (layer, state) for state tokens, (-1, -1) otherwise
        self._id_layer = np.full(len(self.vocab), -1)
        self._id_state = np.full(len(self.vocab), -1)
        for l, ids in enumerate(self.state_ids):
            self._id_layer[ids] = l
            self._id_state[ids] = np.arange(len(ids))
        self.hf = hf if hf is not None else self._build_hf()

    # ---- construction -------------------------------------------------------------------------
    @classmethod
    def for_tmc(cls, tmc) -> "PathTokenizer":
        """The tokenizer of a :class:`tmc_theory.tmc.TMC` (paper instance or random)."""
        return cls(tmc.widths, [t.name for t in tmc.tasks])

    def _build_hf(self):
        from tokenizers import Tokenizer, models, pre_tokenizers
        from transformers import PreTrainedTokenizerFast

        tok = Tokenizer(models.WordLevel(vocab=dict(self.token_to_id), unk_token=None))
        tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
        fast = PreTrainedTokenizerFast(
            tokenizer_object=tok, eos_token=END, pad_token=PAD, bos_token=None, unk_token=None,
            padding_side="left", model_max_length=len(self.widths) + 2,
        )
        # the ids must be ours (special tokens are already in the vocab, so none is appended)
        assert fast.convert_tokens_to_ids(END) == self.end_id and fast.convert_tokens_to_ids(PAD) == self.pad_id
        return fast

    def save(self, out_dir: str | Path) -> None:
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        self.hf.save_pretrained(out_dir)
        (out_dir / META_FILE).write_text(json.dumps({"widths": self.widths, "task_names": self.task_names}))

    @classmethod
    def load(cls, model_dir: str | Path) -> "PathTokenizer":
        meta_path = Path(model_dir) / META_FILE
        if not meta_path.exists():
            raise TokenizerError(f"{meta_path}: not found; this folder was not written by PathTokenizer.save")
        meta = json.loads(meta_path.read_text())
        from transformers import PreTrainedTokenizerFast

        hf = PreTrainedTokenizerFast.from_pretrained(model_dir)
        return cls(meta["widths"], meta["task_names"], hf=hf)

    # ---- sizes ---------------------------------------------------------------------------------
    @property
    def n_layers(self) -> int:
        return len(self.widths)

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    @property
    def completion_length(self) -> int:
        """Tokens in a well-formed completion: ``L`` states + ``<end>``."""
        return self.n_layers + 1

    # ---- prompts ------------------------------------------------------------------------------
    def prompt_id(self, task: str | None) -> int:
        """Id of the prompt token: ``<T:task>``, or ``<any>`` when ``task`` is None / ``"<any>"``."""
        if task is None or task == ANY:
            return self.any_id
        tok = task_token(task)
        if tok not in self.token_to_id:
            raise TokenizerError(f"unknown task {task!r}; allowed: {', '.join(self.task_names)} (or None for <any>)")
        return self.token_to_id[tok]

    def prompt_text(self, task: str | None) -> str:
        return self.vocab[self.prompt_id(task)]

    # ---- paths -> ids / text ------------------------------------------------------------------
    def _check_paths(self, paths: np.ndarray) -> np.ndarray:
        paths = np.atleast_2d(np.asarray(paths))
        if paths.shape[1] != self.n_layers:
            raise TokenizerError(f"paths have {paths.shape[1]} states; this TMC has {self.n_layers} layers")
        w = np.asarray(self.widths)
        bad = (paths < 0) | (paths >= w[None, :])
        if bad.any():
            i, l = np.argwhere(bad)[0]
            raise TokenizerError(f"path {i}: state {paths[i, l]} at layer {l} is out of range 0..{w[l] - 1}")
        return paths.astype(np.int64)

    def completion_ids(self, paths: np.ndarray) -> np.ndarray:
        """``(n, L + 1)`` ids: the state tokens of each path, then ``<end>``."""
        paths = self._check_paths(paths)
        ids = np.asarray(self.layer_offsets)[None, :] + paths
        return np.concatenate([ids, np.full((len(paths), 1), self.end_id)], axis=1)

    def encode_paths(self, paths: np.ndarray, tasks: Sequence[str | None] | str | None) -> np.ndarray:
        """``(n, L + 2)`` ids ``[prompt, o_0 .. o_{L-1}, <end>]``; ``tasks`` one per path or one for all."""
        comp = self.completion_ids(paths)
        if tasks is None or isinstance(tasks, str):
            pid = np.full(len(comp), self.prompt_id(tasks))
        else:
            if len(tasks) != len(comp):
                raise TokenizerError(f"got {len(tasks)} tasks for {len(comp)} paths")
            pid = np.array([self.prompt_id(t) for t in tasks])
        return np.concatenate([pid[:, None], comp], axis=1)

    def completion_text(self, path: Sequence[int]) -> str:
        """Text of one completion (state tokens only; the end token is the eos the trainer appends/strips)."""
        ids = self.completion_ids(np.asarray(path)[None])[0, :-1]
        return " ".join(self.vocab[i] for i in ids)

    # ---- ids / text -> paths ------------------------------------------------------------------
    def decode_ids(self, ids: Iterable[int], require_end: bool = True) -> np.ndarray | None:
        """The path of one completion's ids, or ``None`` if ill-formed (see module docstring)."""
        ids = [int(i) for i in ids]
        while ids and ids[-1] == self.pad_id:
            ids.pop()
        L = self.n_layers
        if require_end:
            if len(ids) != L + 1 or ids[-1] != self.end_id:
                return None
            ids = ids[:-1]
        elif len(ids) == L + 1 and ids[-1] == self.end_id:
            ids = ids[:-1]
        if len(ids) != L:
            return None
        arr = np.asarray(ids)
        if arr.min() < 0 or arr.max() >= self.vocab_size:
            return None
        if not np.array_equal(self._id_layer[arr], np.arange(L)):
            return None
        return self._id_state[arr].copy()

    def decode_batch(self, ids_list: Iterable[Iterable[int]], require_end: bool = True) -> np.ndarray:
        """``(n, L)`` paths; rows of ill-formed completions are all ``-1``."""
        out = []
        for ids in ids_list:
            p = self.decode_ids(ids, require_end=require_end)
            out.append(np.full(self.n_layers, -1) if p is None else p)
        return np.asarray(out, dtype=np.int64).reshape(-1, self.n_layers)

    def parse_text(self, text: str) -> np.ndarray | None:
        """Path of a completion given as text (``"L0S0 L1S1 ..."``, an optional trailing ``<end>``), or None."""
        words = text.split()
        if words and words[-1] == END:
            words = words[:-1]
        if any(w not in self.token_to_id for w in words):
            return None
        return self.decode_ids([self.token_to_id[w] for w in words], require_end=False)
