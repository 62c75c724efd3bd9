"""Modal one-line prompt (file or preset name); returns the text, or None on Escape."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static


class PromptDialog(ModalScreen[str | None]):
    """Asks for one value; ``check`` may raise ValueError to keep the dialog open."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="dialog.cancel")
    ]

    def __init__(
        self,
        title: str,
        label: str,
        value: str = "",
        check: Callable[[str], object] | None = None,
    ) -> None:
        super().__init__()
        self.title_text, self._label, self._value, self._check = title, label, value, check

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog") as box:
            box.border_title = self.title_text
            yield Label(self._label)
            yield Input(self._value, id="prompt-input", compact=True)
            yield Static("", id="dialog-error", classes="dialog-error")
            yield Static("enter: ok   esc: cancel", classes="dialog-help")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        try:
            if not text:
                raise ValueError("please type a value (esc cancels)")
            if self._check is not None:
                self._check(text)
        except ValueError as e:
            self.query_one("#dialog-error", Static).update(f"✗ {e}")
            return
        self.dismiss(text)

    def action_cancel(self) -> None:
        self.dismiss(None)
