"""Standard output that can go away: ``miniframe train | head -1`` (the reader leaves: EPIPE)
or ``> /dev/full`` (the device refuses: ENOSPC).

The entry point writes through :func:`guarded_stdout`, which turns any OSError from writing
or flushing stdout into :class:`OutputClosed`. It is not an :class:`Exception`, like
KeyboardInterrupt: no ``except Exception`` on the way swallows it, and a run being recorded
ends ``interrupted`` (it was stopped from outside, it did not fail). :func:`closed` then ends
the command the way shells expect of a broken pipe: exit status 141 (128 + SIGPIPE), quietly
for a reader that left, with one line on stderr for any other error, and nothing more written
to the stream at exit.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what a shell reports for a reader that left


class OutputClosed(BaseException):
    """Standard output cannot be written any more; ``error`` is why."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


class GuardedOutput:
    """A text stream whose write errors are :class:`OutputClosed` (everything else is the
    stream's own)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        try:
            return self.stream.write(text)
        except OSError as e:
            raise OutputClosed(e) from None

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        try:
            self.stream.flush()
        except OSError as e:
            raise OutputClosed(e) from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


@contextlib.contextmanager
def guarded_stdout() -> Iterator[None]:
    """``sys.stdout`` guarded within the block (see the module's docstring)."""
    original = sys.stdout
    sys.stdout = GuardedOutput(original)  # a TextIO in all it does
    try:
        yield
    finally:
        sys.stdout = original


def closed(gone: OutputClosed, who: str = "miniframe") -> int:
    """End a command whose output went away: nothing more reaches the stream (its buffered
    text is dropped, so the flush at exit raises nothing), one line on stderr unless the
    reader simply left; the exit status of a broken pipe."""
    _silence_stdout()
    if gone.error.errno != errno.EPIPE:
        reason = gone.error.strerror or str(gone.error)
        with contextlib.suppress(OSError):
            print(f"{who}: error: cannot write the output ({reason})", file=sys.stderr)
    return EXIT_BROKEN_PIPE


def _silence_stdout() -> None:
    """Point file descriptor 1 at /dev/null when stdout is the process's own (a test's
    captured stream has no descriptor and is left alone)."""
    stream = sys.stdout
    try:
        fd = stream.fileno()
    except (OSError, ValueError, AttributeError):
        return
    if fd != 1:
        return
    with contextlib.suppress(OSError), open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), fd)
    with contextlib.suppress(OSError, ValueError):
        stream.flush()  # what was buffered now goes to /dev/null
