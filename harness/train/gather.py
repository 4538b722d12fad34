"""Collecting Python lists from every process of a multi-process run (``accelerate launch`` / torchrun)."""

from __future__ import annotations


def gather_lists(accelerator, items: list) -> list:
    """``items`` of every process, concatenated in process order, on every process (a collective call: all
    processes must make it). With one process (or ``accelerator`` None) returns ``items`` as a list."""
    if accelerator is None or accelerator.num_processes == 1:
        return list(items)
    from accelerate.utils import gather_object

    return list(gather_object(items))
