"""What both halves share: typed YAML config loading (:mod:`tmc_core.config`) and the method vocabulary
(:mod:`tmc_core.names`). ``tmc_theory`` (exact numpy engine) and ``harness`` (real LLMs) both import it; it imports
neither."""
