"""What every command line of miniframe shares: one-line errors, exit codes, argument types.

The argument types read their bounds from :mod:`miniframe.engine.registry`, so a flag accepts
exactly what a spec, a config file and the trainer's fields accept. ``miniframe-tui`` uses the
same :class:`Parser`. Nothing here imports torch.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from miniframe.engine import ParamSpec

Number = int | float

EXIT_OK = 0
EXIT_FAILED = 1  # the run itself failed (diverged)
EXIT_BAD_INPUT = 2  # bad input: one line on stderr says what
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)
EXIT_TERMINATED = 143  # SIGTERM / SIGHUP (128 + SIGTERM)


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit status 2."""


class Terminated(Exception):
    """The process was asked to stop (SIGTERM, SIGHUP): exit status 143 after cleaning up."""


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


def say(line: str) -> None:
    """A progress or warning line on stderr."""
    print(line, file=sys.stderr, flush=True)
