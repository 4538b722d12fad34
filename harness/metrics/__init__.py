"""pass@k (unbiased, Chen et al. 2021), bootstrap CIs and exact paired tests over problems, t-intervals over
training seeds, Holm's correction, maj@k, breakdowns, plots.

Importing this package needs numpy only; pandas/matplotlib are imported by the functions that use them.
"""

from .bootstrap import bootstrap_mean, bootstrap_pass_at_k
from .breakdown import breakdown, compare_solved, per_problem, solved_set
from .exact_tests import paired_exact_test, sign_flip_test, sign_test
from .holm import holm
from .majority import maj_at_k, maj_at_k_per_problem
from .paired import paired_pass_at_k_diff
from .passk import counts_from_matrix, pass_at_k, pass_at_k_curve, pass_at_k_matrix, powers_of_two
from .plot import plot_pass_at_k
from .seeds import seed_t_interval

__all__ = [
    "pass_at_k", "pass_at_k_curve", "pass_at_k_matrix", "powers_of_two", "counts_from_matrix",
    "bootstrap_pass_at_k", "bootstrap_mean", "paired_pass_at_k_diff", "maj_at_k", "maj_at_k_per_problem",
    "sign_test", "sign_flip_test", "paired_exact_test", "seed_t_interval", "holm",
    "per_problem", "breakdown", "solved_set", "compare_solved", "plot_pass_at_k",
]
