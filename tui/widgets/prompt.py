"""Modal one-line prompt (file or preset name); returns the text, or None on Escape."""

from __future__ import annotations

from collections.abc import Callable

from textual import on
from textual.app import ComposeResult
from textual.widgets import Input, Label, Static

from .dialog import Dialog


class PromptDialog(Dialog[str | None]):
    """Asks for one value; ``check`` may raise ValueError to keep the dialog open."""

    def __init__(
        self,
        title: str,
        label: str,
        value: str = "",
        check: Callable[[str], object] | None = None,
    ) -> None:
        super().__init__(title)
        self._label, self._value, self._check = label, value, check

    def compose_body(self) -> ComposeResult:
        yield Label(self._label)
        yield Input(self._value, id="prompt-input", compact=True)
        yield Static("", id="dialog-error", classes="dialog-error")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.closing:
            return
        text = event.value.strip()
        try:
            if not text:
                raise ValueError("please type a value (esc cancels)")
            if self._check is not None:
                self._check(text)
        except ValueError as e:
            self.query_one("#dialog-error", Static).update(f"✗ {e}")
            return
        self.close(text)
