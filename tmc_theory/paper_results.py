"""The paper's published TMC results (arXiv 2511.07368, Table 3 / Appendix C; docs/tmc_model.md §6).

Share of sampled CoTs in % (K = 30, 200 instances per task): ``PAPER_TABLE[strategy][task] = (easy, hard,
invalid)``. Row order = the paper's. pass@30 was only shown as bar charts (no published numbers).
"""

from __future__ import annotations

PAPER_TABLE: dict[str, dict[str, tuple[float, float, float]]] = {
    "Base Model": {"TASK1": (21.67, 8.07, 70.27), "TASK2": (20.03, 1.10, 78.87)},
    "REINFORCE": {"TASK1": (94.33, 3.43, 2.23), "TASK2": (1.52, 0.87, 97.62)},
    "RAFT": {"TASK1": (95.22, 2.33, 2.45), "TASK2": (2.30, 0.92, 96.78)},
    "PPO": {"TASK1": (91.82, 5.40, 2.78), "TASK2": (2.23, 1.03, 96.73)},
    "RL-rej": {"TASK1": (49.62, 17.42, 32.97), "TASK2": (30.63, 2.27, 67.10)},
    "GRPO-KL": {"TASK1": (46.47, 16.27, 37.27), "TASK2": (54.18, 1.68, 44.13)},
    "Soft-BoN": {"TASK1": (8.98, 19.30, 71.72), "TASK2": (7.00, 17.27, 75.73)},
    "ORM-BoN": {"TASK1": (21.00, 7.30, 71.70), "TASK2": (20.23, 0.97, 78.80)},
    "PRM-BoN": {"TASK1": (99.13, 0.87, 0.00), "TASK2": (13.42, 36.77, 49.82)},
    "DPRM-BoN": {"TASK1": (99.52, 0.48, 0.00), "TASK2": (13.40, 37.02, 49.58)},
    "DPRM-AS": {"TASK1": (17.23, 36.10, 46.67), "TASK2": (12.02, 38.02, 49.97)},
}

#: the paper's row order as method keys (tmc_core.names)
PAPER_ORDER = ("base", "reinforce", "raft", "ppo", "rl_rej", "grpo_kl",
               "soft_bon", "orm_bon", "prm_bon", "dprm_bon", "dprm_as")
