"""The save dialog: asks for the file a save writes, and refuses a file that must not be
replaced, inline, with the dialog kept open.

Refused (the engine's one-line reasons, :mod:`miniframe.engine.files`): an empty name, a
folder, a FIFO or device, a missing or read-only folder, and any of ``inputs``: the files the
trainer reads (its data, test data, checkpoint) or keeps (the run history), compared by
identity through links (:func:`~miniframe.engine.files.check_output`), so a link or a second
spelling of ``data.csv`` is ``data.csv``. The app passes what its inputs are::

    app.push_screen(SaveDialog("Save checkpoint", "File:", "m.safetensors", inputs), saved)

The result is the typed text (``~`` not yet expanded), or None on Escape.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .prompt import PromptDialog

#: (what the file is, its path) for each file no save may write over.
Inputs = Sequence[tuple[str, str | Path | None]]


def check_save_path(text: str, inputs: Inputs) -> None:
    """ValueError (the engine's FileError) when ``text`` names a file a save must not write."""
    from miniframe.engine import check_output, check_writable

    path = Path(text).expanduser()
    check_writable(path)
    check_output(path, inputs)


class SaveDialog(PromptDialog):
    """A :class:`PromptDialog` for a file to write (see the module's docstring)."""

    def __init__(self, title: str, label: str, value: str, inputs: Inputs) -> None:
        self.inputs = list(inputs)
        super().__init__(title, label, value, lambda text: check_save_path(text, self.inputs))
