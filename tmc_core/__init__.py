"""What both halves share: typed YAML config loading (tmc_core.config) and the method vocabulary (tmc_core.names).

``tmc_theory`` (the exact numpy engine) and ``harness`` (real LLMs) both import this package; it imports neither.
"""
