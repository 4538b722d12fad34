"""Per-row reproducible sampling that stays on the accelerator: counter-based Gumbel-max.

Every row (one sample of one problem) has its own integer seed ``s``. At decoding step ``t`` the
uniform noise for token ``v`` is a pure function ``u = H(s, t, v)`` (a murmur3-style 32-bit integer
hash evaluated on the device), and the token is

    o_t = argmax_v [ log pi_T(v | prefix) + G(u_{s,t,v}) ],   G(u) = -log(-log u)

which is an exact draw from ``pi_T`` (the Gumbel-max trick; ``pi_T`` = softmax(logits / T) restricted
to the top-p nucleus). Because the noise depends only on (seed, step, token), a sample does not depend
on which other rows share its batch, on the batch size, or on the device's RNG state: a resumed run
reproduces an uninterrupted one, and nothing is copied to the host per step (the previous per-row
``torch.multinomial`` loop copied the whole [B, V] probability matrix to the CPU at every step, which
dominated GPU decoding time at large batch).

The log-probability recorded for a token is under the distribution actually sampled from
(temperature- and top-p-adjusted), as the backend documents.
"""

from __future__ import annotations

_M32 = 0xFFFFFFFF


def _fmix32(x):
    """murmur3 finaliser on int64 tensors holding 32-bit values (products wrap mod 2^64; low bits kept)."""
    x = x ^ (x >> 16)
    x = (x * 0x85EBCA6B) & _M32
    x = x ^ (x >> 13)
    x = (x * 0xC2B2AE35) & _M32
    x = x ^ (x >> 16)
    return x


# The largest float32 below 1. (H + 0.5) / 2^32 rounds to exactly 1.0 in float32 for the top 128 of the 2^32
# hash values, and G(1) = -log(-log 1) = +inf: before this clamp (harness up to 2026-12-01), about 1.5e-3 of
# the decoding steps at a 49k vocabulary had such a u, and the token it belonged to was emitted -- inside the
# nucleus as logp + inf = inf, outside it as -inf + inf = NaN, which argmax also picks (recorded log-probability
# -inf) -- i.e. a token drawn uniformly from the whole vocabulary. docs/harness_benchmarks.md measures it.
U_MAX = 1.0 - 2.0 ** -24


def hashed_uniform(seeds, step: int, vocab: int, clamp: bool = True):
    """``u[b, v] = min((H(seed_b, step, v) + 0.5) / 2^32, 1 - 2^-24)`` in (0, 1), float32, on ``seeds.device``.

    The clamp keeps ``u < 1`` after the cast to float32, so the Gumbel noise ``-log(-log u)`` is finite (at most
    16.6); it moves only the 128 hash values that rounded to 1.0 and leaves every other draw bit-identical.
    ``clamp=False`` gives the old noise (harness/analyze/sampler_u1_rows.py uses it to find the samples it corrupted).
    """
    import torch

    seeds = seeds.to(torch.int64)
    s = _fmix32((seeds & _M32) ^ _fmix32(((seeds >> 32) & _M32) ^ 0x27D4EB2F))
    t = _fmix32(torch.tensor((step * 0x165667B1 + 0x9E3779B1) & _M32, device=seeds.device, dtype=torch.int64))
    v = torch.arange(vocab, device=seeds.device, dtype=torch.int64)
    x = ((s[:, None] * 0x9E3779B1) + (t ^ (v[None, :] * 0xC2B2AE3D))) & _M32
    x = _fmix32(x ^ (s[:, None] >> 7))
    u = (x.to(torch.float64) + 0.5).div_(4294967296.0)
    return (u.clamp_(max=U_MAX) if clamp else u).to(torch.float32)


def seed_tensor(seeds, device=None):
    """Per-row seeds as an int64 tensor, each reduced to 63 bits (what :func:`hashed_uniform` expects)."""
    import torch

    return torch.tensor([int(s) & ((1 << 63) - 1) for s in seeds], dtype=torch.int64, device=device)


def draw_tokens(scores, seeds, step: int, temperature: float, top_p: float):
    """One decoding step for every row: ``(chosen [B] int64, log pi'(chosen) [B] float32)``.

    ``pi' = softmax(scores / T)`` restricted to the top-p nucleus and renormalised; the draw is
    ``argmax_v [log pi'(v) + G(H(seed_b, step, v))]`` (Gumbel-max with counter-based noise). ``T = 0`` is
    greedy: argmax of the raw scores, log-prob 0 per token by convention. Row ``b``'s token depends only on
    its own scores, seed and ``step``, not on the other rows.
    """
    import torch

    logits = scores.float()
    if temperature == 0:
        return logits.argmax(dim=-1), torch.zeros(logits.shape[0], dtype=torch.float32, device=logits.device)
    logp = torch.log_softmax(logits / temperature, dim=-1)
    if top_p < 1.0:
        sorted_lp, idx = logp.sort(dim=-1, descending=True)
        p = sorted_lp.exp()
        drop_sorted = (p.cumsum(dim=-1) - p) >= top_p  # keeps the token that crosses top_p
        drop = torch.zeros_like(drop_sorted).scatter(-1, idx, drop_sorted)
        logp = torch.log_softmax(logp.masked_fill(drop, float("-inf")), dim=-1)
    u = hashed_uniform(seeds, step, logits.shape[-1])
    chosen = (logp - torch.log(-torch.log(u))).argmax(dim=-1)
    return chosen, logp.gather(1, chosen[:, None]).squeeze(1)


class GumbelRowSampler:
    """A ``transformers`` logits processor that picks each row's next token by counter-based Gumbel-max.

    It returns scores that are ``0`` at the chosen token and ``-inf`` elsewhere, so ``generate`` with
    ``do_sample=False`` emits exactly the chosen token. Finished rows emit ``pad_id``. Per-step
    log-probabilities stay on the device until :meth:`logprobs` is called.
    """

    def __init__(self, seeds: list[int], temperature: float, top_p: float, eos_ids: set[int], pad_id: int,
                 device):
        import torch

        self.seeds = seed_tensor(seeds, device)
        self.temperature = float(temperature)
        self.top_p = float(top_p)
        self.eos = torch.tensor(sorted(eos_ids), dtype=torch.int64, device=device)
        self.pad_id = int(pad_id)
        self.step = 0
        self.done = torch.zeros(len(seeds), dtype=torch.bool, device=device)
        self.step_logprobs = []

    def __call__(self, input_ids, scores):
        import torch

        chosen, lp = draw_tokens(scores, self.seeds, self.step, self.temperature, self.top_p)
        chosen = torch.where(self.done, torch.full_like(chosen, self.pad_id), chosen)
        lp = torch.where(self.done, torch.zeros_like(lp), lp)
        self.step_logprobs.append(lp)
        self.done |= torch.isin(chosen, self.eos)
        self.step += 1
        out = torch.full_like(scores, float("-inf"))
        out.scatter_(1, chosen[:, None], 0.0)
        return out

    def logprobs(self):
        """``[steps, B]`` float32 tensor on the CPU (zeros for finished rows)."""
        import torch

        if not self.step_logprobs:
            return torch.zeros(0, len(self.seeds))
        return torch.stack(self.step_logprobs).cpu()
