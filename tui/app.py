"""The miniframe terminal trainer: edit a network, train it live, watch it learn.

Structure (after harlequin / posting): :class:`TrainerApp` owns the editable spec and the
screen; background ``@work(thread=True)`` workers import torch, train, reset and save, and
only *post* typed messages (:mod:`.messages`) that the app's handlers turn into screen
updates. Every action has a key binding (with an id) shown in the footer and a command-palette
entry (:mod:`.commands`). Importing this module does not import torch.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import math
import os
import select
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any, ClassVar

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.timer import Timer
from textual.widgets import DataTable
from textual.worker import get_current_worker

from miniframe.engine.spec import LayerSpec, RunSpec, SpecError, atomic_write_text, load_preset

from . import presets as preset_store
from .commands import TrainerCommands
from .history import MetricHistory
from .messages import (
    BoundaryReady,
    CheckpointDone,
    EngineLoaded,
    EpochsReady,
    PausedChanged,
    TrainingEnded,
    TrainingStarted,
    WeightsReset,
)
from .model import (
    TEXT_FIELDS,
    apply_settings,
    default_spec,
    needs_rebuild,
    param_name,
    stack_error,
)
from .session import TrainingSession, load_engine
from .widgets.accuracy_panel import AccuracyPanel, TrainState
from .widgets.boundary import BoundaryView
from .widgets.charts import MetricChart
from .widgets.confirm import ConfirmDialog
from .widgets.key_footer import KeyFooter
from .widgets.layer_dialog import LayerDialog
from .widgets.layer_stack import LayerStack
from .widgets.preset_picker import PresetPicker
from .widgets.prompt import PromptDialog
from .widgets.settings_panel import SettingsPanel

DISK = (0.5, 0.5, 1.0 / math.sqrt(2.0 * math.pi))
# The Training panel redraws at most this often while epochs stream in: every UI redraw takes
# the GIL from the training thread (at 10/s the vanilla preset trained at ~0.91x headless
# speed in the app; at 4/s ~0.93x), and 4 updates a second still reads as live.
PANEL_FPS = 4
HANGUP_GRACE_S = 3.0  # after the terminal goes away, how long a clean shutdown may take
CSV_FIELDS = [
    "epoch", "train_loss", "train_acc", "test_loss", "test_acc", "seconds",
    "samples_per_s", "status", "message",
]  # fmt: skip


class TrainerApp(App[int]):
    """miniframe-tui: the layer stack, settings, live charts, accuracy and decision boundary."""

    CSS_PATH = "app.tcss"
    TITLE = "miniframe-tui"
    COMMANDS = App.COMMANDS | {TrainerCommands}
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-narrow"), (110, "-wide")]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("t,ctrl+t", "train", "Train", id="train.toggle"),
        Binding("p", "pause", "Pause", id="train.pause"),
        Binding("n", "step", "Step", id="train.step"),
        Binding("r", "reset", "Reset", id="train.reset"),
        Binding("o", "presets", "Preset", id="preset.load"),
        Binding("s", "save_preset", "Save", id="preset.save"),
        Binding("c", "save_checkpoint", "Model", id="save.checkpoint"),
        Binding("x", "export_csv", "CSV", id="save.csv"),
        Binding("v", "toggle_view", "View", id="view.toggle"),
        Binding("l", "focus_layers", "Stack", id="focus.layers"),
        Binding("g", "focus_settings", "Setup", id="focus.settings"),
        Binding("escape", "focus_layers", "Layers", id="focus.escape", show=False),
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True),
    ]

    def __init__(
        self,
        spec: RunSpec | None = None,
        *,
        checkpoint: str | Path | None = None,
        config_dir: str | Path | None = None,
        theme: str | None = None,
        load_engine_on_start: bool = True,
        live_charts: bool = True,
    ) -> None:
        super().__init__()
        if spec is None:
            try:
                spec = load_preset("quick")
            except (SpecError, OSError):
                spec = default_spec()
        self.base_spec = spec
        self.spec = spec
        self.layers: list[LayerSpec] = [LayerSpec(**vars(layer)) for layer in spec.layers]
        self.problem: str | None = None
        self.checkpoint = Path(checkpoint) if checkpoint is not None else None
        self.config_dir = config_dir
        self._theme_name = theme
        self._load_engine_on_start = load_engine_on_start
        self.session = TrainingSession()
        self.history = MetricHistory()
        self.records: list[Any] = []
        self.state = TrainState(target=spec.epochs, status="loading", message="loading torch…")
        self.engine_ready = False
        self.is_training = False
        self._hung_up = False
        self._live_charts = live_charts
        self._settings_values: dict[str, Any] = {}
        self._settings_errors: dict[str, str] = {}
        self._asked_reset = False
        self._applied_lr: float | None = None
        self._show_boundary = False
        self._panel_timer: Timer | None = None
        self._panel_shown_at = 0.0

    # ---- layout ------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield LayerStack(id="layers")
                yield SettingsPanel(id="settings")
            with Vertical(id="right"):
                yield AccuracyPanel(id="status")
                with Horizontal(id="viz"):
                    with Vertical(id="charts"):
                        yield MetricChart(self.history, "loss", self._live_charts, id="loss-chart")
                        yield MetricChart(
                            self.history, "accuracy", self._live_charts, id="acc-chart"
                        )
                    yield BoundaryView(id="boundary")
        yield KeyFooter(compact=True)

    def on_mount(self) -> None:
        if self._theme_name:
            self.theme = self._theme_name
        self.query_one("#layers").border_title = "Layers"
        self.query_one("#settings").border_title = "Settings"
        self.query_one("#status").border_title = "Training"
        self.query_one("#boundary").border_title = "Decision boundary"
        self.query_one(SettingsPanel).load(self.spec)
        self._refresh_layers(0)
        self._show_state()
        self.query_one(LayerStack).table.focus()
        if self._load_engine_on_start:
            self.call_after_refresh(self._load_engine)
        self._watch_hangup()

    # ---- spec editing ------------------------------------------------------------------
    @property
    def layer_stack(self) -> LayerStack:
        return self.query_one(LayerStack)

    def _refresh_layers(self, cursor: int | None = None) -> None:
        self._update_spec()
        self.layer_stack.show(self.layers, cursor, self._stack_problem())

    @on(SettingsPanel.Changed)
    def _settings_changed(self, event: SettingsPanel.Changed) -> None:
        self._settings_values, self._settings_errors = event.values, event.errors
        self._update_spec()
        self.layer_stack.show(self.layers, None, self._stack_problem())

    def _stack_problem(self) -> str | None:
        """Why the layer stack itself is invalid (shown under the stack), or None."""
        try:
            self.spec.layer_widths()
        except SpecError as e:
            return str(e)
        return None

    def _update_spec(self) -> None:
        """Rebuild ``self.spec`` from the layers and settings; note why it can't train."""
        base = self.base_spec.replace(layers=list(self.layers))
        spec = apply_settings(base, self._settings_values)
        self.spec = spec
        if self._settings_errors:
            name, msg = next(iter(self._settings_errors.items()))
            self.problem = f"{TEXT_FIELDS[name][0]}: {msg}"
        else:
            self.problem = stack_error(spec)
        if not self.is_training:
            if self.problem:
                self.state.status, self.state.message = "invalid", self.problem
            elif self.state.status == "invalid":
                self.state.status = "ready" if self.engine_ready else "loading"
                self.state.message = "" if self.engine_ready else "loading torch…"
            if self.session.run is None or self.session.epoch == 0:
                self.state.target = spec.epochs
        with contextlib.suppress(Exception):
            self._show_state()
        self._apply_live_changes()

    def _apply_live_changes(self) -> None:
        """Learning-rate changes go to the running training; structural ones ask to reset."""
        run = self.session.run
        if run is None or self.problem:
            return
        lr = self.spec.solver.lr
        if lr != (self._applied_lr if self._applied_lr is not None else run.spec.solver.lr):
            self._applied_lr = lr
            self.session.set_lr(lr)
        if needs_rebuild(run.spec, self.spec) and self.session.epoch > 0 and not self._asked_reset:
            self._asked_reset = True
            self.push_screen(
                ConfirmDialog(
                    "Reset the model?",
                    "This change needs a new model. Reset the weights now and use it?\n"
                    "(No: keep training the current model; the change applies on reset.)",
                ),
                self._after_reset_question,
            )

    def _after_reset_question(self, yes: bool | None) -> None:
        if yes:
            self.action_reset()

    def _cursor(self) -> int:
        return self.layer_stack.cursor

    def action_layer_add(self) -> None:
        """Add a layer after the cursor (menu of kinds)."""
        at = self._cursor() + 1 if self.layers else 0
        self.push_screen(LayerDialog("Add layer"), lambda layer: self._insert_layer(at, layer))

    def action_layer_insert(self) -> None:
        """Insert a layer at the cursor (before the highlighted one)."""
        at = self._cursor() if self.layers else 0
        self.push_screen(LayerDialog("Insert layer"), lambda layer: self._insert_layer(at, layer))

    def _insert_layer(self, at: int, layer: LayerSpec | None) -> None:
        if layer is None:
            return
        self.layers.insert(at, layer)
        self._refresh_layers(at)
        self.layer_stack.table.focus()

    def action_layer_delete(self) -> None:
        """Delete the highlighted layer."""
        if not self.layers:
            self.notify("The stack is empty.", severity="warning")
            return
        at = self._cursor()
        del self.layers[at]
        self._refresh_layers(min(at, max(0, len(self.layers) - 1)))

    def action_layer_edit(self) -> None:
        """Edit the highlighted layer's units / slope / p."""
        if not self.layers:
            self.notify("The stack is empty: add a layer with 'a'.", severity="warning")
            return
        at = self._cursor()
        layer = self.layers[at]
        if param_name(layer.kind) is None:
            self.notify(f"{layer.label()} has nothing to edit.", severity="warning")
            return

        def done(new: LayerSpec | None) -> None:
            if new is not None:
                self.layers[at] = new
                self._refresh_layers(at)
            self.layer_stack.table.focus()

        self.push_screen(LayerDialog(f"Edit layer {at + 1}", layer), done)

    @on(DataTable.RowSelected, "#layer-table")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_layer_edit()

    def _move(self, delta: int) -> None:
        at = self._cursor()
        to = at + delta
        if not self.layers or not 0 <= to < len(self.layers):
            return
        self.layers[at], self.layers[to] = self.layers[to], self.layers[at]
        self._refresh_layers(to)

    def action_layer_up(self) -> None:
        """Move the highlighted layer up."""
        self._move(-1)

    def action_layer_down(self) -> None:
        """Move the highlighted layer down."""
        self._move(+1)

    def load_spec(self, spec: RunSpec) -> None:
        """Replace the layer stack and every setting by ``spec``'s."""
        self.base_spec = spec
        self.layers = [LayerSpec(**vars(layer)) for layer in spec.layers]
        self.query_one(SettingsPanel).load(spec)
        self._refresh_layers(0)

    # ---- presets -------------------------------------------------------------------------
    def action_presets(self) -> None:
        """Pick a shipped or user preset to load."""
        entries = preset_store.list_presets(self.config_dir)
        folder = str(preset_store.user_preset_dir(self.config_dir))
        self.push_screen(PresetPicker(entries, folder), self._load_preset_entry)

    def _load_preset_entry(self, entry: preset_store.PresetEntry | None) -> None:
        if entry is None:
            return
        try:
            spec = preset_store.load_entry(entry)
        except SpecError as e:
            where = entry.path if entry.path is not None else entry.name
            self.notify(f"{where}: {e}", title="Bad preset", severity="error", timeout=10)
            return
        except OSError as e:
            self.notify(f"{entry.path}: {e}", title="Bad preset", severity="error", timeout=10)
            return
        self.load_spec(spec)
        self.notify(f"Loaded preset {entry.name}.")

    def action_save_preset(self) -> None:
        """Save the current network and settings as a user preset (TOML, atomic)."""
        if self.problem:
            self.notify(f"Cannot save: {self.problem}", severity="error")
            return
        name = self.spec.name if self.spec.name not in ("custom", "") else "my-preset"
        self.push_screen(
            PromptDialog("Save as preset", "Preset name:", name, preset_store.check_name),
            self._save_preset,
        )

    def _save_preset(self, name: str | None) -> None:
        if name is None:
            return
        try:
            path = preset_store.save_user_preset(name, self.spec, self.config_dir)
        except (SpecError, ValueError, OSError) as e:
            self.notify(f"Could not save preset: {e}", severity="error", timeout=10)
            return
        self.base_spec = self.base_spec.replace(name=path.stem)
        self.spec = self.spec.replace(name=path.stem)
        self.notify(f"Saved preset {path.stem} to {path}")

    # ---- training ------------------------------------------------------------------------
    def action_train(self) -> None:
        """Start training, or stop it when it is running."""
        if self.is_training:
            self.action_stop()
        else:
            self.action_start()

    def action_start(self) -> None:
        """Train from the current weights up to the set number of epochs."""
        if self.is_training:
            if self.session.paused:
                self.action_pause()
            else:
                self.notify("Already training.")
            return
        self._start(single_step=False)

    def action_stop(self) -> None:
        """Stop the running training (within one batch)."""
        if not self.is_training:
            self.notify("Not training.")
            return
        self.session.request_stop()

    def action_pause(self) -> None:
        """Pause training between epochs, or resume it."""
        if not self.is_training:
            self.notify("Not training: press t to train.")
            return
        if self.session.paused:
            self.session.resume.set()
            self.state.status, self.state.message = "running", ""
        else:
            self.session.resume.clear()
            self.state.status, self.state.message = "paused", "pausing after this epoch…"
        self._show_state()

    def action_step(self) -> None:
        """Train exactly one epoch (also while paused)."""
        if self.is_training:
            if self.session.paused:
                self.session.step_request.set()
            else:
                self.notify("Training is running: pause (p) first to step.")
            return
        self._start(single_step=True)

    def _start(self, single_step: bool) -> None:
        if self.problem:
            self.state.status, self.state.message = "invalid", self.problem
            self._show_state()
            self.notify(f"Cannot train: {self.problem}", title="Invalid", severity="error")
            return
        run = self.session.run
        if run is not None and needs_rebuild(run.spec, self.spec):
            if self.session.epoch == 0:
                self.session.run = None
            else:
                self.push_screen(
                    ConfirmDialog(
                        "Reset the model?",
                        "The network or settings changed since this model was built.\n"
                        "Reset the weights and train with the new ones?",
                    ),
                    lambda yes: self._reset_then_train(single_step) if yes else None,
                )
                return
        elif run is not None and run.epoch >= self.spec.epochs and not single_step:
            self.notify("Finished earlier: training again from fresh weights.")
            self._reset_then_train(single_step)
            return
        self._begin(single_step)

    def _reset_then_train(self, single_step: bool) -> None:
        self.session.run = None  # no worker is running here, so nothing else holds it
        self._clear_progress()
        self._begin(single_step)

    def _begin(self, single_step: bool) -> None:
        self.is_training = True
        self.session.stop_flag.clear()
        self.session.resume.set()
        self.session.step_request.clear()
        self.state.status = "running"
        self.state.message = "loading torch…" if not self.engine_ready else ""
        self.state.target = self.spec.epochs
        self._show_state()
        self._train_worker(self.spec, self.spec.epochs, single_step)

    @work(thread=True, exclusive=True, group="train", exit_on_error=False)
    def _train_worker(self, spec: RunSpec, target: int, single_step: bool) -> None:
        """Thread: drive the engine loop; post one message per epoch."""
        worker = get_current_worker()
        try:
            status, message = self.session.train(
                spec, target, lambda: worker.is_cancelled, self.post_message, single_step
            )
        except Exception as e:  # anything the engine raises ends up on screen, not a traceback
            status, message = "failed", f"{type(e).__name__}: {e}"
        self.post_message(TrainingEnded(status, message))

    def action_reset(self) -> None:
        """Re-initialise the weights (stops training first)."""
        if self.is_training:
            self.session.request_stop()
        self._reset_worker()

    @work(thread=True, exclusive=True, group="reset", exit_on_error=False)
    def _reset_worker(self) -> None:
        """Thread: wait for the run to be free, then drop it (rebuilt on next start)."""
        self.session.discard()
        self.post_message(WeightsReset())

    def _clear_progress(self) -> None:
        self.history.clear()
        self.records.clear()
        self.state = TrainState(target=self.spec.epochs, status="ready")
        self._asked_reset = False
        self._applied_lr = None
        self._show_state()
        self.query_one(BoundaryView).show(None, None)

    # ---- messages from workers -----------------------------------------------------------
    @on(EngineLoaded)
    def _engine_loaded(self, event: EngineLoaded) -> None:
        self.engine_ready = event.error is None
        if event.error:
            self.state.status, self.state.message = "failed", f"cannot load torch: {event.error}"
        elif self.state.status == "loading":
            self.state.status, self.state.message = "ready", "press t to train"
        elif self.is_training and self.state.message == "loading torch…":
            self.state.message = ""
        if self.problem and not self.is_training:
            self.state.status, self.state.message = "invalid", self.problem
        self._show_state()
        if self.checkpoint is not None and self.engine_ready:
            self._load_checkpoint_worker(self.checkpoint)

    @on(TrainingStarted)
    def _training_started(self, event: TrainingStarted) -> None:
        if event.fresh:
            self.history.clear()
            self.records.clear()
            self.state = TrainState(status="running")
            self._asked_reset = False
            self._applied_lr = None
        self.state.target = event.target
        self.state.epoch = event.epoch
        self.state.status, self.state.message = "running", ""
        self._show_state()

    @on(EpochsReady)
    def _epochs_ready(self, _: EpochsReady) -> None:
        for s in self.session.drain():
            self.records.append(s)
            self.history.append(s.epoch, s.train_loss, s.test_loss, s.train_acc, s.test_acc)
            self.state.record(
                s.epoch, s.train_loss, s.train_acc, s.test_loss, s.test_acc,
                s.seconds, s.samples_per_s,
            )  # fmt: skip
        self._show_progress_soon()

    def _show_progress_soon(self) -> None:
        """Redraw the Training panel, at most PANEL_FPS times a second while epochs stream
        in (a fast run finishes ~100 epochs a second; each redraw repaints the screen, and
        the UI shares the interpreter with the training thread). The last epoch is always
        shown."""
        if self._panel_timer is not None:
            return  # a redraw is already scheduled; it shows the latest state
        wait = self._panel_shown_at + 1.0 / PANEL_FPS - time.monotonic()
        if wait <= 0:
            self._show_progress()
        else:
            self._panel_timer = self.set_timer(wait, self._show_progress)

    def _show_progress(self) -> None:
        self._panel_timer = None
        self._panel_shown_at = time.monotonic()
        self._show_state()

    def _show_state(self) -> None:
        """Show ``self.state`` in the Training panel. Worker messages and timers can arrive
        while the app is closing and its widgets are gone: then there is nothing to show."""
        with contextlib.suppress(NoMatches):
            self.query_one(AccuracyPanel).show(self.state)

    @on(BoundaryReady)
    def _boundary_ready(self, event: BoundaryReady) -> None:
        disk = DISK if self.spec.data.name == "disk" else None
        with contextlib.suppress(NoMatches):  # may arrive while the app closes
            self.query_one(BoundaryView).show(event.data, disk)

    @on(PausedChanged)
    def _paused_changed(self, event: PausedChanged) -> None:
        if event.paused:
            self.state.status, self.state.message = "paused", "p resumes, n steps one epoch"
        elif self.is_training:
            self.state.status, self.state.message = "running", ""
        self._show_state()

    @on(TrainingEnded)
    def _training_ended(self, event: TrainingEnded) -> None:
        self.is_training = False
        self.session.resume.set()
        status, message = event.status, event.message
        if status == "paused":
            status, message = "ready", message + "; t trains on, n steps again"
        self.state.status, self.state.message = status, message
        self._show_state()
        if status in ("diverged", "failed"):
            self.notify(message, title=f"Training {status}", severity="error", timeout=10)
        elif status == "finished":
            best = self.state.best_test
            self.notify(f"Finished: best test accuracy {best:.1f}%" if best else "Finished.")

    @on(WeightsReset)
    def _weights_reset(self, _: WeightsReset) -> None:
        self._clear_progress()
        self.state.message = "weights reset; t trains from scratch"
        if self.problem:
            self.state.status, self.state.message = "invalid", self.problem
        self._show_state()

    @on(CheckpointDone)
    def _checkpoint_done(self, event: CheckpointDone) -> None:
        if event.error:
            self.notify(event.error, title=f"Checkpoint {event.action} failed", severity="error")
            return
        if event.action == "load" and event.spec is not None:
            self.load_spec(event.spec)
            self.notify(f"Loaded checkpoint {event.path}")
        else:
            self.notify(f"Saved checkpoint {event.path}")

    # ---- background loading / saving -----------------------------------------------------
    @work(thread=True, exclusive=True, group="engine", exit_on_error=False)
    def _load_engine(self) -> None:
        """Thread: import torch and the engine; the first frame is already on screen."""
        t0 = time.perf_counter()
        try:
            load_engine()
        except Exception as e:
            self.post_message(EngineLoaded(time.perf_counter() - t0, f"{type(e).__name__}: {e}"))
            return
        self.post_message(EngineLoaded(time.perf_counter() - t0))

    @work(thread=True, group="io", exit_on_error=False)
    def _load_checkpoint_worker(self, path: Path) -> None:
        try:
            spec = self.session.load_checkpoint(path)
        except Exception as e:
            self.post_message(CheckpointDone("load", str(path), _with_path(path, e)))
            return
        self.post_message(CheckpointDone("load", str(path), spec=spec))

    def action_save_checkpoint(self) -> None:
        """Save the trained model (engine checkpoint format)."""
        if self.session.run is None:
            self.notify("Nothing to save yet: train first (t).", severity="warning")
            return
        name = f"{self.session.run.spec.name or 'model'}-e{self.session.epoch}.safetensors"
        self.push_screen(
            PromptDialog("Save checkpoint", "File:", name, _check_writable),
            lambda path: self._save_checkpoint_worker(Path(path).expanduser()) if path else None,
        )

    @work(thread=True, group="io", exit_on_error=False)
    def _save_checkpoint_worker(self, path: Path) -> None:
        try:
            self.session.save_checkpoint(path)
        except Exception as e:
            self.post_message(CheckpointDone("save", str(path), _with_path(path, e)))
            return
        self.post_message(CheckpointDone("save", str(path)))

    def action_export_csv(self) -> None:
        """Write the per-epoch metrics of this run as CSV (atomic)."""
        if not self.records:
            self.notify("No epochs yet: train first (t).", severity="warning")
            return
        self.push_screen(
            PromptDialog("Export metrics", "CSV file:", f"{self.spec.name}-metrics.csv",
                         _check_writable),
            self._export_csv,
        )  # fmt: skip

    def _export_csv(self, path: str | None) -> None:
        if path is None:
            return
        try:
            write_metrics_csv(Path(path), self.records)
        except OSError as e:
            self.notify(f"Could not write {path}: {e}", severity="error")
            return
        self.notify(f"Wrote {len(self.records)} epochs to {path}")

    # ---- view / focus --------------------------------------------------------------------
    def action_toggle_view(self) -> None:
        """Narrow screens: switch between the charts and the decision boundary."""
        self._show_boundary = not self._show_boundary
        self.query_one("#viz").set_class(self._show_boundary, "-boundary")

    def action_focus_layers(self) -> None:
        """Focus the layer stack."""
        self.layer_stack.table.focus()

    def action_focus_settings(self) -> None:
        """Focus the first setting."""
        self.query_one(SettingsPanel).query("Select, Input").first().focus()

    # ---- quitting / hang-up --------------------------------------------------------------
    async def action_quit(self) -> None:
        """Quit, also mid-training: stop the worker first (it checks every batch)."""
        self.session.request_stop()
        self.workers.cancel_group(self, "train")
        self.exit(0)

    def _watch_hangup(self) -> None:
        """Exit when the terminal goes away (SIGHUP, or stdin closed) instead of spinning."""
        if self.is_headless:
            return
        with contextlib.suppress(Exception):
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self._hang_up)
        self.set_interval(0.5, self._check_stdin)

    def _check_stdin(self) -> None:
        try:
            fd = sys.__stdin__.fileno() if sys.__stdin__ is not None else -1
            if fd < 0:
                return
            poller = select.poll()
            poller.register(fd, 0)  # only the always-reported HUP / ERR / NVAL
            events = poller.poll(0)
        except (OSError, ValueError):
            self._hang_up()
            return
        if any(ev & (select.POLLHUP | select.POLLERR | select.POLLNVAL) for _, ev in events):
            self._hang_up()

    def _hang_up(self) -> None:
        """The terminal went away (an SSH connection dropped): stop training and exit.

        Writing to the dead terminal fails, and that can wedge Textual's output thread in the
        middle of shutdown (seen: the main thread blocked for good in its writer's queue). So
        output goes to /dev/null from here on, and a watchdog ends the process if shutdown
        still stalls: with no terminal left there is nothing more to show or restore.
        """
        if self._hung_up:
            return
        self._hung_up = True
        with contextlib.suppress(OSError):
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1)
            os.dup2(null, 2)
        watchdog = threading.Timer(HANGUP_GRACE_S, os._exit, args=(129,))
        watchdog.daemon = True
        watchdog.start()
        self.session.request_stop()
        self.workers.cancel_group(self, "train")
        self.exit(129)


def _check_writable(text: str) -> None:
    path = Path(text).expanduser()
    if path.is_dir():
        raise ValueError(f"{path} is a folder")
    if not path.parent.exists():
        raise ValueError(f"folder {path.parent} does not exist")


def write_metrics_csv(path: Path, records: list[Any]) -> None:
    """Per-epoch metrics as CSV, written atomically (tmp file + os.replace)."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CSV_FIELDS)
    for r in records:
        writer.writerow([getattr(r, f) for f in CSV_FIELDS])
    atomic_write_text(path.expanduser(), buf.getvalue())


def _with_path(path: Path, error: Exception) -> str:
    """An error message that names ``path`` once."""
    text = str(error) or type(error).__name__
    return text if str(path) in text else f"{path}: {text}"
