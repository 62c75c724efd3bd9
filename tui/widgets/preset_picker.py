"""Modal preset picker: shipped presets and the user's own; returns the chosen entry."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ..presets import PresetEntry


class PresetPicker(ModalScreen[PresetEntry | None]):
    """Lists presets; enter loads the highlighted one, escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="dialog.cancel")
    ]

    def __init__(self, entries: Sequence[PresetEntry], folder: str) -> None:
        super().__init__()
        self.entries = list(entries)
        self.folder = folder

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog") as box:
            box.border_title = "Load preset"
            yield OptionList(
                *[Option(e.title, id=str(i)) for i, e in enumerate(self.entries)],
                id="preset-list",
            )
            yield Static(f"yours: {self.folder}", classes="dialog-help")
            yield Static("enter: load   esc: cancel", classes="dialog-help")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.entries[int(event.option.id or 0)])

    def action_cancel(self) -> None:
        self.dismiss(None)
