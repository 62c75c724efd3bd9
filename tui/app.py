"""The miniframe terminal trainer: edit a network, train it live, watch it learn.

Structure (after harlequin / posting): :class:`TrainerApp` owns the editable spec and the
screen; background ``@work(thread=True)`` workers import torch, train, reset and save, and
only *post* typed messages (:mod:`.messages`) that the app's handlers turn into screen
updates; file reads run in :mod:`.jobs` threads with a time limit. Every action has a key
binding (with an id) shown in the footer and a command-palette entry (:mod:`.commands`).

Start-up is built for a fast first frame: importing this module does not import torch, the
plotting library or the settings' form widgets, and :meth:`TrainerApp.compose` yields the
layout, the layer stack and the Training panel only; the settings and the charts are mounted
just after the first frame (:meth:`TrainerApp._mount_panels`). Until then, the app's state
(spec, layers, history) is complete, and the panels are built from it when they arrive.

No exception in a handler ends the app (:mod:`.errors`), and the app leaves promptly when
its terminal goes away (:mod:`.hangup`).
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, cast

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Static
from textual.worker import get_current_worker

from miniframe.engine.spec import LayerSpec, RunSpec, SpecError, load_preset

from .errors import guarded, report_error, reported
from .history import MetricHistory
from .jobs import BackgroundJobs, check_regular_file
from .messages import (
    BoundaryData,
    BoundaryReady,
    CheckpointDone,
    EngineLoaded,
    EpochsReady,
    JobDone,
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
from .widgets.layer_stack import LayerStack

if TYPE_CHECKING:
    from textual.actions import ActionParseResult
    from textual.command import Provider
    from textual.dom import DOMNode
    from textual.widgets import DataTable

    from .hangup import TerminalWatch
    from .presets import PresetEntry
    from .widgets.boundary import Disk
    from .widgets.settings_panel import SettingsPanel

DISK = (0.5, 0.5, 1.0 / math.sqrt(2.0 * math.pi))
# The Training panel redraws at most this often while epochs stream in: every UI redraw takes
# the GIL from the training thread, and 4 updates a second still reads as live (the benchmark,
# benchmarks/tui_bench.py, measures what the app costs the training).
PANEL_FPS = 4


def _trainer_commands() -> type[Provider]:
    """The palette's trainer commands (imported when the palette first opens)."""
    from .commands import TrainerCommands

    return TrainerCommands


