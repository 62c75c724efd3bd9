"""Modal preset picker: shipped presets and the user's own; returns the chosen entry."""

from __future__ import annotations

from collections.abc import Sequence

from textual import on
from textual.app import ComposeResult
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ..presets import PresetEntry
from .dialog import Dialog


class PresetPicker(Dialog[PresetEntry | None]):
    """Lists presets; enter loads the highlighted one, escape cancels."""

    HELP = "enter: load   esc: cancel"

    def __init__(self, entries: Sequence[PresetEntry], folder: str) -> None:
        super().__init__("Load preset")
        self.entries = list(entries)
        self.folder = folder

    def compose_body(self) -> ComposeResult:
        yield OptionList(
            *[Option(e.title, id=str(i)) for i, e in enumerate(self.entries)],
            id="preset-list",
        )
        yield Static(f"yours: {self.folder}", classes="dialog-help")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        if self.closing:
            return
        self.close(self.entries[int(event.option.id or 0)])
