"""Flushing denormal floats to zero while a block of tensor work runs.

A float32 below 2⁻¹²⁶ ≈ 1.2e-38 is *denormal*: x86 cores compute with it through a microcode
assist that costs ~100× a normal multiply-add. Networks whose outputs saturate (the deep
preset's cross-entropy with N(0,1) weights: softmax probabilities of exactly 0 and 1) feed
such values through every backward product, and the replica trainer's products, which are
compute-bound where a lone run's are dispatch-bound, then spend most of their time in assists
(measured: ten deep replicas' epoch 243 → 146 ms, the 100×100 weight gradient 170 → 36 µs).

With flushing on (the FTZ and DAZ bits of the calling thread's MXCSR register, set by
``torch.set_flush_denormal``), a denormal input is read as 0 and a denormal result is written
as 0: every value changes by less than 1.2e-38 (absolute), far inside the rounding the replica
trainer's batched products already differ by. :func:`flushing_denormals` turns it on for a
block and then puts back whatever the thread had (torch offers no getter: one multiply tells).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

_TINY = 1e-37  # a normal float32 (≥ 1.2e-38) whose thousandth is denormal


def flushes_denormals() -> bool:
    """Whether this thread flushes denormal results to zero now."""
    return bool((torch.tensor([_TINY]) * 1e-3).item() == 0.0)


@contextlib.contextmanager
def flushing_denormals(enabled: bool = True) -> Iterator[None]:
    """Flush denormals to zero in this thread for the block (nothing when not ``enabled``, or
    where the CPU has no such mode), then restore the thread's setting."""
    if not enabled or flushes_denormals():
        yield
        return
    if not torch.set_flush_denormal(True):  # not supported here (not x86 with SSE3)
        yield
        return
    try:
        yield
    finally:
        torch.set_flush_denormal(False)
