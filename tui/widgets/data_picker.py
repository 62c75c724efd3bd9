"""The data picker: a dialog to choose a CSV file, its label column and standardisation, and
read it with progress and a way to cancel.

What the app calls::

    def load(choice: CsvChoice, watch: ReadWatch) -> Any:   # in a background thread
        check_regular_file(choice.path)                      # a FIFO is never opened
        with watch.watching():                               # progress, and esc cancels
            return read_and_check(choice)                    # the engine's CSV reading

    def chosen(choice: CsvChoice | None) -> None:
        if choice is not None:
            use(choice.loaded)                               # what load returned

    app.push_screen(DataPicker(root=Path.cwd(), load=load), chosen)

With ``load``, Enter reads the file in a daemon thread (:func:`~miniframe.tui.jobs.start_watched`)
while the dialog stays open and shows how far it got (lines read, a progress bar); there is no
time limit, since a file within the size limit may take a while: Escape cancels the read (a
second Escape closes the dialog). A bad file (not CSV, a bad row, too few classes…) is the
engine's to find: its message (file, line, column) shows in the dialog's error line, the dialog
stays open and the previous data stay; a good one closes the dialog with the
:class:`CsvChoice`, ``loaded`` holding what ``load`` returned. Without ``load`` the dialog only
picks (Enter closes it with the choice; ``error=`` shows a message when it is opened again).

The dialog itself reads no file on the UI thread (a FIFO or a stalled network drive must not
freeze the UI). Directory listings happen off the UI thread too: the tree loads folders in
Textual's thread workers, and the path completion lists its folder in ``asyncio.to_thread``
with a time limit.

Keys: the path input completes with Tab (or →) from its folder's listing (sub-folders and
``.csv`` files only; the grey suggestion shows what Tab takes); Tab with nothing to complete
moves on. In the tree, Enter on a file puts it in the path input. Enter in an input: done;
Escape: cancel the read, else close (None). Messages: none besides the dialog's result.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.suggester import Suggester
from textual.widgets import Checkbox, DirectoryTree, Input, Label, ProgressBar, Static

from miniframe.engine.tabular import STANDARDIZE_FILES

from ..errors import with_path
from ..jobs import ReadWatch, start_watched
from .dialog import Dialog

#: How long the completion may take to list a folder before it gives up (seconds).
LIST_TIMEOUT_S = 2.0
#: At most this many entries of a folder are read for a completion.
MAX_ENTRIES = 5000


@dataclass(frozen=True)
class CsvChoice:
    """What the picker returns: the file, the label column (a name, or an index when the text
    is a number; None: the engine's default, the last column) and whether to standardise."""

    path: Path
    label_column: str | int | None = None
    standardize: bool = STANDARDIZE_FILES  # files are standardised unless turned off
    #: What the app's ``load`` returned for this choice (None without ``load``).
    loaded: Any = field(default=None, compare=False, repr=False)


#: The app's reader of a choice (see the module's docstring); runs in a background thread.
Loader = Callable[[CsvChoice, ReadWatch], Any]


@dataclass
class ReadProgressed(Message):
    """The reading thread got this far (posted to the picker from that thread)."""

    path: Path
    done: int
    total: int


@dataclass
class ReadFinished(Message):
    """The reading thread ended: ``result``, or ``error`` (ReadCancelled when cancelled)."""

    watch: ReadWatch
    result: Any
    error: BaseException | None


def parse_label_column(text: str) -> str | int | None:
    """``""`` → None (the last column), ``"2"`` → 2 (an index), ``"species"`` → the name."""
    text = text.strip()
    if not text:
        return None
    return int(text) if text.isdigit() else text


def is_candidate(entry: os.DirEntry[str]) -> bool:
    """A visible sub-folder or ``.csv`` file (what the picker offers)."""
    if entry.name.startswith("."):
        return False
    try:
        if entry.is_dir():
            return True
    except OSError:
        return False
    return entry.name.lower().endswith(".csv")


def complete_path(value: str) -> str | None:
    """The first folder (with a trailing ``/``) or ``.csv`` file, in name order, whose path
    starts with ``value``; None when there is none. Blocking: call it off the UI thread."""
    if not value:
        return None
    folder, _, stem = value.rpartition("/")
    folder_text = folder + "/" if _ else ""
    where = Path(folder_text or ".").expanduser()
    names: list[str] = []
    try:
        with os.scandir(where) as entries:
            for k, entry in enumerate(entries):
                if k >= MAX_ENTRIES:
                    break
                if entry.name.startswith(stem) and is_candidate(entry):
                    try:
                        names.append(entry.name + ("/" if entry.is_dir() else ""))
                    except OSError:
                        continue
    except OSError:
        return None
    for name in sorted(names, key=lambda n: (n.lower(), n)):
        if name != stem:
            return folder_text + name
    return None


class PathSuggester(Suggester):
    """Suggests the completion of a path from its folder's listing (read off the UI thread)."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        try:
            return await asyncio.wait_for(asyncio.to_thread(complete_path, value), LIST_TIMEOUT_S)
        except (TimeoutError, OSError):
            return None


class PathInput(Input):
    """An input whose Tab takes the suggested completion (else moves the focus on)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "complete", "Complete", show=False, id="data_picker.complete"),
    ]

    def action_complete(self) -> None:
        suggestion = self._suggestion
        if suggestion and len(suggestion) > len(self.value) and suggestion.startswith(self.value):
            self.value = suggestion
            self.cursor_position = len(self.value)
        else:
            self.screen.focus_next()


