"""RLVR post-training with LoRA on TRL: grpo, grpo_kl, reinforce, rl_rej, ppo, raft (see registry.py).

Heavy imports (torch, trl) happen only inside the functions, so importing the package is cheap.
"""

from .config import TrainConfig, load_train_config, train_config_from_dict

__all__ = ["TrainConfig", "load_train_config", "train_config_from_dict"]
