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
import gc
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, cast

from textual import events, on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Static
from textual.worker import get_current_worker

from miniframe.engine import LayerSpec, RunSpec, SpecError, load_preset

from .controller import Controller, Rebuild, TrainerStatus
from .errors import guarded, report_error, reported, with_path
from .history import MetricHistory
from .insight import DISK, InsightMixin
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
from .run_history import RunHistoryMixin
from .session import PROGRESS_EVERY_S, LoadedModel, TrainingSession, load_engine
from .spec_form import TEXT_FIELDS, apply_settings, default_spec, stack_error
from .widgets.accuracy_panel import AccuracyPanel, TrainState
from .widgets.layer_stack import LayerStack

if TYPE_CHECKING:
    from textual.actions import ActionParseResult
    from textual.command import Provider
    from textual.dom import DOMNode

    from .hangup import TerminalWatch
    from .presets import PresetEntry
    from .widgets.boundary import Disk
    from .widgets.settings_panel import SettingsPanel


def _trainer_commands() -> type[Provider]:
    """The palette's trainer commands (imported when the palette first opens)."""
    from .commands import TrainerCommands

    return TrainerCommands


class TrainerApp(InsightMixin, RunHistoryMixin, App[int]):
    """miniframe-tui: the layer stack, settings, live charts, accuracy and decision boundary."""

    CSS_PATH = "app.tcss"
    TITLE = "miniframe-tui"
    COMMANDS = App.COMMANDS | {_trainer_commands}
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]  # noqa: RUF012 (as Textual's)
    #: The run spec file the trainer was opened with (``--config``): an input, never a save's
    #: target.
    config_file: Path | None = None
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
        Binding("1", "view('charts')", "Charts", id="view.charts", show=False),
        Binding("2", "view('map')", "Map", id="view.map", show=False),
        Binding("3", "view('neurons')", "Neurons", id="view.neurons", show=False),
        Binding("4", "view('health')", "Health", id="view.health", show=False),
        Binding("5", "view('confusion')", "Confusion", id="view.confusion", show=False),
        Binding("D", "open_data", "Data", id="data.open"),
        Binding("N", "new_data", "New data", id="data.new", show=False),
        Binding("l", "focus_layers", "Stack", id="focus.layers"),
        Binding("g", "focus_settings", "Setup", id="focus.settings"),
        Binding("R", "runs", "Runs", id="runs.view"),
        Binding("E", "next_seed", "Seed", id="seeds.next", show=False),
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
        self.base_spec: RunSpec = spec
        self.spec: RunSpec = spec
        self.problem: str | None = None
        #: Where training stands and whether the model is the screen's (:mod:`.controller`).
        self.control: Controller = Controller(spec)
        self.checkpoint = Path(checkpoint) if checkpoint is not None else None
        self.config_dir = config_dir
        self._theme_name = theme
        self._load_engine_on_start = load_engine_on_start
        self._watch = watch
        self.session: TrainingSession = TrainingSession()
        self.history = MetricHistory()
        self.records: list[Any] = []  # the engine's EpochSummary objects
        self.state = TrainState(target=spec.epochs)  # the Training panel's metrics
        self._engine_started = False
        self.ui_ready = False  #: the settings and charts are mounted (just after frame one)
        self._heap_frozen = False  # see _freeze_startup_heap
        self._live_charts = live_charts
        self._settings_values: dict[str, Any] = {}
        self._settings_errors: dict[str, str] = {}
        self._asking = False  # the rebuild question is open
        self._noted_line = ""  # the last status line given in full in a notification
        self._applied_lr: float | None = None
        self._show_boundary = False
        self._boundary: tuple[BoundaryData | None, Disk | None] | None = None  # the latest
        self._panel_timer: Timer | None = None
        self._panel_shown_at = 0.0
        self.jobs = BackgroundJobs(self.post_message, self.set_timer, self._job_timed_out)
        # The views beside the charts (:mod:`.views`): the one chosen, the map's features,
        # the neurons view's layer, the map generation (a preview asked before a model's map
        # arrived is dropped), and how many records the health panel has been given.
        self.view = "charts"
        self._features: tuple[int, int] = (0, 1)
        self._neuron_layer: int | None = None
        self._map_generation: int = 0
        self._health_fed: int = 0
        self._picker_open = False
        self._previewed: Any = None  # the data last previewed
        self.session.layer_stats = True  # the health panel's numbers (<= 5 % of an epoch)
        self.session.snapshot = self._snapshot

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
        self.layer_stack.load(self.spec.layers)
        self._spec_changed()
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
        viz = Horizontal(Vertical(loss, acc, id="charts"), self._insight(boundary), id="viz")
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
        self._apply_view()
        if self.focused is None:
            self.layer_stack.focus_table()
        self.ui_ready = True
        self._freeze_startup_heap()

    def _freeze_startup_heap(self) -> None:
        """Once torch and every panel are loaded (whichever comes last), move the objects
        that exist to the garbage collector's permanent generation. They live as long as the
        app; a full collection walking them (~0.2 s with torch and Textual loaded) holds the
        interpreter, which the training thread shares, and stalled training a few times a
        run. Objects made later are collected as usual."""
        if self._heap_frozen or not (self.ui_ready and self.engine_ready):
            return
        self._heap_frozen = True
        gc.freeze()

    def on_unmount(self) -> None:
        """The app is closing: what it froze can be collected again (an app run in-process,
        as the tests do, leaves nothing behind)."""
        if self._heap_frozen:
            self._heap_frozen = False
            gc.unfreeze()

    def _settings_panel(self) -> SettingsPanel | None:
        """The settings panel, once mounted."""
        if not self.ui_ready:
            return None
        from .widgets.settings_panel import SettingsPanel

        try:
            return self.query_one(SettingsPanel)
        except NoMatches:
            return None

    def get_theme_variable_defaults(self) -> dict[str, str]:
        """``$mf-focus`` and ``$mf-error``: the reserved focus and error colours of
        :mod:`.palette` (its ANSI ones under an ANSI theme)."""
        from .palette import ERROR_TCSS, FOCUS_TCSS

        # By theme only (a 16-colour terminal gets the full colour's nearest ANSI colour,
        # bright cyan and red): this runs before the terminal is known.
        theme = getattr(self.current_theme, "name", "")
        mode = "ansi" if theme in ("textual-ansi", "ansi-dark", "ansi-light") else "full"
        return {"mf-focus": FOCUS_TCSS[mode], "mf-error": ERROR_TCSS[mode]}

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

    @property
    def layers(self) -> list[LayerSpec]:
        """The layers on screen (the stack owns them)."""
        return self.layer_stack.layer_list

    @property
    def is_training(self) -> bool:
        """A worker is training (running or paused)."""
        return self.control.busy

    @property
    def engine_ready(self) -> bool:
        return self.control.engine_ready

    @reported
    def on_settings_panel_changed(self, event: SettingsPanel.Changed) -> None:
        self._settings_values, self._settings_errors = event.values, event.errors
        self._spec_changed()
        self._seeds_changed()

    @reported
    def on_layer_stack_changed(self, _: LayerStack.Changed) -> None:
        self._spec_changed()

    def _stack_problem(self) -> str | None:
        """Why the layer stack itself is invalid (shown under the stack), or None."""
        try:
            self.spec.layer_widths()
        except SpecError as e:
            return str(e)
        return None

    def _update_spec(self) -> None:
        """Rebuild ``self.spec`` from the layers and settings; note why it can't train."""
        base = self.base_spec.replace(layers=self.layers)
        self.spec = apply_settings(base, self._settings_values)
        if self._settings_errors:
            name, msg = next(iter(self._settings_errors.items()))
            self.problem = f"{TEXT_FIELDS[name][0]}: {msg}"
        else:
            self.problem = stack_error(self.spec)
        with contextlib.suppress(NoMatches):  # a late message while the app closes
            self.layer_stack.set_shape(*self._data_widths())
            self.layer_stack.show_error(self._stack_problem())

    def _data_widths(self) -> tuple[int, int]:
        """(inputs, classes) of the screen's data, for the stack's widths; 2 and 2 when the
        data can't say (a CSV file that fails: its error is shown elsewhere). A CSV file's
        shape is read once and cached while the file is unchanged (engine/shape.py)."""
        try:
            shape = self.spec.shape()
        except Exception:  # any bad data: the picker and the problem line report it
            return 2, 2
        return shape.n_inputs, shape.n_classes

    def _spec_changed(self, always_ask: bool = False) -> None:
        """The network or the settings on screen changed: a new spec; the learning rate
        goes to the model in memory; a trained model that no longer matches the screen
        asks whether to rebuild it (each time; ``always_ask``: even if the screen's model
        did not change, e.g. a preset loaded)."""
        self._update_spec()
        outcome = self.control.spec_edited(self.spec, self.problem, always_ask=always_ask)
        self._show_state()
        if not self.session.has_run and self.spec.data != self._previewed:
            self._request_preview()
        self._apply_lr()
        if outcome is Rebuild.ASK:
            self._ask_rebuild(then_train=False)
        elif outcome is Rebuild.DROP:
            self._reset_worker("")

    def _apply_lr(self) -> None:
        """A committed, valid learning rate goes to the model in memory (the next batch)."""
        if not self.session.has_run or self.problem:
            return
        lr = self.spec.solver.lr
        if lr != self._applied_lr:
            self._applied_lr = lr
            self.session.set_lr(lr)

    def _ask_rebuild(self, then_train: bool, single_step: bool = False) -> None:
        """Ask whether to rebuild the model from the screen. Yes: fresh weights (and train,
        with ``then_train``). No: keep the model in memory; t and n train it on."""
        from .widgets.confirm import ConfirmDialog

        if self._asking:
            return
        self._asking = True
        if then_train:
            question = (
                "The model in memory was built from another network or settings.\n"
                "Rebuild it from the screen (fresh weights) and train?\n"
                "No: train the current model on."
            )
        else:
            question = (
                "The network or settings on screen differ from the model in memory.\n"
                "Rebuild the model from the screen now (fresh weights)?\n"
                "No: keep the current model; t and n train it on."
            )

        def answered(yes: bool | None) -> None:
            self._asking = False
            if then_train:
                if yes:
                    self._reset_then_train(single_step)
                elif not self.is_training and not self.problem:
                    self._begin(single_step)
            elif yes:
                self.action_reset()

        self.ask(ConfirmDialog("Rebuild the model?", question), answered)

    def load_spec(self, spec: RunSpec, ask: bool = True) -> None:
        """Replace the layer stack and every setting by ``spec``'s (``ask``: whether a
        trained model that differs from it asks to be rebuilt)."""
        self.base_spec = spec
        self._settings_values, self._settings_errors = {}, {}  # the panel re-reads them
        self.layer_stack.load(spec.layers)
        panel = self._settings_panel()
        if panel is not None:
            panel.load(spec)
        self._spec_changed(always_ask=ask)

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
            self.notify(with_path(where, error), title="Bad preset", severity="error", timeout=10)

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

    def _save_preset(self, name: str | None, *, replace: bool = False) -> None:
        """Save in a worker; a name that is taken (your file, or a built-in yours would hide)
        asks first, then saves again with ``replace``."""
        if name is None:
            return
        from . import presets as preset_store
        from .widgets.confirm import ConfirmDialog

        spec = self.spec

        def saved(path: Path) -> None:
            self.base_spec = self.base_spec.replace(name=path.stem)
            self.spec = self.spec.replace(name=path.stem)
            self.notify(f"Saved preset {path.stem} to {path}")

        def failed(error: BaseException) -> None:
            if isinstance(error, preset_store.PresetExistsError) and not replace:
                title = "Replace preset?" if error.reason == "file" else "Hide a built-in?"
                self.ask(
                    ConfirmDialog(title, str(error)),
                    lambda yes: self._save_preset(name, replace=True) if yes else None,
                )
                return
            self.notify(f"Could not save preset: {error}", severity="error", timeout=10)

        self.jobs.start(
            f"saving preset {name}",
            lambda: preset_store.save_user_preset(
                name, spec, self.config_dir, overwrite=replace, shadow=replace
            ),
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
            if self.control.status is TrainerStatus.PAUSED:
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
        self.session.stop()  # never waits: the worker reports when it has stopped
        self.control.stop()
        self._show_state()

    def action_pause(self) -> None:
        """Pause training between epochs, or resume it."""
        if not self.is_training:
            self.notify("Not training: press t to train.")
            return
        if self.control.stopping:
            return
        if self.control.status is TrainerStatus.PAUSED:
            self.session.resume()
            self.control.resume()
        else:
            self.session.pause()
            self.control.pause()
        self._show_state()

    def action_step(self) -> None:
        """Train exactly one epoch (also while paused)."""
        if self.is_training:
            if self.control.status is TrainerStatus.PAUSED and not self.control.pausing:
                self.session.step()
            else:
                self.notify("Training is running: pause (p) first to step.")
            return
        self._start(single_step=True)

    def _start(self, single_step: bool) -> None:
        if self.problem:
            self._show_state()
            self.notify(f"Cannot train: {self.problem}", title="Invalid", severity="error")
            return
        control = self.control
        if control.has_model and not control.model_matches:
            if control.trained:
                self._ask_rebuild(then_train=True, single_step=single_step)
            else:
                self._reset_then_train(single_step)
            return
        if (
            control.status is TrainerStatus.FINISHED
            and not single_step
            and self.session.epoch >= self.spec.epochs
        ):
            self.notify("Finished earlier: training again from fresh weights.")
            self._reset_then_train(single_step)
            return
        self._begin(single_step)

    def _reset_then_train(self, single_step: bool) -> None:
        if self.is_training:
            return  # a second answer to the question; the first one started it
        self.session.discard()  # no worker is training here: the lock is free at once
        self.control.reset("")
        self._clear_progress()
        self._begin(single_step)

    def _begin(self, single_step: bool) -> None:
        generation = self.control.begin(step=single_step)
        self.session.begin()
        self.session.replicas = self.seeds_setting()  # for a model built now
        self.recorder  # noqa: B018 (the run history records from the first epoch)
        self._show_state()
        self._train_worker(self.spec, self.spec.epochs, single_step, generation)

    @work(thread=True, exclusive=True, group="train", exit_on_error=False)
    def _train_worker(self, spec: RunSpec, target: int, single_step: bool, generation: int) -> None:
        """Thread: drive the engine loop; post one message per epoch."""
        worker = get_current_worker()
        try:
            status, message = self.session.train(
                spec, target, lambda: worker.is_cancelled, self.post_message, single_step
            )
        except Exception as e:  # anything the engine raises ends up on screen, not a traceback
            status, message = "failed", f"{type(e).__name__}: {e}"
        self._record_end(str(status))
        self.post_message(TrainingEnded(str(status), message, generation))

    def action_reset(self) -> None:
        """Rebuild the model from the screen: fresh weights (stops training first)."""
        if self.is_training:
            self.session.stop()
            self.control.stop()
            self._show_state()
        self._reset_worker("weights reset")

    @work(thread=True, exclusive=True, group="reset", exit_on_error=False)
    def _reset_worker(self, detail: str) -> None:
        """Thread: wait for the run to be free, then drop it (rebuilt on next start)."""
        self.session.discard()
        self.post_message(WeightsReset(detail))

    def _clear_progress(self) -> None:
        self._drop_bands()
        self.history.clear()
        self.records.clear()
        self.state = TrainState(target=self.spec.epochs)
        self._applied_lr = None
        self._show_state()
        self._show_boundary_data(None, None)
        self._clear_views()

    # ---- messages from workers -----------------------------------------------------------
    @on(EngineLoaded)
    @reported
    def _engine_loaded(self, event: EngineLoaded) -> None:
        self.control.engine_loaded(event.error)
        self._show_state()
        self._freeze_startup_heap()
        # Start-up is over: ``miniframe-tui`` ran it with the collector off (its ``main``).
        gc.enable()
        if self.checkpoint is not None and self.engine_ready:
            self._load_checkpoint(self.checkpoint)
        else:
            self._compute_views()  # the data's preview

    @on(TrainingStarted)
    @reported
    def _training_started(self, event: TrainingStarted) -> None:
        if event.fresh:
            self._drop_bands()
            self.history.clear()
            self.records.clear()
            self.state = TrainState()
            self._applied_lr = None
            self._clear_views()
        self.state.epoch = event.epoch
        self.control.started(event.epoch, event.target)
        self._show_state()

    @on(EpochsReady)
    @reported
    def _epochs_ready(self, _: EpochsReady) -> None:
        items = self.session.drain()
        from .replica_session import is_replica_epoch

        if self._bands is not None or any(is_replica_epoch(s) for s in items[:1]):
            self._replica_epochs_ready(items)  # K seeds at once (.run_history)
            return
        for s in items:
            self.records.append(s)
            self.history.append(s.epoch, s.train_loss, s.test_loss, s.train_acc, s.test_acc)
            self.state.record(
                s.epoch, s.train_loss, s.train_acc, s.test_loss, s.test_acc,
                s.seconds, s.samples_per_s,
            )  # fmt: skip
            self.control.step(s.epoch)
        self._show_progress_soon()

    def _show_progress_soon(self) -> None:
        """Redraw the Training panel, at most every PROGRESS_EVERY_S while epochs stream
        in (a fast run finishes ~100 epochs a second; each redraw repaints the screen, and
        the UI shares the interpreter with the training thread). The last epoch is always
        shown."""
        if self._panel_timer is not None:
            return  # a redraw is already scheduled; it shows the latest state
        wait = self._panel_shown_at + PROGRESS_EVERY_S - time.monotonic()
        if wait <= 0:
            self._show_progress()
        else:
            self._panel_timer = self.set_timer(wait, self._show_progress)

    @reported
    def _show_progress(self) -> None:
        self._panel_timer = None
        self._panel_shown_at = time.monotonic()
        self._show_state()
        self._feed_health()

    def _show_state(self) -> None:
        """Show the controller's fact and ``self.state``'s metrics in the Training panel.
        Worker messages and timers can arrive while the app is closing and its widgets are
        gone: then there is nothing to show. A fact cut to fit is given in full once in a
        notification."""
        control, state = self.control, self.state
        state.status, state.message = control.tone, control.detail
        state.target = control.target
        state.status_line = control.status_line
        with contextlib.suppress(NoMatches):
            panel = self.query_one(AccuracyPanel)
            panel.border_subtitle = control.model_note()
            panel.show(state)
            width = panel.content_size.width
            full = control.full_line()
            if (
                width
                and len(full) > width
                and full != self._noted_line
                and control.tone in ("differs", "failed", "diverged", "invalid")
            ):
                self._noted_line = full
                self.notify(full, title="Training", severity="warning", timeout=8)

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
            self.control.paused()
        self._show_state()

    @on(TrainingEnded)
    @reported
    def _training_ended(self, event: TrainingEnded) -> None:
        if not self.control.end(event.generation, event.status, event.message):
            return  # a training already superseded (a reset, a rebuild)
        self._show_state()
        status, message = self.control.status, event.message
        if status in (TrainerStatus.DIVERGED, TrainerStatus.FAILED):
            self.notify(message, title=f"Training {status}", severity="error", timeout=10)
        elif status is TrainerStatus.FINISHED:
            best = self.state.best_test
            self.notify(
                f"Finished: best test accuracy {best:.1f}%" if best is not None else "Finished."
            )

    @on(WeightsReset)
    @reported
    def _weights_reset(self, event: WeightsReset) -> None:
        self.control.reset(event.detail)
        self._clear_progress()
        self._request_preview()

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

        def read() -> LoadedModel:
            check_regular_file(path)
            return self.session.load_checkpoint(path)

        def loaded(model: LoadedModel) -> None:
            self._show_loaded(model)
            self.notify(f"Loaded checkpoint {path}")

        def failed(error: BaseException) -> None:
            self.notify(with_path(str(path), error), title="Checkpoint load failed",
                        severity="error", timeout=10)  # fmt: skip

        self.jobs.start(f"reading checkpoint {path}", read, loaded, failed)

    def _show_loaded(self, model: LoadedModel) -> None:
        """A checkpoint's model is in memory: the screen shows its network and settings,
        the epoch it reached, its accuracies on the spec's data and its map."""
        if self.is_training:  # only at start-up (--checkpoint): nothing trains yet
            return
        self.control.loaded(model.spec, model.epoch)
        self.load_spec(model.spec, ask=False)
        self._clear_progress()
        state = self.state
        state.epoch = model.epoch
        state.train_acc = state.best_train = model.train_acc
        state.test_acc = state.best_test = model.test_acc
        state.train_loss, state.test_loss = model.train_loss, model.test_loss
        self._show_state()
        disk = DISK if model.spec.data.name == "disk" else None
        self._show_boundary_data(model.boundary, disk)
        self._compute_views()

    def action_save_checkpoint(self) -> None:
        """Save the trained model (engine checkpoint format)."""
        from .widgets.save_dialog import SaveDialog

        run = self.session.run
        if run is None:
            self.notify("Nothing to save yet: train first (t).", severity="warning")
            return
        name = f"{run.spec.name or 'model'}-e{self.session.epoch}.safetensors"
        self.ask(
            SaveDialog("Save checkpoint", "File:", name, self.save_inputs()),
            lambda path: self._save_checkpoint_worker(_user_path(path)) if path else None,
        )

    @work(thread=True, group="io", exit_on_error=False)
    def _save_checkpoint_worker(self, path: Path) -> None:
        try:
            self.session.save_checkpoint(path)
        except Exception as e:
            self.post_message(CheckpointDone("save", str(path), with_path(str(path), e)))
            return
        self._record_checkpoint(path)
        self.post_message(CheckpointDone("save", str(path)))

    def action_export_csv(self) -> None:
        """Write the per-epoch metrics of this run as CSV (atomic)."""
        from .widgets.save_dialog import SaveDialog

        if not self.records:
            self.notify("No epochs yet: train first (t).", severity="warning")
            return
        name = f"{self.spec.name}-metrics.csv"
        self.ask(
            SaveDialog("Export metrics", "CSV file:", name, self.save_inputs()), self._export_csv
        )

    def save_inputs(self) -> list[tuple[str, Path | str | None]]:
        """The files a save must not write over: the data of the screen's spec and of the
        model in memory, the checkpoint or config file it was opened with, the run history."""
        from miniframe.runs import history_files

        inputs: list[tuple[str, Path | str | None]] = [
            ("checkpoint", self.checkpoint), ("config file", self.config_file),
        ]  # fmt: skip
        run = self.session.run
        for spec in (self.spec, run.spec if run is not None else None):
            if spec is not None and spec.data.name == "csv":
                inputs += [("data file", spec.data.path), ("test data file", spec.data.test_path)]
        return inputs + [("run history", f) for f in history_files()]

    def _export_csv(self, text: str | None) -> None:
        if text is None:
            return
        from .export import write_metrics_csv

        path, records = _user_path(text), list(self.records)
        seeds = len(getattr(records[-1], "seeds", ())) if records else 0
        what = f"{len(records)} epochs" + (f" × {seeds} seeds" if seeds > 1 else "")
        self.jobs.start(
            f"writing {path}",
            lambda: write_metrics_csv(path, records),
            lambda _: self.notify(f"Wrote {what} to {path}"),
            lambda e: self.notify(f"Could not write {path}: {e}", severity="error"),
        )

    # ---- view / focus --------------------------------------------------------------------
    def action_toggle_view(self) -> None:
        """The next view: charts, decision map, neurons, layer health, confusion matrix."""
        from .views import next_view

        self.action_view(next_view(self.view))

    def action_focus_layers(self) -> None:
        """Focus the layer stack."""
        self.layer_stack.focus_table()

    def action_focus_settings(self) -> None:
        """Focus the first setting."""
        panel = self._settings_panel()
        if panel is not None:
            panel.query("Select, Input").first().focus()

    # ---- quitting ------------------------------------------------------------------------
    async def on_event(self, event: events.Event) -> None:
        """A key still bubbling up when the app closes (pressed just before ctrl+q) finds no
        screen to act on: drop it instead of raising ScreenStackError on the way out."""
        if isinstance(event, events.Key) and not self.screen_stack:
            return
        await super().on_event(event)

    async def action_quit(self) -> None:
        """Quit, also mid-training: ask the worker to stop, and exit without waiting for it
        (``miniframe-tui`` ends the process even if a batch is still running)."""
        self.leave(0)

    def leave(self, code: int) -> None:
        """Stop training and exit with ``code`` (quit, a signal, the terminal gone)."""
        self.session.stop()
        self.workers.cancel_group(self, "train")
        self._close_history()
        self.exit(code)


def _user_path(text: str) -> Path:
    """A path typed in a prompt: ``~`` means the home folder, as in a shell."""
    return Path(text).expanduser()
