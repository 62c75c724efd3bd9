"""A small host app to see the map widgets as a user does (not a test): ``python
tests/tui/demo_map.py MODE [--theme NAME]`` in an 80×24 tmux pane, MODE one of spirals,
preview, neurons, confusion, iris. It trains a tiny run first (a few seconds), then shows the
widget(s) wired as the trainer should wire them. ctrl+q quits."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from map_helpers import trained_iris, trained_spirals
from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical

from miniframe.tui.widgets.boundary import BoundaryView, map_from_run, preview_from
from miniframe.tui.widgets.confusion import ConfusionView
from miniframe.tui.widgets.legend import ClassLegend
from miniframe.tui.widgets.neurons import (
    NeuronsView,
    default_layer,
    layer_choices,
    neuron_grids_from_run,
)


class Demo(App[None]):
    CSS = """
    BoundaryView, NeuronsView, ConfusionView { border: round $secondary; }
    BoundaryView:focus, NeuronsView:focus, ConfusionView:focus { border: round $primary; }
    BoundaryView { width: 1fr; }
    #side { width: 32; }
    """

    def __init__(self, mode: str, run: Any) -> None:
        super().__init__()
        self.mode, self.run_ = mode, run

    def compose(self) -> ComposeResult:
        names = self.run_.shape.class_names
        if self.mode == "neurons":
            yield NeuronsView()
        elif self.mode == "confusion":
            with Vertical():
                yield ConfusionView()
                yield ClassLegend(names)
        else:
            with Horizontal():
                yield BoundaryView()
                with Vertical(id="side"):
                    yield ClassLegend(names)
                    yield ConfusionView()

    def on_mount(self) -> None:
        run = self.run_
        for view in self.query(BoundaryView):
            view.border_title = "Decision boundary"
            if self.mode == "preview":
                view.show_preview(preview_from(run.preview()))
            else:
                view.show_map(map_from_run(run))
            view.focus()
        for c in self.query(ConfusionView):
            c.border_title = "Confusion"
            c.show_matrix(run.confusion_matrix(), run.shape.class_names, run.epoch)
        for n in self.query(NeuronsView):
            n.border_title = "Neurons"
            model = list(run.model)
            layer = default_layer(model)
            n.show_layers(layer_choices(model), layer)
            n.show_activations(layer, neuron_grids_from_run(run, layer, grid=16), run.epoch)
            n.focus()

    def on_boundary_view_features_chosen(self, event: BoundaryView.FeaturesChosen) -> None:
        if self.mode != "preview":
            event.view.show_map(map_from_run(self.run_, event.features))

    def on_neurons_view_layer_chosen(self, event: NeuronsView.LayerChosen) -> None:
        grids = neuron_grids_from_run(self.run_, event.index, grid=16)
        event.view.show_activations(event.index, grids, self.run_.epoch)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["spirals", "preview", "neurons", "confusion", "iris"])
    parser.add_argument("--theme")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    if args.mode in ("confusion", "iris"):
        run = trained_iris(Path(tempfile.mkdtemp()))
    else:
        run = trained_spirals(3, 60)
    app = Demo(args.mode, run)
    if args.theme:
        app.theme = args.theme
    app.run()


if __name__ == "__main__":
    main()
