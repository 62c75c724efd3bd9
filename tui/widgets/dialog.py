"""The base of the trainer's modal dialogs, and a command palette that runs a command once.

Two Enters in one terminal read (a paste ending in newlines, key repeat over a laggy SSH
link) reach a dialog before its first ``dismiss`` has taken effect: Textual's ``dismiss``
then runs the result callback twice and pops a screen twice, the second time the main
screen ("Can't pop screen"), which ended the app. Like harlequin's ``HarlequinModal``, a
:class:`Dialog` only dismisses itself while it is the active screen; in addition it
dismisses only once, its handlers ignore input once it is closing (:attr:`closing`), and
:meth:`Dialog.close` dismisses after the input already queued, so the second key of such
a pair lands in the closing dialog instead of the screen below it.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.await_complete import AwaitComplete
from textual.binding import Binding, BindingType
from textual.command import CommandPalette
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen, ScreenResultType
from textual.widgets import Input, OptionList, Static


class Dialog(ModalScreen[ScreenResultType]):
    """A titled frame with a help line; escape cancels (result None); dismisses once.

    Subclasses yield their widgets from :meth:`compose_body` and start each input handler
    with ``if self.closing: return``.
    """

    DEFAULT_CSS = """
    .dialog {
        width: 52;
        max-width: 95%;
        height: auto;
        max-height: 90%;
        border: round $accent;
        border-title-color: $text-accent;
        border-title-style: bold;
        background: $surface;
        padding: 0 1;
    }

    .dialog OptionList {
        height: auto;
        max-height: 12;
    }

    .dialog Input {
        margin: 0 0 0 0;
    }

    .dialog-error {
        color: $text-error;
        height: auto;
    }

    .dialog-help {
        color: $text-muted;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="dialog.cancel")
    ]
    #: The help line under the body.
    HELP = "enter: ok   esc: cancel"

    def __init__(self, title: str) -> None:
        super().__init__()
        self.title_text = title
        self._dismissed = False

    @property
    def closing(self) -> bool:
        """True once the dialog has been dismissed (later input is ignored)."""
        return self._dismissed

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog") as box:
            box.border_title = self.title_text
            yield from self.compose_body()
            yield Static(self.HELP, classes="dialog-help")

    def compose_body(self) -> ComposeResult:
        """The dialog's own widgets, between the title and the help line."""
        yield from ()

    def close(self, result: ScreenResultType | None = None) -> None:
        """Close with ``result``, once. The dialog counts as closing at once (its handlers
        ignore further input), and is dismissed after the messages already queued: a key
        that came in the same read as the one closing it is absorbed here."""
        if self._dismissed:
            return
        self._dismissed = True
        self.call_later(self._dismiss_now, result)

    def _dismiss_now(self, result: ScreenResultType | None) -> None:
        if self.is_active:
            super().dismiss(result)

    def dismiss(self, result: ScreenResultType | None = None) -> AwaitComplete:
        """Dismiss with ``result``: the first call while this dialog is on top does it; any
        later call (a second Enter) does nothing. Prefer :meth:`close`."""
        if self._dismissed or not self.is_active:
            return AwaitComplete()
        self._dismissed = True
        return super().dismiss(result)

    def action_cancel(self) -> None:
        """Close without a result."""
        self.close(None)


class TrainerPalette(CommandPalette):
    """Textual's command palette, made safe against a second Enter.

    Textual's palette picks the highlighted command on Enter and runs it after dismissing
    itself; a second Enter queued behind the first selects and runs it again, and
    dismisses a second time. Here only the first choice goes through: once a command is
    chosen, later submissions and selections are dropped before Textual's own handlers
    (``prevent_default``) see them, and ``dismiss`` acts once.
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._chosen = False
        self._dismissed = False

    @on(Input.Submitted)
    @on(OptionList.OptionSelected)
    def _choose_once(self, event: Message) -> None:
        # Runs before CommandPalette's handlers (this class comes first in the MRO).
        if self._chosen or self._dismissed:
            event.prevent_default()
            event.stop()
        elif isinstance(event, OptionList.OptionSelected):
            self._chosen = True

    def dismiss(self, result: None = None) -> AwaitComplete:
        if self._dismissed or not self.is_active:
            return AwaitComplete()
        self._dismissed = True
        return super().dismiss(result)
