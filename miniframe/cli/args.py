"""What every command line of miniframe shares: one-line errors, exit codes, argument types.

The argument types read their bounds from :mod:`miniframe.engine.registry`, so a flag accepts
exactly what a spec, a config file and the trainer's fields accept. ``miniframe-tui`` uses the
same :class:`Parser`. Nothing here imports torch.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, NoReturn

from miniframe.engine import ParamSpec

if TYPE_CHECKING:
    from miniframe.engine import RunSpec
    from miniframe.runs import Recording

Number = int | float

EXIT_OK = 0
EXIT_FAILED = 1  # the run itself failed (diverged)
EXIT_BAD_INPUT = 2  # bad input: one line on stderr says what
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)
EXIT_TERMINATED = 143  # SIGTERM / SIGHUP (128 + SIGTERM)


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit status 2."""


class Terminated(BaseException):
    """The process was asked to stop (SIGTERM, SIGHUP): exit status 143 after cleaning up.

    Like KeyboardInterrupt it is not an Exception: code that handles errors (``except
    Exception``) lets it through, and a run being recorded ends ``interrupted``, not ``failed``.
    """


@contextlib.contextmanager
def terminate_on_signals() -> Iterator[None]:
    """SIGTERM and SIGHUP raise :class:`Terminated` here, so whatever is running is cleaned up
    on the way out (worker processes ended, the run recorded as interrupted); by default
    SIGTERM would end this process on the spot."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise Terminated(signal.Signals(signum).name)

    names = [s for s in ("SIGTERM", "SIGHUP") if hasattr(signal, s)]
    previous = {s: signal.signal(getattr(signal, s), handler) for s in names}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(getattr(signal, s), h)


class Parser(argparse.ArgumentParser):
    """argparse, but an error is one line (argparse prints the whole usage block) and exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def number(param: ParamSpec) -> Callable[[str], Number]:
    """An argparse type for ``param``: its parser and its bounds (from the registry)."""

    def parse(text: str) -> Number:
        try:
            return param.parse(text)
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e)) from None

    parse.__name__ = param.label  # argparse names the type in some messages
    return parse


def path(what: str = "file") -> Callable[[str], Path]:
    """An argparse type for a path the user gives: not empty, ``~`` expanded."""

    def parse(text: str) -> Path:
        if not text.strip():
            raise argparse.ArgumentTypeError(f"empty {what} name")
        return Path(text).expanduser()

    parse.__name__ = what
    return parse


def name(what: str) -> Callable[[str], str]:
    """An argparse type for a name (a preset): not empty."""

    def parse(text: str) -> str:
        if not text.strip():
            raise argparse.ArgumentTypeError(f"empty {what} name")
        return text

    parse.__name__ = what
    return parse


#: The options that name a file a command writes (argparse dest → the flag, for messages).
OUTPUTS = {"save": "--save", "output": "-o", "csv": "--csv", "json": "--json"}
#: The options that name a file a command reads (argparse dest → what the file is).
INPUTS = {
    "data": "data file",
    "test_data": "test data file",
    "checkpoint": "checkpoint",
    "config": "config file",
}


def check_outputs(args: argparse.Namespace, spec: RunSpec | None = None) -> None:
    """Refuse, before any work, an output option that names an input of the command (its
    data, test data, checkpoint or config; ``spec``'s data files, which a config or preset may
    name) or a file of the run history: FileError names both. Every command goes through this
    at the entry point, and the commands that build a spec again once it is known."""
    from miniframe.engine import check_output, reads_file
    from miniframe.runs import history_files

    outputs = [
        (flag, value) for dest, flag in OUTPUTS.items()
        if isinstance(value := getattr(args, dest, None), Path)
    ]  # fmt: skip
    if not outputs:
        return
    inputs: list[tuple[str, str | Path | None]] = [
        (what, value) for dest, what in INPUTS.items()
        if isinstance(value := getattr(args, dest, None), Path)
    ]  # fmt: skip
    if spec is not None and reads_file(spec.data.name):
        inputs += [("training data file", spec.data.path), ("test data file", spec.data.test_path)]
    inputs += [("run history", f) for f in history_files()]
    for flag, value in outputs:
        check_output(value, inputs, flag)


def say(line: str) -> None:
    """A progress or warning line on stderr."""
    print(line, file=sys.stderr, flush=True)


def add_record_argument(p: argparse.ArgumentParser) -> None:
    """``--no-record``: for every command that trains."""
    p.add_argument(
        "--no-record",
        action="store_true",
        help="do not record the training in the run history (see `miniframe runs`)",
    )


def recording(args: argparse.Namespace) -> Recording:
    """The run history for a training command: inactive with
    ``--no-record``; if it cannot be opened, one warning line and training goes on."""
    from miniframe.runs import Recording

    def warn(message: str) -> None:
        say(f"miniframe {args.command}: warning: {message}")

    return Recording.open(enabled=not args.no_record, warn=warn)
