"""``--threads``: the torch intra-op thread count of a sampling command (``tmc sample``, ``tmc eval-checkpoints``).

By default torch uses ``OMP_NUM_THREADS`` or every core. Two jobs that each take every core of a small CPU
(an evaluation next to a training on 2 cores) slow each other far more than 2x (measured: ~5x, docs/training.md);
giving each job its share (``--threads 1``) avoids the oversubscription.
"""

from __future__ import annotations

import argparse


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"--threads: {text!r}; allowed values: an integer >= 1")
    return value


def add_threads_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--threads", type=_positive_int, default=None, metavar="N",
                        help="torch intra-op threads (default: OMP_NUM_THREADS or all cores); give each of two "
                             "jobs sharing a CPU its share, e.g. --threads 1 on 2 cores")


def apply_threads(n: int | None) -> None:
    """``torch.set_num_threads(n)`` when ``n`` is given; otherwise leave torch's default."""
    if n:
        import torch

        torch.set_num_threads(n)
