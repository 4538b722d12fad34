"""harness.analyze.adapter_drift: LoRA weight-space drift from r x r products, and the Adam step size from its state."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch

from harness.analyze import adapter_drift as ad


def _mods(rng, shapes, r=4):
    return {name: (rng.normal(size=(r, din)), rng.normal(size=(dout, r))) for name, (dout, din) in shapes.items()}


def test_norms_match_the_explicit_products():
    rng = np.random.default_rng(0)
    shapes = {"q": (12, 10), "down": (7, 15)}
    m1, m2 = _mods(rng, shapes), _mods(rng, shapes)
    dw = lambda m, k: 2.0 * m[k][1] @ m[k][0]  # noqa: E731  scale = alpha / r = 2
    n1 = np.sqrt(sum(np.linalg.norm(dw(m1, k)) ** 2 for k in shapes))
    d12 = np.sqrt(sum(np.linalg.norm(dw(m1, k) - dw(m2, k)) ** 2 for k in shapes))
    assert ad.delta_norm(m1, 2.0) == pytest.approx(n1, rel=1e-10)
    assert ad.delta_distance(m1, m2, 2.0) == pytest.approx(d12, rel=1e-10)
    assert ad.delta_distance(m1, m1, 2.0) == pytest.approx(0.0, abs=1e-6)
    p, n = ad.param_distance(m1, m2)
    assert n == sum(4 * (din + dout) for dout, din in shapes.values())
    assert p == pytest.approx(np.sqrt(sum(((m1[k][0] - m2[k][0]) ** 2).sum() + ((m1[k][1] - m2[k][1]) ** 2).sum()
                                          for k in shapes)))


def test_adam_step_rms_is_the_last_update_over_lr():
    """From torch's own AdamW state after 3 steps: RMS(theta_3 - theta_2) / lr."""
    torch.manual_seed(0)
    w = torch.nn.Parameter(torch.randn(50))
    opt = torch.optim.AdamW([w], lr=1e-2, weight_decay=0.0)
    for _ in range(3):
        before = w.detach().clone()
        opt.zero_grad()
        ((w - torch.randn(50)) ** 2).sum().backward()
        opt.step()
    rms, lr = ad.adam_step_rms(opt.state_dict())
    assert lr == 1e-2
    assert rms == pytest.approx(float(((w.detach() - before) ** 2).mean().sqrt()) / lr, rel=1e-5)


def test_drift_over_a_run_folder(tmp_path, monkeypatch):
    from safetensors.numpy import save_file

    rng = np.random.default_rng(1)
    shapes = {"base_model.model.layers.0.q_proj": (6, 5)}
    b_steps = {10: 0.1, 20: 0.3}
    a = rng.normal(size=(2, 5)).astype(np.float32)
    for step, bscale in b_steps.items():
        d = tmp_path / f"checkpoint-{step}"
        d.mkdir()
        b = (bscale * np.ones((6, 2))).astype(np.float32)
        save_file({f"{k}.lora_A.weight": a for k in shapes} | {f"{k}.lora_B.weight": b for k in shapes},
                  str(d / "adapter_model.safetensors"))
        (d / "adapter_config.json").write_text(json.dumps({"r": 2, "lora_alpha": 4}))
        if step == 20:  # a real AdamW state dict (lr 1e-3) beside the second adapter only
            w = torch.nn.Parameter(torch.ones(3))
            opt = torch.optim.AdamW([w], lr=1e-3)
            w.sum().backward()
            opt.step()
            torch.save(opt.state_dict(), d / "optimizer.pt")
    (tmp_path / "checkpoint-5").mkdir()  # no adapter: skipped
    res = ad.drift(tmp_path)
    rows = res["checkpoints"]
    assert [r["step"] for r in rows] == [10, 20]
    ba = np.ones((6, 2)) @ a
    assert rows[0]["dW"] == pytest.approx(2 * 0.1 * np.linalg.norm(ba), rel=1e-5)
    assert rows[1]["dW_from_prev"] == pytest.approx(2 * 0.2 * np.linalg.norm(ba), rel=1e-5)
    assert rows[0]["net_step_over_lr"] is None and rows[0]["lr"] is None  # first checkpoint, no optimizer.pt
    # only B moved, by 0.2 in each of its 12 entries; 22 LoRA parameters; 10 steps at lr 1e-3
    assert rows[1]["lr"] == 1e-3
    assert rows[1]["net_step_over_lr"] == pytest.approx(np.sqrt(12 * 0.2 ** 2) / (np.sqrt(22) * 10 * 1e-3), rel=1e-5)
    assert rows[1]["adam_step_rms"] == pytest.approx(1.0, rel=1e-4)  # first Adam step: m_hat / sqrt(v_hat) = sign(g)
    assert "| 20 | 1e-03 |" in ad.table([res])
    # --against the run itself: cos = 1 at both steps, and no adapter file is read again for it
    import safetensors.numpy

    reads = []
    real = safetensors.numpy.load_file
    monkeypatch.setattr(safetensors.numpy, "load_file", lambda p: reads.append(p) or real(p))
    assert ad.cosines(tmp_path, tmp_path) == {10: pytest.approx(1.0), 20: pytest.approx(1.0)}
    assert reads == []
    f20 = tmp_path / "checkpoint-20" / "adapter_model.safetensors"
    os.utime(f20, ns=(f20.stat().st_atime_ns, f20.stat().st_mtime_ns + 10**9))  # a rewritten file is read again
    ad.cosines(tmp_path, tmp_path)
    assert len(reads) == 1


def test_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        ad.drift(tmp_path)
    with pytest.raises(ValueError, match="only one of lora_A"):
        ad.lora_modules({"m.lora_A.weight": np.zeros((2, 3))})


def test_cosine_of_weight_changes():
    rng = np.random.default_rng(2)
    m = _mods(rng, {"q": (8, 6)})
    scaled = {k: (a, 3.0 * b) for k, (a, b) in m.items()}
    flipped = {k: (a, -b) for k, (a, b) in m.items()}
    assert ad.delta_cosine(m, scaled) == pytest.approx(1.0)
    assert ad.delta_cosine(m, flipped) == pytest.approx(-1.0)
    other = _mods(rng, {"q": (8, 6)})
    dw1, dw2 = m["q"][1] @ m["q"][0], other["q"][1] @ other["q"][0]
    assert ad.delta_cosine(m, other) == pytest.approx((dw1 * dw2).sum() / np.linalg.norm(dw1) / np.linalg.norm(dw2))
