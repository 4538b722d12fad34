"""Hand-computed values for every learning rule of harness/train: GRPO, GAE (gamma, lambda, alignment with the
completion tokens), the critic's feature position, whitening, each KL estimator's value, gradient and mask, and the
rejection boundary. Each expected number below is worked out by hand in the comment beside it, not by the code
under test; the mutations each test catches are listed in docs/training.md ("Tests that catch wrong updates")."""

from __future__ import annotations

import math
import types

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("trl")


def test_grpo_advantage_hand_values():
    from harness.train.advantages import group_normalised_advantage

    # group [1, 0, 0, 0]: mean 1/4, Bessel std sqrt((9/16 + 3/16) / 3) = 1/2 -> (r - 1/4) / (1/2 + 1e-4)
    a = group_normalised_advantage(torch.tensor([1.0, 0, 0, 0, 0, 1, 1, 1]), 4)
    s = 0.5 + 1e-4
    assert a.tolist() == pytest.approx([0.75 / s, -0.25 / s, -0.25 / s, -0.25 / s,
                                        -0.75 / s, 0.25 / s, 0.25 / s, 0.25 / s], rel=1e-6)
    # scale none: r - mean only; an unscorable (NaN) completion gets 0 and is left out of its group's mean
    b = group_normalised_advantage(torch.tensor([1.0, 0.0, float("nan"), 1.0]), 4, scale="none")
    assert b.tolist() == pytest.approx([1 / 3, -2 / 3, 0.0, 1 / 3])


def test_gae_hand_values_gamma_lambda_and_alignment():
    from harness.train.advantages import gae

    # row 0: 3 tokens, V = (.2, .4, .6), reward 1 on the last token; gamma .9, lambda .5 (gamma lambda = .45)
    #   d2 = 1 - .6 = .4                  A2 = .4
    #   d1 = .9 * .6 - .4 = .14           A1 = .14 + .45 * .4 = .32
    #   d0 = .9 * .4 - .2 = .16           A0 = .16 + .45 * .32 = .304       R = A + V = (.504, .72, 1)
    # row 1: 2 tokens + 1 padding (V there = .7 must be ignored), V = (.5, .3), reward 1 on token 1
    #   d1 = 1 - .3 = .7                  A1 = .7
    #   d0 = .9 * .3 - .5 = -.23          A0 = -.23 + .45 * .7 = .085       R = (.585, 1, 0)
    # row 2: reward 0, V = (.1, .1, .1): d2 = -.1, d1 = .09 - .1 = -.01, d0 = -.01
    #   A2 = -.1, A1 = -.01 - .045 = -.055, A0 = -.01 - .45 * .055 = -.03475
    values = torch.tensor([[0.2, 0.4, 0.6], [0.5, 0.3, 0.7], [0.1, 0.1, 0.1]])
    mask = torch.tensor([[1, 1, 1], [1, 1, 0], [1, 1, 1]])
    adv, ret = gae(torch.tensor([1.0, 1.0, 0.0]), values, mask, gamma=0.9, lam=0.5)
    assert adv[0].tolist() == pytest.approx([0.304, 0.32, 0.4], abs=1e-6)
    assert adv[1].tolist() == pytest.approx([0.085, 0.7, 0.0], abs=1e-6)
    assert adv[2].tolist() == pytest.approx([-0.03475, -0.055, -0.1], abs=1e-6)
    assert ret[0].tolist() == pytest.approx([0.504, 0.72, 1.0], abs=1e-6)
    assert ret[1].tolist() == pytest.approx([0.585, 1.0, 0.0], abs=1e-6)
    # lambda = 1, V = 0: Monte-Carlo returns gamma^(L-1-t) R on every completion token, nothing on padding
    adv, ret = gae(torch.tensor([1.0, 1.0]), torch.zeros(2, 3), mask[:2], gamma=0.9, lam=1.0)
    assert adv.flatten().tolist() == pytest.approx([0.81, 0.9, 1.0, 0.9, 1.0, 0.0], abs=1e-6)


def test_critic_reads_the_hidden_state_before_each_completion_token():
    """V(s_t) must read h at the prefix (x, y_<t): position P - 1 + t of prompt + completion (the state in which
    y_t is chosen), not P + t (which has already seen y_t)."""
    from harness.train.ppo import PPOTrainer

    P, T, H = 3, 2, 4

    def model(input_ids, attention_mask, output_hidden_states):
        pos = torch.arange(input_ids.size(1), dtype=torch.float32)
        h = pos.view(1, -1, 1).expand(input_ids.size(0), -1, H)  # h[b, p, :] = p
        return types.SimpleNamespace(hidden_states=(h * 0, h))

    out = {"prompt_ids": torch.zeros(2, P, dtype=torch.long), "prompt_mask": torch.ones(2, P, dtype=torch.long),
           "completion_ids": torch.zeros(2, T, dtype=torch.long), "completion_mask": torch.ones(2, T, dtype=torch.long)}
    f = PPOTrainer.features(types.SimpleNamespace(model=model), out)
    assert f.shape == (2, T, H)
    assert f[0, :, 0].tolist() == [2.0, 3.0]  # positions P - 1 + t for t = 0, 1


def test_whiten_hand_values():
    from harness.train.advantages import whiten

    # masked entries 1, 2, 3, 4: mean 2.5, population variance (2.25 + .25 + .25 + 2.25) / 4 = 1.25
    x = torch.tensor([[1.0, 2.0, 3.0], [4.0, 9.0, 9.0]])
    m = torch.tensor([[1, 1, 1], [1, 0, 0]])
    s = math.sqrt(1.25 + 1e-8)
    assert whiten(x, m).flatten().tolist() == pytest.approx([-1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s, 0.0, 0.0], abs=1e-6)


