"""TMC-LM: tokenisation, exact path probabilities, pretraining fidelity, one post-training direction.

Budgets are tiny (a ~20k-parameter Qwen2, a few hundred pretraining steps shared by the module, 3 RL steps).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from tmc_theory.tmc import paper_tmc  # noqa: E402

from harness.tmclm.config import ModelConfig, PosttrainConfig, TmclmPretrainConfig, TmclmConfig, load_tmclm_config  # noqa: E402
from harness.tmclm.measure import (  # noqa: E402
    all_path_probs, markov_kernels, model_path_probs, task_metrics, tmc_path_probs,
)
from harness.tmclm.tokenizer import PathTokenizer  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TINY = ModelConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1,
                   intermediate_size=64)


@pytest.fixture(scope="module")
def pretrained():
    """The paper TMC and a tiny model pretrained on it (shared by the tests below)."""
    torch.set_num_threads(1)
    from harness.tmclm.pretrain import pretrain

    tmc = paper_tmc()
    model, tok, rep = pretrain(tmc, TINY, TmclmPretrainConfig(steps=300, batch_size=128, lr=1e-2, warmup_steps=20,
                                                         log_every=0))
    return tmc, model, tok, rep


# ---------------------------------------------------------------------------------------------------- tokenizer
def _random_tmc():
    from tmc_theory.generate import random_tmc

    return random_tmc(4, 3, n_tasks=2, seed=3)


@pytest.mark.parametrize("make", [paper_tmc, _random_tmc])
def test_tokenisation_round_trips(make, tmp_path):
    tmc = make()
    tok = PathTokenizer.for_tmc(tmc)
    paths = tmc.enumerate_paths()
    ids = tok.encode_paths(paths, tmc.tasks[0].name)
    assert ids.shape == (len(paths), tmc.n_layers + 2)
    assert np.all(ids[:, 0] == tok.prompt_id(tmc.tasks[0].name)) and np.all(ids[:, -1] == tok.end_id)
    assert np.array_equal(tok.decode_batch(ids[:, 1:]), paths)
    # text -> HF tokenizer ids -> path, and saving/loading keeps the vocabulary
    tok.save(tmp_path)
    tok2 = PathTokenizer.load(tmp_path)
    for p, row in zip(paths[:: max(1, len(paths) // 7)], ids[:: max(1, len(paths) // 7)]):
        text = tok.prompt_text(tmc.tasks[0].name) + " " + tok.completion_text(p) + " <end>"
        assert tok2.hf(text, add_special_tokens=False)["input_ids"] == row.tolist()
        assert np.array_equal(tok.parse_text(tok.completion_text(p)), p)
        assert tok2.hf.decode(row[1:], skip_special_tokens=True) == tok.completion_text(p)


def test_ill_formed_completions_decode_to_none():
    tok = PathTokenizer.for_tmc(paper_tmc())
    good = tok.completion_ids(np.array([[0, 1, 0, 1]]))[0].tolist()
    assert tok.decode_ids(good) is not None
    bad = [good[:-1],                                   # no end token
           good[:2] + [tok.end_id],                     # ends early
           [good[1], good[0]] + good[2:],               # layers out of order
           good[:1] + [tok.prompt_id("TASK2")] + good[2:],  # a prompt token inside the completion
           good[:-1] + [good[-2], tok.end_id]]          # one state too many
    assert all(tok.decode_ids(b) is None for b in bad)
    assert np.all(tok.decode_batch(bad) == -1)
    with pytest.raises(ValueError, match="out of range"):
        tok.completion_ids(np.array([[0, 2, 0, 0]]))
    with pytest.raises(ValueError, match="unknown task"):
        tok.prompt_id("TASK9")


# ---------------------------------------------------------------------------------------------------- measurement
def test_exact_path_probabilities_sum_to_one_and_match_sampling(pretrained):
    tmc, model, tok, _ = pretrained
    probs = all_path_probs(model, tok, tmc)
    for key, q in probs.items():
        assert np.all(q >= 0) and 0.9 < q.sum() <= 1.0 + 1e-9, key
        m = task_metrics(tmc, "TASK1", q, 30)
        assert m["easy"] + m["hard"] + m["invalid"] == pytest.approx(1.0, abs=1e-9)
        assert m["malformed"] == pytest.approx(1.0 - q.sum(), abs=1e-9)
    # sampled estimate with transformers' generate (the sampler TRL uses) vs the exact teacher-forced q
    n = 3000
    torch.manual_seed(0)
    enc = tok.hf([tok.prompt_text("TASK1")] * n, return_tensors="pt", add_special_tokens=False)
    with torch.no_grad():
        gen = model.generate(**enc, do_sample=True, max_new_tokens=tok.completion_length, top_k=0, top_p=1.0,
                             temperature=1.0)
    comp = gen[:, enc["input_ids"].shape[1]:].tolist()
    got = tok.decode_batch([c[: c.index(tok.end_id) + 1] if tok.end_id in c else c for c in comp])
    paths = tmc.enumerate_paths()
    index = {tuple(p): i for i, p in enumerate(paths)}
    counts = np.zeros(len(paths) + 1)
    for p in got:
        counts[index[tuple(p)] if p[0] >= 0 else -1] += 1
    q = np.append(probs["TASK1"], 1.0 - probs["TASK1"].sum())
    se = np.sqrt(q * (1 - q) / n)
    assert np.all(np.abs(counts / n - q) < 5 * se + 2e-3), np.c_[counts / n, q]


def test_pretraining_matches_the_tmc(pretrained):
    tmc, model, tok, rep = pretrained
    for prompt in (None, "TASK1", "TASK2"):
        p = tmc_path_probs(tmc, prompt)
        q = model_path_probs(model, tok, prompt, tmc.enumerate_paths())
        assert np.max(np.abs(p - q)) < 0.05, (prompt, np.c_[p, q])
    assert rep["kl"]["<any>"] < 0.05
    # the Markov projection of the uniform-start distribution recovers the TMC kernels
    ks = markov_kernels(tmc, all_path_probs(model, tok, tmc)["<any>"])
    for k, kt in zip(ks, tmc.kernels):
        assert np.max(np.abs(k - kt)) < 0.06


# ---------------------------------------------------------------------------------------------------- reward / rules
def test_reward_and_advantage_rules():
    from harness.train.advantages import leave_out_advantage as rejection_advantage
    from harness.train.advantages import raft_online_advantage as raft_advantage
    from harness.tmclm.reward import TmcReward

    tok = PathTokenizer.for_tmc(paper_tmc())
    r = TmcReward(tok)
    ids = tok.completion_ids(np.array([[0, 0, 0, 0], [0, 1, 1, 0], [0, 0, 0, 0]])).tolist()
    ids[2] = ids[2][:-1]  # ill-formed: no end token
    assert r(completion_ids=ids, correct=["0-0-0-0", "0-0-0-0;0-1-0-0", "0-0-0-0"]) == [1.0, 0.0, 0.0]
    rw = torch.tensor([1., 0, 0, 0, 0, 0, 1, 0] + [0., 1, 1, 0, 0, 0, 0, 0])
    a = rejection_advantage(rw, 8, tries=5)
    # group 1: sample 0 is correct and its 5 next samples (1..5) fail -> kept; sample 6's next five wrap to 0 -> 0
    assert a[:8].tolist() == [1, 0, 0, 0, 0, 0, 0, 0]
    # group 2: samples 1 and 2 are correct; 1 sees 2 among its checks -> rejected; 2 sees 3..7 -> kept
    assert a[8:].tolist() == [0, 0, 1, 0, 0, 0, 0, 0]
    b = raft_advantage(rw, 8)  # first correct of each group kept; mean over 2 kept -> weight 16/2
    assert b.nonzero().flatten().tolist() == [0, 9]
    assert torch.allclose(b[[0, 9]], torch.tensor([8.0, 8.0]))


# ---------------------------------------------------------------------------------------------------- post-training
def test_reinforce_moves_mass_the_way_the_theory_predicts(pretrained, tmp_path):
    from tmc_theory.instances import draw_instances

    from harness.tmclm.compare import start_policy, theory_run
    from harness.tmclm.posttrain import posttrain_method

    tmc, model, tok, _ = pretrained
    pc = PosttrainConfig(methods=["reinforce"], steps=3, prompts_per_step=2, num_generations=8, lr=3e-3,
                         eval_every=3, seed=0)
    inst = draw_instances(tmc, "TASK1", 50, np.random.default_rng(1))
    res = posttrain_method(model, tok, tmc, "reinforce", pc, inst, tmp_path / "reinforce")
    h = res["history"]
    assert [e["step"] for e in h] == [0, 3]
    easy = [task_metrics(tmc, "TASK1", np.asarray(e["probs"]["TASK1"]), 30)["easy"] for e in h]
    # the theory, from the same start: expected REINFORCE raises the easy path's mass
    p0 = {k: np.asarray(v) for k, v in h[0]["probs"].items()}
    th = theory_run(tmc, start_policy(tmc, p0), inst, "reinforce", "expected", 0.5, 3, 3, pc)
    th_easy = [task_metrics(tmc, "TASK1", e["probs"]["TASK1"], 30)["easy"] for e in th]
    assert th_easy[-1] > th_easy[0]
    assert easy[-1] > easy[0] + 0.005, easy
    # the original model is untouched (each method fine-tunes a copy)
    assert np.allclose(all_path_probs(model, tok, tmc)["TASK1"], p0["TASK1"])


# ---------------------------------------------------------------------------------------------------- config
def test_configs_load_and_reject_bad_values(tmp_path):
    from tmc_core.config import ConfigError

    for name in ("tmclm_paper.yaml", "tmclm_random.yaml"):
        cfg = load_tmclm_config(ROOT / "configs" / name)
        assert isinstance(cfg, TmclmConfig) and cfg.model.hidden_size <= 128
    bad = tmp_path / "bad.yaml"
    bad.write_text("posttrain:\n  methods: [reinforce, dpo]\n")
    with pytest.raises(ConfigError, match="dpo.*allowed values"):
        load_tmclm_config(bad)
    bad.write_text("model:\n  hidden_size: 256\n")
    with pytest.raises(ConfigError, match="hidden_size"):
        load_tmclm_config(bad)
