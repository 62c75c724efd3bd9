"""The progress display of the long commands (reproduce, sweep, bench): items done/total, a
bar, the elapsed time and an ETA on stderr, drawn by rich, only where someone watches.

:func:`progress_display` gives a command a :class:`Display`: ``say`` for a line, ``update``
for a :class:`~miniframe.progress.Progress` (which the sweep or the benchmark sends as its
epochs and rounds end). When stderr is a terminal and the command was not asked for
``--json``, a bar shows under the lines, which print above it; anywhere else (piped,
redirected, ``--json``, a dumb terminal, no stderr at all) nothing is drawn and the lines are
what they always were, byte for byte. rich is imported only when a bar will show, so the
other cases start no slower.

The ETA is the work left at the average pace so far (elapsed × left ÷ done, in the items'
estimated costs): steadier than a recent-speed window when whole tasks end at once. A
terminal that breaks mid-run (closed, hung up) silences the bar instead of raising: the
work goes on and its result still prints.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any, cast

from miniframe.engine import plural

from .args import say as say_line

if TYPE_CHECKING:
    from miniframe.progress import Progress

#: How often the bar redraws by itself (for the elapsed time), per second.
REFRESH_PER_SECOND = 2
#: Columns the bar leaves free at the right (room for a ``^C`` echo).
MARGIN = 3


class Display:
    """No bar: ``say`` prints the line on stderr, ``update`` does nothing."""

    def say(self, line: str) -> None:
        say_line(line)

    def update(self, progress: Progress) -> None:
        pass


def wants_bar(args: argparse.Namespace, stream: IO[str] | None = None) -> bool:
    """A bar shows when ``stream`` (default: stderr) is a terminal that can redraw a line
    (not ``TERM=dumb``) and ``args`` did not ask for ``--json``."""
    if getattr(args, "json", None):
        return False
    stream = sys.stderr if stream is None else stream
    try:
        if stream is None or not stream.isatty():
            return False
    except (ValueError, OSError):  # closed
        return False
    return os.environ.get("TERM", "").lower() not in ("dumb", "unknown")


@contextlib.contextmanager
def progress_display(args: argparse.Namespace, title: str) -> Iterator[Display]:
    """The display for a command: a bar titled ``title`` when :func:`wants_bar`, else the
    plain lines. The bar stays on screen at the end (total/total when all went through)."""
    bar: Bar | None = None
    try:
        if wants_bar(args):
            try:
                bar = Bar(title, sys.stderr)
            except Exception:  # no bar is worth a failed run: the plain lines instead
                bar = None
        yield bar if bar is not None else Display()
    finally:
        if bar is not None:
            bar.close()


class _Guarded:
    """A stream whose writes never raise: a terminal that went away (EIO, a closed file)
    turns the bar off instead of failing the command from rich's refresh thread."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.broken = False

    def write(self, text: str) -> int:
        if self.broken:
            return len(text)
        try:
            return self.stream.write(text)
        except (OSError, ValueError):
            self.broken = True
            return len(text)

    def flush(self) -> None:
        if self.broken:
            return
        try:
            self.stream.flush()
        except (OSError, ValueError):
            self.broken = True

    def isatty(self) -> bool:
        return not self.broken

    def fileno(self) -> int:
        return self.stream.fileno()

    @property
    def encoding(self) -> str:
        return getattr(self.stream, "encoding", None) or "utf-8"


def clock(seconds: float) -> str:
    """``0:52``, ``12:03``, ``1:02:03``."""
    s = max(0, round(seconds))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def status_text(progress: Progress, elapsed: float, finished: bool) -> str:
    """``3/20 runs  0:52 elapsed  ETA 2:10``: the count (the noun agreeing with the total), the
    time so far and, while work is left, an ETA once some work is done."""
    count = f"{progress.done}/{plural(progress.total, progress.unit)}"
    text = f"{count}  {clock(elapsed)} elapsed"
    if finished or progress.done >= progress.total:
        return text
    fraction = progress.fraction
    if fraction <= 0.0:
        return f"{text}  ETA –"
    return f"{text}  ETA {clock(elapsed * (1.0 - fraction) / fraction)}"


class Bar(Display):
    """rich's live display of one task: ``title``, a bar, :func:`status_text` and the note."""

    def __init__(self, title: str, stream: IO[str]) -> None:
        from rich.console import Console
        from rich.constrain import Constrain
        from rich.progress import BarColumn, ProgressColumn, TextColumn
        from rich.progress import Progress as RichProgress
        from rich.table import Column
        from rich.text import Text

        class StatusColumn(ProgressColumn):
            """The count, the elapsed time and the ETA, from the task's fields."""

            max_refresh = None

            def render(self, task: Any) -> Text:
                snapshot = task.fields.get("snapshot")
                if snapshot is None:
                    return Text("")
                elapsed = task.finished_time if task.finished else task.elapsed
                return Text(status_text(snapshot, elapsed or 0.0, task.finished))

        self.stream = _Guarded(stream)
        self.console = console = Console(
            file=cast("IO[str]", self.stream), force_terminal=True, highlight=False
        )

        class Narrower(RichProgress):
            """The display a few columns short of the terminal's width: the ``^C`` a terminal
            echoes after it then fits on its line, so the last frame still overwrites it
            (a wrapped line would leave a copy of the bar behind)."""

            def get_renderable(self) -> Any:
                width = max(20, console.width - MARGIN)
                return Constrain(super().get_renderable(), width=width)

        # The bar takes what the text leaves (the text never wraps; a long note is cut).
        self.progress = Narrower(
            TextColumn("{task.description}", table_column=Column(no_wrap=True)),
            BarColumn(bar_width=None, table_column=Column(ratio=1)),
            StatusColumn(table_column=Column(no_wrap=True)),
            TextColumn(
                "{task.fields[note]}", table_column=Column(no_wrap=True, overflow="ellipsis")
            ),
            console=self.console,
            refresh_per_second=REFRESH_PER_SECOND,
            expand=True,
            redirect_stdout=False,  # the command's results go to stdout, never above the bar
            redirect_stderr=True,  # any other line on stderr prints above it, not through it
        )
        self.task = self.progress.add_task(title, total=None, snapshot=None, note="")
        try:
            self.progress.start()
        except BaseException:  # Ctrl-C as it starts: the terminal as it was, cursor shown
            self.close()
            raise

    def say(self, line: str) -> None:
        """The line above the bar (rich prints it and redraws the bar under it)."""
        from rich.text import Text

        self.console.print(Text(line), soft_wrap=True)

    def update(self, progress: Progress) -> None:
        # A zero-cost total (nothing to estimate) still reads as done or not done.
        total = progress.work_total if progress.work_total > 0 else 1.0
        finished = progress.done >= progress.total
        done = total if finished else total * progress.fraction
        note = "" if finished else progress.note
        self.progress.update(self.task, total=total, completed=done, snapshot=progress, note=note)

    def close(self) -> None:
        """Draw the last frame and give the terminal back (the bar stays on screen)."""
        with contextlib.suppress(Exception):  # a half-started display stops as it can
            self.progress.stop()
