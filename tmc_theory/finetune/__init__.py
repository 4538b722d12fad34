"""The six fine-tuning methods of arXiv 2511.07368 on the tabular TMC learner (one file per method).

Entry point: :func:`tmc_theory.finetune.run.finetune` with a :class:`~tmc_theory.finetune.run.FinetuneConfig`;
method/variant lookup goes through :mod:`tmc_theory.registry` (the one place where names meet code).
"""

from .run import FinetuneConfig, finetune, policy_coverage, policy_path_distribution, sample_policy

__all__ = ["FinetuneConfig", "finetune", "policy_coverage", "policy_path_distribution", "sample_policy"]
