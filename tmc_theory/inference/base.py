"""The "Base Model" row: the base sampler as is (docs/tmc_model.md §5).

The paper samples the TRUE TMC with a UNIFORM start state (about 70% invalid paths); set
``InferenceConfig(start="uniform")`` for that convention. ``base_kernels`` replaces the true TMC (the
pretrained model, or a transformer's kernels). Output distribution: ``start(o_0) prod_l P_l[o_l, o_{l+1}]``.
"""

from __future__ import annotations

import numpy as np

from .. import exact
from ..sampling import sample_paths
from .common import InferenceConfig, as_task, draw_starts, iid_selector_parts, start_dist


def exact_distribution(tmc, task, cfg: InferenceConfig | None = None, base_kernels=None) -> np.ndarray:
    cfg = cfg or InferenceConfig()
    task = as_task(tmc, task)
    ks = tmc.kernels if base_kernels is None else base_kernels
    return exact.path_distribution(ks, start_dist(tmc, task, cfg))[1]


def sample_batch(tmc, task, cfg: InferenceConfig | None, n_sets: int, k: int, rng, base_kernels=None) -> np.ndarray:
    cfg = cfg or InferenceConfig()
    task = as_task(tmc, task)
    ks = tmc.kernels if base_kernels is None else base_kernels
    paths = sample_paths(ks, draw_starts(tmc, task, cfg, n_sets * k, rng), rng)
    return paths.reshape(n_sets, k, tmc.n_layers)


#: K i.i.d. base samples: ``sample`` and the exact ``1 - E_C[(1 - q(C))^K]``
sample, exact_pass_at_k = iid_selector_parts(exact_distribution, sample_batch)
