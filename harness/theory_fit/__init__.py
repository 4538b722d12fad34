"""Fit a tmc_theory TMC to measured reasoning paths and predict what each method does to it."""
