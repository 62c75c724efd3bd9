"""The trainer's side of a browser session: Textual's web driver, minus its signal handling.

A served trainer is the ordinary ``python -m miniframe.tui`` with this driver
(``TEXTUAL_DRIVER``): it speaks textual-serve's protocol on stdin/stdout instead of drawing
on a terminal. Textual's :class:`~textual.drivers.web_driver.WebDriver` installs asyncio
handlers for SIGINT and SIGTERM that post ``ExitApp``; those would replace the trainer's own
(:mod:`miniframe.tui.hangup`), which stop training, end the run ``interrupted`` in the
history and bound the exit with a watchdog. This driver puts the trainer's back, so a served
trainer leaves exactly as a terminal one does: SIGHUP when its browser tab goes (exit 129),
SIGTERM when the server stops (143).
"""

from __future__ import annotations

import asyncio
import signal

from textual.drivers.web_driver import WebDriver

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class TrainerWebDriver(WebDriver):
    """:class:`WebDriver` that leaves SIGINT and SIGTERM to the handlers installed before it
    started (the trainer's :class:`~miniframe.tui.hangup.TerminalWatch`)."""

    def start_application_mode(self) -> None:
        kept = {signum: signal.getsignal(signum) for signum in _SIGNALS}
        super().start_application_mode()
        loop = asyncio.get_running_loop()
        for signum, handler in kept.items():
            loop.remove_signal_handler(signum)
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
