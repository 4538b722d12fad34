"""Best-of-N selectors on real LLMs, with the theory's keys (``tmc_core.names.INFERENCE``) plus baselines.

* outcome level (act on N sampled completions): ``soft_bon``, ``orm_bon``, ``majority``, ``weighted_majority``;
* step level (generate step by step, :mod:`harness.select.steps`): ``prm_bon``, ``dprm_bon``, ``dprm_as``,
  ``beam_search``, ``dvts`` (search-and-learn's reference points).

Rewards (:mod:`harness.select.rewards`): ``oracle`` (the grader with the gold answer), ``orm`` (a learned
outcome reward model), ``mc:oracle`` / ``mc:orm`` (Math-Shepherd soft estimation from rollouts), ``prm`` (a
learned step-level model on soft MC labels). ``registry.SELECTORS`` maps keys to implementations;
``tmc bon`` (:mod:`harness.select.cli`) runs them.
"""
