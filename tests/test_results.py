"""engine.results: one Status for the loop, the history and the sweeps; one spread() for every
summary over seeds; the result types load without torch."""

import json
import math
import statistics
import subprocess
import sys

import pytest

from miniframe.engine import (
    HIGHER_IS_BETTER,
    METRICS,
    Band,
    EpochSummary,
    ReplicaEpoch,
    Status,
    spread,
)
from miniframe.runs import RunStatus


def test_one_status_vocabulary_for_training_and_the_history():
    assert RunStatus is Status  # the history's name is the engine's class
    assert {s for s in Status if s.active} == {Status.QUEUED, Status.RUNNING}
    # A run's end from what its training last said: "running" means the loop just ended.
    assert Status.ended("running") is Status.STOPPED
    for said in ("finished", "stopped", "diverged", "interrupted", "failed"):
        assert Status.ended(said) is Status(said)
    with pytest.raises(ValueError):
        Status.ended("paused")


def test_metrics_in_one_order():
    assert METRICS == ("train_loss", "train_acc", "test_loss", "test_acc")
    assert {"train_acc", "test_acc"} == HIGHER_IS_BETTER
    fields = list(EpochSummary.__dataclass_fields__)
    assert [f for f in fields if f in METRICS] == list(METRICS)
    assert [f for f in ReplicaEpoch.__dataclass_fields__ if f in METRICS] == list(METRICS)


def test_spread_is_over_the_finite_values_and_names_the_worst_seed():
    b = spread([90.0, 84.0, 96.0, 88.0], [3, 9, 4, 5], higher_is_better=True)
    assert math.isclose(b.mean, 89.5) and b.count == 4
    assert math.isclose(b.std, statistics.stdev([90.0, 84.0, 96.0, 88.0]))
    assert (b.min, b.max, b.worst_seed, b.worst) == (84.0, 96.0, 9, 84.0)
    # Losses: the highest is worst; a diverged (NaN, inf) or missing value is worse still.
    loss = spread([0.2, math.inf, 0.9, None], [1, 2, 3, 4])
    assert loss.worst_seed == 2 and loss.count == 2 and math.isclose(loss.mean, 0.55)
    assert spread([0.2, 0.9, None], [1, 2, 3]).worst_seed == 3
    assert spread([0.2, 0.9]).worst_seed == 1  # positions when no seeds are named
    one = spread([5.0])
    assert one.std == 0.0 and one.mean == 5.0
    none = spread([math.nan, None], [7, 8])
    assert none.count == 0 and math.isnan(none.mean) and math.isnan(none.std)
    assert none.worst_seed == 7
    with pytest.raises(ValueError):
        spread([])
    with pytest.raises(ValueError):
        spread([1.0, 2.0], [1])


def test_a_replica_epoch_band_is_the_spread():
    e = ReplicaEpoch(3, 5, (0, 7, 9), [0.3, 0.5, math.nan], [80.0, 70.0, 50.0],
                     [0.4, 0.6, math.nan], [75.0, 65.0, 50.0], [False, False, True])  # fmt: skip
    for metric in METRICS:
        values = e.values(metric)
        assert values is not None
        band, expected = (
            e.band(metric),
            spread(values, e.seeds, higher_is_better=metric in HIGHER_IS_BETTER),
        )
        assert band is not None and band.to_json_dict() == expected.to_json_dict()
    loss = e.band("train_loss")
    assert isinstance(loss, Band) and loss.worst_seed == 9 and math.isnan(loss.worst)
    d = json.loads(json.dumps(e.to_json_dict(), allow_nan=False))
    assert d["train_loss_band"] == {
        "mean": 0.4, "std": pytest.approx(0.1414, abs=1e-4), "min": 0.3, "max": 0.5,
        "worst_seed": 9, "count": 2,
    }  # fmt: skip
    assert d["test_acc_band"]["worst_seed"] == 9 and d["train_loss"][2] is None


def test_results_import_no_torch():
    """The history, the sweeps and the trainer read results before (or without) torch."""
    code = (
        "import sys\n"
        "from miniframe.engine import Status, EpochSummary, ReplicaEpoch, spread, METRICS\n"
        "from miniframe.engine import SpecError, CSVError, FileError\n"
        "import miniframe.engine.results, miniframe.engine.errors\n"
        "import miniframe.runs, miniframe.sweep.execution, miniframe.reproduce\n"
        "assert issubclass(CSVError, SpecError)\n"
        "s = EpochSummary(1, 1, 0.1, 90.0, 0.2, 85.0, 0.01, 1e5, Status.FINISHED)\n"
        "assert s.to_json_dict()['status'] == 'finished'\n"
        "bad = [m for m in sys.modules if m == 'torch' or m.startswith('torch.')]\n"
        "print('LOADED', bad)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "LOADED []" in result.stdout


def test_errors_are_one_class_each_wherever_they_are_imported_from():
    from miniframe.engine import errors, files, spec, table

    assert spec.SpecError is errors.SpecError
    assert table.CSVError is errors.CSVError
    assert files.FileError is errors.FileError
    assert issubclass(errors.CSVError, errors.SpecError)
