"""The trainer's views and data: the part of :class:`~.app.TrainerApp` that shows what is
inside the model and chooses the data it learns.

- Views (``v``, ``1``-``5``): charts, the decision map (with its legend and, before a model,
  the data's preview), the neurons of a layer, layer health, the test set's confusion matrix.
  Those that need forward passes are computed by :func:`.views.compute_views` in a worker, or
  in the training thread at most every two seconds (the session's ``snapshot`` hook).
- Data (``D``, ``N``): a CSV file through :class:`~.widgets.data_picker.DataPicker`, read and
  checked off the UI thread (a bad file reopens the picker with the reason, the data stay);
  "new data" draws generated data again with the next data seed.

:class:`InsightMixin` is mixed into the app, like :class:`~.run_history.RunHistoryMixin`: its
handlers are found by name (``on_views_ready``, ``on_preview_ready``), its actions are bound
in the app's ``BINDINGS``.
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work
from textual.containers import Vertical
from textual.css.query import NoMatches
from textual.worker import get_current_worker

from .errors import report_error, reported
from .jobs import check_regular_file
from .spec_form import apply_settings, csv_spec

if TYPE_CHECKING:
    from textual.message import Message
    from textual.widget import Widget

    from miniframe.engine import RunSpec

    from .app import TrainerApp
    from .views import PreviewReady, ViewsReady

#: The true disk boundary of the ``disk`` dataset (centre x, centre y, radius): the map traces it.
DISK = (0.5, 0.5, 1.0 / math.sqrt(2.0 * math.pi))


class InsightMixin:
    """Views and data (see the module docstring)."""

    #: The two-class map of the old boundary path (data, disk), kept to redraw it after a
    #: resize; None once a k-class map replaced it. Set in the app's ``__init__``.
    _boundary: tuple[Any, Any] | None

    # ---- views: map, neurons, layer health, confusion (:mod:`.views`) -----------------------
    def _insight(self: TrainerApp, boundary: Widget) -> Vertical:
        """The panels beside (or instead of) the charts; one shows at a time."""
        from .widgets.confusion import ConfusionView
        from .widgets.layer_health import LayerHealth
        from .widgets.legend import ClassLegend
        from .widgets.neurons import NeuronsView

        panels: list[Widget] = [
            Vertical(boundary, ClassLegend(id="legend"), id="map-pane"),
            NeuronsView(id="neurons"),
            LayerHealth(id="health"),
            ConfusionView(id="confusion"),
        ]
        titles = {"neurons": "Neurons", "health": "Layer health", "confusion": "Confusion"}
        for panel in panels:
            panel.border_title = titles.get(panel.id or "", "")
        return Vertical(*panels, id="insight")

    def action_view(self: TrainerApp, name: str) -> None:
        """Show view ``name`` (charts, map, neurons, health, confusion)."""
        from .views import VIEW_NAMES

        if name not in VIEW_NAMES:
            return
        self.view = name
        self._show_boundary = name != "charts"
        self._apply_view()
        self._compute_views()
        self._feed_health()

    def _apply_view(self: TrainerApp) -> None:
        """Narrow: the chosen view instead of the charts; wide: beside them."""
        from .views import insight_panel

        shown = insight_panel(self.view)
        with contextlib.suppress(NoMatches):  # not mounted yet: built with this view
            self.query_one("#viz").set_class(self._show_boundary, "-boundary")
            for panel in self.query_one("#insight").children:
                panel.display = panel.id == shown

    def _snapshot(self: TrainerApp, run: Any) -> Message:
        """Training thread, session lock held, at most every views_gap(): the views' data."""
        from .views import compute_views, wanted

        return compute_views(run, wanted(self.view), self._features, self._neuron_layer)

    def _compute_views(self: TrainerApp) -> None:
        """The views' data for the model now (a worker), or the data's preview without one."""
        if not self.engine_ready:
            return
        if self.session.has_run:
            self._views_worker(self.view, self._features, self._neuron_layer)
        else:
            self._request_preview()

    @work(thread=True, exclusive=True, group="views", exit_on_error=False)
    def _views_worker(
        self: TrainerApp, view: str, features: tuple[int, int], layer: int | None
    ) -> None:
        """Thread: compute the views of the model in memory (waits for an epoch to end)."""
        from .views import compute_views, wanted

        worker = get_current_worker()
        with self.session.lock:
            run = self.session.run
            if run is None or worker.is_cancelled:
                return
            try:
                message = compute_views(run, wanted(view), features, layer)
            except Exception as error:  # a diverged or odd model: say so, keep the app
                self.call_from_thread(report_error, self, "computing the views", error)
                return
        self.post_message(message)

    def _request_preview(self: TrainerApp) -> None:
        """Preview the screen's data (no model): a worker draws or reads them."""
        if self.engine_ready and not self.problem:
            self._previewed = self.spec.data
            self._preview_worker(self.spec, self._features, self._map_generation)

    @work(thread=True, exclusive=True, group="preview", exit_on_error=False)
    def _preview_worker(
        self: TrainerApp, spec: RunSpec, features: tuple[int, int], generation: int
    ) -> None:
        from .views import PreviewReady, compute_preview

        try:
            preview = compute_preview(spec, features)
        except Exception as error:
            self.post_message(PreviewReady(None, generation, str(error)))
            return
        self.post_message(PreviewReady(preview, generation))

    @reported
    def on_views_ready(self: TrainerApp, event: ViewsReady) -> None:
        from .widgets.boundary import BoundaryView
        from .widgets.confusion import ConfusionView
        from .widgets.legend import ClassLegend
        from .widgets.neurons import NeuronsView

        start, drawing = time.thread_time(), 0.0
        with contextlib.suppress(NoMatches):
            if event.map_data is not None:
                self._map_generation += 1
                data = event.map_data
                disk = DISK if self.spec.data.name == "disk" and data.n_classes == 2 else None
                self._boundary = None
                boundary = self.query_one("#boundary", BoundaryView)
                # What the last map cost to draw, and this handler: the session spaces the
                # updates while training by it (session.views_gap).
                drawing = boundary.take_render_cpu()
                boundary.show_map(data, disk)
                self.query_one("#legend", ClassLegend).show_classes(data.class_names)
            if event.neurons is not None:
                n = event.neurons
                view = self.query_one("#neurons", NeuronsView)
                view.show_layers(n.choices, n.layer)
                view.show_activations(n.layer, n.grids, n.epoch)
            if event.confusion is not None:
                c = event.confusion
                self.query_one("#confusion", ConfusionView).show_matrix(
                    c.counts, c.class_names, c.epoch
                )
        self.session.views_ui_cost = drawing + time.thread_time() - start

    @reported
    def on_preview_ready(self: TrainerApp, event: PreviewReady) -> None:
        from .widgets.boundary import BoundaryView
        from .widgets.legend import ClassLegend

        if event.generation != self._map_generation or self.session.has_run:
            return  # a model's map came first
        if event.preview is None:
            self.notify(event.error or "no data", title="Data preview", severity="error")
            return
        with contextlib.suppress(NoMatches):
            disk = DISK if self.spec.data.name == "disk" else None
            self.query_one("#boundary", BoundaryView).show_preview(event.preview, disk)
            self.query_one("#legend", ClassLegend).show_classes(event.preview.class_names)

    @reported
    def on_boundary_view_features_chosen(self: TrainerApp, event: Any) -> None:
        """The map's features were changed: later maps (and neurons) are drawn on them."""
        self._features = tuple(event.features)
        if self.session.has_run:
            self._compute_views()

    @reported
    def on_neurons_view_layer_chosen(self: TrainerApp, event: Any) -> None:
        self._neuron_layer = event.index
        if self.session.has_run:
            self._compute_views()

    def _feed_health(self: TrainerApp) -> None:
        """Give the health panel the epochs it has not seen (only while it shows)."""
        if self.view != "health":
            return
        from .widgets.layer_health import LayerHealth

        with contextlib.suppress(NoMatches):
            panel = self.query_one("#health", LayerHealth)
            for summary in self.records[self._health_fed :]:
                stats = getattr(summary, "layer_stats", None)
                if stats:
                    panel.record(summary.epoch, stats)
            self._health_fed = len(self.records)

    def _clear_views(self: TrainerApp) -> None:
        """No model: the panels say so, the map previews the data."""
        from .widgets.confusion import ConfusionView
        from .widgets.layer_health import LayerHealth
        from .widgets.neurons import NeuronsView

        self._health_fed = 0
        with contextlib.suppress(NoMatches):
            self.query_one("#health", LayerHealth).clear()
            self.query_one("#neurons", NeuronsView).clear()
            self.query_one("#confusion", ConfusionView).clear()

    # ---- data: a CSV file, new data (:mod:`.widgets.data_picker`) --------------------------
    def action_open_data(self: TrainerApp) -> None:
        """Pick a CSV file to train on (its label column, standardisation)."""
        self._open_picker()

    def _open_picker(self: TrainerApp, initial: Any = None, error: str | None = None) -> None:
        from .widgets.data_picker import CsvChoice, DataPicker

        data = self.spec.data
        if initial is None and data.name == "csv" and data.path:
            initial = CsvChoice(Path(data.path), data.label_column, data.standardize)
        base, engine = self.spec, self.engine_ready

        def load(choice: Any, watch: Any) -> tuple[RunSpec, Any]:
            """Thread (the picker's): read and check the file, with progress and a cancel;
            the map's preview of it once the engine is loaded."""
            from .views import compute_preview

            spec = csv_spec(base, choice.path, choice.label_column, choice.standardize)
            check_regular_file(choice.path)
            with watch.watching():
                spec.validate()  # reads the file's shape: a bad row, too few classes...
            return spec, compute_preview(spec, (0, 1)) if engine else None

        picker = DataPicker(root=Path.cwd(), initial=initial, error=error, load=load)
        self.ask(picker, self._data_chosen)

    def _data_chosen(self: TrainerApp, choice: Any) -> None:
        """The picker read and checked the file (off the UI thread; a bad file kept it open
        with the engine's message, and the data stayed what they were): use it."""
        if choice is None or choice.loaded is None:
            return
        spec, preview = choice.loaded
        self._features = (0, 1)
        self.load_spec(spec)
        shape = spec.shape()
        self.notify(
            f"{choice.path}: {shape.n_inputs} inputs, {shape.n_classes} classes "
            f"({', '.join(shape.class_names)})",
            title="Data",
        )
        if preview is not None and not self.session.has_run:
            from .views import PreviewReady

            self._previewed = spec.data
            self.post_message(PreviewReady(preview, self._map_generation))

    def action_new_data(self: TrainerApp) -> None:
        """Draw the data again with the next data seed (the model stays as it is)."""
        if self.is_training:
            self.notify("Pause or stop training first (p, t).", severity="warning")
            return
        seed = self.spec.data.seed
        new = (self.spec.seed if seed is None else seed) + 1
        self.base_spec = self.base_spec.replace(data=replace(self.base_spec.data, seed=new))
        self._settings_values["data_seed"] = new
        panel = self._settings_panel()
        if panel is not None:
            panel.load(apply_settings(self.base_spec, self._settings_values))
        self._update_spec()
        if self.session.has_run and self.engine_ready:
            self._new_data_worker(new)
        else:
            self._spec_changed()

    @work(thread=True, exclusive=True, group="views", exit_on_error=False)
    def _new_data_worker(self: TrainerApp, seed: int) -> None:
        """Thread: the run draws its data again; the views follow."""
        from .views import compute_views, wanted

        with self.session.lock:
            run = self.session.run
            if run is None:
                return
            try:
                run.new_data(seed)
            except Exception as error:
                self.call_from_thread(report_error, self, "drawing new data", error)
                return
            message = compute_views(run, wanted(self.view), self._features, self._neuron_layer)
        self.post_message(message)
        self.call_from_thread(self._data_redrawn, run.spec)

    def _data_redrawn(self: TrainerApp, spec: RunSpec) -> None:
        self.control.built_from = spec  # the model's data are the screen's now
        self._spec_changed()
        self.notify(f"New data: data seed {spec.data.seed}.")
