"""Real-LLM harness: sampling and pass@k on GSM8K/MATH, RLVR with TRL + LoRA, Best-of-N, path clustering.

Importing ``harness`` is cheap: torch/transformers/trl are imported inside the modules that need them.
"""

__version__ = "0.1.0"
