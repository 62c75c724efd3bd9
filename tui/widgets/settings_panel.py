"""Settings: loss, solver and its numbers, batch size, epochs, init, seed, dataset.

Choices are compact Selects, numbers are compact Inputs. A value counts when it is
committed: a choice when picked, a number on Enter or when the focus leaves its field, never
per keystroke (typing "5" on the way to "5e-4" changes nothing). A committed value that does
not parse turns its field red with the reason underneath and is left as typed (nothing the
user typed is lost); the spec keeps the last good value. The panel posts one
:class:`SettingsPanel.Changed` per commit with every committed value and every error; the app
turns those into a spec.
"""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Input, Label, Select, Static

from miniframe.engine.spec import RunSpec

from ..spec_form import (
    CLASS_DATASETS,
    DATASET_CHOICES,
    INIT_CHOICES,
    LOSS_CHOICES,
    SOLVER_CHOICES,
    TEXT_FIELDS,
    TRAINER_DEFAULTS,
    YES_NO,
    batch_hint,
    parse_setting,
    spec_values,
)

SELECTS: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "loss": ("loss", LOSS_CHOICES),
    "solver": ("solver", SOLVER_CHOICES),
    "init": ("init", INIT_CHOICES),
    "dataset": ("dataset", DATASET_CHOICES),
    "restore_best": ("restore best", YES_NO),
}
ORDER = [
    "loss", "solver", "lr", "momentum", "weight_decay", "batch_size", "epochs",
    "init", "seed", "seeds", "dataset", "classes", "data_seed", "noise", "n_train", "n_test",
    "target_acc", "patience", "restore_best",
]  # fmt: skip


class SettingsPanel(VerticalScroll):
    """All run settings other than the layer stack."""

    DEFAULT_CSS = """
    .setting-row {
        height: 1;
    }

    .setting-label {
        width: 14;
        color: $text-muted;
    }

    .setting-input {
        width: 10;
    }

    .setting-select {
        width: 1fr;
    }

    .setting-hint {
        padding-left: 14;
        color: $text-success;
    }

    .setting-error {
        height: auto;
        color: $text-error;
        padding-left: 14;
    }

    Input.-invalid {
        color: $text-error;
        text-style: bold;
    }
    """

    class Changed(Message):
        """Some setting changed: parsed ``values`` and per-field ``errors``."""

        def __init__(self, values: dict[str, Any], errors: dict[str, str]) -> None:
            super().__init__()
            self.values = values
            self.errors = errors

    def __init__(self, spec: RunSpec | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._initial = spec_values(spec) if spec is not None else {}
        self._loaded = False  # changes are reported once a spec is loaded
        #: The text of each number field as last committed (what :meth:`read` parses).
        self._committed: dict[str, str] = {
            name: self._initial.get(name, TRAINER_DEFAULTS.get(name, ""))
            for name in ORDER
            if name not in SELECTS
        }

    def compose(self) -> ComposeResult:
        initial = self._initial
        for name in ORDER:
            if name in SELECTS:
                label, choices = SELECTS[name]
                with Horizontal(classes="setting-row"):
                    yield Label(label, classes="setting-label")
                    yield Select(
                        choices, allow_blank=False, compact=True, id=f"set-{name}",
                        classes="setting-select", value=initial.get(name, choices[0][1]),
                    )  # fmt: skip
            else:
                label = TEXT_FIELDS[name][0]
                with Horizontal(classes="setting-row"):
                    yield Label(label, classes="setting-label")
                    yield Input(
                        self._committed[name], compact=True, id=f"set-{name}",
                        classes="setting-input", validate_on=[],
                    )  # fmt: skip
                yield Static("", id=f"err-{name}", classes="setting-error")
                if name == "batch_size":
                    yield Label("", id="batch-hint", classes="setting-hint")

    def on_mount(self) -> None:
        for err in self.query(".setting-error"):
            err.display = False

    # ---- reading / writing ---------------------------------------------------------------
    def load(self, spec: RunSpec) -> None:
        """Show ``spec``'s settings (without posting a change per field)."""
        values = spec_values(spec)
        self._loaded = True
        with self.prevent(Input.Changed, Select.Changed):
            for name in ORDER:
                if name not in values:  # the trainer's own (seeds): a spec leaves it
                    continue
                if name in SELECTS:
                    self.query_one(f"#set-{name}", Select).value = values[name]
                else:
                    self.query_one(f"#set-{name}", Input).value = values[name]
                    self._committed[name] = values[name]
        self._refresh_state()

    def read(self) -> tuple[dict[str, Any], dict[str, str]]:
        """Parsed values of valid fields, and an error message per invalid field."""
        values: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for name in ORDER:
            if name in SELECTS:
                value = self.query_one(f"#set-{name}", Select).value
                if isinstance(value, str):
                    values[name] = value
                continue
            text = self._committed[name]
            try:
                values[name] = parse_setting(name, text)
            except ValueError as e:
                errors[name] = str(e)
        n_train, batch = values.get("n_train"), values.get("batch_size")
        if isinstance(n_train, int) and isinstance(batch, int) and batch > n_train:
            errors["batch_size"] = f"larger than the training set ({n_train})"
            del values["batch_size"]
        return values, errors

    # ---- events --------------------------------------------------------------------------
    @on(Input.Changed, ".setting-input")
    def _typed(self, event: Input.Changed) -> None:
        event.stop()  # not committed yet: nothing changes

    @on(Select.Changed, ".setting-select")
    def _picked(self, event: Select.Changed) -> None:
        event.stop()
        if self._loaded:  # not the Selects' own start-up events
            self._refresh_state()

    @on(Input.Submitted, ".setting-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.commit(event.input)
        self.screen.focus_next()

    @on(Input.Blurred, ".setting-input")
    def _left(self, event: Input.Blurred) -> None:
        event.stop()
        self.commit(event.input)

    def commit(self, field: Input) -> None:
        """Take ``field``'s text as its value (posts Changed when it differs)."""
        name = (field.id or "").removeprefix("set-")
        if name not in self._committed or self._committed[name] == field.value:
            return
        self._committed[name] = field.value
        if self._loaded:
            self._refresh_state()

    def _refresh_state(self) -> None:
        values, errors = self.read()
        for name in TEXT_FIELDS:
            field = self.query_one(f"#set-{name}", Input)
            field.set_class(name in errors, "-invalid")
            err = self.query_one(f"#err-{name}", Static)
            err.update(f"✗ {errors[name]}" if name in errors else "")
            err.display = name in errors
        momentum = self.query_one("#set-momentum", Input)
        momentum.disabled = values.get("solver") != "momentum"
        if momentum.disabled:
            errors.pop("momentum", None)
            momentum.remove_class("-invalid")
            self.query_one("#err-momentum", Static).display = False
        classes = self.query_one("#set-classes", Input)
        classes.disabled = values.get("dataset") not in CLASS_DATASETS
        if classes.disabled:
            errors.pop("classes", None)
            classes.remove_class("-invalid")
            self.query_one("#err-classes", Static).display = False
        hint = batch_hint(values.get("batch_size"), values.get("n_train"))
        hint_label = self.query_one("#batch-hint", Label)
        hint_label.update(f"= {hint}" if hint else "")
        hint_label.display = bool(hint) and "batch_size" not in errors
        self.post_message(self.Changed(values, errors))
