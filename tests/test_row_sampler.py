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
