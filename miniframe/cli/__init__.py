"""The `miniframe` command line: train, evaluate, reproduce Table I, benchmark.

Each command is one module of this package that defines ``COMMAND`` (its name), ``HELP``,
``add_arguments(parser)`` and ``run(args) -> int``; :func:`build_parser` finds them, so adding a
command is adding a module. ``ORDER`` sorts them in ``--help``.

Bad input (an unknown preset, ``--lr abc``, ``--batch-size 0``, a missing, malformed or
oversized config or checkpoint) prints one line naming the problem and exits with status 2,
never a traceback; Ctrl-C exits 130 with one line, even while torch is still importing. torch is
imported only once a command runs, so ``--help`` is instant.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from types import ModuleType

from miniframe import __version__

from .args import (
    EXIT_BAD_INPUT,
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
    Parser,
    Terminated,
    UsageError,
    check_outputs,
)
from .streams import OutputClosed, closed, guarded_stdout


def commands() -> list[ModuleType]:
    """The command modules of this package, in ``--help`` order."""
    import pkgutil

    found = []
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "COMMAND") and hasattr(module, "run"):
            found.append(module)
    return sorted(found, key=lambda m: (getattr(m, "ORDER", 100), m.COMMAND))


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, ModuleType]]:
    """The parser, and the command modules by name."""
    parser = Parser(prog="miniframe", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--version", action="version", version=f"miniframe {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    table = {}
    for module in commands():
        command = sub.add_parser(module.COMMAND, help=module.HELP, description=module.HELP)
        module.add_arguments(command)
        table[module.COMMAND] = module
    return parser, table


def _bad_input() -> tuple[type[BaseException], ...]:
    """The errors that mean bad input (CSVError only once the engine's data module, which
    imports torch, has been loaded by a command). Imported here, not at the top: the
    trainer's ``miniframe.cli.args`` runs this package's ``__init__`` before its first frame,
    and the checkpoint module's hashing library is not needed there."""
    from miniframe.engine import CheckpointError, FileError, PresetExistsError, SpecError

    errors: list[type[BaseException]] = [
        UsageError, SpecError, CheckpointError, FileError, PresetExistsError,
    ]  # fmt: skip
    data = sys.modules.get("miniframe.engine.data")
    if data is not None:
        errors.append(data.CSVError)
    bench = sys.modules.get("miniframe.bench")
    if bench is not None:
        errors.append(bench.BenchError)
    return tuple(errors)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `miniframe` console script and `python -m miniframe`."""
    command = "miniframe"
    try:
        with guarded_stdout():  # stdout gone (`| head -1`, `> /dev/full`): OutputClosed
            parser, table = build_parser()
            try:
                args = parser.parse_args(argv)
            except SystemExit as e:  # --help, --version, or a one-line usage error (printed)
                return e.code if isinstance(e.code, int) else int(e.code is not None)
            command = f"miniframe {args.command}"
            try:
                check_outputs(args)  # an output never replaces an input: before any work
                code = int(table[args.command].run(args))
                sys.stdout.flush()  # a write error still buffered is this command's
                return code
            except _bad_input() as e:
                print(f"{command}: error: {e}", file=sys.stderr)
                return EXIT_BAD_INPUT
            except Terminated:
                print(f"{command}: terminated", file=sys.stderr)
                return EXIT_TERMINATED
    except KeyboardInterrupt:  # also while torch is being imported
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OutputClosed as gone:  # the runs it was recording ended "interrupted"
        return closed(gone, command)
