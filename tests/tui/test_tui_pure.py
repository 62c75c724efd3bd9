"""Pure helpers behind the screen: layer rows, parsing, history, boundary render, panel, CSV."""

from __future__ import annotations

import csv
import math

import pytest
from tui_helpers import tiny_spec

from miniframe.engine.spec import LayerSpec
from miniframe.engine.train import EpochSummary, Status
from miniframe.tui.export import write_metrics_csv
from miniframe.tui.history import MetricHistory
from miniframe.tui.messages import BoundaryData
from miniframe.tui.spec_form import (
    batch_hint,
    layer_rows,
    needs_rebuild,
    parse_layer_param,
    parse_setting,
)
from miniframe.tui.widgets.accuracy_panel import TrainState, clock, format_panel
from miniframe.tui.widgets.boundary import CLASS0, CLASS1, EDGE, prob_rgb, render_boundary


def test_layer_rows_infer_widths_and_params() -> None:
    layers = [LayerSpec("linear", 25), LayerSpec("relu"), LayerSpec("linear", 2)]
    rows = layer_rows(layers)
    assert [r.label for r in rows] == ["Linear 2 → 25", "ReLU", "Linear 25 → 2"]
    assert [r.params for r in rows] == [75, 0, 52]
    rows = layer_rows([LayerSpec("leaky_relu", negative_slope=0.1), LayerSpec("dropout", p=0.2)])
    assert [r.label for r in rows] == ["LeakyReLU(0.1)", "Dropout(0.2)"]


@pytest.mark.parametrize(
    ("kind", "text", "error"),
    [("linear", "0", "≥ 1"), ("linear", "a", "whole number"),
     ("leaky_relu", "-1", "≥ 0"), ("dropout", "1", "[0, 1)"), ("dropout", "nan", "finite")],
)  # fmt: skip
def test_layer_parameter_errors(kind, text, error) -> None:
    with pytest.raises(ValueError, match=error.replace("[", r"\[").replace(")", r"\)")):
        parse_layer_param(kind, text)


def test_settings_parsing_and_batch_hint() -> None:
    assert parse_setting("lr", " 1e-3 ") == 0.001
    with pytest.raises(ValueError, match="not a number"):
        parse_setting("lr", "fast")
    assert batch_hint(1, 1000) == "SGD"
    assert batch_hint(1000, 1000) == "full-batch GD"
    assert batch_hint(32, 1000) == "mini-batch"


def test_needs_rebuild_ignores_learning_rate_and_epochs() -> None:
    spec = tiny_spec()
    faster = spec.replace(solver=spec.solver.__class__(name="adam", lr=0.5), epochs=99)
    assert not needs_rebuild(spec, faster)
    assert needs_rebuild(spec, spec.replace(seed=1))
    assert needs_rebuild(spec, spec.replace(layers=spec.layers[:1]))


def test_history_stays_bounded_over_a_long_run() -> None:
    history = MetricHistory(max_points=500)
    for epoch in range(1, 10_001):
        history.append(epoch, 1.0 / epoch, 1.1 / epoch, 50.0, 49.0)
        assert len(history) <= 501
    epochs = history.series()[0]
    assert epochs[-1] == 10_000 and epochs == sorted(epochs)
    assert history.stride >= 16
    history.clear()
    assert len(history) == 0 and history.stride == 1


def style_at(line, index: int):
    """The Style of the character at ``index`` of a rich Text line."""
    for span in line.spans:
        if span.start <= index < span.end:
            return span.style
    return None


def _data(p: float, points=()) -> BoundaryData:
    return BoundaryData(grid=4, probs=[p] * 16, points=list(points), epoch=3)


def test_render_boundary_uses_half_blocks_two_pixels_per_cell() -> None:
    lines = render_boundary(_data(1.0), width=20, height=10)
    assert len(lines) == 10 and all(line.cell_len == 20 for line in lines)
    row = lines[0]
    assert "▀" in row.plain
    style = style_at(row, row.plain.index("▀"))
    assert style.color.get_truecolor()[:3] == CLASS1
    assert style.bgcolor.get_truecolor()[:3] == CLASS1


def test_render_boundary_marks_points_and_disk() -> None:
    points = [(0.1, 0.9, 0, 0), (0.9, 0.1, 1, 0)]  # correct class 0, misclassified class 1
    lines = render_boundary(_data(0.0, points), 20, 10, disk=(0.5, 0.5, 0.4))
    text = "\n".join(line.plain for line in lines)
    assert "•" in text and "x" in text
    colours = {
        (s.color.get_truecolor()[:3] if s.color else None)
        for line in lines
        for s in (style_at(line, i) for i in range(len(line.plain)))
        if s is not None
    }
    assert EDGE in colours and CLASS0 in colours


def test_render_boundary_without_data_and_tiny_sizes() -> None:
    assert "no model yet" in "".join(line.plain for line in render_boundary(None, 30, 5))
    assert render_boundary(_data(0.5), 0, 0) == []
    assert len(render_boundary(_data(0.5), 3, 1)) == 1
    assert prob_rgb(math.nan) == prob_rgb(0.5)