def test_kl_estimator_values_and_gradients_by_hand():
    from harness.train.kl import kl_per_token

    # log pi = -1.5, log ref = -1: d = .5, r = e^.5
    r = math.exp(0.5)
    # second token: log pi = log ref, every value 0; k3, k2 gradient 0, forward's surrogate gradient -r = -1 (its
    # on-policy expectation sum_y pi grad log pi is 0)
    want = {"k3": (r - 0.5 - 1, 1 - r, 0.0),  # value r - d - 1; d/dlogpi = (dr/dd - 1)(-1) = 1 - r
            "k2": (0.125, -0.5, 0.0),  # value d^2 / 2; d/dlogpi = -d
            "forward": (r * 0.5 - r + 1, -r, -1.0)}  # value r log r - r + 1; surrogate gradient -r
    for est, (value, grad, grad_eq) in want.items():
        lp = torch.tensor([-1.5, -0.7], requires_grad=True)
        term, v = kl_per_token(est, lp, torch.tensor([-1.0, -0.7]))
        term.sum().backward()
        assert v.tolist() == pytest.approx([value, 0.0], abs=1e-6), est
        assert term.detach().tolist() == pytest.approx([value, 0.0], abs=1e-6), est
        assert lp.grad.tolist() == pytest.approx([grad, grad_eq], abs=1e-6), est


@pytest.mark.parametrize("est", ["k3", "k2", "forward"])
def test_kl_penalty_ignores_tokens_off_the_mask(est):
    """Padding tokens (mask 0) carry a huge log-ratio here: they must change neither the loss, its gradient, nor the
    logged value."""
    from harness.train.kl import kl_penalty, kl_per_token

    ref = torch.tensor([[-1.0, -2.0, -9.0], [-0.5, -9.0, -9.0]])
    lp = torch.tensor([[-1.5, -1.0, 0.0], [-0.2, 0.0, 0.0]], requires_grad=True)
    mask = torch.tensor([[1, 1, 0], [1, 0, 0]])
    loss, value = kl_penalty(est, lp, ref, mask, lambda t, m: (t * m).sum() / 6)
    loss.backward()
    assert lp.grad[0, 2] == 0 and lp.grad[1, 1] == 0 and lp.grad[1, 2] == 0
    on = [(0, 0), (0, 1), (1, 0)]
    vals = [kl_per_token(est, lp.detach()[i, j].view(1), ref[i, j].view(1))[1].item() for i, j in on]
    assert value == pytest.approx(sum(vals) / 3, rel=1e-6)
    assert loss.item() == pytest.approx(sum(vals) / 6, rel=1e-6)


def test_in_loop_rejection_boundary_is_strictly_above_the_threshold():
    """A group is rejected when its pass rate is > rej_threshold: at the threshold it is kept."""
    from harness.train.rl_rej import InLoopRejector

    r = torch.tensor([1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0, float("nan")])  # rates .5, 1, 0, 1 (NaN skipped)
    assert InLoopRejector(0.5).rejected_groups(r, 2).tolist() == [False, True, False, True]
    assert InLoopRejector(0.99).rejected_groups(r, 2).tolist() == [False, True, False, True]
    assert InLoopRejector(0.0).rejected_groups(r, 2).tolist() == [True, True, False, True]
    assert InLoopRejector(1.0).rejected_groups(r, 2).tolist() == [False, False, False, False]


def test_offline_rejection_boundary_is_strictly_above_the_threshold(tmp_path):
    from harness.store import SampleStore
    from harness.train.rl_rej import offline_rejected_ids

    store = SampleStore.open(tmp_path / "base", {"x": 1}, "h")
    rates = {"a": [1, 1], "b": [1, 0], "c": [0, 0]}
    store.write_batch([{"problem_id": p, "sample_idx": i, "correct": bool(c)} for p, cs in rates.items()
                       for i, c in enumerate(cs)])
    assert offline_rejected_ids(tmp_path / "base", 0.5)[0] == {"a"}
    assert offline_rejected_ids(tmp_path / "base", 0.0)[0] == {"a", "b"}


def test_leave_out_and_raft_online_hand_values():
    from harness.train.advantages import leave_out_advantage, raft_online_advantage

    # T = 2 checks = the next two completions of the group, cyclically
    #   [1, 0, 1, 0]: 0 sees (0, 1) -> a check solved it -> 0; 2 sees (0, 1) -> 0     (T = 1 would credit both)
    #   [1, 1, 0, 0]: 0 sees (1, 0) -> 0; 1 sees (0, 0) -> credit 1
    #   [0, 0, 0, 1]: 3 sees (0, 0) -> credit 1
    r = torch.tensor([1.0, 0, 1, 0] + [1.0, 1, 0, 0] + [0.0, 0, 0, 1])
    assert leave_out_advantage(r, 4, tries=2).tolist() == [0, 0, 0, 0] + [0, 1, 0, 0] + [0, 0, 0, 1]
    # RAFT online: the first correct completion of each group is kept (3 groups -> 3 kept), weight N / kept = 12 / 3
    assert raft_online_advantage(r, 4).tolist() == [4, 0, 0, 0] + [4, 0, 0, 0] + [0, 0, 0, 4]
