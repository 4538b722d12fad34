"""Best-of-N selectors on real LLMs, with the theory's keys (``tmc_core.names.INFERENCE``) plus baselines.

* outcome level (act on N sampled completions): ``soft_bon``, ``orm_bon``, ``majority``, ``weighted_majority``;
* step level (generate step by step, :mod:`harness.select.steps`): ``prm_bon``, ``dprm_bon``, ``dprm_as``,
  ``beam_search``, ``dvts`` (search-and-learn's reference points). Step engines stop each proposed step at the
  separator: :class:`~harness.select.steps.StepSampler` (transformers) and
  :class:`~harness.select.vllm_steps.VLLMStepEngine` (vLLM, ``n = M`` per prefix, prefix caching).

Rewards (:mod:`harness.select.rewards`): ``oracle`` (the grader with the gold answer), ``orm`` (a learned
outcome reward model), ``mc:oracle`` / ``mc:orm`` (Math-Shepherd soft estimation from rollouts), ``prm`` (a
learned step-level model on soft MC labels, or a published PRM: Qwen2.5-Math-PRM, Math-Shepherd,
Skywork-o1-Open-PRM, :mod:`harness.select.rewards.hub_prm`). ``registry.SELECTORS`` maps keys to implementations;
``tmc bon`` (:mod:`harness.select.cli`) runs them.
"""
