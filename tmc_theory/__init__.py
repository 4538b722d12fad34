"""Exact theory engine for the multi-task Tree-structured Markov Chain (TMC) of arXiv 2511.07368.

Pure numpy (scipy/matplotlib for plots); never imports torch or transformers.
"""

__version__ = "0.1.0"