def test_panel_shows_eta_only_once_meaningful() -> None:
    state = TrainState(target=100, status="running")
    state.record(1, 0.5, 60.0, 0.6, 55.0, 0.5, 2000.0)
    assert "ETA" not in format_panel(state).plain
    for epoch in (2, 3, 4):
        state.record(epoch, 0.4, 70.0, 0.5, 65.0, 0.5, 2000.0)
    text = format_panel(state).plain
    assert "ETA 0:48" in text and "epoch 4/100" in text and "best  70.0%" in text
    state.status, state.message = "diverged", "loss became nan in epoch 4: lower the learning rate"
    text = format_panel(state).plain
    assert "ETA" not in text and "diverged: loss became nan" in text
    assert clock(3725) == "1:02:05"


def test_metrics_csv_is_written_atomically(tmp_path) -> None:
    path = tmp_path / "m.csv"
    rows = [EpochSummary(e, 3, 0.5, 60.0, 0.6, 55.0, 0.1, 100.0) for e in (1, 2, 3)]
    write_metrics_csv(path, rows)
    data = list(csv.DictReader(path.open()))
    assert [r["epoch"] for r in data] == ["1", "2", "3"] and data[0]["test_acc"] == "55.0"
    assert [p.name for p in tmp_path.iterdir()] == ["m.csv"]


def test_metrics_csv_of_several_seeds_has_a_row_per_epoch_and_seed(tmp_path) -> None:
    from miniframe.engine.replicas import ReplicaEpoch

    epochs = [
        ReplicaEpoch(1, 2, (0, 7), [0.5, 0.7], [60.0, 50.0], [0.6, 0.8], [55.0, -0.0],
                     [False, False], 0.1, 2000.0),
        ReplicaEpoch(2, 2, (0, 7), None, None, None, None, [False, False], 0.1, 2000.0,
                     Status.STOPPED, "stopped during epoch 2"),
    ]  # fmt: skip
    path = tmp_path / "m.csv"
    write_metrics_csv(path, epochs)
    data = list(csv.DictReader(path.open()))
    assert [(r["epoch"], r["seed"]) for r in data] == [
        ("1", "0"),
        ("1", "7"),
        ("2", "0"),
        ("2", "7"),
    ]
    assert data[1]["train_acc"] == "50.0" and data[1]["test_acc"] == "0.0"  # no -0.0
    assert data[0]["test_loss"] == "0.6" and data[0]["diverged"] == "False"
    assert data[2]["train_acc"] == "" and data[3]["status"] == "stopped"
    assert "seeds" not in data[0] and data[3]["message"] == "stopped during epoch 2"


def test_metrics_not_evaluated_are_none_everywhere(tmp_path) -> None:
    """A stop skips the evaluation: the summary's metrics are None. The panel keeps the
    last evaluated values, the charts leave the point out, the CSV has empty cells."""
    state = TrainState(target=10, status="running")
    state.record(1, 0.5, 60.0, 0.6, 55.0, 0.5, 2000.0)
    state.record(2, None, None, None, None, 0.2, None)
    assert state.epoch == 2 and state.train_acc == 60.0 and state.best_test == 55.0
    assert "epoch 2/10" in format_panel(state).plain

    history = MetricHistory()
    history.append(1, 0.5, 0.6, 60.0, 55.0)
    history.append(2, 0.4, None, 62.0, None)
    history.append(3, None, None, None, None)  # nothing to draw: not recorded
    epochs, tr_loss, te_loss, tr_acc, te_acc = history.series()
    assert epochs == [1, 2] and tr_loss == [0.5, 0.4] and math.isnan(te_loss[1])
    assert tr_acc == [60.0, 62.0] and te_acc[0] == 55.0 and math.isnan(te_acc[1])

    path = tmp_path / "m.csv"
    rows = [EpochSummary(1, 3, 0.5, 60.0, 0.6, 55.0, 0.1, 100.0)]
    stopped = EpochSummary(2, 3, 0.5, 60.0, 0.6, 55.0, 0.1, 100.0)
    for name in ("train_loss", "train_acc", "test_loss", "test_acc"):
        object.__setattr__(stopped, name, None)  # as the engine reports it after a stop
    write_metrics_csv(path, [*rows, stopped])
    data = list(csv.DictReader(path.open()))
    assert data[1]["epoch"] == "2" and data[1]["test_acc"] == "" and data[1]["train_loss"] == ""


def test_no_negative_zero_is_shown() -> None:
    from miniframe.tui.export import cell
    from miniframe.tui.widgets.accuracy_panel import fixed

    state = TrainState(target=1, status="finished")
    state.record(1, -0.0, 100.0, -1e-9, 100.0, 0.1, 100.0)
    text = format_panel(state).plain
    assert "-0.0" not in text and "loss 0.0000" in text
    assert fixed(-0.00004, 4) == "0.0000" and fixed(-0.5, 1) == "-0.5"
    assert str(cell(-0.0)) == "0.0" and cell(None) == "" and cell(-1e-9) == -1e-9