class TrainerApp(App[int]):
    """miniframe-tui: the layer stack, settings, live charts, accuracy and decision boundary."""

    CSS_PATH = "app.tcss"
    TITLE = "miniframe-tui"
    COMMANDS = App.COMMANDS | {_trainer_commands}
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]  # noqa: RUF012 (as Textual's)
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
        watch: TerminalWatch | None = None,
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
        self._watch = watch
        self.session = TrainingSession()
        self.history = MetricHistory()
        self.records: list[Any] = []  # the engine's EpochSummary objects
        self.state = TrainState(target=spec.epochs, status="loading", message="loading torch…")
        self.engine_ready = False
        self._engine_started = False
        self.is_training = False
        self.ui_ready = False  #: the settings and charts are mounted (just after frame one)
        self._live_charts = live_charts
        self._settings_values: dict[str, Any] = {}
        self._settings_errors: dict[str, str] = {}
        self._asked_reset = False
        self._applied_lr: float | None = None
        self._show_boundary = False
        self._boundary: tuple[BoundaryData | None, Disk | None] | None = None  # the latest
        self._panel_timer: Timer | None = None
        self._panel_shown_at = 0.0
        self.jobs = BackgroundJobs(self.post_message, self.set_timer, self._job_timed_out)

    # ---- layout ------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        """The first frame: the layout, the layer stack (as text) and the Training panel. The
        layer table, the settings, the charts and the footer (dozens of widgets, and the
        plotting library) come just after it: :meth:`_mount_panels`."""
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield LayerStack(id="layers")
                yield Static(id="settings", classes="-pending")
            with Vertical(id="right"):
                yield AccuracyPanel(id="status")
                yield Static(id="viz-pending", classes="-pending")
        yield Static(id="footer-pending", classes="-pending")

    @reported
    def on_mount(self) -> None:
        if self._theme_name:
            self.theme = self._theme_name
        titles = {"#layers": "Layers", "#settings": "Settings", "#status": "Training"}
        for selector, title in titles.items():
            self.query_one(selector).border_title = title
        self._refresh_layers(0)
        self._show_state()
        self.call_after_refresh(self._mount_panels)

    def on_load(self) -> None:
        """Before the terminal is put in application mode: from here on, a hang-up or a
        signal makes the app leave cleanly (:mod:`.hangup`)."""
        if self._watch is not None:
            import asyncio

            self._watch.start(asyncio.get_running_loop())

    @reported
    async def _mount_panels(self) -> None:
        """After the first frame: the layer table, the settings, the charts and the footer
        replace their placeholders, built from the app's state as it is now; torch starts
        loading once they are on screen. (Only then: importing torch holds the interpreter
        for a second or two, and the panels would take that much longer to appear.)"""
        try:
            await self._build_panels()
        finally:
            if self._load_engine_on_start:
                # when the footer shows its keys, the last panel to appear (or in 1.5 s)
                self.set_timer(1.5, self._start_engine)

    def on_key_footer_keys_shown(self) -> None:
        self._start_engine()

    def _start_engine(self) -> None:
        """Start importing torch in the background (once)."""
        if self._load_engine_on_start and not self._engine_started:
            self._engine_started = True
            self._load_engine()

    async def _build_panels(self) -> None:
        from .widgets.boundary import BoundaryView
        from .widgets.charts import MetricChart
        from .widgets.key_footer import KeyFooter
        from .widgets.settings_panel import SettingsPanel

        settings = SettingsPanel(self.spec, id="settings")
        loss = MetricChart(self.history, "loss", self._live_charts, id="loss-chart")
        acc = MetricChart(self.history, "accuracy", self._live_charts, id="acc-chart")
        boundary = BoundaryView(id="boundary")
        viz = Horizontal(Vertical(loss, acc, id="charts"), boundary, id="viz")
        viz.set_class(self._show_boundary, "-boundary")
        with self.batch_update():
            await self.query(".-pending").remove()
            await self.layer_stack.mount_table()
            await self.query_one("#left").mount(settings)
            await self.query_one("#right").mount(viz)
            await self.mount(KeyFooter(compact=True))
        settings.border_title = "Settings"
        boundary.border_title = "Decision boundary"
        settings.load(self.spec)
        if self._boundary is not None:
            boundary.show(*self._boundary)
        if self.focused is None:
            self.layer_stack.focus_table()
        self.ui_ready = True

    def _settings_panel(self) -> SettingsPanel | None:
        """The settings panel, once mounted."""
        if not self.ui_ready:
            return None
        from .widgets.settings_panel import SettingsPanel

        try:
            return self.query_one(SettingsPanel)
        except NoMatches:
            return None

    # ---- guarding every entry point --------------------------------------------------------
    async def run_action(
        self,
        action: str | ActionParseResult,
        default_namespace: DOMNode | None = None,
        namespaces: Mapping[str, DOMNode] | None = None,
    ) -> bool:
        """Every key binding and palette command comes through here: an exception in an
        action is reported (:mod:`.errors`) instead of ending the app."""
        try:
            return await super().run_action(action, default_namespace, namespaces)
        except Exception as error:
            report_error(self, f"action {action}", error)
            return True

    def ask(self, screen: Screen[Any], callback: Callable[[Any], Any]) -> None:
        """Push a dialog; its result goes to ``callback``, whose errors are reported."""
        self.push_screen(screen, guarded(self, type(screen).__name__, callback))

    def action_command_palette(self) -> None:
        """The command palette, safe against a second Enter (see :class:`TrainerPalette`)."""
        from textual.command import CommandPalette

        from .widgets.dialog import TrainerPalette

        if self.use_command_palette and not CommandPalette.is_open(cast("App[object]", self)):
            self.push_screen(TrainerPalette(id="--command-palette"))

    # ---- spec editing ------------------------------------------------------------------
    @property
    def layer_stack(self) -> LayerStack:
        return self.query_one(LayerStack)

    def _refresh_layers(self, cursor: int | None = None) -> None:
        self._update_spec()
        self._show_layers(cursor)

    def _show_layers(self, cursor: int | None = None) -> None:
        with contextlib.suppress(NoMatches):  # a late message while the app closes
            self.layer_stack.show(self.layers, cursor, self._stack_problem())

    @reported
    def on_settings_panel_changed(self, event: SettingsPanel.Changed) -> None:
        self._settings_values, self._settings_errors = event.values, event.errors
        self._update_spec()
        self._show_layers()

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
            from .widgets.confirm import ConfirmDialog

            self._asked_reset = True
            self.ask(
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
        from .widgets.layer_dialog import LayerDialog

        at = self._cursor() + 1 if self.layers else 0
        self.ask(LayerDialog("Add layer"), lambda layer: self._insert_layer(at, layer))

    def action_layer_insert(self) -> None:
        """Insert a layer at the cursor (before the highlighted one)."""
        from .widgets.layer_dialog import LayerDialog

        at = self._cursor() if self.layers else 0
        self.ask(LayerDialog("Insert layer"), lambda layer: self._insert_layer(at, layer))

    def _insert_layer(self, at: int, layer: LayerSpec | None) -> None:
        if layer is None:
            return
        self.layers.insert(at, layer)
        self._refresh_layers(at)
        self.layer_stack.focus_table()

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
        from .widgets.layer_dialog import LayerDialog

        if not self.layers:
            self.notify("The stack is empty: add a layer with 'a'.", severity="warning")
            return
        at = self._cursor()
        layer = self.layers[at]
        if param_name(layer.kind) is None:
            self.notify(f"{layer.label()} has nothing to edit.", severity="warning")
            return

        def done(new: LayerSpec | None) -> None:
            if new is not None and at < len(self.layers):
                self.layers[at] = new
                self._refresh_layers(at)
            self.layer_stack.focus_table()

        self.ask(LayerDialog(f"Edit layer {at + 1}", layer), done)

    @reported
    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on a row of the layer table edits that layer."""
        if event.data_table.id == "layer-table":
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
        self._settings_values, self._settings_errors = {}, {}  # the panel re-reads them
        self._refresh_layers(0)
        panel = self._settings_panel()
        if panel is not None:
            panel.load(spec)

    # ---- presets -------------------------------------------------------------------------
    def action_presets(self) -> None:
        """Pick a shipped or user preset to load."""
        from . import presets as preset_store
        from .widgets.preset_picker import PresetPicker

        entries = preset_store.list_presets(self.config_dir)
        folder = str(preset_store.user_preset_dir(self.config_dir))
        self.ask(PresetPicker(entries, folder), self._load_preset_entry)

    def _load_preset_entry(self, entry: PresetEntry | None) -> None:
        """Read the chosen preset off the UI thread (a user's file may be anything)."""
        if entry is None:
            return
        from . import presets as preset_store

        where = str(entry.path) if entry.path is not None else entry.name

        def read() -> RunSpec:
            if entry.path is not None:
                check_regular_file(entry.path)
            return preset_store.load_entry(entry)

        def loaded(spec: RunSpec) -> None:
            self.load_spec(spec)
            self.notify(f"Loaded preset {entry.name}.")

        def failed(error: BaseException) -> None:
            self.notify(_with_path(where, error), title="Bad preset", severity="error", timeout=10)

        self.jobs.start(f"reading preset {where}", read, loaded, failed)

    def action_save_preset(self) -> None:
        """Save the current network and settings as a user preset (TOML, atomic)."""
        from . import presets as preset_store
        from .widgets.prompt import PromptDialog

        if self.problem:
            self.notify(f"Cannot save: {self.problem}", severity="error")
            return
        name = self.spec.name if self.spec.name not in ("custom", "") else "my-preset"
        self.ask(
            PromptDialog("Save as preset", "Preset name:", name, preset_store.check_name),
            self._save_preset,
        )

    def _save_preset(self, name: str | None) -> None:
        if name is None:
            return
        from . import presets as preset_store

        spec = self.spec

        def saved(path: Path) -> None:
            self.base_spec = self.base_spec.replace(name=path.stem)
            self.spec = self.spec.replace(name=path.stem)
            self.notify(f"Saved preset {path.stem} to {path}")

        def failed(error: BaseException) -> None:
            self.notify(f"Could not save preset: {error}", severity="error", timeout=10)

        self.jobs.start(
            f"saving preset {name}",
            lambda: preset_store.save_user_preset(name, spec, self.config_dir),
            saved,
            failed,
        )

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
        """Stop the running training (the engine checks between batches)."""
        if not self.is_training:
            self.notify("Not training.")
            return
        self.session.request_stop()  # never waits: the worker reports when it has stopped
        self.state.message = "stopping…"
        self._show_state()

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
                from .widgets.confirm import ConfirmDialog

                self.ask(
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
        if self.is_training:
            return  # a second answer to the question; the first one started it
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
        self.post_message(TrainingEnded(str(status), message))

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
        self._show_boundary_data(None, None)

    # ---- messages from workers -----------------------------------------------------------
    @on(EngineLoaded)
    @reported
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
            self._load_checkpoint(self.checkpoint)

    @on(TrainingStarted)
    @reported
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
    @reported
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

    @reported
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
    @reported
    def _boundary_ready(self, event: BoundaryReady) -> None:
        disk = DISK if self.spec.data.name == "disk" else None
        self._show_boundary_data(event.data, disk)

    def _show_boundary_data(self, data: BoundaryData | None, disk: Disk | None) -> None:
        """Show a boundary grid (kept for the view if it is not mounted yet)."""
        self._boundary = (data, disk)
        from .widgets.boundary import BoundaryView

        with contextlib.suppress(NoMatches):  # not mounted yet, or the app is closing
            self.query_one("#boundary", BoundaryView).show(data, disk)

    @on(PausedChanged)
    @reported
    def _paused_changed(self, event: PausedChanged) -> None:
        if event.paused:
            self.state.status, self.state.message = "paused", "p resumes, n steps one epoch"
        elif self.is_training:
            self.state.status, self.state.message = "running", ""
        self._show_state()

    @on(TrainingEnded)
    @reported
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
            self.notify(
                f"Finished: best test accuracy {best:.1f}%" if best is not None else "Finished."
            )

    @on(WeightsReset)
    @reported
    def _weights_reset(self, _: WeightsReset) -> None:
        self._clear_progress()
        self.state.message = "weights reset; t trains from scratch"
        if self.problem:
            self.state.status, self.state.message = "invalid", self.problem
        self._show_state()

    @on(CheckpointDone)
    @reported
    def _checkpoint_done(self, event: CheckpointDone) -> None:
        if event.error:
            self.notify(event.error, title=f"Checkpoint {event.action} failed", severity="error")
            return
        self.notify(f"Saved checkpoint {event.path}")

    @on(JobDone)
    def _job_done(self, event: JobDone) -> None:
        try:
            self.jobs.finished(event)
        except Exception as error:
            report_error(self, "finishing a background job", error)

    def _job_timed_out(self, what: str, seconds: float) -> None:
        self.notify(
            f"{what}: no answer after {seconds:.0f} s (a named pipe, or a stalled drive?); "
            "gave up waiting.",
            title="Timed out",
            severity="error",
            timeout=15,
        )

    # ---- background loading / saving -----------------------------------------------------
    @work(thread=True, exclusive=True, group="engine", exit_on_error=False)
    def _load_engine(self) -> None:
        """Thread: import torch and the engine; the first frame is already on screen."""
        try:
            load_engine()
        except Exception as e:
            self.post_message(EngineLoaded(f"{type(e).__name__}: {e}"))
            return
        self.post_message(EngineLoaded())

    def _load_checkpoint(self, path: Path) -> None:
        """Read a checkpoint off the UI thread; its spec and weights replace the current."""

        def read() -> RunSpec:
            check_regular_file(path)
            return self.session.load_checkpoint(path)

        def loaded(spec: RunSpec) -> None:
            self.load_spec(spec)
            self.notify(f"Loaded checkpoint {path}")

        def failed(error: BaseException) -> None:
            self.notify(_with_path(str(path), error), title="Checkpoint load failed",
                        severity="error", timeout=10)  # fmt: skip

        self.jobs.start(f"reading checkpoint {path}", read, loaded, failed)

    def action_save_checkpoint(self) -> None:
        """Save the trained model (engine checkpoint format)."""
        from .widgets.prompt import PromptDialog

        run = self.session.run
        if run is None:
            self.notify("Nothing to save yet: train first (t).", severity="warning")
            return
        name = f"{run.spec.name or 'model'}-e{self.session.epoch}.safetensors"
        self.ask(
            PromptDialog("Save checkpoint", "File:", name, _check_writable),
            lambda path: self._save_checkpoint_worker(_user_path(path)) if path else None,
        )

    @work(thread=True, group="io", exit_on_error=False)
    def _save_checkpoint_worker(self, path: Path) -> None:
        try:
            self.session.save_checkpoint(path)
        except Exception as e:
            self.post_message(CheckpointDone("save", str(path), _with_path(str(path), e)))
            return
        self.post_message(CheckpointDone("save", str(path)))

    def action_export_csv(self) -> None:
        """Write the per-epoch metrics of this run as CSV (atomic)."""
        from .widgets.prompt import PromptDialog

        if not self.records:
            self.notify("No epochs yet: train first (t).", severity="warning")
            return
        self.ask(
            PromptDialog("Export metrics", "CSV file:", f"{self.spec.name}-metrics.csv",
                         _check_writable),
            self._export_csv,
        )  # fmt: skip

    def _export_csv(self, text: str | None) -> None:
        if text is None:
            return
        from .export import write_metrics_csv

        path, records = _user_path(text), list(self.records)
        self.jobs.start(
            f"writing {path}",
            lambda: write_metrics_csv(path, records),
            lambda _: self.notify(f"Wrote {len(records)} epochs to {path}"),
            lambda e: self.notify(f"Could not write {path}: {e}", severity="error"),
        )

    # ---- view / focus --------------------------------------------------------------------
    def action_toggle_view(self) -> None:
        """Narrow screens: switch between the charts and the decision boundary."""
        self._show_boundary = not self._show_boundary
        with contextlib.suppress(NoMatches):  # not mounted yet: it starts with this class
            self.query_one("#viz").set_class(self._show_boundary, "-boundary")

    def action_focus_layers(self) -> None:
        """Focus the layer stack."""
        self.layer_stack.focus_table()

    def action_focus_settings(self) -> None:
        """Focus the first setting."""
        panel = self._settings_panel()
        if panel is not None:
            panel.query("Select, Input").first().focus()

    # ---- quitting ------------------------------------------------------------------------
    async def action_quit(self) -> None:
        """Quit, also mid-training: ask the worker to stop, and exit without waiting for it
        (``miniframe-tui`` ends the process even if a batch is still running)."""
        self.leave(0)

    def leave(self, code: int) -> None:
        """Stop training and exit with ``code`` (quit, a signal, the terminal gone)."""
        self.session.request_stop()
        self.workers.cancel_group(self, "train")
        self.exit(code)


def _user_path(text: str) -> Path:
    """A path typed in a prompt: ``~`` means the home folder, as in a shell."""
    return Path(text).expanduser()


def _check_writable(text: str) -> None:
    path = _user_path(text)
    if path.is_dir():
        raise ValueError(f"{path} is a folder")
    if not path.parent.exists():
        raise ValueError(f"folder {path.parent} does not exist")


def _with_path(path: str, error: BaseException) -> str:
    """An error message that names ``path`` once."""
    if isinstance(error, RecursionError):
        text = "nested too deeply to read"
    else:
        text = str(error) or type(error).__name__
    return text if path in text else f"{path}: {text}"
