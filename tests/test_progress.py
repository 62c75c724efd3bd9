"""Progress as data (miniframe.progress): the tally of items and work that sweeps and the
benchmark keep, what they report as their epochs and rounds end, and the text the CLI's bar
shows. The bar itself, on a real terminal, is tested in test_cli_progress."""

from __future__ import annotations

import dataclasses

import pytest
from progress_checks import check_progress

from miniframe.bench import run_bench
from miniframe.cli.progress import clock, status_text
from miniframe.engine import load_preset
from miniframe.progress import Progress, Tally
from miniframe.sweep import grid_points, parse_grid, run_sweep


def small(spec, n=60, epochs=3):
    return spec.replace(data=dataclasses.replace(spec.data, n_train=n, n_test=n), epochs=epochs)


# ---- the tally ---------------------------------------------------------------------------------
def test_tally_weighs_items_and_never_goes_back():
    seen: list[Progress] = []
    tally = Tally({"a": 1.0, "b": 3.0}, "run", seen.append)
    tally.report()
    tally.step("b", 0.5)
    assert (seen[-1].done, seen[-1].work, seen[-1].fraction) == (0, 1.5, 0.375)
    tally.step("b", 0.25)  # late or out of order: ignored
    tally.step("b", 0.5)  # no change: not reported again
    assert len(seen) == 2
    tally.finish("a")
    tally.finish("a")  # twice: counted once
    assert (seen[-1].done, seen[-1].work) == (1, 2.5)
    tally.step("a", 0.1)  # after its end: nothing
    tally.note("b at last")
    assert seen[-1].note == "b at last"
    tally.finish("b")
    assert (seen[-1].done, seen[-1].total, seen[-1].fraction) == (2, 2, 1.0)
    assert len(seen) == 5


def test_a_step_never_passes_the_end_nor_counts_an_item_done():
    tally = Tally({0: 2.0}, "case")
    tally.step(0, 7.0)
    p = tally.snapshot()
    assert (p.done, p.work, p.fraction) == (0, 2.0, 1.0)


def test_zero_cost_items_still_count():
    tally = Tally({0: 0.0, 1: 0.0}, "case")
    tally.finish(0)
    assert (tally.snapshot().done, tally.snapshot().fraction) == (1, 0.0)
    tally.finish(1)
    assert tally.snapshot().fraction == 1.0


def test_costs_must_not_be_negative():
    with pytest.raises(ValueError, match="≥ 0"):
        Tally({0: -1.0}, "run")


# ---- the text beside the bar -------------------------------------------------------------------
def test_clock():
    assert [clock(s) for s in (0, 0.4, 52, 603, 3723, -1)] == [
        "0:00", "0:00", "0:52", "10:03", "1:02:03", "0:00",
    ]  # fmt: skip


def test_status_text_counts_and_estimates_from_the_average_pace():
    start = Progress(0, 20, "run", 0.0, 100.0)
    assert status_text(start, 3.0, finished=False) == "0/20 runs  0:03 elapsed  ETA –"
    quarter = Progress(3, 20, "run", 25.0, 100.0)
    assert status_text(quarter, 52.0, finished=False) == "3/20 runs  0:52 elapsed  ETA 2:36"
    done = Progress(20, 20, "run", 100.0, 100.0)
    assert status_text(done, 208.0, finished=True) == "20/20 runs  3:28 elapsed"
    one = Progress(1, 1, "run", 1.0, 1.0)
    assert status_text(one, 1.0, finished=True) == "1/1 run  0:01 elapsed"  # agrees with 1


# ---- what the work reports ---------------------------------------------------------------------
def test_a_sweep_in_this_process_reports_each_epoch():
    """One job: the epochs of each run move the work on before the run is done."""
    points = grid_points(small(load_preset("quick")), parse_grid(["lr=1e-3,1e-2"]))
    seen: list[Progress] = []
    run_sweep("q", points, [0, 1], replicas=1, jobs=1, on_progress=seen.append)
    check_progress(seen, total=4, unit="run")
    # 4 runs of 3 epochs: before each run's end, its first two epochs were counted.
    assert sum(1 for p in seen if p.done == 0 and 0 < p.work < p.work_total) >= 2


def test_a_run_that_ends_early_counts_as_done_with_its_last_epoch():
    """A seed that diverges in its first epoch of five ends there: done, its whole cost
    counted at once (not a fifth of it), before the next run starts."""
    points = grid_points(small(load_preset("vanilla"), epochs=5), parse_grid(["lr=1e3,1e-4"]))
    seen: list[Progress] = []
    result = run_sweep("v", points, [0], jobs=1, on_progress=seen.append)
    assert result.status[0][0] == "diverged" and result.status[1][0] == "finished"
    check_progress(seen, total=2, unit="run")
    first = next(p for p in seen if p.work > 0)
    assert (first.done, first.fraction) == (1, 0.5)


def test_the_benchmark_reports_its_cases():
    seen: list[Progress] = []
    lines: list[str] = []
    run_bench(
        presets=["vanilla"], batch_sizes=(50, 200), quick=True, progress=lines.append,
        on_progress=seen.append,
    )  # fmt: skip
    check_progress(seen, total=2, unit="case")
    assert lines == ["vanilla batch 50", "vanilla batch 200"]
    assert [p.note for p in seen if p.note][:1] == ["vanilla batch 50"]
    assert seen[-1].note == "vanilla batch 200"
    # Within a case, its rounds move the work on before the case is done.
    assert any(p.done == 0 and 0 < p.work < p.work_total for p in seen)
