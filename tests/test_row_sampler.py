"""The counter-based Gumbel-max row sampler: exact draws from softmax(logits/T), batch-independent."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from scipy.stats import chisquare  # noqa: E402

from harness.backends.row_sampler import GumbelRowSampler, hashed_uniform  # noqa: E402


def _draw(seeds, logits, T=1.0, top_p=1.0, step=0):
    s = GumbelRowSampler(seeds, T, top_p, {10**6}, 0, "cpu")
    s.step = step
    return s(None, logits.repeat(len(seeds), 1)).argmax(-1).numpy(), s


def test_uniform_noise_is_uniform_and_decorrelated():
    u = hashed_uniform(torch.arange(3000), 5, 300).numpy()
    assert 0 < u.min() and u.max() < 1
    assert abs(u.mean() - 0.5) < 0.005 and abs(u.var() - 1 / 12) < 0.002
    u2 = hashed_uniform(torch.arange(3000), 6, 300).numpy()
    assert abs(np.corrcoef(u.ravel(), u2.ravel())[0, 1]) < 0.01


@pytest.mark.parametrize("T", [1.0, 0.7])
def test_draws_follow_tempered_softmax(T):
    logits = torch.tensor([[2.0, 1.0, 0.0, -1.0, 0.5]])
    n = 60000
    tok, _ = _draw(list(range(10**9, 10**9 + n)), logits, T=T, step=3)
    p = torch.softmax(logits[0].double() / T, 0).numpy()
    obs = np.bincount(tok, minlength=5).astype(float)
    assert chisquare(obs, p / p.sum() * obs.sum()).pvalue > 1e-3


def test_top_p_truncates_and_logprob_is_of_the_sampled_distribution():
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]]))
    tok, s = _draw(list(range(5000)), logits, top_p=0.75)
    assert set(np.unique(tok)) == {0, 1}  # nucleus {0.5, 0.3} reaches 0.75
    lp = s.logprobs()[0].numpy()
    np.testing.assert_allclose(np.exp(lp[tok == 0]), 0.5 / 0.8, rtol=1e-5)


def test_same_seed_same_token_whatever_the_batch():
    logits = torch.randn(1, 50)
    a, _ = _draw([7, 8, 9], logits)
    b, _ = _draw([9, 123, 7, 456], logits)
    assert a[0] == b[2] and a[2] == b[0]


# (seed, step, token) triples whose hash rounds to u = 1.0 in float32 without the clamp (found by scanning seeds
# 0..255, steps 0..9 at SmolLM2's vocabulary of 49152 tokens)
_U_ONE = [(139, 2, 40418), (136, 3, 8316), (33, 9, 35223)]


@pytest.mark.parametrize("seed,step,token", _U_ONE)
def test_noise_never_reaches_one_so_no_token_outside_the_nucleus_is_emitted(seed, step, token, monkeypatch):
    """Regression: u = 1.0 gave infinite Gumbel noise, and the token it fell on was emitted whatever its
    probability (NaN = -inf + inf outside the nucleus, which argmax picks). Now the draw stays in the nucleus
    with a finite log-probability, and the clamp changes no other token's noise."""
    import harness.backends.row_sampler as rs

    V = 49152
    logits = torch.full((1, V), -20.0)
    logits[0, :3] = torch.tensor([3.0, 2.0, 1.0])  # nucleus at top_p 0.9: tokens 0 and 1
    seeds = torch.tensor([seed])
    u, u_max = rs.hashed_uniform(seeds, step, V), rs.U_MAX
    fixed = [rs.draw_tokens(logits, seeds, step, 0.7, top_p) for top_p in (0.9, 1.0)]
    u_old = rs.hashed_uniform(seeds, step, V, clamp=False)  # the noise of the old code
    assert torch.equal(u_old, rs.hashed_uniform(seeds, step, V, clamp=True).where(u_old < 1, u_old))
    monkeypatch.setattr(rs, "U_MAX", 2.0)  # draw_tokens with the clamp disabled = the old sampler
    old = [rs.draw_tokens(logits, seeds, step, 0.7, top_p) for top_p in (0.9, 1.0)]

    assert u_old[0, token].item() == 1.0 and int((u_old == 1.0).sum()) == 1
    assert all(int(c[0]) == token for c, _ in old)  # the bug: a -20-logit token emitted
    assert u.max().item() < 1.0 and u[0, token].item() == np.float32(u_max)
    other = torch.ones(V, dtype=torch.bool)
    other[token] = False
    assert torch.equal(u[0, other], u_old[0, other])
    for chosen, lp in fixed:
        assert int(chosen[0]) in (0, 1, 2) and torch.isfinite(lp).all()
