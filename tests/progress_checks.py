"""What every report of long work must hold (the sweeps' and the benchmark's)."""

from __future__ import annotations

import itertools

import pytest

from miniframe.progress import Progress


def check_progress(seen: list[Progress], total: int, unit: str) -> None:
    """What every report of long work must hold: it starts at 0, never goes back, and ends
    with every item done and all the work."""
    assert seen, "no progress was reported"
    assert (seen[0].done, seen[0].work) == (0, 0.0)
    assert all(p.total == total and p.unit == unit for p in seen)
    for a, b in itertools.pairwise(seen):
        assert b.done >= a.done and b.work >= a.work - 1e-9, (a, b)
    assert seen[-1].done == total and seen[-1].fraction == 1.0
    assert seen[-1].work == pytest.approx(seen[-1].work_total)
