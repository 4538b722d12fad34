"""Sampling backends behind one interface (:class:`~harness.backends.base.Backend`).

``make_backend("hf" | "vllm", model, dtype="auto", device="auto", adapter=None, batch_size=16, **kw)``.
``model`` goes through :func:`harness.models.resolve_model` first ("smollm2"/"default" -> the prepared
offline model; local folders and hub ids pass through). The vLLM backend spawns its engine process:
scripts that use it must keep their entry code under ``if __name__ == "__main__":``.
"""

from __future__ import annotations

from harness.backends.base import Backend, BackendError, Completion, derive_seed

BACKENDS = ("hf", "vllm")


def make_backend(name: str, model: str, dtype: str = "auto", device: str = "auto", adapter: str | None = None,
                 batch_size: int = 16, **kw) -> Backend:
    """Build the backend ``name`` for ``model`` (resolved with :func:`harness.models.resolve_model`)."""
    from harness.models import resolve_model

    if name not in BACKENDS:
        raise BackendError(f"backend {name!r} is not allowed; allowed values: {', '.join(BACKENDS)}")
    model = resolve_model(model)
    if name == "hf":
        from harness.backends.hf import HF_OPTIONS, HFBackend

        bad = sorted(set(kw) - set(HF_OPTIONS))
        if bad:
            raise BackendError(f"backend 'hf' has no option {bad[0]!r}; allowed options: {', '.join(HF_OPTIONS)}")

        return HFBackend(model, dtype=dtype, device=device, adapter=adapter, batch_size=batch_size, **kw)
    from harness.backends.vllm_backend import VLLMBackend

    return VLLMBackend(model, dtype=dtype, device=device, adapter=adapter, batch_size=batch_size, **kw)


__all__ = ["BACKENDS", "Backend", "BackendError", "Completion", "derive_seed", "make_backend"]
