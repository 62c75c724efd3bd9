"""Modal yes/no question (e.g. "reset the model to apply this change?")."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static

from .dialog import Dialog


class ConfirmDialog(Dialog[bool]):
    """Returns True for y/enter, False for n/escape."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y,enter", "answer(True)", "Yes", id="dialog.yes"),
        Binding("n,escape", "answer(False)", "No", id="dialog.no"),
    ]
    HELP = "y / enter: yes   n / esc: no"

    def __init__(self, title: str, question: str) -> None:
        super().__init__(title)
        self.question = question

    def compose_body(self) -> ComposeResult:
        yield Static(self.question)

    def action_answer(self, yes: bool) -> None:
        self.close(yes)
