"""A tiny host for the trainer's panels, to look at them in a terminal (tmux at 80×24):

    python tools/panels_demo.py bands|health|picker|runs

bands: a 10-seed band chart and the accuracy panel's mean ± std (synthetic seeds);
health: the layer-health panel from a short real run of the deep preset (layer_stats=True);
picker: the data picker; runs: the runs view with two runs overlaid. q quits.
"""

from __future__ import annotations

import math
import random
import sys
from pathlib import Path
from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical

from miniframe.tui.history import MetricHistory
from miniframe.tui.widgets.accuracy_panel import AccuracyPanel, TrainState
from miniframe.tui.widgets.charts import BandHistory, MetricChart
from miniframe.tui.widgets.data_picker import DataPicker
from miniframe.tui.widgets.layer_health import LayerHealth
from miniframe.tui.widgets.runs_view import RunRow, RunsView

CSS = """
#status { height: 7; border: round $primary 50%; padding: 0 1; }
MetricChart, LayerHealth { border: round $primary 50%; }
"""


class Demo(App[None]):
    CSS = CSS
    BINDINGS: ClassVar[list[BindingType]] = [Binding("q", "quit", "Quit")]

    def __init__(self, mode: str) -> None:
        super().__init__()
        self.mode = mode

    def compose(self) -> ComposeResult:
        if self.mode == "bands":
            with Vertical():
                yield AccuracyPanel(id="status")
                yield MetricChart(MetricHistory(), "accuracy", id="acc")
        elif self.mode == "health":
            yield LayerHealth()

    def on_mount(self) -> None:
        if self.mode == "bands":
            rng = random.Random(0)
            seeds = list(range(10))
            skill = [rng.uniform(-6, 4) for _ in seeds]
            bands, state = BandHistory(), TrainState(target=60, status="running")
            for e in range(1, 41):
                acc = [
                    min(99.5, 50 + 45 * (1 - math.exp(-e / 8)) + s + rng.gauss(0, 1)) for s in skill
                ]
                loss = [max(0.02, 0.7 * math.exp(-e / 10) - s / 100) for s in skill]
                test = [a - rng.uniform(0, 3) for a in acc]
                bands.append(e, loss, [v * 1.1 for v in loss], acc, test)
                state.record_replicas(e, seeds, loss, acc, [v * 1.1 for v in loss], test, 0.2, 5000)
            self.query_one(MetricChart).set_bands(bands)
            self.query_one(AccuracyPanel).show(state)
        elif self.mode == "health":
            from miniframe.engine.presets import load_builtin
            from miniframe.engine.train import Run

            run = Run(load_builtin("deep").replace(epochs=12), layer_stats=True)
            panel = self.query_one(LayerHealth)
            for s in run.fit():
                panel.record(s.epoch, s.layer_stats)
            panel.focus()
        elif self.mode == "picker":
            self.push_screen(DataPicker(root=Path.cwd()), lambda r: self.notify(repr(r)))
        elif self.mode == "runs":
            view = RunsView()
            self.push_screen(view)
            settings = [
                {"solver.lr": "0.01", "batch_size": "5"},
                {"solver.lr": "0.1", "batch_size": "5"},
                {"solver.lr": "0.001", "batch_size": "32"},
            ]
            rows = [
                RunRow(1, "quick", "disk", "2-8-8-2 ReLU", settings[0], 93.5, 12.0, 1.7e9),
                RunRow(2, "quick", "disk", "2-8-8-2 ReLU", settings[1], 88.0, 11.0, 1.7e9 + 60),
                RunRow(3, "vanilla", "spirals×3", "2-25-25-3 ReLU", settings[2], None, 40.0, 1.7e9),
            ]

            def curve(rate: float, top: float) -> dict[str, list[tuple[int, float | None]]]:
                acc: list[tuple[int, float | None]] = [
                    (e, top - 40 * math.exp(-e / rate)) for e in range(1, 41)
                ]
                loss: list[tuple[int, float | None]] = [
                    (e, 0.7 * math.exp(-e / rate) + 0.05) for e in range(1, 41)
                ]
                return {"test_acc": acc, "train_acc": acc, "test_loss": loss, "train_loss": loss}

            view.show_runs(rows, {1: curve(6, 94), 2: curve(3, 88), 3: curve(12, 80)})
            view.selected = [1, 2]
            view.show_runs(rows)


if __name__ == "__main__":
    Demo(sys.argv[1] if len(sys.argv) > 1 else "bands").run()