class CsvTree(DirectoryTree):
    """A directory tree of visible folders and ``.csv`` files (filtered in its loader
    thread)."""

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        out = []
        for path in paths:
            if path.name.startswith("."):
                continue
            try:
                if path.is_dir() or path.suffix.lower() == ".csv":
                    out.append(path)
            except OSError:
                continue
        return out


class DataPicker(Dialog[CsvChoice]):
    """Choose a CSV file (see the module docstring for what the app calls)."""

    DEFAULT_CSS = """
    DataPicker .dialog {
        width: 72;
    }
    DataPicker .dialog Input {
        background: $boost;
        margin-bottom: 1;
    }
    DataPicker CsvTree {
        height: 8;
        min-height: 3;
        border: none;
        background: $surface;
    }
    DataPicker .dp-row {
        height: auto;
    }
    DataPicker #dp-progress {
        display: none;
    }
    DataPicker.reading #dp-progress {
        display: block;
    }
    """
    HELP = "tab: complete   enter: ok   esc: cancel"

    def __init__(
        self,
        root: str | Path = ".",
        initial: CsvChoice | None = None,
        error: str | None = None,
        title: str = "Open a CSV file",
        load: Loader | None = None,
    ) -> None:
        super().__init__(title)
        self.root = Path(root)
        self.initial = initial
        self.error = error
        self.load = load
        #: The read in progress (None when none is).
        self.reading: ReadWatch | None = None
        self._reading_choice: CsvChoice | None = None

    def compose_body(self) -> ComposeResult:
        initial = self.initial
        yield Label("File (tab completes)")
        yield PathInput(
            value="" if initial is None else str(initial.path),
            placeholder="path/to/data.csv",
            suggester=PathSuggester(),
            compact=True,
            id="dp-path",
        )
        yield CsvTree(self.root, id="dp-tree")
        yield Label("Label column (name or index; empty: the last column)")
        label = "" if initial is None or initial.label_column is None else str(initial.label_column)
        yield Input(value=label, placeholder="last column", compact=True, id="dp-label")
        yield Checkbox(
            "Standardize features (train mean/std)",
            value=initial.standardize if initial is not None else STANDARDIZE_FILES,
            compact=True,
            id="dp-standardize",
        )
        yield ProgressBar(total=None, show_eta=False, id="dp-progress")
        yield Static(self.error or "", id="dp-error", classes="dialog-error")

    def on_mount(self) -> None:
        self.query_one("#dp-path", Input).focus()

    def show_error(self, message: str) -> None:
        """Show ``message`` in the error line (empty: clear it)."""
        self.error = message
        self.query_one("#dp-error", Static).update(message)

    def choice(self) -> CsvChoice | None:
        """The choice as the inputs stand (None, with the error line set, when no path)."""
        text = self.query_one("#dp-path", Input).value.strip()
        if not text:
            self.show_error("Choose a file: type its path or pick it in the tree.")
            return None
        return CsvChoice(
            path=Path(text).expanduser(),
            label_column=parse_label_column(self.query_one("#dp-label", Input).value),
            standardize=self.query_one("#dp-standardize", Checkbox).value,
        )

    @on(DirectoryTree.FileSelected)
    def _file_picked(self, event: DirectoryTree.FileSelected) -> None:
        if self.closing:
            return
        event.stop()
        path_input = self.query_one("#dp-path", Input)
        path_input.value = str(event.path)
        path_input.cursor_position = len(path_input.value)
        self.show_error("")
        self.query_one("#dp-label", Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if self.closing:
            return
        event.stop()
        choice = self.choice()
        if choice is None:
            return
        if self.load is None:
            self.close(choice)
        elif self.reading is None:
            self._start_reading(choice)

    # ---- reading the chosen file ----------------------------------------------------------
    def _start_reading(self, choice: CsvChoice) -> None:
        """Read ``choice`` with the app's loader in a background thread; the dialog stays."""
        load = self.load
        assert load is not None
        self._reading_choice = choice
        self.add_class("reading")
        self.query_one("#dp-progress", ProgressBar).update(total=None, progress=0)
        self.show_error(f"reading {choice.path.name}… (esc cancels)")

        def progressed(path: Path, done: int, total: int) -> None:  # the reading thread
            self.post_message(ReadProgressed(path, done, total))

        def finished(watch: ReadWatch, result: Any, error: BaseException | None) -> None:
            self.post_message(ReadFinished(watch, result, error))

        self.reading = start_watched(lambda watch: load(choice, watch), progressed, finished)

    @on(ReadProgressed)
    def _progressed(self, event: ReadProgressed) -> None:
        if self.reading is None or self.closing:
            return
        self.query_one("#dp-progress", ProgressBar).update(total=event.total, progress=event.done)
        self.show_error(
            f"reading {event.path.name}: line {event.done:,} of {event.total:,} (esc cancels)"
        )

    @on(ReadFinished)
    def _finished(self, event: ReadFinished) -> None:
        if event.watch is not self.reading or self.closing:
            return  # a read cancelled before: its late answer is dropped
        choice = self._reading_choice
        self._stop_reading()
        assert choice is not None
        if event.error is None:
            self.close(CsvChoice(choice.path, choice.label_column, choice.standardize,
                                 loaded=event.result))  # fmt: skip
            return
        self.show_error(with_path(str(choice.path), event.error).splitlines()[0])

    def _stop_reading(self) -> None:
        self.reading = None
        self._reading_choice = None
        self.remove_class("reading")

    def action_cancel(self) -> None:
        """Escape: cancel the read in progress, else close the dialog without a result."""
        if self.reading is not None:
            self.reading.cancel()
            self._stop_reading()
            self.show_error("reading cancelled: the data are as they were")
            return
        super().action_cancel()
