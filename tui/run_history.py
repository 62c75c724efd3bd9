"""The trainer's run history and seed bands: the part of :class:`~.app.TrainerApp` that records
every run (:mod:`.recording`), shows past runs (:class:`~.widgets.runs_view.RunsView`) and
trains K seeds at once (:mod:`.replica_session`).

:class:`RunHistoryMixin` is mixed into the app; its handlers are found by name (Textual looks
through the class's MRO), its actions are bound in the app's ``BINDINGS``:

- ``R`` (``runs.view``): the runs view. Its rows and curves are read from the store in a
  background job (:mod:`.jobs`), never on the UI thread. Space overlays runs; Enter or ``l``
  loads a run's spec into the editor through :meth:`~.app.TrainerApp.load_spec` (so a
  trained model that differs asks to be rebuilt, as for a preset) and closes the view.
- ``E`` (``seeds.next``): with K seeds, the map shows the next seed.
- The "seeds" setting K (1 to the registry's ``LIMITS.max_replicas``): K > 1 trains K
  replicas; the charts draw the mean in a min–max band, the Training panel mean ± std and
  the worst seed, the history records the K runs as one sweep.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .recording import RecordingWarning, TrainerRecorder

if TYPE_CHECKING:
    from .app import TrainerApp
    from .widgets.charts import BandHistory
    from .widgets.runs_view import RunsView


class RunHistoryMixin:
    """Recording, the runs view and seed bands (see the module docstring)."""

    #: Whether runs are recorded (``miniframe-tui --no-record`` sets it off).
    record_runs: bool = True
    _recorder: TrainerRecorder | None = None
    _bands: BandHistory | None = None
    _warned_history = False

    # ---- recording ---------------------------------------------------------------------
    @property
    def recorder(self: TrainerApp) -> TrainerRecorder:
        """The run history's writer (started with the first recorded epoch)."""
        if self._recorder is None:
            self._recorder = TrainerRecorder(self._history_warning, enabled=self.record_runs)
            self.session.observers.append(self._record_epoch)
        return self._recorder

    def _history_warning(self: TrainerApp, text: str) -> None:
        """Any thread: the store failed; one notification."""
        self.post_message(RecordingWarning(text))

    def on_recording_warning(self: TrainerApp, event: RecordingWarning) -> None:
        if not self._warned_history:
            self._warned_history = True
            self.notify(f"Run history: {event.text}", severity="warning", timeout=8)

    def _record_epoch(self: TrainerApp, summary: Any) -> None:
        """Training thread: an epoch of the session's model (under the session's lock)."""
        from .replica_session import ReplicaRun

        run = self.session.run
        if run is None:
            return
        if isinstance(run, ReplicaRun):
            self.recorder.replica_epoch(run, run.spec, run.seeds, summary)
        else:
            self.recorder.epoch(run, run.spec, summary)

    def _record_end(self: TrainerApp, status: str) -> None:
        """Worker thread: the training ended with ``status``."""
        self.recorder.ended(status)

    def _record_checkpoint(self: TrainerApp, path: Any) -> None:
        """Worker thread: the session's model was saved to ``path``."""
        run = self.session.run
        if run is not None:
            self.recorder.checkpoint(run, path)

    def _close_history(self: TrainerApp) -> None:
        """Quitting: a run still recording ends ``interrupted``."""
        if self._recorder is not None:
            self._recorder.close()

    # ---- the runs view -----------------------------------------------------------------
    def action_runs(self: TrainerApp) -> None:
        """Past runs: overlay their curves, load one's spec."""
        from .widgets.runs_view import RunsView, rows_from_store

        view = RunsView(id="runs-view")
        self.push_screen(view)
        self.recorder.flush(0.0)  # the newest epochs go in first, if the writer is quick

        def read() -> Any:
            from miniframe.runs import RunStore

            with RunStore.open() as store:
                return rows_from_store(store, last=200)

        def shown(result: Any) -> None:
            rows, curves = result
            if view.is_attached:
                view.show_runs(rows, curves)
                if not rows:
                    self.notify("No runs recorded yet: train one (t).")

        def failed(error: BaseException) -> None:
            self.notify(f"Run history: {error}", title="Runs", severity="error", timeout=8)

        self.jobs.start("reading the run history", read, shown, failed)

    def on_runs_view_curves_needed(self: TrainerApp, event: RunsView.CurvesNeeded) -> None:
        from .widgets.runs_view import RunsView, curves_from_store

        ids = list(event.run_ids)

        def read() -> Any:
            from miniframe.runs import RunStore

            with RunStore.open() as store:
                return curves_from_store(store, ids)

        def shown(curves: Any) -> None:
            for screen in self.screen_stack:
                if isinstance(screen, RunsView):
                    screen.add_curves(curves)

        def failed(error: BaseException) -> None:
            self.notify(f"Run history: {error}", title="Runs", severity="error", timeout=8)

        self.jobs.start("reading run curves", read, shown, failed)

    def on_runs_view_load_spec(self: TrainerApp, event: RunsView.LoadSpec) -> None:
        from miniframe.engine import RunSpec, SpecError

        try:
            spec = RunSpec.from_dict(dict(event.spec), source=f"run {event.run_id}")
        except (SpecError, ValueError, TypeError) as e:
            self.notify(f"Run {event.run_id}: {e}", title="Cannot load", severity="error")
            return
        self.pop_screen()
        self.load_spec(spec)
        self.notify(f"Loaded the spec of run {event.run_id}.")

    # ---- seed bands ----------------------------------------------------------------------
    def seeds_setting(self: TrainerApp) -> int:
        """K, the seeds the next model trains at once (the settings panel's "seeds")."""
        value = self._settings_values.get("seeds", 1)
        return value if isinstance(value, int) and value >= 1 else 1

    def _seeds_changed(self: TrainerApp) -> None:
        """The seeds setting changed: it applies to the next model built. An untrained model
        of another K is dropped (rebuilt on t); a trained one is kept until a reset (r)."""
        from .replica_session import ReplicaRun

        run = self.session.run
        if run is None or self.is_training:
            return
        model_k = run.k if isinstance(run, ReplicaRun) else 1
        k = self.seeds_setting()
        if k == model_k or k == getattr(self, "_seeds_noted", None):
            return
        self._seeds_noted = k
        if not self.control.trained:
            self._reset_worker("")
        else:
            self.notify(
                f"The model in memory trains {model_k} seed(s); {k} apply to the next "
                "model: reset (r) to rebuild it.",
                title="Seeds",
                timeout=8,
            )

    def _replica_epochs_ready(self: TrainerApp, items: Sequence[Any]) -> None:
        """UI thread: epochs of K seeds: the bands, the panel's mean ± std, worst seed."""
        from .replica_session import is_replica_epoch, replica_lists

        bands = self._band_history()
        for r in items:
            if not is_replica_epoch(r):
                continue
            bands.append_replica_epoch(r)
            self.records.append(r)  # the CSV export's rows (one per epoch and seed)
            train_loss, test_loss, train_acc, test_acc = replica_lists(r)
            self.history.append(
                r.epoch, *(_mean(v) for v in (train_loss, test_loss, train_acc, test_acc))
            )
            self.state.record_replicas(
                r.epoch, list(r.seeds), train_loss, train_acc, test_loss, test_acc,
                r.seconds, r.samples_per_s,
            )  # fmt: skip
            self.control.step(r.epoch)
        self._show_progress_soon()

    def _band_history(self: TrainerApp) -> BandHistory:
        """The charts' bands (set on both charts when K > 1 starts)."""
        from .widgets.charts import BandHistory, MetricChart

        if self._bands is None:
            self._bands = BandHistory()
            for chart in self.query(MetricChart):
                chart.set_bands(self._bands)
        return self._bands

    def _drop_bands(self: TrainerApp) -> None:
        """Back to the single-run lines (a reset, a fresh run)."""
        from .widgets.charts import MetricChart

        if self._bands is not None:
            self._bands = None
            for chart in self.query(MetricChart):
                chart.set_bands(None)

    def action_next_seed(self: TrainerApp) -> None:
        """With K seeds: the map shows the next seed."""
        from .replica_session import ReplicaRun

        run = self.session.run
        if not isinstance(run, ReplicaRun):
            self.notify("One seed: set seeds above 1 to train a band.", severity="warning")
            return
        seed = run.show_seed(run.shown + 1)
        self.notify(f"Map: seed {seed} ({run.shown + 1} of {run.k}).")
        self._seed_map_worker()

    def _seed_map_worker(self: TrainerApp) -> None:
        def draw() -> Any:
            run = self.session.run
            return None if run is None else self.session.boundary(run)

        def shown(data: Any) -> None:
            if data is not None:
                self._boundary_ready_data(data)

        self.jobs.start("drawing the seed's map", draw, shown, lambda e: None)

    def _boundary_ready_data(self: TrainerApp, data: Any) -> None:
        from .insight import DISK

        self._show_boundary_data(data, DISK if self.spec.data.name == "disk" else None)


def _mean(values: Sequence[float] | None) -> float | None:
    """The mean of the finite values (None when not evaluated or none is finite)."""
    if values is None:
        return None
    finite = [v for v in values if v == v and abs(v) != float("inf")]
    return sum(finite) / len(finite) if finite else None
